package qsimd

import (
	"math"
	"os"
)

// exactLimit bounds |qmin-z| and |qmax-z| for the assembly kernels: below
// it the bounds are exact float32 integers and every code minus z converts
// exactly (see the package documentation). Larger ranges take the generic
// code.
const exactLimit = 1 << 24

// minMaxChunk bounds the elements of one minMax kernel call, so that the
// per-lane int32 counts of non-finite values cannot overflow.
const minMaxChunk = 1 << 28

// kernel is one implementation of the element-wise passes. The assembly
// functions handle whole vectors only: the callers pass slices whose length
// is a positive multiple of lanes, with every other slice at least as long,
// and leave the rest to the generic code.
type kernel struct {
	name  string
	lanes int // elements per vector, a power of two
	// codes is Codes for qmin ≤ qmax with blo = qmin-z, bhi = qmax-z (exact
	// float32 integers of magnitude ≤ exactLimit) and zc = z clamped into
	// [qmin, qmax].
	codes func(dst []int32, x []float32, inv, blo, bhi float32, z, zc int32)
	// gradTerms is GradTerms with lowT = float32(qmin-z),
	// highT = float32(qmax-z), and blo, bhi as for codes.
	gradTerms func(dx, x, g, ts, tz []float32, inv, s, lowT, highT, blo, bhi float32)
	// dequantize is Dequantize.
	dequantize func(dst []float32, q []int32, s float32, z int32)
	// minMax folds x into the per-lane accumulators of acc and returns
	// them (by value: through a function value a pointer would escape, an
	// allocation per call).
	minMax func(x []float32, acc minMaxAcc) minMaxAcc
	// cols are the column sums' kernels (see colKernels); nil: the
	// generic code.
	cols *colKernels
	// rows are the row passes' kernels (see rowKernels); nil: the generic
	// code.
	rows *rowKernels
	// optim are the optimizer passes' kernels (see optimKernels); nil:
	// the generic code.
	optim *optimKernels
}

// minMaxAcc holds the per-lane accumulators of the minMax kernels: the
// smallest and largest order keys (see key) of the finite values, and the
// number of non-finite values. Kernels use the first lanes entries of each.
type minMaxAcc struct {
	lo, hi, bad [16]int32
}

// key maps the bits of a float32 to an int32 whose signed order is the
// order of the values, with -0 < +0 (the order of Go's min and max
// built-ins): non-negative values keep their bits, negative ones have all
// bits but the sign flipped. key is its own inverse.
func key(b int32) int32 { return b ^ (b >> 31 & math.MaxInt32) }

var genericKernel = &kernel{name: "generic", lanes: 1}

// kernels lists the implementations usable on this CPU, preferred first;
// generic is last.
var kernels []*kernel

// active is the implementation in use, chosen once at start-up.
var active *kernel

func init() {
	kernels = append(archKernels(), genericKernel)
	active = kernels[0]
	if want := os.Getenv("VKTRAIN_QSIMD"); want != "" {
		for _, k := range kernels {
			if k.name == want {
				active = k
			}
		}
	}
}

// Kernel names the implementation chosen at run time for this CPU
// ("avx512", "avx2", "neon" or "generic"). The environment variable
// VKTRAIN_QSIMD, read at start-up, overrides the choice with any of those
// names that the CPU supports (VKTRAIN_QSIMD=generic forces the portable
// Go code); the build tag purego leaves the assembly out.
func Kernel() string { return active.name }

// bounds returns qmin-z and qmax-z as float32, and whether the assembly
// kernels may use them: both exact, of magnitude at most exactLimit.
func bounds(z, qmin, qmax int32) (blo, bhi float32, ok bool) {
	lo, hi := int64(qmin)-int64(z), int64(qmax)-int64(z)
	if lo < -exactLimit || lo > exactLimit || hi < -exactLimit || hi > exactLimit {
		return 0, 0, false
	}
	return float32(lo), float32(hi), true
}

// Codes writes dst[i] = quant.CodeInv(x[i], inv, z, qmin, qmax) for every i:
// the quantization code clamp(round(x[i]·inv) + z, qmin, qmax), with the
// product rounded to float32, ties rounded away from zero and a NaN product
// giving z clamped into [qmin, qmax]. dst must be at least as long as x;
// only dst[:len(x)] is written.
func Codes(dst []int32, x []float32, inv float32, z, qmin, qmax int32) {
	if len(dst) < len(x) {
		panic("qsimd: Codes: dst shorter than x")
	}
	dst = dst[:len(x)]
	n := 0
	if k := active; k.codes != nil && len(x) >= k.lanes && qmin <= qmax {
		if blo, bhi, ok := bounds(z, qmin, qmax); ok {
			n = len(x) &^ (k.lanes - 1)
			k.codes(dst[:n], x[:n], inv, blo, bhi, z, min(max(z, qmin), qmax))
		}
	}
	codesGeneric(dst[n:], x[n:], inv, z, qmin, qmax)
}

