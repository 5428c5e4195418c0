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
// Every op begins with its declaration's check in the op contract of
// package backend (backend.OpXxx.Check, with Backend as the
// backend.Resolver): dtypes, shapes, tensors of this backend, outputs that
// do not alias inputs. On a mismatch it records a sticky error naming the
// op and the mismatch, for example
//
//	GemmI: a is [64 9], b is [32 8]: inner dimensions differ
//
// after which every op is skipped and Err, Sync and the Reads return that
// first error. The only check an op adds is one that depends on data:
// MaxPoolGrad rejects an index of arg outside dx. OpCounts reports how
// many calls of each op passed the checks.
//
// # Arithmetic (what other backends must reproduce)
//
// Integer ops (Im2ColI, GemmI, RowSumI, DWConvI and the integer part of
// Dequant) use wrapping int32 arithmetic, so their results do not depend
// on the order of summation; other backends must match them bit for bit.
//
// Quantize computes q = clamp(round(x·fl32(1/s)) + z, QMin, QMax), the
// rule defined once by quant.Code (QuantizeValue): fl32(1/s) is the
// float32 reciprocal of the scale (a correctly rounded float32 division,
// done once per scale, on the host for a GPU) and x·fl32(1/s) its float32
// product with x, which is not always the float32 quotient x/s; round is
// math.Round (half away from zero), the clamp is applied before any
// conversion to an integer (so ±Inf and huge values clamp to the range
// ends), and NaN x gives the zero point z. It is never an exact or
// float32 division x/s. docs/CHECKPOINT.md spells out, in the order this
// package computes them, the float32 operations of every inference step
// (quantize, integer product, dequantize, compensation, batch norm, pools,
// residual add) so that inference can be reimplemented bit for bit. Histogram computes its bin as
// floor((v-lo)·f) with f = bins/(hi-lo) computed once (on the host for a
// GPU) and each operation rounded to float32, clamped to [0, bins-1]
// (HistogramBin). Because these float computations decide integer
// results, a GPU must perform the same float32 operations with correct
// rounding; on the device they are only subtractions and
// multiplications, which Vulkan rounds correctly, never a division.
//
// Float ops accumulate in float32, starting from 0, in the order each op
// documents (rows in increasing order for per-channel sums, elements in
// increasing index order within a quantization slice, window order for
// AvgPool and DWConv, increasing output order for AvgPoolGrad,
// DWConvGradX and DWConvGradW); explicit float32
// conversions keep the Go compiler from fusing a multiply and an add into
// an FMA, so the results are identical on every architecture. The float
// GEMM is internal/sgemm: a packed, blocked GEMM whose micro-kernel is
// assembly where the CPU has it (AVX2/AVX-512 with fused multiply-adds on
// amd64, NEON on arm64) and plain Go elsewhere; each element of C is one
// chain over k in increasing order (blocked by 256), so the result does
// not depend on how the rows or columns are split over threads, but the
// float rounding differs between kernels (fused or not). GemmI feeds Q8
// codes through the same GEMM on chunks of at most 258 terms, where every
// partial sum is an integer below 2^24 and hence exact, so its results are
// exact on every kernel. Other backends match float ops within the
// tolerances declared in package backendtest, not bit for bit.
//
// # Threads without allocation
//
// Ops split over a fixed set of worker goroutines (started by the first
// op that needs them, stopped by Close or when the Backend is collected).
// Each op's operands sit in a job struct that the Backend owns, so an op
// hands its work out without making a closure, a goroutine or a
// WaitGroup: a training step makes no Go heap allocations in steady state.
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
