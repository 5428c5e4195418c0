package quant

import (
	"fmt"
	"math"
)

// MinScale is the smallest scale FromMinMax and FromMinMaxSymmetric return.
// A range so narrow that its scale would fall below MinScale gets MinScale
// instead; raising the scale only widens the representable range, so the
// data stays covered. MinScale is a normal float32 far from the denormals,
// which GPUs may flush to zero.
const MinScale float32 = 1e-30

// Params is an affine quantizer for one tensor or one channel:
//
//	q  = clamp(round(x·fl32(1/Scale)) + Zero, qmin, qmax)   (Code)
//	x̂ = Scale * (q - Zero)
//
// Scale must be finite and positive and Zero must lie in the scheme's range;
// Validate checks both. Params from FromMinMax and FromMinMaxSymmetric
// always satisfy this.
type Params struct {
	// Scale is the real value of one code step.
	Scale float32
	// Zero is the code that represents the real value 0 exactly.
	Zero int32
}

// Degenerate is the result FromMinMax and FromMinMaxSymmetric return when the
// range carries no information (all zero, or a NaN or infinite bound):
// Scale 1 and Zero 0. Zero 0 is inside every scheme's range, so 0.0 maps
// exactly to code 0, and Scale 1 is a neutral starting point for training
// the scale.
var Degenerate = Params{Scale: 1, Zero: 0}

// Validate reports whether p is usable with scheme s: Scale finite and
// positive, Zero within s.Range().
func (p Params) Validate(s Scheme) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if !(p.Scale > 0) || math.IsInf(float64(p.Scale), 0) {
		return fmt.Errorf("quant: scale %v is not finite and positive", p.Scale)
	}
	qmin, qmax := s.Range()
	if p.Zero < qmin || p.Zero > qmax {
		return fmt.Errorf("quant: zero point %d outside %v range [%d, %d]", p.Zero, s, qmin, qmax)
	}
	return nil
}

// Representable returns the real interval [Scale*(qmin-Zero), Scale*(qmax-Zero)]
// that the codes of s cover under p. Values outside it are clamped.
func (p Params) Representable(s Scheme) (lo, hi float32) {
	qmin, qmax := s.Range()
	return p.Scale * float32(int64(qmin)-int64(p.Zero)), p.Scale * float32(int64(qmax)-int64(p.Zero))
}

func finite32(v float32) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}

// scaleFor turns a float64 step into a float32 scale, bounded to
// [MinScale, MaxFloat32].
func scaleFor(step float64) float32 {
	if step > math.MaxFloat32 {
		return math.MaxFloat32
	}
	sc := float32(step)
	if !(sc >= MinScale) {
		return MinScale
	}
	return sc
}

