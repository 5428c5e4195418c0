// Package qsimd holds SIMD kernels for the element-wise quantization passes
// of the CPU backend: the quantization codes (Codes), the straight-through
// backward of fake quantization (GradTerms), dequantization (Dequantize)
// and the finite range of a tensor (MinMax), and for the column sums of
// the batch norm (ColSums, ColSumsProd, ColSumsSqDev, ColSumsComp,
// ColSumsMasked), and for the row passes of the batch norm, the
// compensation and the max-pool (BNApply, RowAdd, BNGradDX, MaxPool2),
// and for the optimizer passes of nn (Clip, SGDMomentum).
// Every result is bit for bit the result of the Go definitions:
// quant.CodeInv, quant.ScaledInv and quant.Round, the loops of nn/ref
// (quantGradTerms, dequantizeJob, minMaxJob), the generic column sums and
// the generic row passes (the loops nn/ref ran before), but for NaN
// payloads as described below.
//
// # Kernels
//
// The implementation is chosen once at start-up (see [Kernel]):
//
//   - "avx512": amd64 with AVX-512F, 16 lanes.
//   - "avx2": amd64 with AVX2, 8 lanes.
//   - "neon": arm64, 4 lanes.
//   - "generic": portable Go that literally does what the definitions do;
//     always built and tested, it is the specification the assembly is
//     tested against.
//
// The environment variable VKTRAIN_QSIMD, read once at start-up, forces an
// implementation by name (VKTRAIN_QSIMD=generic forces the portable one);
// the build tag purego leaves the assembly out. The assembly handles whole
// vectors; the last len%lanes elements go through the generic code, as do
// whole calls whose parameters are outside the range described below.
//
// # Exactness
//
// The kernels work in float32 lanes only. Every float32 operation they do
// is one the definitions do (a product x·inv, g·factor, g·s, s·float32(q-z),
// a difference r-q), or is exact, so rounding cannot differ; the rest are
// comparisons, selections and sign flips. The details:
//
// Rounding. quant.Round(q) is trunc(q ± 0.5) in float64, which for a float32
// q is math.Round(q): the nearest integer, ties away from zero. That integer
// is a float32 (|q| < 2^23 rounds to an integer of at most 2^23; from 2^23
// up every float32 is an integer and is returned as is), so it is computed
// in float32 lanes: NEON has it as one instruction (FRINTA); on amd64,
// t = trunc(q) (VROUNDPS/VRNDSCALEPS toward zero), d = q - t is exact (the
// fractional part of q), and r = t + copysign(1, q) where |d| ≥ 0.5, else t
// (t ± 1 is exact since |t| < 2^23 there). ±Inf give d = NaN, so r = t =
// ±Inf; NaN gives a NaN. r may be +0 where the definition has -0 (q in
// (-0.5, -0]); r is only compared and used in r - q, where the sign of a
// zero r does not change the result (-0 - (-0) = +0 - (-0) = +0, and
// otherwise q ≠ 0).
//
// Bounds. The definitions compare v = r + float64(z) with qmin and qmax in
// float64. The kernels compare r with qmin-z and qmax-z instead, which for
// integers r (or ±Inf) is the same test; the wrappers use the kernels only
// when |qmin-z| and |qmax-z| are at most 2^24, so both are exact float32
// values (otherwise the generic code runs; quantization schemes of up to 24
// bits with z in range always qualify). Codes also requires qmin ≤ qmax.
// The code is then clamp(r, qmin-z, qmax-z) converted to int32 (exact,
// |r| ≤ 2^24 after the clamp) plus z: qmin where r ≤ qmin-z, qmax where
// r ≥ qmax-z (so +Inf and huge values give qmax, -Inf qmin), int32(r) + z
// in between. A NaN product gives z clamped into [qmin, qmax], as in
// quant's code(). GradTerms' ts factor is float32(qmin-z) where r < qmin-z,
// float32(qmax-z) where r > qmax-z (the low case wins when both hold, as in
// the switch of the definition), and r - q otherwise, multiplied by g in one
// float32 product; tz is -(g·s) with its sign bit flipped (as Go's negation
// does), or +0; dx is g or +0.
//
// Dequantize is the int32 subtraction (wrapping), the conversion to float32
// (round to nearest, as Go's conversion) and the product. MinMax maps every
// float32 to an int32 key whose signed order is that of the values with
// -0 < +0 (bits for non-negative values, bits with all but the sign
// flipped for negative ones), takes per-lane minimum and maximum keys of the
// finite values (|bits| ≤ 0x7f7fffff) and counts the others; this is the
// order of Go's min and max built-ins (min(-0, +0) = -0, max(-0, +0) = +0),
// so the result is the same whatever the order of the elements.
//
// Column sums. Each column's sum is one float32 chain over increasing
// rows, the specified order. The kernels hold column c0+j's running sum in
// lane j of one vector and add one row of the block of columns per
// instruction: every lane does the additions of the scalar chain, in the
// same order, so the sums are the same bits (vector additions are IEEE
// float32 additions per lane). Terms are computed as the Go code computes
// them, each operation rounded: x·y and d·d are one product, then one
// addition (no fused multiply-add); the compensated value is
// (x + add) + beta, two additions, before mean is subtracted. The ReLU
// mask is the ordered comparison y > 0, true exactly for the bits
// 0x00000001 to 0x7f800000 that PositiveMask selects, and keeps dy's bits
// (a NaN dy's too) or gives +0. With AVX-512 any block of 1 to 16 columns
// is one vector (masked loads, which touch no memory outside the block);
// AVX2 takes blocks of 8 and leaves the last cols%8 columns of a range to
// the generic code; arm64 runs the generic code.
//
// Row passes. BNApply, RowAdd and BNGradDX compute every element from
// its own inputs and its column's constants with the float32 operations
// of the generic code, one vector instruction each, in its order:
// (((x + add) + cbeta) - mean)·invstd or (x - mean)·invstd, then
// gamma·xhat and + beta; (x + add) + beta; fr·m - db, h·dg, their
// difference and kk·d. Products are one multiplication (no fused
// multiply-add). ReLU is VMAXPS with +0 as the second operand, which x86
// returns where the first is not greater (a NaN, ±0, a negative value):
// v > 0 ? v : +0, relu's definition. BNGradDX's m is dy where the ordered
// comparison 0 < y holds (PositiveMask's predicate), else +0, as Masked.
// MaxPool2 only compares (ordered float32 v > u, false for NaNs: the
// generic code's float comparisons, and its integer fast path is the same
// order for the values it takes) and selects values and int32 indices,
// wrapping as the Go conversions of the int indices do. With AVX-512 every
// row is whole vectors of 16 columns and one last block of 1 to 16 under a
// mask (masked loads and stores: no memory outside the row is touched), its
// per-column constants kept in registers; AVX2 takes the columns in blocks
// of 8 and leaves the last cols%8 of each row to the generic code; arm64
// runs the generic code.
//
// Optimizer passes. Clip (nn.Threshold's element-wise clipping) only
// compares, g > tau and g < -tau (ordered: a NaN g compares false both
// ways and stays; -tau is Go's negation, the sign bit flipped; the low
// test only where the high one failed, as in the Go if/else), stores tau
// or -tau in the lanes that hold, and counts them (POPCNT of the lane
// masks; the kernels need the CPU's POPCNT). With AVX-512 the stores are
// masked, so lanes that do not change are not written, as in the Go code;
// AVX2 blends and stores whole vectors (the same bits) only where a lane
// changes. SGDMomentum (nn.SGD.Step's loop with momentum) computes per
// element wd·θ, g + that, μ·v, that + g, lr·v and θ - that, one vector
// instruction each in the order of the Go statements g += wd·θ;
// v = μ·v + g; θ -= lr·v, with the operands in the order of the Go
// expressions; nothing is skipped for wd = 0 (wd·θ may be -0 or NaN and
// changes g's bits: +0 + -0 = +0). With AVX-512 any n: whole vectors of
// 16 and one last block of 1 to 16 under a mask (no memory outside the
// slices touched); AVX2 takes multiples of 8 and leaves the rest to the
// generic code; arm64 runs the generic code.
//
// Neither the Go code nor the kernels use fused multiply-adds here, and Go
// runs with the default floating-point environment (round to nearest,
// subnormals neither flushed nor treated as zero, NaNs propagated), which
// the vector instructions use too.
//
// # NaN payloads
//
// A NaN result carries the payload of a NaN operand (quieted), or the
// default NaN of the CPU for invalid operations such as Inf - Inf or 0·Inf;
// the kernels match the Go code there too, because they do the same
// operations on the same operands. When both operands of a multiplication
// are NaNs with different bits, the CPU returns one of them depending on
// the operand order (on amd64 the first; on arm64 a signalling NaN first,
// then the first). Among the element-wise passes this happens only in
// GradTerms' ts for a NaN g and a NaN x·inv, where the kernels put the
// factor first, as the Go compiler does for the generic code today; the
// tests allow either NaN there should a compiler change the order. (A NaN
// inv, a degenerate scale, is another such case for x·inv; the codes do
// not depend on the payload.) The column sums and the row passes (but
// MaxPool2, which computes nothing) meet two NaNs wherever a sum that is
// already NaN adds a NaN term, or an addition, subtraction or product has
// two NaN operands; the Go compiler orders the operands of the commutative
// ones as its register allocation suits, differently for different
// columns of the same loop (a spilled accumulator comes second) or for
// different copies of a loop (RowAdd's x + add has add first today), so
// the kernels keep the order of the Go expressions (the running sum
// first, then x, then m; x before add, gamma before xhat) and the tests
// accept any NaN where the generic code gives a NaN: every other result is
// the same bits, and a NaN result stays NaN. SGDMomentum meets two NaNs
// the same way (a NaN g and a NaN wd·θ, a NaN μ·v and a NaN g, a NaN θ
// and a NaN lr·v); the kernels keep the order of the Go expressions and
// the tests accept any NaN there too. Clip computes nothing: its results
// are the same bits always.
package qsimd
