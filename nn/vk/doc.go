// Package vk is the Vulkan implementation of backend.Backend: every op of
// the set runs as a GLSL compute shader (package shaders) on a gpu.Device.
//
// Execution model: ops validate their arguments on the host, then record
// dispatches into one gpu.Sequence (a full barrier between consecutive
// dispatches). Nothing runs until Sync, a Read or a Write, which submit the
// recording and wait. Errors follow backend.Backend: the first one sticks,
// later ops are skipped.
//
// Memory: one storage buffer per tensor, shared by its views. F32 and I32
// tensors are plain arrays. Q8 tensors (integer codes) are packed four to
// a uint32 with each row of the last dimension padded to a whole word, so a
// GEMM row starts word-aligned; the backend tracks on the host whether a
// tensor's codes are signed or unsigned (every op that writes codes knows
// their range) and unpacks them with bitfieldExtract accordingly. On
// unified-memory devices (integrated GPUs, lavapipe) buffers are mapped and
// Read/Write are copies; elsewhere they go through a staging buffer.
//
// Integer GEMM variants (Options.Variant): "packed" reads four codes per
// 32-bit load and is portable; "int8" loads through 8-bit storage; "dot"
// uses the packed 4x8 integer dot product (OpSDot/OpUDot/OpSUDot). Auto
// picks "dot" where the device accelerates it and "packed" otherwise.
// Each invocation computes a 4x4 block of the output in registers. On GPUs
// the packed and dot variants stage tiles of both operands in shared memory
// (on CPU drivers direct loads are faster); when the output has too few
// blocks to fill the device, k is split over workgroups and the int32
// partials summed by a second kernel (exact, as wrapping sums do not depend
// on the order). Workgroup and tile sizes are specialization constants
// chosen from the device's type and limits (shared memory, invocations,
// workgroup counts), never from one driver's measurements.
//
// Profiling: Options.Timing records the device time of every dispatch
// (Timings), and the backend implements backend.Profiler, summing it per
// kernel between StartProfile and StopProfile.
//
// Exactness: integer results match nn/ref bit for bit. Quantize matches
// ref.QuantizeValue bit for bit: the reciprocal 1/s is rounded to float32
// on the host, the product x·(1/s) is a single correctly rounded multiply
// (GLSL "precise" forbids fusing it), and rounding half away from zero is
// computed exactly from trunc. Dequant and Dequantize repeat ref's float
// steps in the same order.
package vk