// FromMinMax returns the affine Params that map the range [lo, hi] onto the
// codes of s.
//
// Rules, in order:
//   - NaN or infinite lo or hi: the result is Degenerate.
//   - lo > hi: the bounds are swapped.
//   - The range is widened to include 0 (lo = min(lo, 0), hi = max(hi, 0)),
//     so that 0.0 is exactly representable (it quantizes to Zero).
//   - A zero-width range (all-zero data) gives Degenerate.
//   - Scale = (hi-lo)/(qmax-qmin), computed in float64, then bounded to
//     [MinScale, MaxFloat32].
//   - Zero = qmin - round(lo/Scale), clamped into [qmin, qmax].
//
// Because Zero is rounded, the representable range may be shifted from
// [lo, hi] by at most Scale/2 at each end. For signed schemes this is the
// asymmetric form; use FromMinMaxSymmetric for Zero = 0.
// It panics if s is invalid.
func FromMinMax(lo, hi float32, s Scheme) Params {
	qmin, qmax := s.Range()
	if !finite32(lo) || !finite32(hi) {
		return Degenerate
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	l, h := math.Min(float64(lo), 0), math.Max(float64(hi), 0)
	if h == l {
		return Degenerate
	}
	sc := scaleFor((h - l) / float64(qmax-qmin))
	z := float64(qmin) - math.Round(l/float64(sc))
	z = math.Max(float64(qmin), math.Min(float64(qmax), z))
	return Params{Scale: sc, Zero: int32(z)}
}

// FromMinMaxSymmetric returns Params with Zero = 0 and
// Scale = max(|lo|, |hi|)/qmax (bounded below by MinScale).
// A NaN or infinite bound, or lo = hi = 0, gives Degenerate.
// For unsigned schemes Zero 0 means negative values clamp to 0, which suits
// non-negative (post-ReLU) data. It panics if s is invalid.
func FromMinMaxSymmetric(lo, hi float32, s Scheme) Params {
	_, qmax := s.Range()
	if !finite32(lo) || !finite32(hi) {
		return Degenerate
	}
	m := math.Max(math.Abs(float64(lo)), math.Abs(float64(hi)))
	if m == 0 {
		return Degenerate
	}
	return Params{Scale: scaleFor(m / float64(qmax)), Zero: 0}
}

// Scaled returns x·fl32(1/s): the float32 reciprocal of s (a correctly
// rounded float32 division) times x, the product rounded to float32. It is
// the value the quantizer rounds to a code (see Code) and the one Grad
// differentiates at. A reciprocal and a multiplication are used instead of
// x/s because Vulkan guarantees correctly rounded multiplication but not
// division, so GPU kernels can compute the same value bit for bit (with
// the reciprocal computed on the host).
func Scaled(x, s float32) float32 { return scaled(x, 1/s) }

// scaled is Scaled given the float32 reciprocal inv = 1/s (hoisted out of
// loops over one slice).
func scaled(x, inv float32) float32 { return float32(x * inv) }

// Code is the one definition of the quantizer's forward map, used by
// every function of this package that quantizes and by every backend:
//
//	q = clamp(round(x·fl32(1/s)) + z, qmin, qmax)
//
// x·fl32(1/s) is Scaled(x, s); round is half away from zero (math.Round:
// 0.5 -> 1, -0.5 -> -1, 2.5 -> 3) on that float32 value, and z is added
// exactly (in float64) before the clamp, which is applied before any
// conversion to an integer: +Inf and huge values give qmax, -Inf qmin. A
// NaN x (or a NaN x·fl32(1/s), such as 0·Inf for a subnormal s) gives z,
// clamped into [qmin, qmax], so it fake-quantizes to exactly 0.
func Code(x, s float32, z, qmin, qmax int32) int32 { return code(x, 1/s, z, qmin, qmax) }

// CodeInv is Code given inv = 1/s, the float32 reciprocal of the scale:
// Code(x, s, z, qmin, qmax) == CodeInv(x, 1/s, z, qmin, qmax) for every x.
// Loops over many values of one scale compute the reciprocal once.
func CodeInv(x, inv float32, z, qmin, qmax int32) int32 { return code(x, inv, z, qmin, qmax) }

// ScaledInv is Scaled given inv = 1/s, the float32 reciprocal of the
// scale: Scaled(x, s) == ScaledInv(x, 1/s).
func ScaledInv(x, inv float32) float32 { return scaled(x, inv) }

// Round returns v rounded to the nearest integer, half away from zero:
// exactly math.Round(float64(v)) for every float32 v, computed as
// trunc(v ± 0.5) in float64, which is faster (Trunc is one instruction on
// amd64 and arm64). The sum is exact for |v| < 2^52, and from 2^24 up
// float32 values are even integers, which the tie of v ± 0.5 rounds back
// to; ±0, ±Inf and NaN come back unchanged.
func Round(v float32) float64 {
	f := float64(v)
	return math.Trunc(f + math.Copysign(0.5, f))
}

// code is Code given the float32 reciprocal inv = 1/s.
func code(x, inv float32, z, qmin, qmax int32) int32 {
	v := scaled(x, inv)
	if v != v {
		return clampCode(z, qmin, qmax)
	}
	r := Round(v) + float64(z)
	if r <= float64(qmin) {
		return qmin
	}
	if r >= float64(qmax) {
		return qmax
	}
	return int32(r)
}

func clampCode(q, qmin, qmax int32) int32 {
	if q < qmin {
		return qmin
	}
	if q > qmax {
		return qmax
	}
	return q
}

// QuantizeValue quantizes one value with p under scheme s: Code(x,
// p.Scale, p.Zero, qmin, qmax). It panics if s is invalid.
func QuantizeValue(x float32, p Params, s Scheme) int32 {
	qmin, qmax := s.Range()
	return Code(x, p.Scale, p.Zero, qmin, qmax)
}

// DequantizeValue returns Scale*(q-Zero), computed as a float32 product
// (q-Zero is formed exactly in int64).
func DequantizeValue(q int32, p Params) float32 {
	return p.Scale * float32(int64(q)-int64(p.Zero))
}

// Quantize writes q = clamp(round(x·fl32(1/Scale)) + Zero, qmin, qmax) for
// every element into dst, each code computed by Code:
//
//   - x·fl32(1/Scale) is the float32 product of x and the float32
//     reciprocal of Scale (see Scaled); round is half away from zero
//     (math.Round semantics: 2.5 -> 3, -2.5 -> -3). The backends (the
//     reference and the GPU shaders) compute the same float32 value, so
//     their codes agree bit for bit.
//   - NaN input quantizes to Zero (clamped into range); +Inf to qmax; -Inf to
//     qmin.
//
// len(dst) must equal len(x); a mismatch or an invalid s panics (programmer
// error). dst and x are distinct slices of different types, so no aliasing
// question arises.
func Quantize(dst []int32, x []float32, p Params, s Scheme) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("quant: Quantize: len(dst)=%d != len(x)=%d", len(dst), len(x)))
	}
	qmin, qmax := s.Range()
	inv, z := 1/p.Scale, p.Zero
	for i, v := range x {
		dst[i] = code(v, inv, z, qmin, qmax)
	}
}

