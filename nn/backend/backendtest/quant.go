package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// TestMinMax checks MinMax: exact agreement, and min, max and the
// non-finite count computed independently.
func TestMinMax(t *testing.T, b backend.Backend) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	cases := []struct {
		name    string
		n       int
		lo, hi  float64
		special []float32
	}{
		{"one", 1, -1, 1, nil},
		{"random", 257, -3, 5, nil},
		{"negative", 1000, -9, -1, nil},
		{"nonfinite", 35, -2, 2, []float32{nan, inf, -inf, nan}},
		{"allnonfinite", 0, 0, 0, []float32{nan, inf, -inf}},
		{"large", 70001, -100, 1e4, []float32{inf}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, b)
			x := e.uniform(c.n, c.lo, c.hi)
			// Special values go to spread positions.
			for i, v := range c.special {
				x = append(x, 0)
				pos := (i*7919 + 3) % len(x)
				copy(x[pos+1:], x[pos:])
				x[pos] = v
			}
			xt := e.inF32("x", x, len(x))
			d := e.out("dst", backend.F32, 3)
			e.run(func(b backend.Backend, s int) { b.MinMax(d.t[s], xt.t[s]) })
			got := e.exactF32(d)
			lo, hi, bad := math.Inf(1), math.Inf(-1), 0
			for _, v := range x {
				f := float64(v)
				if math.IsNaN(f) || math.IsInf(f, 0) {
					bad++
					continue
				}
				lo, hi = math.Min(lo, f), math.Max(hi, f)
			}
			if bad == len(x) {
				lo, hi = 0, 0
			}
			if float64(got[0]) != lo || float64(got[1]) != hi || float64(got[2]) != float64(bad) {
				t.Fatalf("MinMax = %v, want [%v %v %v]", got, lo, hi, bad)
			}
		})
	}
}

// TestHistogram checks Histogram: exact agreement, and counts of values
// placed well inside known bins, at the range ends, outside the range and
// non-finite.
func TestHistogram(t *testing.T, b backend.Backend) {
	cases := []struct {
		bins   int
		lo, hi float32
		n      int
	}{
		{1, 0, 1, 10},
		{7, -2, 3, 500},
		{256, -0.75, 0.5, 5000},
		{100, 1000, 1001, 3000},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("bins%d", c.bins), func(t *testing.T) {
			e := newEnv(t, b)
			want := make([]int32, c.bins)
			var x []float32
			w := float64(c.hi-c.lo) / float64(c.bins)
			for range c.n {
				k := e.rng.IntN(c.bins)
				x = append(x, float32(float64(c.lo)+w*(float64(k)+0.3+0.4*e.rng.Float64())))
				want[k]++
			}
			inf := float32(math.Inf(1))
			x = append(x, c.lo, c.hi, c.lo-1, c.hi+1, -inf, inf, float32(math.NaN()), -3e38, 3e38)
			want[0] += 2        // lo, lo-1
			want[c.bins-1] += 2 // hi, hi+1
			want[0]++           // -3e38
			want[c.bins-1]++    // 3e38
			e.rng.Shuffle(len(x), func(i, j int) { x[i], x[j] = x[j], x[i] })
			xt := e.inF32("x", x, len(x))
			h := e.out("counts", backend.I32, c.bins)
			e.run(func(b backend.Backend, s int) { b.Histogram(h.t[s], xt.t[s], c.lo, c.hi) })
			got := e.exactI32(h)
			for k := range want {
				if got[k] != want[k] {
					t.Fatalf("bin %d: count %d, want %d", k, got[k], want[k])
				}
			}
		})
	}
}

// quantInput returns n values that quantize across the whole code range
// and beyond (to test the clamp) for the spec slice c, plus, when special,
// NaN, infinities, signed zeros and huge values.
func (e *env) quantInput(n int, p backend.QuantSpec, slice int, special bool) []float32 {
	x := make([]float32, n)
	for i := range x {
		c := 0
		if len(p.Scale) > 1 {
			c = i / slice
		}
		s, z := float64(p.Scale[c]), float64(p.Zero[c])
		lo, hi := float64(p.QMin)-z-3, float64(p.QMax)-z+3
		u := lo + (hi-lo)*e.rng.Float64()
		if e.rng.IntN(4) == 0 {
			u = math.Round(u) + 0.5 // near a rounding tie
		}
		x[i] = float32(u * s)
	}
	if special {
		sp := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 3e38, -3e38, 1e-30}
		for i, v := range sp {
			if i*5 < n {
				x[i*5] = v
			}
		}
	}
	return x
}

