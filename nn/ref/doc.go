// Package ref is the pure-Go reference implementation of backend.Backend.
// It is the specification of every op: other backends (Vulkan) are
// checked against it by package backendtest.
//
// # Model
//
// A Tensor is a plain struct: a shape, a dtype and a shared storage
// holding either []float32 (F32) or []int32 (I32) elements in row-major
// order, the last dimension fastest (NHWC for images). Reshape returns a
// view sharing the storage; Free drops the storage of a tensor and all its
// views. Ops run synchronously on the calling goroutine (using helper
// goroutines for the heavy ones); a Backend is not safe for concurrent use.
//
// Every op validates its arguments (dtypes, shapes, tensors of this
// backend, outputs that do not alias inputs) and, on a mismatch, records a
// sticky error naming the op and the mismatch, for example
//
//	GemmI: a is [64 9], b is [32 8]: inner dimensions differ
//
// after which every op is skipped and Err, Sync and the Reads return that
// first error.
//
// # Arithmetic (what other backends must reproduce)
//
// Integer ops (Im2ColI, GemmI, RowSumI and the integer part of Dequant)
// use wrapping int32 arithmetic, so their results do not depend on the
// order of summation; other backends must match them bit for bit.
//
// Quantize computes q = clamp(round(x/s) + z, QMin, QMax) where x/s is a
// float32 division (correctly rounded, as IEEE 754 and Go define it), round
// is math.Round (half away from zero), the clamp is applied before any
// conversion to an integer (so ±Inf and huge x/s clamp to the range ends),
// and NaN x gives the zero point z. Histogram computes its bin as
// floor(((v-lo)/(hi-lo))·bins) with each operation rounded to float32,
// clamped to [0, bins-1]. Because these float computations decide integer
// results, a GPU must perform the same float32 operations with correct
// rounding (in particular an exact division, not a reciprocal multiply).
//
// Float ops accumulate in float32 in the order a straightforward loop
// gives (rows in increasing order for per-channel sums, elements in
// increasing index order within a quantization slice); explicit float32
// conversions keep the Go compiler from fusing a multiply and an add into
// an FMA, so the results are identical on every architecture. The float
// GEMM is gonum's pure-Go parallel Sgemm (blas/gonum), whose summation
// order is blocked; other backends match float ops within the tolerances
// declared in package backendtest, not bit for bit.
//
// Conventions for special values: ReLU(x) = x if x > 0 else 0 (NaN and -0
// give +0); MaxPool keeps the first element of a window and replaces it by
// each later element strictly greater (so ties keep the first, and a NaN
// first element stays); QuantGrad treats NaN x as inside the range.
//
// Parallel helpers split work by rows, images or channels so that every
// output element is computed by exactly one goroutine in the serial order:
// results do not depend on Options.Threads.
package ref
