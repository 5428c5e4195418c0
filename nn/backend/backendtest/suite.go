package backendtest

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// Tolerances of the float ops, see the package documentation for the
// bound each one enters.
const (
	// TolElementwise bounds ops that compute each output from a few
	// inputs with a few roundings.
	TolElementwise = 1e-6
	// TolDequant bounds Dequant: two float32 products, an int32 to float32
	// conversion and the bias add.
	TolDequant = 1e-6
	// TolGemm bounds the float GEMM, scaled by sqrt(K).
	TolGemm = 1e-4
	// TolSum bounds float sums of n terms, scaled by sqrt(n).
	TolSum = 1e-5
	// TolBatchNorm bounds every BatchNorm output.
	TolBatchNorm = 1e-4
	// TolCompensate bounds the compensation ops.
	TolCompensate = 1e-5
)

// tolFD bounds the distance between an op's gradient and a float64
// finite difference, relative to 1 plus the largest magnitude of the
// finite-difference gradient.
const tolFD = 1e-4

// side 0 is the backend under test, side 1 the reference.
const (
	under = 0
	refer = 1
)

// pair is a tensor allocated on both backends.
type pair struct {
	name  string
	dt    backend.DType
	shape []int
	t     [2]backend.Tensor
	f     []float32 // written contents of an input
	i     []int32
}

func (p *pair) len() int {
	n := 1
	for _, d := range p.shape {
		n *= d
	}
	return n
}

// env runs one test case on the backend under test and the reference.
type env struct {
	t      *testing.T
	bk     [2]backend.Backend
	rng    *rand.Rand
	all    []backend.Tensor // side-0 tensors to free (and side 1)
	allRef []backend.Tensor
	ins    []*pair
	guards []*pair
}

// newEnv starts a case; its random stream depends only on the test name.
func newEnv(t *testing.T, b backend.Backend) *env {
	t.Helper()
	if err := b.Err(); err != nil {
		t.Fatalf("backend under test has a recorded error before the case: %v", err)
	}
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	e := &env{t: t, bk: [2]backend.Backend{b, ref.New()}, rng: rand.New(rand.NewPCG(h.Sum64(), 0x5eed))}
	t.Cleanup(e.free)
	return e
}

func (e *env) free() {
	for _, x := range e.all {
		e.bk[under].Free(x)
	}
	for _, x := range e.allRef {
		e.bk[refer].Free(x)
	}
	e.bk[refer].Close()
}

func (e *env) alloc(side int, dt backend.DType, shape []int) backend.Tensor {
	e.t.Helper()
	x, err := e.bk[side].New(dt, shape...)
	if err != nil {
		e.t.Fatalf("side %d: New(%v, %v): %v", side, dt, shape, err)
	}
	if side == under {
		e.all = append(e.all, x)
	} else {
		e.allRef = append(e.allRef, x)
	}
	return x
}

func (e *env) write(p *pair, side int) {
	e.t.Helper()
	var err error
	if p.dt == backend.F32 {
		err = e.bk[side].WriteF32(p.t[side], p.f)
	} else {
		err = e.bk[side].WriteI32(p.t[side], p.i)
	}
	if err != nil {
		e.t.Fatalf("writing %s: %v", p.name, err)
	}
}

func (e *env) newPair(name string, dt backend.DType, shape []int) *pair {
	e.t.Helper()
	p := &pair{name: name, dt: dt, shape: shape}
	for s := range 2 {
		p.t[s] = e.alloc(s, dt, shape)
	}
	return p
}

// inF32 makes an input tensor holding data; it must be unchanged by ops.
func (e *env) inF32(name string, data []float32, shape ...int) *pair {
	e.t.Helper()
	p := e.stateF32(name, data, shape...)
	e.ins = append(e.ins, p)
	return p
}

// inI32 makes an input tensor holding data; it must be unchanged by ops.
func (e *env) inI32(name string, data []int32, shape ...int) *pair {
	e.t.Helper()
	return e.inInt(name, backend.I32, data, shape...)
}

// inQ8 makes an input code tensor holding data (all signed or all
// unsigned 8-bit values); it must be unchanged by ops.
func (e *env) inQ8(name string, data []int32, shape ...int) *pair {
	e.t.Helper()
	return e.inInt(name, backend.Q8, data, shape...)
}

