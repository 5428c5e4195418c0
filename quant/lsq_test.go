package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fq64 is the real-valued function that Grad's clamped-region gradients
// are the true derivatives of, for finite differences in float64 with a
// continuous scale and zero point: s*(clamp(round(x/s)+z, qmin, qmax) - z).
// It is not the quantizer (Code); it is only evaluated at points far from
// rounding ties, where x/s and x·fl32(1/s) round alike.
func fq64(x, s, z float64, qmin, qmax int32) float64 {
	q := math.Round(x/s) + z
	q = math.Max(float64(qmin), math.Min(float64(qmax), q))
	return s * (q - z)
}

// TestGradFiniteDifferences checks Grad element by element against central
// finite differences in float64: of the real function in the clamped regions
// (where the STE gradients are the true derivatives) and of the
// straight-through surrogate h(s) = s*(x/s + c), c = round(x/s0)-x/s0 held
// constant, inside the range.
func TestGradFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	counts := map[string]int{}
	for _, s := range allSchemes() {
		qmin, qmax := s.Range()
		for _, p := range []Params{FromMinMax(-1, 3, s), FromMinMax(-0.2, 0.1, s), FromMinMaxSymmetric(-2, 2, s)} {
			sc, z := float64(p.Scale), float64(p.Zero)
			a, b := p.Representable(s)
			for range 300 {
				span := float64(b - a)
				x := float32(float64(a) - span + 3*span*r.Float64())
				v := float64(Scaled(x, p.Scale))
				if math.Abs(v-math.Floor(v)-0.5) < 1e-3 {
					continue // too close to a rounding tie for a stable region
				}
				q := math.Round(v) + z
				dx := make([]float32, 1)
				dS, dZ := Grad(dx, []float32{x}, []float32{1}, p, s)
				hs := 1e-6 * sc
				switch {
				case q < float64(qmin) || q > float64(qmax):
					counts["clamped"]++
					fdS := (fq64(float64(x), sc+hs, z, qmin, qmax) - fq64(float64(x), sc-hs, z, qmin, qmax)) / (2 * hs)
					want := float64(qmax) - z
					if q < float64(qmin) {
						want = float64(qmin) - z
					}
					if math.Abs(fdS-want) > 1e-6*math.Max(1, math.Abs(want)) {
						t.Fatalf("%v x=%v: FD of real function %g, analytic %g", s, x, fdS, want)
					}
					if math.Abs(dS-fdS) > 1e-6*math.Max(1, math.Abs(fdS)) {
						t.Fatalf("%v x=%v (clamped): dScale %g, FD %g", s, x, dS, fdS)
					}
					const hz = 1e-3
					fdZ := (fq64(float64(x), sc, z+hz, qmin, qmax) - fq64(float64(x), sc, z-hz, qmin, qmax)) / (2 * hz)
					if math.Abs(dZ-fdZ) > 1e-6*math.Max(1, math.Abs(fdZ)) {
						t.Fatalf("%v x=%v (clamped): dZero %g, FD %g", s, x, dZ, fdZ)
					}
					if dx[0] != 0 {
						t.Fatalf("%v x=%v (clamped): dx %v, want 0", s, x, dx[0])
					}
				default:
					counts["inside"]++
					c := math.Round(v) - v
					surr := func(s1, x1 float64) float64 { return s1 * (x1/s1 + c) }
					fdS := (surr(sc+hs, float64(x)) - surr(sc-hs, float64(x))) / (2 * hs)
					if math.Abs(dS-fdS) > 1e-4 {
						t.Fatalf("%v x=%v (inside): dScale %g, FD of surrogate %g", s, x, dS, fdS)
					}
					hx := 1e-6 * math.Max(1, math.Abs(float64(x)))
					fdX := (surr(sc, float64(x)+hx) - surr(sc, float64(x)-hx)) / (2 * hx)
					if math.Abs(float64(dx[0])-fdX) > 1e-6 {
						t.Fatalf("%v x=%v (inside): dx %v, FD of surrogate %g", s, x, dx[0], fdX)
					}
					if q > float64(qmin) && q < float64(qmax) {
						const hz = 1e-3
						fdZ := (fq64(float64(x), sc, z+hz, qmin, qmax) - fq64(float64(x), sc, z-hz, qmin, qmax)) / (2 * hz)
						if dZ != 0 || math.Abs(fdZ) > 1e-9 {
							t.Fatalf("%v x=%v (inside): dZero %g, FD %g, want 0", s, x, dZ, fdZ)
						}
					}
				}
			}
		}
	}
	if counts["clamped"] < 100 || counts["inside"] < 100 {
		t.Fatalf("too few points tested: %v", counts)
	}
}

// TestGradSums checks that Grad on a vector is the dxhat-weighted sum of the
// per-element gradients, that dx may be nil or alias dxhat, and that NaN
// inputs contribute nothing.
func TestGradSums(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	s := Activations(4)
	p := FromMinMax(-0.5, 2, s)
	const n = 500
	x, g := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64()*1.5 + 0.5)
		g[i] = float32(r.NormFloat64())
	}
	x[7] = float32(math.NaN())
	var wantS, wantZ float64
	wantDx := make([]float32, n)
	for i := range x {
		d := make([]float32, 1)
		s1, z1 := Grad(d, x[i:i+1], []float32{1}, p, s)
		wantS += float64(g[i]) * s1
		wantZ += float64(g[i]) * z1
		wantDx[i] = d[0] * g[i]
	}
	gotS, gotZ := Grad(nil, x, g, p, s)
	if math.Abs(gotS-wantS) > 1e-9*math.Max(1, math.Abs(wantS)) || math.Abs(gotZ-wantZ) > 1e-9*math.Max(1, math.Abs(wantZ)) {
		t.Errorf("sums (%g, %g), per element (%g, %g)", gotS, gotZ, wantS, wantZ)
	}
	gg := append([]float32(nil), g...)
	Grad(gg, x, gg, p, s) // aliasing dx and dxhat
	for i := range gg {
		if gg[i] != wantDx[i] {
			t.Fatalf("dx[%d] = %v, want %v", i, gg[i], wantDx[i])
		}
	}
	if gg[7] != 0 {
		t.Errorf("NaN input got dx %v", gg[7])
	}
	if a, b := Grad(nil, []float32{float32(math.NaN())}, []float32{1}, p, s); a != 0 || b != 0 {
		t.Errorf("NaN input contributes (%g, %g)", a, b)
	}
	if !panics(func() { Grad(make([]float32, 2), x, g, p, s) }) {
		t.Error("Grad did not panic on mismatched dx")
	}
}

func TestGradScale(t *testing.T) {
	if got, want := GradScale(100, Weights(8)), float32(1/math.Sqrt(100*127)); got != want {
		t.Errorf("GradScale(100, int8) = %v, want %v", got, want)
	}
	if got, want := GradScale(0, Activations(4)), float32(1/math.Sqrt(15)); got != want {
		t.Errorf("GradScale(0, uint4) = %v, want %v", got, want)
	}
}
