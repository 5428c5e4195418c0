package ref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/internal/qgemm"
	"github.com/vktrain/vktrain/nn/backend"
)

// q8Case is one code range for the int8 path's tests: the codes lie in
// [lo, hi], the spec says [qmin, qmax] (a wrong guess must still be
// exact).
type q8Case struct {
	name       string
	lo, hi     int32
	qmin, qmax int32
}

// q8SkipShort reports whether -short skips the code ranges ia × ib of a
// GEMM of mnk multiply-adds: the large shapes (the MNIST fc1) run every
// range of a against u8 and s8 weights and the usual pair, not all 144
// pairs (under qemu-aarch64 in tools/test.sh the full product took over
// two minutes); the small shapes run every pair always.
func q8SkipShort(mnk, ia, ib int) bool {
	return testing.Short() && mnk > 1<<20 && ib > 1 && !(ia == 0 && ib == 1)
}

var q8Ranges = []q8Case{
	{"u8", 0, 255, 0, 255},
	{"s8", -127, 127, -127, 127},
	{"s8full", -128, 127, -128, 127},
	{"u4", 0, 15, 0, 15},
	{"s4", -7, 7, -8, 7},
	{"u2", 0, 3, 0, 3},
	{"s2", -1, 1, -2, 1},
	{"u8as-s8", 0, 255, -128, 127}, // the spec guesses the wrong offset
	{"s8as-u8", -128, 127, 0, 255},
	{"max255", 255, 255, 0, 255},
	{"min-128", -128, -128, -128, 127},
	{"mixed", -128, 255, -128, 127}, // fits no 8-bit range: float path
}

func q8Codes(rng *rand.Rand, n int, c q8Case) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = c.lo + int32(rng.Int64N(int64(c.hi)-int64(c.lo)+1))
	}
	if c.name == "mixed" && n > 1 {
		v[0], v[n-1] = c.lo, c.hi
	}
	return v
}

// q8Fits reports whether the int8 path takes the codes a (with extra,
// the conv's pad code) and b.
func q8Fits(a, b []int32, extra ...int32) bool {
	r := func(v []int32, extra ...int32) (lo, hi int32) {
		lo, hi = math.MaxInt32, math.MinInt32
		for _, x := range append(v, extra...) {
			lo, hi = min(lo, x), max(hi, x)
		}
		return lo, hi
	}
	alo, ahi := r(a, extra...)
	blo, bhi := r(b)
	_, _, ok := qgemm.Offsets(alo, ahi, blo, bhi)
	return ok
}

func q8Spec(rng *rand.Rand, c q8Case, channels int, zeroZB bool) backend.QuantSpec {
	p := backend.QuantSpec{Scale: make([]float32, channels), Zero: make([]int32, channels), QMin: c.qmin, QMax: c.qmax}
	for i := range channels {
		p.Scale[i] = float32(math.Ldexp(0.5+rng.Float64(), -rng.IntN(12)))
		if !zeroZB {
			p.Zero[i] = c.qmin + int32(rng.Int64N(int64(c.qmax)-int64(c.qmin)+1))
		}
	}
	return p
}

func q8Tensor(t *testing.T, b *Backend, dt backend.DType, v []int32, shape ...int) backend.Tensor {
	x, err := b.New(dt, shape...)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WriteI32(x, v); err != nil {
		t.Fatal(err)
	}
	return x
}

// q8Both runs f on a fresh backend with the int8 path on and off and
// returns both outputs; it fails the test unless the int8 path ran (or,
// for codes that do not fit, did not: the float path's scratch shows).
func q8Both(t *testing.T, threads int, fits bool, f func(b *Backend) []float32) (fast, slow []float32) {
	if !qgemm.Fast() {
		t.Skip("no int8 kernel on this CPU")
	}
	for _, on := range []bool{true, false} {
		q8Enabled = on
		b, err := NewWithOptions(Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		out := f(b)
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		floatRan := b.scratch != nil || b.convXF != nil
		if on && floatRan == fits {
			t.Fatalf("codes that fit: %v, but the float path ran: %v", fits, floatRan)
		}
		if on {
			fast = out
		} else {
			slow = out
		}
	}
	q8Enabled = qgemm.Fast()
	return fast, slow
}

func sameF32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v, want %v (float path)", what, i, got[i], want[i])
		}
	}
}

