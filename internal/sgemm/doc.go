// Package sgemm is a single-threaded, single-precision general matrix
// multiply for row-major matrices: C = alpha·op(A)·op(B) + beta·C.
//
// # Model
//
// The implementation follows the GotoBLAS/BLIS scheme. The k dimension is cut
// into blocks of at most kcMax, n into blocks of at most ncMax and m into
// blocks of at most mcMax rows. For each (n, k) block, op(B) is packed once
// into the Context's buffer as micro-panels of nr columns (k-major, nr values
// per k step, zero-padded on the right edge); for each (m, k) block, op(A) is,
// where needed (see below), packed as micro-panels of mr rows (mr values per k
// step, zero-padded at the bottom edge). A micro-kernel then computes an
// mr×nr tile of C from one A and one B micro-panel with all accumulators in registers, and writes
//
//	C_tile = alpha·acc + beta·C_tile   (beta == 0: C_tile = alpha·acc, C not read)
//
// where beta is the caller's beta for the first k block and 1 afterwards.
// Tiles that stick out of C are computed into a small scratch tile and copied.
//
// A is not packed when the kernel can read it in place: the kernels take A
// with any row and k stride (NEON: row stride 1, that is op(A) stored
// k-major), broadcasting one value per row and k step, which costs the same
// from any address. So a huge m with a tiny n and k (36864×16×25) packs B
// once and streams A, and a huge k with tiny m and n (16×25×36864) packs
// only B, one k block at a time. A bottom edge panel with fewer than mr rows
// is packed with zero rows (or, when op(A) is stored k-major without
// padding, read in place: the extra rows are still elements of A and only
// reach discarded tile rows). Packing B uses AVX 8×8 transposes (transB) and
// masked row copies on amd64, Go loops elsewhere; no routine reads past the
// elements of an operand.
//
// # Kernels
//
// The micro-kernel is chosen once at start-up (see [Kernel]):
//
//   - "avx512": amd64 with AVX-512F (and AVX2, FMA), a 6×32 tile in ZMM
//     registers; when op(B) has at most 16 columns, a 12×16 tile with
//     embedded-broadcast FMAs instead.
//   - "avx2-fma": amd64 with AVX2 and FMA, a 6×16 tile in YMM registers.
//   - "neon": arm64, an 8×8 tile with FMLA by element.
//   - "generic": portable Go, a 4×4 tile; always built and tested, it is the
//     specification the assembly kernels are tested against.
//
// The environment variable VKTRAIN_SGEMM, read once at start-up, forces a
// kernel by name (VKTRAIN_SGEMM=generic forces the portable one); the build
// tag purego leaves the assembly out.
//
// # Exactness
//
// Every product is accumulated in float32 with a single rounding per
// multiply-add (fused on the assembly kernels); nothing uses reduced
// precision. When the inputs are integers and every partial sum, in any
// order, has magnitude at most 2^24 (for example Σ|a||b| + |c| ≤ 2^24), with
// alpha = 1 and beta ∈ {0, 1}, every operation is exact and so is the result,
// whatever the blocking. Callers use this for int8/int4 GEMM by feeding
// quantization codes as float32 values in chunks of k short enough.
package sgemm
