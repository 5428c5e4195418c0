package qsimd

import (
	"math"

	"github.com/vktrain/vktrain/quant"
)

// The generic functions are the specification: each does literally what the
// element-wise loops of package quant and nn/ref do. The assembly kernels
// are tested bit for bit against them.

// codesGeneric is Codes in portable Go.
func codesGeneric(dst []int32, x []float32, inv float32, z, qmin, qmax int32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = quant.CodeInv(v, inv, z, qmin, qmax)
	}
}

// gradTermsGeneric is GradTerms in portable Go (the loop of nn/ref's
// quantGradTerms).
func gradTermsGeneric(dx, x, g, ts, tz []float32, s, inv float32, z, qmin, qmax int32) {
	fmin, fmax := float64(qmin), float64(qmax)
	lowT, highT := float32(qmin-z), float32(qmax-z)
	g, ts, tz = g[:len(x)], ts[:len(x)], tz[:len(x)]
	if dx != nil {
		dx = dx[:len(x)]
	}
	for i, xv := range x {
		gv := g[i]
		q := quant.ScaledInv(xv, inv)
		r := quant.Round(q)
		v := r + float64(z)
		d := gv
		switch {
		case v < fmin:
			d = 0
			ts[i], tz[i] = float32(gv*lowT), -float32(gv*s)
		case v > fmax:
			d = 0
			ts[i], tz[i] = float32(gv*highT), -float32(gv*s)
		default:
			ts[i], tz[i] = float32(gv*(float32(r)-q)), 0
		}
		if dx != nil {
			dx[i] = d
		}
	}
}

// dequantizeGeneric is Dequantize in portable Go.
func dequantizeGeneric(dst []float32, q []int32, s float32, z int32) {
	dst = dst[:len(q)]
	for i, v := range q {
		dst[i] = s * float32(v-z)
	}
}

// minMaxGeneric is MinMax in portable Go (the loop of nn/ref's minMaxJob).
func minMaxGeneric(x []float32) (lo, hi float32, seen bool, bad int) {
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			bad++
			continue
		}
		if !seen {
			lo, hi, seen = v, v, true
			continue
		}
		lo = min(lo, v)
		hi = max(hi, v)
	}
	return lo, hi, seen, bad
}
