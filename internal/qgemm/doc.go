// Package qgemm is the int8 integer GEMM of the CPU backend: the products
// of quantization codes of at most 8 bits, Σ_k a[i,k]·b[j,k] in wrapping
// int32, with AVX-512 VNNI (VPDPBUSD) or AVX2 (VPMADDWD on bytes widened
// to int16) on amd64 and the dot product
// instructions (SDOT) on arm64, and the dequantization that follows it
// (DequantRows). nn/ref uses it for GemmI, GemmIDequant and
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
// packed as rows of bytes, u8 for this kernel (PackA: row stride KPad(k),
// k padded to a multiple of 4 with zeros), B as s8 panels of 16 columns (PackB: per group of four k,
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
// On arm64, SDOT Vd.4S, Vn.16B, Vm.4B[i] adds to each int32 lane of Vd the
// four products of its four signed bytes of Vn by the four signed bytes
// of group i of Vm: s8·s8, so that kernel reads packed A as s8 ([ASigned])
// and [Offsets] moves codes in [0, 255] by -128 there (see Exactness).
// The layout is the same bytes: a group of a panel of B is four vectors
// of four columns, and 16 bytes of a row of A are four groups, which the
// by-element index picks in turn. The tile is 8 rows × 8 columns (16
// accumulators V16–V31, the 8 rows' 16 bytes in V0–V7, the groups' half
// panels in V8–V15): per 16 bytes of k, 8 loads of A, 4 paired loads of
// B and 64 SDOT, 1024 multiply-adds; the kq%4 groups left are done one at
// a time from 4-byte loads (element [0]), so no load reaches past the
// row's 4·kq bytes and ALen is the same as on amd64. A call covers a
// tile of 16 rows and whole panels of 16 columns and stores all of them:
// the last, partial panel and the last tile of fewer than 16 rows go
// through a scratch tile in Go, whose wanted part is copied. GemmOff is
// the same tile with each row's group loaded alone from its offset (8
// loads of A, a pair of B, 16 SDOT per group). DequantRows runs four
// columns at a time in NEON (MUL, SCVTF, FMUL, FADD: the same one
// rounding each), the packers 16 codes at a time (SMIN, SMAX, ADD, two
// UZP1 to the low bytes); the n%4 and n%16 left run in Go. Go's assembler
// has no SDOT (nor these MUL, SCVTF, FMUL, FADD, SMIN, SMAX): they are
// encoded with WORD (qgemm_arm64.s gives the SDOT encoding and each
// word's mnemonic; every word was checked against llvm-mc's). The arm64 code is
// tested under qemu-aarch64 (tools/test.sh), not on hardware: its speed
// has not been measured.
//
// On amd64 without VNNI, the "avx2" kernel reads the same packed A (u8)
// and B (s8) and widens the bytes to int16 (VPMOVZXBW for A, VPMOVSXBW
// for B) for VPMADDWD, whose int32 pair sums VPADDD accumulates: its tile
// is 4 rows × 8 columns (a half panel: Y0, Y1 the group's 8 columns of
// four k as int16, per row the row's four bytes broadcast and widened,
// two VPMADDWD into two accumulators of two partial sums per column,
// added pairwise by VPHADDD at the store). The tiles of 4 rows divide the
// tiles of Rows that ALen pads, so every row it reads may be read; the
// last n%8 columns and rows%4 rows go through a scratch tile in Go.
// VPMADDUBSW, which takes the bytes as they are, is not used: its int16
// pair sums saturate (2·255·128 > 32767). GemmOff is the same tile with
// each row's group at its offset; DequantRows and the packers are the
// AVX-512 ones in 8 lanes (VPSHUFB and VPUNPCKLDQ take the low bytes),
// the n%8 left in Go.
//
// The implementation is chosen once at start-up (see [Kernel]):
//
//   - "avx512-vnni": amd64 with AVX-512F, AVX-512BW and AVX512_VNNI
//     (A u8, B s8).
//   - "avx2": amd64 with AVX2 without the AVX-512 VNNI set (A u8, B s8);
//     also on VNNI CPUs with VKTRAIN_QGEMM=avx2, for tests and timings.
//     On the MNIST shapes of nn/ref's BenchmarkQ8 the int8 path with it
//     took about half the time of the float32 path.
//   - "neon-sdot": arm64 with the dot product instructions
//     (cpu.ARM64.HasASIMDDP, FEAT_DotProd; A s8, B s8).
//   - "generic": portable Go over the same packed layout (A u8, B s8);
//     always built and tested, as is its s8 twin, the specification of
//     the SDOT kernel. With it [Fast] is false and nn/ref keeps its
//     float32 path (internal/sgemm on exact chunks): on other CPUs, on
//     arm64 without the dot product, with the purego build tag, or with
//     VKTRAIN_QGEMM=generic.
//
// The environment variable VKTRAIN_QGEMM, read once at start-up, forces an
// implementation by name (VKTRAIN_QGEMM=generic turns the int8 path off).
//
// # Exactness
//
// Every operation is integer arithmetic modulo 2^32, as Go's int32: each
// VPDPBUSD lane adds four products of magnitude at most 255·128 to the
// accumulator without saturation (VPDPBUSDS would saturate), and each
// SDOT lane four of magnitude at most 128·128 (SDOT never saturates: the
// Arm pseudocode adds the products to the 32-bit element and keeps its low
// 32 bits), and each VPMADDWD lane of the AVX2 kernel two products of
// int16 operands that are the codes (|a·b| ≤ 255·128, a pair sum at most
// 65280 in magnitude: exact in int32; its one saturating case, -32768 ·
// -32768 twice, needs an A of -32768, which a zero-extended byte never is)
// before VPADDD and VPHADDD add them, so all wrap as Go's addition does,
// and wrapping sums do not depend on their order. Each kernel declares
// the byte type of A (T_A = u8, [0, 255], for VNNI, AVX2 and generic; s8,
// [-128, 127], for SDOT); B is s8 for all. Codes that do not fit the operand's byte type are moved by an
// offset: a' = a + oa in T_A (u8: oa = 0 for unsigned codes, 128 for
// signed ones; s8: oa = 0 for signed codes, -128 for unsigned ones), b' =
// b + ob in [-128, 127] (ob = 0 for signed, -128 for unsigned; [Offsets]).
// The byte the kernel reads is a' itself: for T_A = s8 and a in [0, 255],
// the byte of a' = a - 128 in [-128, 127] read as s8 is a - 128 (two's
// complement), the byte of a XOR 0x80. Over the K true terms (the padding
// adds 0·0 in either type),
//
//	Σ a·b = Σ (a' - oa)(b' - ob) = Σ a'b' - ob·Σ a' - oa·Σ b' + K·oa·ob
//
// an identity of integers, hence modulo 2^32: the kernel's Σ a'b' plus
// [RowTerms] (-ob·Σ a', from the row sums of the codes: Σ a' = Σ a + K·oa)
// plus [ColTerms] (K·oa·ob - oa·Σ b') is the product bit for bit: the
// identity holds for any integers oa, ob, so for both types of A. The
// usual operands, activations in [0, 255] after a ReLU and symmetric
// weights in [-127, 127], need no offset and no correction on VNNI; on
// SDOT they take oa = -128, ob = 0, and the identity reads
//
//	Σ a·b = Σ (a - 128)·b + 128·Σ b
//
// (the column term 128·Σ b' of ColTerms, no row term), which nn/ref adds
// with the dequantization's per-column constant. Padding bytes are 0 in
// both types, so the kernel's sum over KPad(k) is the sum over K. Code ranges of
// fewer bits (4, 2) fit the same way. An operand with codes both below 0
// and above 127 fits neither byte type, and the caller keeps its own path.
// DequantRows does the Go definition's operations in its order, one
// rounding each: the wrapping int32 v = acc - zb·sa + off (VPMULLD keeps
// the low 32 bits as Go's int32 product), float32(v) (VCVTDQ2PS, round
// to nearest even as Go's conversion), the product by the scale (VMULPS)
// and the sum with the bias (VADDPS): no fused multiply-add.
package qgemm
