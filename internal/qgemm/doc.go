// Package qgemm is the int8 integer GEMM of the CPU backend: the products
// of quantization codes of at most 8 bits, Σ_k a[i,k]·b[j,k] in wrapping
// int32, with AVX-512 VNNI (VPDPBUSD), and the dequantization that
// follows it (DequantRows). nn/ref uses it for GemmI, GemmIDequant and
// ConvIDequant when an assembly kernel is in use ([Fast]) and the codes
// fit; its own plain Go GEMM stays the specification, and nn/ref's tests
// hold this path to it bit for bit.
//
// # Why a package of its own
//
// internal/sgemm is a float32 GEMM (packing, blocking, FMA tiles) and
// internal/qsimd holds element-wise and row passes in float32 lanes; an
// integer GEMM shares neither the data layout (bytes, four per int32
// lane) nor the exactness argument (integer identities instead of float
// rounding), so it lives here, with its packing and its epilogue.
//
// # Layout and kernels
//
// VPDPBUSD multiplies four unsigned bytes of one operand by four signed
// bytes of the other and adds the four products to an int32 lane. A is
// packed as u8 rows (PackA: row stride KPad(k), k padded to a multiple of
// 4 with zeros), B as s8 panels of 16 columns (PackB: per group of four k,
// 64 bytes, lane l holding column 16jb+l's four codes). The kernel holds a
// tile of 16 rows × 16 columns in Z0–Z15 (row i in Zi, column in the
// lane): per group it loads the panel's 64 bytes and, per row, broadcasts
// the row's four bytes, then one VPDPBUSD per row. Stores are masked to
// the n%16 columns of the last panel; the 16 rows of a tile are always
// read (ALen pads the packed A to whole tiles), the rows past the last
// are not stored. GemmOff is the same kernel with the rows lda bytes
// apart and each group at its own offset: an implicit im2col, with which
// nn/ref runs a stride-1 convolution straight from its padded byte image.
// DequantRows converts the int32 products to float32 with the per-column
// constants of nn/ref's Dequant, and the packers narrow int32 codes to
// bytes while taking their range and sums (VPMOVDB, VPMINSD/VPMAXSD).
//
// The implementation is chosen once at start-up (see [Kernel]):
//
//   - "avx512-vnni": amd64 with AVX-512F, AVX-512BW and AVX512_VNNI.
//   - "generic": portable Go over the same packed layout; always built
//     and tested. With it [Fast] is false and nn/ref keeps its float32
//     path (internal/sgemm on exact chunks): on other CPUs, on arm64, with
//     the purego build tag, or with VKTRAIN_QGEMM=generic.
//
// The environment variable VKTRAIN_QGEMM, read once at start-up, forces an
// implementation by name (VKTRAIN_QGEMM=generic turns the int8 path off).
//
// # Exactness
//
// Every operation is integer arithmetic modulo 2^32, as Go's int32: each
// VPDPBUSD lane adds four products of magnitude at most 255·128 to the
// accumulator without saturation (VPDPBUSDS would saturate), so it wraps
// as Go's addition does, and wrapping sums do not depend on their order.
// Codes that do not fit the operand's byte type are moved by an offset:
// a' = a + oa in [0, 255] (oa = 0 for unsigned codes, 128 for signed
// ones), b' = b + ob in [-128, 127] (ob = 0 for signed, -128 for unsigned;
// [Offsets]). Over the K true terms (the padding adds 0·0),
//
//	Σ a·b = Σ (a' - oa)(b' - ob) = Σ a'b' - ob·Σ a' - oa·Σ b' + K·oa·ob
//
// an identity of integers, hence modulo 2^32: the kernel's Σ a'b' plus
// [RowTerms] (-ob·Σ a', from the row sums of the codes: Σ a' = Σ a + K·oa)
// plus [ColTerms] (K·oa·ob - oa·Σ b') is the product bit for bit. The
// usual operands, activations in [0, 255] after a ReLU and symmetric
// weights in [-127, 127], need no offset and no correction. Code ranges of
// fewer bits (4, 2) fit the same way. An operand with codes both below 0
// and above 127 fits neither byte type, and the caller keeps its own path.
// DequantRows does the Go definition's operations in its order, one
// rounding each: the wrapping int32 v = acc - zb·sa + off (VPMULLD keeps
// the low 32 bits as Go's int32 product), float32(v) (VCVTDQ2PS, round
// to nearest even as Go's conversion), the product by the scale (VMULPS)
// and the sum with the bias (VADDPS): no fused multiply-add.
package qgemm
