package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// checkParams fails unless p is valid for s and maps 0 exactly.
func checkParams(t *testing.T, what string, p Params, s Scheme) {
	t.Helper()
	if err := p.Validate(s); err != nil {
		t.Errorf("%s %v: %+v: %v", what, s, p, err)
		return
	}
	if q := QuantizeValue(0, p, s); q != p.Zero {
		t.Errorf("%s %v: %+v: 0 quantizes to %d, want Zero", what, s, p, q)
	}
	if v := DequantizeValue(p.Zero, p); v != 0 {
		t.Errorf("%s %v: %+v: Zero dequantizes to %v", what, s, p, v)
	}
}

// TestRoundTripBound checks |x - x̂| <= Scale/2 for every x in the
// calibrated range and exact clamping outside, for every scheme.
func TestRoundTripBound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ranges := [][2]float32{{-1, 1}, {-3, 0.5}, {0.2, 7}, {-9, -4}, {0, 1}, {-1e-3, 2e-3}, {-250, 1000}}
	for _, s := range allSchemes() {
		for _, rg := range ranges {
			lo, hi := rg[0], rg[1]
			p := FromMinMax(lo, hi, s)
			checkParams(t, "FromMinMax", p, s)
			sc := float64(p.Scale)
			qmin, qmax := s.Range()
			a, b := p.Representable(s)
			const n = 2000
			x := make([]float32, n)
			x[0], x[1] = lo, hi
			for i := 2; i < n; i++ {
				x[i] = lo + (hi-lo)*r.Float32()
			}
			xh := make([]float32, n)
			FakeQuantize(xh, x, p, s)
			for i, v := range x {
				e := math.Abs(float64(v) - float64(xh[i]))
				if tol := sc*(0.5+2e-5) + 1e-7*math.Abs(float64(v)); e > tol {
					t.Fatalf("%v range %v: x=%v x̂=%v error %g > s/2=%g", s, rg, v, xh[i], e, sc/2)
				}
			}
			// Outside: clamp to the ends of the representable range.
			for _, v := range []float32{a - 3*p.Scale, a - 100*p.Scale, float32(math.Inf(-1))} {
				if q := QuantizeValue(v, p, s); q != qmin {
					t.Errorf("%v: %v below range quantizes to %d, want %d", s, v, q, qmin)
				}
			}
			for _, v := range []float32{b + 3*p.Scale, b + 100*p.Scale, float32(math.Inf(1))} {
				if q := QuantizeValue(v, p, s); q != qmax {
					t.Errorf("%v: %v above range quantizes to %d, want %d", s, v, q, qmax)
				}
			}
			if DequantizeValue(qmin, p) != a || DequantizeValue(qmax, p) != b {
				t.Errorf("%v: Representable disagrees with DequantizeValue", s)
			}
		}
	}
}

func TestSymmetric(t *testing.T) {
	for _, s := range allSchemes() {
		_, qmax := s.Range()
		p := FromMinMaxSymmetric(-2, 5, s)
		checkParams(t, "FromMinMaxSymmetric", p, s)
		if p.Zero != 0 || p.Scale != float32(5/float64(qmax)) {
			t.Errorf("%v: symmetric params %+v", s, p)
		}
		if s.Signed {
			if got := DequantizeValue(QuantizeValue(-5, p, s), p); math.Abs(float64(got+5)) > 1e-5 {
				t.Errorf("%v: -5 round trips to %v", s, got)
			}
		}
	}
}

func TestRoundingHalfAwayFromZero(t *testing.T) {
	s := Weights(8)
	p := Params{Scale: 1, Zero: 0}
	cases := map[float32]int32{0.5: 1, -0.5: -1, 1.5: 2, -1.5: -2, 2.5: 3, -2.5: -3, 1.49: 1, -1.49: -1, 0.49: 0}
	for x, want := range cases {
		if got := QuantizeValue(x, p, s); got != want {
			t.Errorf("round(%v) = %d, want %d", x, got, want)
		}
	}
	// With a zero point, the tie is broken on x/Scale before the shift.
	p = Params{Scale: 0.5, Zero: 10}
	if got := QuantizeValue(-0.25, p, Activations(8)); got != 9 {
		t.Errorf("x/s=-0.5, z=10: got %d, want 9", got)
	}
}