// GradTerms is the straight-through backward of fake quantization for one
// slice of scale s (inv = 1/s as float32) and zero point z, element-wise:
// with q = float32(x[i]·inv), r = quant.Round(q) (float64) and
// v = r + float64(z),
//
//	v < qmin:   dx[i] = 0;    ts[i] = float32(g[i]·float32(qmin-z)); tz[i] = -float32(g[i]·s)
//	v > qmax:   dx[i] = 0;    ts[i] = float32(g[i]·float32(qmax-z)); tz[i] = -float32(g[i]·s)
//	otherwise:  dx[i] = g[i]; ts[i] = float32(g[i]·(float32(r)-q));  tz[i] = +0
//
// (a NaN v compares false both ways and takes the last branch). ts and tz
// are the terms of the gradients of the scale and of the zero point. dx may
// be nil, and is then not written. g, ts, tz and a non-nil dx must be at
// least as long as x; only their first len(x) elements are read or written.
func GradTerms(dx, x, g, ts, tz []float32, s, inv float32, z, qmin, qmax int32) {
	if len(g) < len(x) || len(ts) < len(x) || len(tz) < len(x) || (dx != nil && len(dx) < len(x)) {
		panic("qsimd: GradTerms: slice shorter than x")
	}
	n := 0
	if k := active; k.gradTerms != nil && len(x) >= k.lanes {
		if blo, bhi, ok := bounds(z, qmin, qmax); ok {
			n = len(x) &^ (k.lanes - 1)
			var dxv []float32
			if dx != nil {
				dxv = dx[:n]
			}
			k.gradTerms(dxv, x[:n], g[:n], ts[:n], tz[:n], inv, s, float32(qmin-z), float32(qmax-z), blo, bhi)
		}
	}
	var dxt []float32
	if dx != nil {
		dxt = dx[n:]
	}
	gradTermsGeneric(dxt, x[n:], g[n:], ts[n:], tz[n:], s, inv, z, qmin, qmax)
}

// Dequantize writes dst[i] = s·float32(q[i]-z) for every i: the int32
// difference (wrapping), converted to float32 (rounded to nearest), times s
// (one float32 product). dst must be at least as long as q; only
// dst[:len(q)] is written.
func Dequantize(dst []float32, q []int32, s float32, z int32) {
	if len(dst) < len(q) {
		panic("qsimd: Dequantize: dst shorter than q")
	}
	dst = dst[:len(q)]
	n := 0
	if k := active; k.dequantize != nil && len(q) >= k.lanes {
		n = len(q) &^ (k.lanes - 1)
		k.dequantize(dst[:n], q[:n], s, z)
	}
	dequantizeGeneric(dst[n:], q[n:], s, z)
}

// MinMax returns the minimum lo and maximum hi of the finite values of x
// (seen is false, and lo and hi are 0, when there are none) and bad, the
// number of NaN and infinite values. Minimum and maximum are those of Go's
// min and max built-ins, which order -0 before +0: min(-0, +0) = -0 and
// max(-0, +0) = +0.
func MinMax(x []float32) (lo, hi float32, seen bool, bad int) {
	n := 0
	if k := active; k.minMax != nil && len(x) >= k.lanes {
		n = len(x) &^ (k.lanes - 1)
		var acc minMaxAcc
		for i := range acc.lo {
			acc.lo[i], acc.hi[i] = math.MaxInt32, math.MinInt32
		}
		for off := 0; off < n; off += minMaxChunk {
			acc = k.minMax(x[off:min(n, off+minMaxChunk)], acc)
			for i := range acc.bad {
				bad += int(acc.bad[i])
				acc.bad[i] = 0
			}
		}
		if bad < n {
			klo, khi := acc.lo[0], acc.hi[0]
			for i := 1; i < k.lanes; i++ {
				klo, khi = min(klo, acc.lo[i]), max(khi, acc.hi[i])
			}
			lo = math.Float32frombits(uint32(key(klo)))
			hi = math.Float32frombits(uint32(key(khi)))
			seen = true
		}
	}
	tlo, thi, tseen, tbad := minMaxGeneric(x[n:])
	bad += tbad
	if tseen {
		if !seen {
			lo, hi, seen = tlo, thi, true
		} else {
			lo, hi = min(lo, tlo), max(hi, thi)
		}
	}
	return lo, hi, seen, bad
}