func (e *env) inInt(name string, dt backend.DType, data []int32, shape ...int) *pair {
	e.t.Helper()
	p := e.newPair(name, dt, shape)
	if len(data) != p.len() {
		e.t.Fatalf("test bug: %s has %d values for %v", name, len(data), shape)
	}
	p.i = data
	e.write(p, under)
	e.write(p, refer)
	e.ins = append(e.ins, p)
	return p
}

// stateF32 makes an F32 tensor holding data that ops may update in place.
func (e *env) stateF32(name string, data []float32, shape ...int) *pair {
	e.t.Helper()
	p := e.newPair(name, backend.F32, shape)
	if len(data) != p.len() {
		e.t.Fatalf("test bug: %s has %d values for %v", name, len(data), shape)
	}
	p.f = data
	e.write(p, under)
	e.write(p, refer)
	return p
}

// out makes an output tensor filled with garbage (NaN or random codes)
// and surrounded, on the backend under test, by two guard tensors.
func (e *env) out(name string, dt backend.DType, shape ...int) *pair {
	e.t.Helper()
	e.guard(name + " (guard before)")
	p := e.newPair(name, dt, shape)
	e.guard(name + " (guard after)")
	n := p.len()
	if dt == backend.F32 {
		p.f = make([]float32, n)
		for i := range p.f {
			p.f[i] = float32(math.NaN())
		}
	} else {
		p.i = make([]int32, n)
		for i := range p.i {
			p.i[i] = int32(e.rng.IntN(256) - 128)
		}
	}
	e.write(p, under)
	e.write(p, refer)
	p.f, p.i = nil, nil
	return p
}

func (e *env) guard(name string) {
	e.t.Helper()
	const n = 64
	p := &pair{name: name, dt: backend.F32, shape: []int{n}, f: make([]float32, n)}
	p.t[under] = e.alloc(under, backend.F32, p.shape)
	for i := range p.f {
		p.f[i] = 1234.5 + float32(i)
	}
	e.write(p, under)
	e.guards = append(e.guards, p)
}

// run records f on both backends and checks that neither recorded an
// error, that the inputs are unchanged and the guards intact.
func (e *env) run(f func(b backend.Backend, side int)) {
	e.t.Helper()
	for s := range 2 {
		f(e.bk[s], s)
		if err := e.bk[s].Sync(); err != nil {
			e.t.Fatalf("%s: %v", []string{"backend under test", "reference"}[s], err)
		}
	}
	for _, p := range e.ins {
		e.checkSame(p, p.f, p.i, "input changed by the op")
	}
	for _, p := range e.guards {
		e.checkSame(p, p.f, nil, "guard tensor changed by the op")
	}
}

func (e *env) checkSame(p *pair, f []float32, i []int32, what string) {
	e.t.Helper()
	if p.dt == backend.F32 {
		got := e.f32(p, under)
		for k := range got {
			if math.Float32bits(got[k]) != math.Float32bits(f[k]) {
				e.t.Fatalf("%s: %s: [%d] = %v, want %v", p.name, what, k, got[k], f[k])
			}
		}
		return
	}
	got := e.i32(p, under)
	for k := range got {
		if got[k] != i[k] {
			e.t.Fatalf("%s: %s: [%d] = %d, want %d", p.name, what, k, got[k], i[k])
		}
	}
}

func (e *env) f32(p *pair, side int) []float32 {
	e.t.Helper()
	dst := make([]float32, p.len())
	if err := e.bk[side].ReadF32(p.t[side], dst); err != nil {
		e.t.Fatalf("reading %s: %v", p.name, err)
	}
	return dst
}

func (e *env) i32(p *pair, side int) []int32 {
	e.t.Helper()
	dst := make([]int32, p.len())
	if err := e.bk[side].ReadI32(p.t[side], dst); err != nil {
		e.t.Fatalf("reading %s: %v", p.name, err)
	}
	return dst
}

// maxReport is how many mismatches a comparison lists.
const maxReport = 5

// exactI32 compares an I32 output of both backends bit for bit.
func (e *env) exactI32(p *pair) []int32 {
	e.t.Helper()
	got, want := e.i32(p, under), e.i32(p, refer)
	bad := 0
	for k := range got {
		if got[k] != want[k] {
			if bad < maxReport {
				e.t.Errorf("%s%v: [%d] = %d, reference %d", p.name, p.shape, k, got[k], want[k])
			}
			bad++
		}
	}
	if bad > 0 {
		e.t.Fatalf("%s: %d of %d elements differ from the reference", p.name, bad, len(got))
	}
	return got
}