// TestCodeUsesReciprocal pins the rule q = round(x·fl32(1/s)) on values
// where it differs from rounding the float32 quotient x/s, and checks
// that every function that quantizes follows Code.
func TestCodeUsesReciprocal(t *testing.T) {
	cases := []struct {
		x, s       uint32 // float32 bits
		want, quot int32  // round(x·fl32(1/s)), round(x/s)
	}{
		{0x445e9fff, 0x41500000, 69, 68},   // 890.49994/13: x/s = 68.49999, x·fl32(1/13) = 68.5
		{0xc37d7fff, 0x41500000, -20, -19}, // -253.49998/13
		{0xc46fa000, 0x41224925, -94, -95}, // -958.5/10.142858: x/s = -94.5, product -94.49999
		{0x433b1248, 0x415db6db, 14, 13},
	}
	for _, c := range cases {
		x, s := math.Float32frombits(c.x), math.Float32frombits(c.s)
		if q := int32(math.Round(float64(x / s))); q != c.quot {
			t.Fatalf("test case %v/%v: round(x/s) = %d, want %d", x, s, q, c.quot)
		}
		if got := Code(x, s, 0, -128, 127); got != c.want {
			t.Errorf("Code(%v, %v) = %d, want %d (x/s would give %d)", x, s, got, c.want, c.quot)
		}
		p, sch := Params{Scale: s}, Weights(8)
		q := make([]int32, 1)
		Quantize(q, []float32{x}, p, sch)
		xh := make([]float32, 1)
		FakeQuantize(xh, []float32{x}, p, sch)
		if v := QuantizeValue(x, p, sch); v != c.want || q[0] != c.want || xh[0] != DequantizeValue(c.want, p) {
			t.Errorf("x=%v s=%v: QuantizeValue %d, Quantize %d, FakeQuantize %v; want code %d", x, s, v, q[0], xh[0], c.want)
		}
		// Grad decides the region and the rounding residual from the same value.
		_, qmax := sch.Range()
		for _, z := range []int32{0, qmax - c.want, qmax - c.want + 1} {
			dS, _ := Grad(nil, []float32{x}, []float32{1}, Params{Scale: s, Zero: z}, sch)
			v := float64(Scaled(x, s))
			want := math.Round(v) - v
			if c.want+z > qmax {
				want = float64(qmax - z)
			}
			if dS != want {
				t.Errorf("x=%v s=%v z=%d: Grad dScale %g, want %g", x, s, z, dS, want)
			}
		}
	}
	// Scaled is the float32 product with the float32 reciprocal.
	x := math.Float32frombits(0x445e9fff)
	if got := Scaled(x, 13); got != 68.5 || x/13 == 68.5 {
		t.Errorf("Scaled(%v, 13) = %v, want 68.5 (x/13 = %v)", x, got, x/13)
	}
	if got := Code(0, 1e-40, 5, 0, 255); got != 5 { // 0·Inf is NaN: the zero point
		t.Errorf("Code(0, subnormal) = %d, want the zero point 5", got)
	}
}

func TestNonFiniteInputs(t *testing.T) {
	for _, s := range allSchemes() {
		qmin, qmax := s.Range()
		p := FromMinMax(-1, 3, s)
		x := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
		q := make([]int32, 3)
		Quantize(q, x, p, s)
		if q[0] != p.Zero || q[1] != qmax || q[2] != qmin {
			t.Errorf("%v: NaN,+Inf,-Inf -> %v, want [%d %d %d]", s, q, p.Zero, qmax, qmin)
		}
		xh := make([]float32, 3)
		FakeQuantize(xh, x, p, s)
		if xh[0] != 0 {
			t.Errorf("%v: NaN fake-quantizes to %v, want 0", s, xh[0])
		}
	}
}

func TestDegenerateParams(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	cases := [][2]float32{
		{0, 0}, {3, 3}, {-2, -2}, {nan, 1}, {1, nan}, {nan, nan}, {-inf, inf}, {0, inf},
		{5, -5}, {1e-42, 1e-42}, {-1e-44, 0}, {-math.MaxFloat32, math.MaxFloat32},
		{math.MaxFloat32, math.MaxFloat32}, {-math.SmallestNonzeroFloat32, math.SmallestNonzeroFloat32},
	}
	for _, s := range allSchemes() {
		for _, c := range cases {
			var p, ps Params
			if panics(func() { p = FromMinMax(c[0], c[1], s) }) {
				t.Fatalf("FromMinMax(%v) panicked", c)
			}
			if panics(func() { ps = FromMinMaxSymmetric(c[0], c[1], s) }) {
				t.Fatalf("FromMinMaxSymmetric(%v) panicked", c)
			}
			checkParams(t, "FromMinMax", p, s)
			checkParams(t, "FromMinMaxSymmetric", ps, s)
		}
		if p := FromMinMax(0, 0, s); p != Degenerate {
			t.Errorf("%v: all-zero range gives %+v, want Degenerate", s, p)
		}
		if p := FromMinMax(nan, 2, s); p != Degenerate {
			t.Errorf("%v: NaN bound gives %+v, want Degenerate", s, p)
		}
		if p := FromMinMax(-1, inf, s); p != Degenerate {
			t.Errorf("%v: Inf bound gives %+v, want Degenerate", s, p)
		}
		// An all-equal nonzero range is widened to include 0 and the value
		// itself is representable within s/2.
		for _, v := range []float32{3, -2, 1e-20} {
			p := FromMinMax(v, v, s)
			if v < 0 && !s.Signed && p.Zero == 0 {
				t.Errorf("%v: negative constant range got Zero 0", s)
			}
			got := DequantizeValue(QuantizeValue(v, p, s), p)
			if math.Abs(float64(got-v)) > float64(p.Scale)*0.5001 {
				t.Errorf("%v: constant %v round trips to %v (scale %v)", s, v, got, p.Scale)
			}
		}
	}
	if p := FromMinMax(1e-42, 1e-42, Weights(8)); p.Scale != MinScale {
		t.Errorf("tiny range scale = %v, want MinScale", p.Scale)
	}
	if p := FromMinMax(4, -4, Weights(8)); p != FromMinMax(-4, 4, Weights(8)) {
		t.Errorf("swapped bounds give %+v", p)
	}
}

