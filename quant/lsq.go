package quant

import (
	"fmt"
	"math"
)

// Grad is the backward pass of FakeQuantize with a trainable scale and zero
// point (LSQ+), using the straight-through estimator: round is treated as the
// identity when differentiating. With v = x·fl32(1/s) (Scaled, the same
// float32 value the forward rounds, see Code) and z = p.Zero, each element
// is in one of three regions, decided exactly as Code decides the clamp:
//
//	inside  (qmin <= round(v)+z <= qmax): dx̂/dx = 1, dx̂/ds = round(v) - v, dx̂/dz = 0
//	below   (round(v)+z < qmin):          dx̂/dx = 0, dx̂/ds = qmin - z,     dx̂/dz = -s
//	above   (round(v)+z > qmax):          dx̂/dx = 0, dx̂/ds = qmax - z,     dx̂/dz = -s
//
// Given the upstream gradient dxhat = dL/dx̂, Grad writes dL/dx into dx
// (dx may be nil, then only the sums are computed; dx may alias dxhat) and
// returns dScale = Σ dxhat·dx̂/ds and dZero = Σ dxhat·dx̂/dz, accumulated in
// float64. The zero point used in the forward is z = round(zf) of a
// continuous zf; by the same estimator dZero is also the gradient for zf.
// Callers usually multiply both sums by GradScale.
//
// NaN inputs (which the forward maps to exactly 0) contribute nothing and get
// dx = 0; +Inf is above and -Inf below the range.
// len(x) must equal len(dxhat), and len(dx) too when dx is not nil; a
// mismatch or an invalid s panics (programmer error). p.Scale must be finite
// and positive.
func Grad(dx []float32, x, dxhat []float32, p Params, s Scheme) (dScale, dZero float64) {
	if len(x) != len(dxhat) || (dx != nil && len(dx) != len(x)) {
		panic(fmt.Sprintf("quant: Grad: lengths differ: dx %d, x %d, dxhat %d", len(dx), len(x), len(dxhat)))
	}
	qmin, qmax := s.Range()
	sc, inv, z := p.Scale, 1/p.Scale, float64(p.Zero)
	belowS := float64(qmin) - z
	aboveS := float64(qmax) - z
	minusS := -float64(sc)
	for i, xv := range x {
		g := float64(dxhat[i])
		v := float64(scaled(xv, inv))
		var gx float32
		switch {
		case v != v:
			// NaN: no contribution.
		default:
			r := math.Round(v)
			q := r + z
			switch {
			case q < float64(qmin):
				dScale += g * belowS
				dZero += g * minusS
			case q > float64(qmax):
				dScale += g * aboveS
				dZero += g * minusS
			default:
				dScale += g * (r - v)
				gx = dxhat[i]
			}
		}
		if dx != nil {
			dx[i] = gx
		}
	}
	return dScale, dZero
}

// GradScale returns LSQ's gradient scale 1/sqrt(n·qmax) for a quantizer
// shared by n elements (n < 1 counts as 1). It panics if s is invalid.
func GradScale(n int, s Scheme) float32 {
	_, qmax := s.Range()
	n = max(n, 1)
	return float32(1 / math.Sqrt(float64(n)*float64(qmax)))
}
