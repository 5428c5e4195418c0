package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// relTol is the float tolerance: |got − want| ≤ relTol·(Σ|a||b|·|alpha| +
// |beta·c|) + absTol per element.
const (
	relTol = 1e-5
	absTol = 1e-30
)

// guardLen is the number of NaN guard values after the end of C.
const guardLen = 37

type shape struct {
	m, n, k        int
	transA, transB bool
}

func (s shape) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "F"
	}
	return fmt.Sprintf("%dx%dx%d%s%s", s.m, s.n, s.k, t(s.transA), t(s.transB))
}

// trainerShapes are the shapes the trainer runs at batch 64, plus a square.
var trainerShapes = []shape{
	{36864, 16, 25, false, true},
	{16, 25, 36864, true, false},
	{64, 128, 2304, false, true},
	{128, 2304, 64, true, false},
	{64, 2304, 128, false, false},
	{64, 10, 128, false, true},
	{10, 128, 64, true, false},
	{64, 128, 10, false, false},
	{512, 512, 512, false, false},
}

// problem is one Sgemm call with its inputs; C's storage has NaN in the row
// padding and guardLen NaNs after its end.
type problem struct {
	shape
	alpha, beta   float32
	a, b, c       []float32 // c is the initial C (full storage, with guards)
	lda, ldb, ldc int
}

func (p *problem) String() string {
	return fmt.Sprintf("%v alpha=%g beta=%g lda=%d ldb=%d ldc=%d", p.shape, p.alpha, p.beta, p.lda, p.ldb, p.ldc)
}

// matrix returns rows×cols storage with leading dimension ld: values from
// gen, NaN in the padding, length exactly (rows-1)·ld+cols.
func matrix(rows, cols, ld int, gen func() float32) []float32 {
	s := make([]float32, (rows-1)*ld+cols)
	for i := range s {
		if i%ld < cols {
			s[i] = gen()
		} else {
			s[i] = float32(math.NaN())
		}
	}
	return s
}

func newProblem(rng *rand.Rand, s shape, alpha, beta float32, pad bool, gen func() float32) *problem {
	p := &problem{shape: s, alpha: alpha, beta: beta}
	padding := func() int {
		if pad {
			return 1 + rng.IntN(7)
		}
		return 0
	}
	ar, ac := s.m, s.k
	if s.transA {
		ar, ac = s.k, s.m
	}
	br, bc := s.k, s.n
	if s.transB {
		br, bc = s.n, s.k
	}
	p.lda, p.ldb, p.ldc = ac+padding(), bc+padding(), s.n+padding()
	p.a = matrix(ar, ac, p.lda, gen)
	p.b = matrix(br, bc, p.ldb, gen)
	cgen := gen
	if beta == 0 {
		cgen = func() float32 { return float32(math.NaN()) }
	}
	p.c = append(matrix(s.m, s.n, p.ldc, cgen), make([]float32, guardLen)...)
	for i := len(p.c) - guardLen; i < len(p.c); i++ {
		p.c[i] = float32(math.NaN())
	}
	return p
}

// reference returns the naive float64 result and the per-element error
// scale Σ|a||b|·|alpha| + |beta·c|.
func (p *problem) reference() (want, scale []float64) {
	want = make([]float64, p.m*p.n)
	scale = make([]float64, p.m*p.n)
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			var sum, abs float64
			for l := 0; l < p.k; l++ {
				var av, bv float32
				if p.transA {
					av = p.a[l*p.lda+i]
				} else {
					av = p.a[i*p.lda+l]
				}
				if p.transB {
					bv = p.b[j*p.ldb+l]
				} else {
					bv = p.b[l*p.ldb+j]
				}
				sum += float64(av) * float64(bv)
				abs += math.Abs(float64(av) * float64(bv))
			}
			w := float64(p.alpha) * sum
			sc := abs * math.Abs(float64(p.alpha))
			if p.beta != 0 {
				c := float64(p.c[i*p.ldc+j])
				w += float64(p.beta) * c
				sc += math.Abs(float64(p.beta) * c)
			}
			want[i*p.n+j], scale[i*p.n+j] = w, sc
		}
	}
	return want, scale
}

// run calls Sgemm with kernel kern on a copy of the initial C and checks that
// the padding and guards are untouched.
func (p *problem) run(t *testing.T, ctx *Context, kern *kernel) []float32 {
	t.Helper()
	c := append([]float32(nil), p.c...)
	n := len(c) - guardLen
	ctx.sgemm(kern, p.transA, p.transB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c[:n:n], p.ldc)
	for i := range c {
		if i >= n || i%p.ldc >= p.n {
			if math.Float32bits(c[i]) != math.Float32bits(p.c[i]) {
				t.Fatalf("%s: %v: wrote %g to C[%d] outside the matrix", kern.name, p, c[i], i)
			}
		}
	}
	return c
}