// TestZeroPointAlgebra checks the integer identity of the dequantized dot
// product in int64 on random codes and zero points.
func TestZeroPointAlgebra(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sx := range allSchemes() {
		for _, sw := range allSchemes() {
			xmin, xmax := sx.Range()
			wmin, wmax := sw.Range()
			code := func(lo, hi int32) int32 { return lo + r.Int32N(hi-lo+1) }
			for range 5 {
				k := 1 + r.IntN(300)
				zx, zw := code(xmin, xmax), code(wmin, wmax)
				var direct, qq, sqx, sqw int64
				for range k {
					qx, qw := code(xmin, xmax), code(wmin, wmax)
					direct += int64(qx-zx) * int64(qw-zw)
					qq += int64(qx) * int64(qw)
					sqx += int64(qx)
					sqw += int64(qw)
				}
				if got := ZeroPointDot(qq, sqx, sqw, k, zx, zw); got != direct {
					t.Fatalf("%v x %v K=%d: ZeroPointDot = %d, direct %d", sx, sw, k, got, direct)
				}
			}
		}
	}
}

// TestIntegerDotMatchesFakeQuant checks that an integer dot product of codes,
// corrected with ZeroPointDot and scaled, equals the float dot product of
// the fake-quantized vectors within float rounding.
func TestIntegerDotMatchesFakeQuant(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, bits := range []int{2, 4, 8} {
		sx, sw := Activations(bits), Weights(bits)
		for trial := range 20 {
			k := 1 + r.IntN(500)
			x, w := make([]float32, k), make([]float32, k)
			for i := range x {
				x[i] = float32(r.NormFloat64()*2 + 0.5)
				w[i] = float32(r.NormFloat64() * 0.1)
			}
			px, _ := Calibrate(x, sx, MethodMinMax)
			pw, _ := Calibrate(w, sw, MethodMinMax)
			if trial%2 == 1 {
				pw, _ = CalibrateSymmetric(w, sw, MethodMinMax)
			}
			qx, qw := make([]int32, k), make([]int32, k)
			Quantize(qx, x, px, sx)
			Quantize(qw, w, pw, sw)
			var qq, sqx, sqw int64
			for i := range qx {
				qq += int64(qx[i]) * int64(qw[i])
				sqx += int64(qx[i])
				sqw += int64(qw[i])
			}
			yInt := float64(px.Scale) * float64(pw.Scale) * float64(ZeroPointDot(qq, sqx, sqw, k, px.Zero, pw.Zero))
			xh, wh := make([]float32, k), make([]float32, k)
			FakeQuantize(xh, x, px, sx)
			FakeQuantize(wh, w, pw, sw)
			var yF, mag float64
			for i := range xh {
				yF += float64(xh[i]) * float64(wh[i])
				mag += math.Abs(float64(xh[i]) * float64(wh[i]))
			}
			if d := math.Abs(yInt - yF); d > 1e-6*mag+1e-30 {
				t.Fatalf("bits %d K=%d: integer dot %g, fake-quant dot %g (diff %g, magnitude %g)", bits, k, yInt, yF, d, mag)
			}
		}
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	s, p := Weights(8), Params{Scale: 1}
	if !panics(func() { Quantize(make([]int32, 2), make([]float32, 3), p, s) }) {
		t.Error("Quantize did not panic on length mismatch")
	}
	if !panics(func() { Dequantize(make([]float32, 2), make([]int32, 3), p) }) {
		t.Error("Dequantize did not panic on length mismatch")
	}
	if !panics(func() { FakeQuantize(make([]float32, 2), make([]float32, 3), p, s) }) {
		t.Error("FakeQuantize did not panic on length mismatch")
	}
	if !panics(func() { Quantize(nil, nil, p, Weights(9)) }) {
		t.Error("Quantize did not panic on an invalid scheme")
	}
}

func TestDequantizeMatchesFakeQuantize(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 1000)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	for _, s := range allSchemes() {
		p := FromMinMax(-2, 4, s)
		q := make([]int32, len(x))
		Quantize(q, x, p, s)
		a, b := make([]float32, len(x)), append([]float32(nil), x...)
		Dequantize(a, q, p)
		FakeQuantize(b, b, p, s) // in place
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%v: element %d: Dequantize %v, FakeQuantize %v", s, i, a[i], b[i])
			}
		}
	}
}