// quantize64 is an independent statement of QuantSpec's quantization:
// x times the float32 reciprocal 1/s, rounded to float32, then rounded
// half away from zero. (Multiplication, unlike division, is correctly
// rounded in Vulkan, so GPU kernels can match it exactly.)
func quantize64(x, s float32, z, qmin, qmax int32) int32 {
	if math.IsNaN(float64(x)) {
		return z
	}
	inv := 1 / s
	q := float64(float32(x * inv))
	r := math.Trunc(q)
	if math.Abs(q-r) >= 0.5 {
		r += math.Copysign(1, q)
	}
	v := r + float64(z)
	return int32(math.Max(float64(qmin), math.Min(float64(qmax), v)))
}

// quantCase is one shape and spec layout of the quantization tests.
type quantCase struct {
	name     string
	shape    []int
	perChan  bool
	zeroMode string
	r        codeRange
}

func quantCases() []quantCase {
	shapes := [][]int{{1}, {37, 11}, {5, 3, 3, 2}, {16, 27}, {3, 1000}}
	var cs []quantCase
	i := 0
	for _, r := range codeRanges() {
		for _, per := range []bool{false, true} {
			for _, zp := range []string{"min", "max", "rand"} {
				sh := shapes[i%len(shapes)]
				i++
				name := fmt.Sprintf("%s/perTensor/z%s/%v", r.name, zp, sh)
				if per {
					name = fmt.Sprintf("%s/perChannel/z%s/%v", r.name, zp, sh)
				}
				cs = append(cs, quantCase{name, sh, per, zp, r})
			}
		}
	}
	return cs
}

func sliceLen(shape []int, perChan bool) (n, slice int) {
	n = 1
	for _, d := range shape {
		n *= d
	}
	if perChan {
		return n, n / shape[0]
	}
	return n, n
}

// TestQuantize checks Quantize bit for bit against the reference and an
// independent statement of the formula, over 2-, 4- and 8-bit signed and
// unsigned ranges, per-tensor and per-channel specs, zero points at the
// range ends, rounding ties and special values; and checks round half
// away from zero on exact ties.
func TestQuantize(t *testing.T, b backend.Backend) {
	for _, c := range quantCases() {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, b)
			n, slice := sliceLen(c.shape, c.perChan)
			nch := 1
			if c.perChan {
				nch = c.shape[0]
			}
			p := e.spec(c.r, nch, c.zeroMode)
			x := e.quantInput(n, p, slice, true)
			xt := e.inF32("x", x, c.shape...)
			q := e.out("q", backend.Q8, c.shape...)
			e.run(func(b backend.Backend, s int) { b.Quantize(q.t[s], xt.t[s], p) })
			got := e.exactI32(q)
			for i, v := range x {
				ch := 0
				if c.perChan {
					ch = i / slice
				}
				want := quantize64(v, p.Scale[ch], p.Zero[ch], p.QMin, p.QMax)
				if got[i] != want {
					t.Fatalf("q[%d] = %d, want %d (x = %v, s = %v, z = %d)", i, got[i], want, v, p.Scale[ch], p.Zero[ch])
				}
			}
		})
	}
	t.Run("ties", func(t *testing.T) {
		e := newEnv(t, b)
		// x/s exact with a power-of-two scale: ties round away from zero.
		x := []float32{2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 0.49999997, -0.49999997, 126.5, -127.5, 0}
		want := []int32{3, -3, 1, -1, 2, -2, 0, 0, 127, -127, 0}
		for i := range x {
			x[i] *= 0.25
		}
		p := backend.QuantSpec{Scale: []float32{0.25}, Zero: []int32{0}, QMin: -127, QMax: 127}
		xt := e.inF32("x", x, len(x))
		q := e.out("q", backend.Q8, len(x))
		e.run(func(b backend.Backend, s int) { b.Quantize(q.t[s], xt.t[s], p) })
		got := e.exactI32(q)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("Quantize(%v / 0.25) = %d, want %d", x[i], got[i], want[i])
			}
		}
	})
}

// TestDequantize checks Dequantize against the reference and against
// s·(q-z) in float64.
func TestDequantize(t *testing.T, b backend.Backend) {
	for _, c := range quantCases() {
		if c.zeroMode == "max" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, b)
			n, slice := sliceLen(c.shape, c.perChan)
			nch := 1
			if c.perChan {
				nch = c.shape[0]
			}
			p := e.spec(c.r, nch, c.zeroMode)
			q := e.inQ8("q", e.codes(n, c.r.min, c.r.max), c.shape...)
			x := e.out("x", backend.F32, c.shape...)
			e.run(func(b backend.Backend, s int) { b.Dequantize(x.t[s], q.t[s], p) })
			got := e.closeF32(x, TolElementwise, 1)
			want := make([]float64, n)
			for i, v := range q.i {
				ch := 0
				if c.perChan {
					ch = i / slice
				}
				want[i] = float64(p.Scale[ch]) * float64(v-p.Zero[ch])
			}
			checkClose(t, "x vs s·(q-z)", got, want, TolElementwise, 1)
		})
	}
}