// Dequantize writes x̂ = Scale*(q-Zero) for every code into dst (float32
// product, the difference formed exactly). len(dst) must equal len(q); a
// mismatch panics (programmer error).
func Dequantize(dst []float32, q []int32, p Params) {
	if len(dst) != len(q) {
		panic(fmt.Sprintf("quant: Dequantize: len(dst)=%d != len(q)=%d", len(dst), len(q)))
	}
	for i, v := range q {
		dst[i] = p.Scale * float32(int64(v)-int64(p.Zero))
	}
}

// FakeQuantize writes Dequantize(Quantize(x)) into dst without materialising
// the codes. dst may be x itself (in place). len(dst) must equal len(x); a
// mismatch or an invalid s panics (programmer error). NaN inputs come out as
// exactly 0 (they quantize to Zero).
func FakeQuantize(dst, x []float32, p Params, s Scheme) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("quant: FakeQuantize: len(dst)=%d != len(x)=%d", len(dst), len(x)))
	}
	qmin, qmax := s.Range()
	sc, inv, z := p.Scale, 1/p.Scale, p.Zero
	for i, v := range x {
		q := code(v, inv, z, qmin, qmax)
		dst[i] = sc * float32(int64(q)-int64(z))
	}
}

// ZeroPointDot returns Σ_k (qx_k - zx)(qw_k - zw) computed from the raw
// integer sums, the form an integer kernel produces:
//
//	Σ qx·qw - zw·Σ qx - zx·Σ qw + K·zx·zw
//
// sumQQ = Σ qx·qw, sumQx = Σ qx, sumQw = Σ qw over K terms. The caller
// multiplies the result by Scale_x·Scale_w to dequantize.
func ZeroPointDot(sumQQ, sumQx, sumQw int64, k int, zx, zw int32) int64 {
	return sumQQ - int64(zw)*sumQx - int64(zx)*sumQw + int64(k)*int64(zx)*int64(zw)
}