// check compares got (C storage) with want within the float tolerance.
func (p *problem) check(t *testing.T, name string, got []float32, want, scale []float64) {
	t.Helper()
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			g, w := float64(got[i*p.ldc+j]), want[i*p.n+j]
			if !(math.Abs(g-w) <= relTol*scale[i*p.n+j]+absTol) {
				t.Fatalf("%s: %v: C[%d,%d] = %g, want %g (scale %g)", name, p, i, j, g, w, scale[i*p.n+j])
			}
		}
	}
}

// checkAll runs the generic kernel against the naive reference and every
// other kernel against the generic result.
func checkAll(t *testing.T, ctx *Context, p *problem) {
	t.Helper()
	want, scale := p.reference()
	gen := p.run(t, ctx, genericKernel)
	p.check(t, "generic vs naive", gen, want, scale)
	g64 := make([]float64, p.m*p.n)
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			g64[i*p.n+j] = float64(gen[i*p.ldc+j])
		}
	}
	for _, k := range testKernels() {
		if k == genericKernel {
			continue
		}
		got := p.run(t, ctx, k)
		p.check(t, k.name+" vs generic", got, g64, scale)
	}
}

// testKernels returns every kernel to test: the available ones as chosen by
// Sgemm, and for those with a narrow variant, the wide one alone and the
// narrow one alone on every shape.
func testKernels() []*kernel {
	var ks []*kernel
	for _, k := range kernels {
		ks = append(ks, k)
		if k.narrow != nil {
			w := *k
			w.name += " (wide only)"
			w.narrow = nil
			ks = append(ks, &w, k.narrow)
		}
	}
	return ks
}

var (
	alphas = []float32{1, 0.5, -2}
	betas  = []float32{0, 1, 0.25}
)

func uniform(rng *rand.Rand) func() float32 {
	return func() float32 { return rng.Float32()*2 - 1 }
}

func TestKernel(t *testing.T) {
	var names []string
	for _, k := range testKernels() {
		names = append(names, k.name)
	}
	t.Logf("Kernel() = %q; available: %v", Kernel(), names)
	if kernels[len(kernels)-1] != genericKernel {
		t.Fatal("generic kernel missing")
	}
}

func TestSmallShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var ctx Context
	i := 0
	for m := 1; m <= 20; m++ {
		for n := 1; n <= 20; n++ {
			for k := 1; k <= 20; k++ {
				for tr := 0; tr < 4; tr++ {
					s := shape{m, n, k, tr&1 != 0, tr&2 != 0}
					alpha, beta := alphas[i%3], betas[(i/3)%3]
					i++
					checkAll(t, &ctx, newProblem(rng, s, alpha, beta, i%2 == 0, uniform(rng)))
				}
			}
		}
	}
}

func TestBlockBoundaries(t *testing.T) {
	sizes := []int{1, 2, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 95, 96, 97, 191, 192, 193, 255, 256, 257, 300, 513, 2049}
	rng := rand.New(rand.NewPCG(3, 4))
	var ctx Context
	n := 150
	if testing.Short() {
		n = 30
	}
	for i := 0; i < n; i++ {
		s := shape{sizes[rng.IntN(len(sizes))], sizes[rng.IntN(len(sizes))], sizes[rng.IntN(len(sizes))], rng.IntN(2) == 0, rng.IntN(2) == 0}
		if s.m*s.n*s.k > 1<<24 {
			i--
			continue
		}
		checkAll(t, &ctx, newProblem(rng, s, alphas[rng.IntN(3)], betas[rng.IntN(3)], rng.IntN(2) == 0, uniform(rng)))
	}
}

func TestTrainerShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var ctx Context
	for i, s := range trainerShapes {
		for tr := 0; tr < 4; tr++ {
			s := s
			if tr > 0 {
				// The other transpose combinations of the same size.
				s.transA, s.transB = tr&1 != 0, tr&2 != 0
			}
			if testing.Short() && tr > 0 {
				continue
			}
			checkAll(t, &ctx, newProblem(rng, s, alphas[(i+tr)%3], betas[(i+tr/3)%3], tr%2 == 1, uniform(rng)))
		}
	}
}