// TestQuantGrad checks QuantGrad against the reference (dx exactly,
// dScale and dZero within TolSum) and against the formulas of
// backend.Backend summed in float64, with and without dx, including
// slices of tens of thousands of elements (summed in several chunks by
// parallel backends).
func TestQuantGrad(t *testing.T, b backend.Backend) {
	rs := codeRanges()
	long := []struct {
		c      quantCase
		withDX bool
	}{
		{quantCase{"long/u8/perChannel/zrand/[3 70000]", []int{3, 70000}, true, "rand", rs[6]}, true},
		{quantCase{"long/s8/perChannel/zmin/[2 70001]", []int{2, 70001}, true, "min", rs[2]}, false},
		{quantCase{"long/s4/perTensor/zrand/[140001]", []int{140001}, false, "rand", rs[1]}, true},
	}
	for ci, c := range quantCases() {
		if c.zeroMode == "max" && !c.perChan {
			continue
		}
		withDX := ci%3 != 2
		name := c.name
		if !withDX {
			name += "/nodx"
		}
		t.Run(name, func(t *testing.T) { quantGradCase(t, b, c, withDX) })
	}
	for _, l := range long {
		name := l.c.name
		if !l.withDX {
			name += "/nodx"
		}
		t.Run(name, func(t *testing.T) { quantGradCase(t, b, l.c, l.withDX) })
	}
}

func quantGradCase(t *testing.T, b backend.Backend, c quantCase, withDX bool) {
	e := newEnv(t, b)
	n, slice := sliceLen(c.shape, c.perChan)
	nch := 1
	if c.perChan {
		nch = c.shape[0]
	}
	p := e.spec(c.r, nch, c.zeroMode)
	x := e.quantInput(n, p, slice, false)
	if n > 10 {
		x[3], x[7] = 3e38, -3e38
	}
	xt := e.inF32("x", x, c.shape...)
	gt := e.inF32("dxhat", e.uniform(n, -1, 1), c.shape...)
	var dx *pair
	if withDX {
		dx = e.out("dx", backend.F32, c.shape...)
	}
	ds := e.out("dScale", backend.F32, nch)
	dz := e.out("dZero", backend.F32, nch)
	e.run(func(b backend.Backend, s int) {
		var d backend.Tensor
		if dx != nil {
			d = dx.t[s]
		}
		b.QuantGrad(d, ds.t[s], dz.t[s], xt.t[s], gt.t[s], p)
	})
	gotS := e.closeF32(ds, TolSum, slice)
	gotZ := e.closeF32(dz, TolSum, slice)
	var gotX []float32
	if dx != nil {
		gotX = e.exactF32(dx)
	}
	// The formulas, summed in float64.
	wantS, wantZ := make([]float64, nch), make([]float64, nch)
	for i, v := range x {
		ch := 0
		if c.perChan {
			ch = i / slice
		}
		sc, z, g := p.Scale[ch], p.Zero[ch], float64(gt.f[i])
		inv := 1 / sc
		q := float64(float32(v * inv))
		rq := float64(quantize64(v, sc, 0, math.MinInt32, math.MaxInt32))
		if math.Abs(q) > 1e9 {
			rq = q
		}
		val := rq + float64(z)
		wantDX := g
		switch {
		case val < float64(p.QMin):
			wantDX = 0
			wantS[ch] += g * float64(p.QMin-z)
			wantZ[ch] -= g * float64(sc)
		case val > float64(p.QMax):
			wantDX = 0
			wantS[ch] += g * float64(p.QMax-z)
			wantZ[ch] -= g * float64(sc)
		default:
			wantS[ch] += g * (rq - q)
		}
		if gotX != nil && float64(gotX[i]) != wantDX {
			t.Fatalf("dx[%d] = %v, want %v (x = %v, s = %v, z = %d)", i, gotX[i], wantDX, v, sc, z)
		}
	}
	checkClose(t, "dScale vs formula", gotS, wantS, TolSum, slice)
	checkClose(t, "dZero vs formula", gotZ, wantZ, TolSum, slice)
}
