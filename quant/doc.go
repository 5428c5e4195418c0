// Package quant holds the quantization maths and statistics of vktrain: the
// definition every backend (the pure-Go reference and the Vulkan shaders)
// must agree with. It is pure Go and knows nothing of GPUs or layers.
//
// # Schemes
//
// A Scheme is a code width of 2..8 bits and a signedness. Signed codes use
// the symmetric range [-(2^(b-1)-1), 2^(b-1)-1] ([-127, 127] at 8 bits; the
// code -2^(b-1) is never produced), unsigned codes [0, 2^b-1] ([0, 255]).
// Weights(b) is signed, Activations(b) unsigned.
//
// # The affine quantizer
//
// Params{Scale, Zero} maps reals to codes and back:
//
//	q  = clamp(round(x·fl32(1/Scale)) + Zero, qmin, qmax)
//	x̂ = Scale * (q - Zero)
//
// Code is the one definition of the forward map; every function here that
// quantizes calls it, package nn/ref calls it, and the Vulkan shaders
// compute the same value bit for bit. fl32(1/Scale) is the float32 reciprocal of
// Scale (a correctly rounded float32 division) and x·fl32(1/Scale) its
// float32 product with x (Scaled); this is not always the float32 quotient
// x/Scale, and it is used because GPUs guarantee correctly rounded
// multiplication but not division. round is half away from zero
// (math.Round: 0.5 -> 1, -0.5 -> -1, 2.5 -> 3). NaN input quantizes to Zero
// (so it fake-quantizes to exactly 0), +Inf to qmax and -Inf to qmin. x̂ is
// a float32 product with q-Zero formed exactly.
//
// This is the only quantization rule in vktrain: the README, package
// nn/ref and docs/CHECKPOINT.md state the same x·fl32(1/s), and every
// checkpoint names it (metadata "quant_codes", rule
// clamp(round_half_away_from_zero(fl32(x*fl32(1/scale)))+zero, qmin, qmax)).
//
// FromMinMax builds Params from a range: it widens [lo, hi] to include 0, so
// that 0.0 quantizes exactly to Zero and dequantizes to exactly 0 (padding and
// ReLU zeros cost no error), sets Scale = (hi-lo)/(qmax-qmin) and
// Zero = qmin - round(lo/Scale) clamped into range. FromMinMaxSymmetric sets
// Zero = 0 and Scale = max(|lo|, |hi|)/qmax.
//
// # Degenerate input
//
// Nothing here divides by zero or returns NaN parameters:
//   - a NaN or infinite bound, or an all-zero range, gives Degenerate
//     (Scale 1, Zero 0): 0 maps exactly to code 0;
//   - an all-equal nonzero range is widened to include 0 and is ordinary;
//   - a range so narrow that Scale would fall below MinScale (1e-30) gets
//     MinScale, which only widens the representable range;
//   - lo > hi is swapped.
//
// The statistics functions reject NaN and Inf instead of skipping them:
// MinMax, NewHistogram, Calibrate and CalibratePerChannel return an error
// wrapping ErrNonFinite that names the count and first index. EMA.Update
// ignores a batch with a non-finite bound; Histogram.Add skips NaN.
//
// # Integer products
//
// A dot product of codes dequantizes exactly as
//
//	s_x s_w Σ (qx-zx)(qw-zw) = s_x s_w (Σ qx qw - zw Σ qx - zx Σ qw + K zx zw)
//
// (ZeroPointDot), so an integer kernel accumulates Σ qx qw, Σ qx and Σ qw
// in integers and corrects once.
//
// # Calibration
//
// Calibrate and CalibratePerChannel derive Params from data by a Method:
// MethodMinMax (exact range), MethodPercentile (central 99.99% of a
// histogram's mass) or MethodMSE (the clip range minimising the expected
// quantization error computed from a histogram: rounding error inside the
// range plus clipping error outside it, both integrated exactly with each
// bin's mass spread uniformly). EMA tracks activation ranges across batches.
// Per-channel weights are channel-major: channel c is w[c*K:(c+1)*K].
//
// # Trainable scale and zero point
//
// Scale and zero point can be trained (LSQ, Esser et al. 2020; LSQ+, Bhalgat
// et al. 2020). The forward is x̂ = s*(clamp(round(v)+z, qmin, qmax) - z)
// with v = x·fl32(1/s) as in Code and z = round(zf) of a continuous zf.
// Grad differentiates it with the straight-through estimator (round treated
// as the identity, v as x/s):
//
//	inside the range: dx̂/dx = 1, dx̂/ds = round(v) - v, dx̂/dz = 0
//	below qmin:       dx̂/dx = 0, dx̂/ds = qmin - z,     dx̂/dz = -s
//	above qmax:       dx̂/dx = 0, dx̂/ds = qmax - z,     dx̂/dz = -s
//
// In the clamped regions these are the true derivatives of the forward; in
// range the scale gradient is the derivative of the surrogate
// s*(x/s + c) with c = round(v)-v held constant. GradScale gives LSQ's
// factor 1/sqrt(n*qmax) for a quantizer shared by n elements.
//
// # Packing
//
// Codes are packed four to a uint32 word in rows: a tensor of codes is a
// matrix of rows of cols codes (cols is its last dimension) and each row
// starts on a word and is padded to a whole word, so a row takes
// RowWords(cols) = ceil(cols/4) words. Code j of a row goes to word j/4
// of the row, byte j%4, byte 0 in bits 0..7 (little endian), as its low 8
// bits (two's complement for signed codes). The padding bytes hold code 0,
// so a kernel that sums codes or products of codes over whole words gets
// the sums over the real codes. This is the layout of packed Q8 tensors
// in the Vulkan backend (nn/vk) and the one its shaders read; Pack4 writes
// it and Unpack4 reads it.
//
// # Errors and panics
//
// Functions that take data from outside (MinMax, NewHistogram, Calibrate,
// CalibratePerChannel, ParseMethod, Scheme.Validate, Params.Validate) return
// errors. The hot-path functions have no error result and panic only on
// documented programmer errors: an invalid Scheme or slices of mismatched
// length.
package quant