// TestIntegerExact feeds integer codes with every partial sum ≤ 2^24 in
// magnitude: every kernel must give the exact result.
func TestIntegerExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var ctx Context
	shapes := []shape{
		{64, 128, 1024, false, true}, {16, 25, 1024, true, false}, {2048, 16, 25, false, true},
		{128, 300, 64, true, false}, {64, 2304, 128, false, false}, {97, 33, 1024, false, false},
		{7, 5, 1023, true, true}, {300, 257, 513, false, true},
	}
	for _, bound := range [][2]int{{-127, 127}, {-8, 7}} {
		for i, s := range shapes {
			for _, beta := range []float32{0, 1} {
				gen := func() float32 { return float32(bound[0] + rng.IntN(bound[1]-bound[0]+1)) }
				p := newProblem(rng, s, 1, beta, i%2 == 0, gen)
				if beta == 1 {
					for j := range p.c[:len(p.c)-guardLen] {
						if j%p.ldc < p.n {
							p.c[j] = float32(rng.IntN(2001) - 1000)
						}
					}
				}
				want := make([]int64, s.m*s.n)
				for r := 0; r < s.m; r++ {
					for c := 0; c < s.n; c++ {
						var sum int64
						for l := 0; l < s.k; l++ {
							var av, bv float32
							if s.transA {
								av = p.a[l*p.lda+r]
							} else {
								av = p.a[r*p.lda+l]
							}
							if s.transB {
								bv = p.b[c*p.ldb+l]
							} else {
								bv = p.b[l*p.ldb+c]
							}
							sum += int64(av) * int64(bv)
						}
						if beta == 1 {
							sum += int64(p.c[r*p.ldc+c])
						}
						want[r*s.n+c] = sum
					}
				}
				for _, k := range testKernels() {
					got := p.run(t, &ctx, k)
					for r := 0; r < s.m; r++ {
						for c := 0; c < s.n; c++ {
							want := want[r*s.n+c]
							if g := got[r*p.ldc+c]; g != float32(want) {
								t.Fatalf("%s: %v: C[%d,%d] = %g, want exactly %d", k.name, p, r, c, g, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestSpecialCases: alpha == 0 or k == 0 only scale C; beta == 0 clears NaN.
func TestSpecialCases(t *testing.T) {
	var ctx Context
	nan := float32(math.NaN())
	for _, k := range kernels {
		c := []float32{nan, 2, 3, 4}
		ctx.sgemm(k, false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
		if c[0] != 0 || c[3] != 0 {
			t.Errorf("%s: k=0 beta=0: C = %v, want zeros", k.name, c)
		}
		c = []float32{1, 2, 3, 4}
		a := []float32{nan, 1, 1, 1}
		ctx.sgemm(k, false, false, 2, 2, 2, 0, a, 2, a, 2, 0.5, c, 2)
		if c[0] != 0.5 || c[3] != 2 {
			t.Errorf("%s: alpha=0: C = %v, want 0.5·C", k.name, c)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("short C did not panic")
		}
	}()
	ctx.Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
}

func TestNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var ctx Context
	for _, s := range trainerShapes[:8] {
		p := newProblem(rng, s, 1, 0, false, uniform(rng))
		c := p.c[:len(p.c)-guardLen]
		for _, k := range testKernels() {
			call := func() {
				ctx.sgemm(k, p.transA, p.transB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, 0, c, p.ldc)
			}
			call()
			if n := testing.AllocsPerRun(3, call); n != 0 {
				t.Errorf("%s: %v: %v allocations per call", k.name, s, n)
			}
		}
	}
}

func benchShape(b *testing.B, s shape, f func(s shape, a, bm, c []float32)) {
	rng := rand.New(rand.NewPCG(11, 12))
	p := newProblem(rng, s, 1, 0, false, uniform(rng))
	c := p.c[:len(p.c)-guardLen]
	f(s, p.a, p.b, c)
	b.ResetTimer()
	for b.Loop() {
		f(s, p.a, p.b, c)
	}
	b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func lds(s shape) (lda, ldb int) {
	lda, ldb = s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	return lda, ldb
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range trainerShapes {
		b.Run(Kernel()+"/"+s.String(), func(b *testing.B) {
			var ctx Context
			benchShape(b, s, func(s shape, a, bm, c []float32) {
				lda, ldb := lds(s)
				ctx.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
			})
		})
		b.Run("gonum/"+s.String(), func(b *testing.B) {
			tr := func(t bool) blas.Transpose {
				if t {
					return blas.Trans
				}
				return blas.NoTrans
			}
			benchShape(b, s, func(s shape, a, bm, c []float32) {
				lda, ldb := lds(s)
				gonum.Implementation{}.Sgemm(tr(s.transA), tr(s.transB), s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
			})
		})
	}
}