func TestQ8GemmI(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, s := range [][3]int{{1, 1, 1}, {17, 16, 25}, {64, 128, 2304}, {33, 10, 130}, {5, 40, 7}} {
		m, n, k := s[0], s[1], s[2]
		for ia, ra := range q8Ranges {
			for ib, rb := range q8Ranges {
				if q8SkipShort(m*n*k, ia, ib) {
					continue
				}
				a, w := q8Codes(rng, m*k, ra), q8Codes(rng, n*k, rb)
				want := naiveGemmI(a, w, m, n, k)
				for _, threads := range []int{1, 2, 3} {
					fast, _ := q8Both(t, threads, q8Fits(a, w), func(b *Backend) []float32 {
						acc, _ := b.New(backend.I32, m, n)
						b.GemmI(acc, q8Tensor(t, b, backend.Q8, a, m, k), q8Tensor(t, b, backend.Q8, w, n, k))
						got, _ := b.HostI32(acc)
						f := make([]float32, len(got))
						for i, v := range got {
							f[i] = math.Float32frombits(uint32(v))
						}
						return f
					})
					for i := range want {
						if int32(math.Float32bits(fast[i])) != want[i] {
							t.Fatalf("%v a %s b %s threads %d: acc[%d] = %d, want %d", s, ra.name, rb.name, threads, i, int32(math.Float32bits(fast[i])), want[i])
						}
					}
				}
			}
		}
	}
}

func TestQ8GemmIDequant(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, s := range [][3]int{{1, 1, 1}, {64, 128, 2304}, {64, 10, 128}, {19, 33, 9}} {
		m, n, k := s[0], s[1], s[2]
		for ia, ra := range q8Ranges {
			for ib, rb := range q8Ranges {
				if q8SkipShort(m*n*k, ia, ib) {
					continue
				}
				for _, v := range []struct{ zeroZB, perChan, bias bool }{{true, true, false}, {false, true, true}, {false, false, true}} {
					a, w := q8Codes(rng, m*k, ra), q8Codes(rng, n*k, rb)
					ch := 1
					if v.perChan {
						ch = n
					}
					pa, pb := q8Spec(rng, ra, 1, false), q8Spec(rng, rb, ch, v.zeroZB)
					bias := make([]float32, n)
					for i := range bias {
						bias[i] = rng.Float32() - 0.5
					}
					threads := 1 + rng.IntN(3)
					fast, slow := q8Both(t, threads, q8Fits(a, w), func(b *Backend) []float32 {
						at, wt := q8Tensor(t, b, backend.Q8, a, m, k), q8Tensor(t, b, backend.Q8, w, n, k)
						sb, _ := b.New(backend.I32, n)
						b.RowSumI(sb, wt)
						var bt backend.Tensor
						if v.bias {
							bt, _ = b.New(backend.F32, n)
							b.WriteF32(bt, bias)
						}
						y, _ := b.New(backend.F32, m, n)
						b.GemmIDequant(y, at, wt, sb, bt, pa, pb)
						out, _ := b.HostF32(y)
						return out
					})
					sameF32(t, ra.name+"×"+rb.name, fast, slow)
				}
			}
		}
	}
}