// exactF32 compares an F32 output of both backends bit for bit (NaNs of
// any payload are equal).
func (e *env) exactF32(p *pair) []float32 {
	e.t.Helper()
	got, want := e.f32(p, under), e.f32(p, refer)
	bad := 0
	for k := range got {
		if !sameF32(got[k], want[k]) {
			if bad < maxReport {
				e.t.Errorf("%s%v: [%d] = %v, reference %v", p.name, p.shape, k, got[k], want[k])
			}
			bad++
		}
	}
	if bad > 0 {
		e.t.Fatalf("%s: %d of %d elements differ from the reference", p.name, bad, len(got))
	}
	return got
}

func sameF32(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

// closeF32 compares an F32 output of both backends within
// tol·(1+|want|)·sqrt(n), and returns the backend's values.
func (e *env) closeF32(p *pair, tol float64, n int) []float32 {
	e.t.Helper()
	got, want := e.f32(p, under), e.f32(p, refer)
	w := make([]float64, len(want))
	for k, v := range want {
		w[k] = float64(v)
	}
	checkClose(e.t, p.name+" vs reference", got, w, tol, n)
	return got
}

// checkClose checks |got-want| <= tol·(1+|want|)·sqrt(n) elementwise;
// NaN matches only NaN and infinities must be equal.
func checkClose(t *testing.T, what string, got []float32, want []float64, tol float64, n int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	f := math.Sqrt(float64(max(n, 1)))
	bad := 0
	for k, g := range got {
		gv, wv := float64(g), want[k]
		ok := false
		switch {
		case math.IsNaN(wv) || math.IsNaN(gv):
			ok = math.IsNaN(wv) && math.IsNaN(gv)
		case math.IsInf(wv, 0) || math.IsInf(gv, 0):
			ok = gv == wv
		default:
			ok = math.Abs(gv-wv) <= tol*(1+math.Abs(wv))*f
		}
		if !ok {
			if bad < maxReport {
				t.Errorf("%s: [%d] = %v, want %v (|d| = %.3g, bound %.3g)", what, k, g, wv, math.Abs(gv-wv), tol*(1+math.Abs(wv))*f)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d values out of tolerance", what, bad, len(got))
	}
}

// checkGrad checks a gradient against a finite-difference one:
// |got-want| <= tolFD·(1+max|want|).
func checkGrad(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	scale := 0.0
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	bad := 0
	for k, g := range got {
		if d := math.Abs(float64(g) - want[k]); !(d <= tolFD*(1+scale)) {
			if bad < maxReport {
				t.Errorf("%s: [%d] = %v, finite difference %v", what, k, g, want[k])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d values disagree with finite differences", what, bad, len(got))
	}
}

// uniform returns n values uniform in [lo, hi).
func (e *env) uniform(n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*e.rng.Float64())
	}
	return v
}

// codes returns n integers uniform in [lo, hi].
func (e *env) codes(n int, lo, hi int32) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = lo + int32(e.rng.IntN(int(hi-lo)+1))
	}
	return v
}

// Code ranges used by the quantized tests: 2-, 4- and 8-bit, signed and
// unsigned.
type codeRange struct {
	name     string
	min, max int32
}

func codeRanges() []codeRange {
	return []codeRange{
		{"s2", -1, 1}, {"s4", -7, 7}, {"s8", -127, 127}, {"s8full", -128, 127},
		{"u2", 0, 3}, {"u4", 0, 15}, {"u8", 0, 255},
	}
}

// spec returns a QuantSpec with n scales, zero points chosen by zp
// ("min", "max", "mid" or "rand") and random scales.
func (e *env) spec(r codeRange, n int, zp string) backend.QuantSpec {
	p := backend.QuantSpec{Scale: make([]float32, n), Zero: make([]int32, n), QMin: r.min, QMax: r.max}
	for i := range n {
		p.Scale[i] = float32(0.01 + 0.2*e.rng.Float64())
		switch zp {
		case "min":
			p.Zero[i] = r.min
		case "max":
			p.Zero[i] = r.max
		case "mid":
			p.Zero[i] = (r.min + r.max) / 2
		default:
			p.Zero[i] = r.min + int32(e.rng.IntN(int(r.max-r.min)+1))
		}
	}
	return p
}

func shapeName(shape []int) string { return fmt.Sprint(shape) }