func TestQ8ConvIDequant(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	geoms := []backend.ConvGeom{
		{N: 4, H: 28, W: 28, C: 1, KH: 5, KW: 5, StrideH: 1, StrideW: 1},
		{N: 2, H: 9, W: 7, C: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
		{N: 3, H: 8, W: 8, C: 16, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{N: 1, H: 5, W: 6, C: 2, KH: 1, KW: 1, StrideH: 1, StrideW: 1},
	}
	for gi, g := range geoms {
		for _, ra := range q8Ranges {
			for _, rb := range q8Ranges {
				for _, out := range []int{16, 5, 33} {
					x, w := q8Codes(rng, g.N*g.H*g.W*g.C, ra), q8Codes(rng, out*g.K(), rb)
					pa, pb := q8Spec(rng, ra, 1, false), q8Spec(rng, rb, out, out != 5)
					if ra.name == "mixed" {
						pa.Zero[0] = 0
					}
					threads := 1 + rng.IntN(3)
					fast, slow := q8Both(t, threads, q8Fits(x, w, pa.Zero[0]), func(b *Backend) []float32 {
						xt, wt := q8Tensor(t, b, backend.Q8, x, g.N, g.H, g.W, g.C), q8Tensor(t, b, backend.Q8, w, out, g.K())
						sb, _ := b.New(backend.I32, out)
						b.RowSumI(sb, wt)
						bt, _ := b.New(backend.F32, out)
						b.WriteF32(bt, make([]float32, out))
						y, _ := b.New(backend.F32, g.Rows(), out)
						b.ConvIDequant(y, xt, wt, sb, bt, g, pa, pb)
						o, _ := b.HostF32(y)
						return o
					})
					sameF32(t, ra.name+"×"+rb.name+" geom "+string(rune('0'+gi)), fast, slow)
				}
			}
		}
	}
}

// BenchmarkQ8 times the integer GEMMs of the MNIST net (batch 64): the
// conv stem through ConvIDequant (36864×16×25) and fc1 through
// GemmIDequant (64×128×2304), on the int8 path (q8) and the float32 path
// (f32), with the backend's default threads.
func BenchmarkQ8(bb *testing.B) {
	g := backend.ConvGeom{N: 64, H: 28, W: 28, C: 1, KH: 5, KW: 5, StrideH: 1, StrideW: 1}
	rng := rand.New(rand.NewPCG(1, 2))
	u8, s8 := q8Case{"u8", 0, 255, 0, 255}, q8Case{"s8", -127, 127, -127, 127}
	for _, path := range []string{"q8", "f32"} {
		for _, shape := range []string{"conv_36864x16x25", "fc1_64x128x2304"} {
			bb.Run(path+"/"+shape, func(bb *testing.B) {
				if path == "q8" && !qgemm.Fast() {
					bb.Skip("no int8 kernel")
				}
				q8Enabled = path == "q8"
				defer func() { q8Enabled = qgemm.Fast() }()
				b := New()
				m, n, k := 64, 128, 2304
				if shape[0] == 'c' {
					m, n, k = g.Rows(), 16, g.K()
				}
				w := q8Codes(rng, n*k, s8)
				wt := q8Tensor(&testing.T{}, b, backend.Q8, w, n, k)
				sb, _ := b.New(backend.I32, n)
				b.RowSumI(sb, wt)
				bias, _ := b.New(backend.F32, n)
				y, _ := b.New(backend.F32, m, n)
				pa, pb := q8Spec(rng, u8, 1, false), q8Spec(rng, s8, n, true)
				var run func()
				if shape[0] == 'c' {
					xt := q8Tensor(&testing.T{}, b, backend.Q8, q8Codes(rng, g.N*g.H*g.W*g.C, u8), g.N, g.H, g.W, g.C)
					run = func() { b.ConvIDequant(y, xt, wt, sb, bias, g, pa, pb) }
				} else {
					at := q8Tensor(&testing.T{}, b, backend.Q8, q8Codes(rng, m*k, u8), m, k)
					run = func() { b.GemmIDequant(y, at, wt, sb, bias, pa, pb) }
				}
				run()
				bb.ReportAllocs()
				bb.SetBytes(int64(2 * m * n * k)) // "bytes" = integer ops
				for bb.Loop() {
					run()
				}
				if err := b.Sync(); err != nil {
					bb.Fatal(err)
				}
			})
		}
	}
}
