//go:build !purego

#include "textflag.h"

// The AVX2 kernel (no VNNI): A u8, B s8, the packed layouts of gemmVNNI.
//
// Exactness: each byte is widened to int16, A zero-extended (VPMOVZXBW:
// [0, 255]) and B sign-extended (VPMOVSXBW: [-128, 127]), so the int16
// values are the codes themselves. VPMADDWD multiplies int16 pairs into
// 32-bit products and adds each two adjacent ones: |a·b| ≤ 255·128 =
// 32640, so a pair sum has magnitude at most 65280 < 2^31 and is exact
// (VPMADDWD's only inexact case, both pairs -32768·-32768, needs a =
// -32768, which a zero-extended byte never is). Everything after that is
// VPADDD and VPHADDD, wrapping int32 additions as Go's, and wrapping sums
// do not depend on their order: the result is Σ a·b modulo 2^32, the
// generic kernel's. (VPMADDUBSW, which would take the bytes directly,
// saturates its int16 pair sums, 2·255·128 > 32767, so it is not used.)

// GROUP_AVX2 adds one group of four k of the 4 rows (at AX, AX+lda,
// AX+2lda, AX+3lda) times the half panel's 8 columns (R10: 32 bytes of
// the group) to Y4–Y11. Y0 = columns 0–3 of the half panel as int16 (per
// column its four k), Y1 = columns 4–7; per row, the row's four bytes
// broadcast and widened to int16 (four copies of a0 a1 a2 a3), and
// VPMADDWD leaves in dword 2c the sum a0·b0 + a1·b1 of column c and in
// dword 2c+1 a2·b2 + a3·b3: row r's accumulators Y(4+2r) (columns 0–3)
// and Y(5+2r) (columns 4–7) hold two partial sums per column.
#define GROUP_AVX2 \
	VPMOVSXBW    (R10), Y0; \
	VPMOVSXBW    16(R10), Y1; \
	VPBROADCASTD (AX), X2; \
	VPMOVZXBW    X2, Y2; \
	VPMADDWD     Y0, Y2, Y3; \
	VPADDD       Y3, Y4, Y4; \
	VPMADDWD     Y1, Y2, Y2; \
	VPADDD       Y2, Y5, Y5; \
	VPBROADCASTD (AX)(R8*1), X12; \
	VPMOVZXBW    X12, Y12; \
	VPMADDWD     Y0, Y12, Y13; \
	VPADDD       Y13, Y6, Y6; \
	VPMADDWD     Y1, Y12, Y12; \
	VPADDD       Y12, Y7, Y7; \
	VPBROADCASTD (AX)(R8*2), X14; \
	VPMOVZXBW    X14, Y14; \
	VPMADDWD     Y0, Y14, Y15; \
	VPADDD       Y15, Y8, Y8; \
	VPMADDWD     Y1, Y14, Y14; \
	VPADDD       Y14, Y9, Y9; \
	VPBROADCASTD (AX)(R9*1), X2; \
	VPMOVZXBW    X2, Y2; \
	VPMADDWD     Y0, Y2, Y3; \
	VPADDD       Y3, Y10, Y10; \
	VPMADDWD     Y1, Y2, Y2; \
	VPADDD       Y2, Y11, Y11

// STORE_AVX2 adds the two partial sums of each column of one row (ya:
// columns 0–3, yb: 4–7) and stores the 8 int32 at dst. VPHADDD yb, ya
// gives c0 c1 c4 c5 | c2 c3 c6 c7 (it works within 128-bit halves);
// VPERMQ $0xd8 puts the quadwords in order.
#define STORE_AVX2(ya, yb, dst) \
	VPHADDD yb, ya, ya; \
	VPERMQ  $0xd8, ya, ya; \
	VMOVDQU ya, dst

// func gemmAVX2(a *byte, lda int, qoff *int, kq int, b *byte, nh int, c *int32, ldc int)
//
// A tile of 4 rows of A (lda bytes apart; all 4 are read) times nh half
// panels of 8 columns of packed B, stored whole (4 rows × 8 columns) at
// c (row stride ldc int32), the half panels one after the other (c
// advancing 8 columns each). b is the first half panel: half h is at b +
// (h/2)·64·kq + (h%2)·32, its group q 64·q further. Group q of row i is
// at a + i·lda + 4q when qoff is nil (Gemm), at a + i·lda + qoff[q]
// otherwise (GemmOff).
//
// Registers: SI a, R8 lda, R9 3·lda, R14 qoff, BX the half panel, DX
// half panels left, R15 the parity of the half, R11 64·kq, DI c, R12 ldc
// bytes; per group AX the rows, R10 the group of B, CX the groups left,
// R13 the entry of qoff.
TEXT ·gemmAVX2(SB), NOSPLIT, $0-64
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	LEAQ (R8)(R8*2), R9
	MOVQ qoff+16(FP), R14
	MOVQ kq+24(FP), R11
	SHLQ $6, R11
	MOVQ b+32(FP), BX
	MOVQ nh+40(FP), DX
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R12
	SHLQ $2, R12
	XORQ R15, R15

half:
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	MOVQ  BX, R10
	MOVQ  kq+24(FP), CX
	TESTQ R14, R14
	JNZ   offs
	MOVQ  SI, AX

group:
	GROUP_AVX2
	ADDQ $4, AX
	ADDQ $64, R10
	DECQ CX
	JNZ  group
	JMP  store

offs:
	MOVQ R14, R13

ogroup:
	MOVQ (R13), AX
	ADDQ SI, AX
	GROUP_AVX2
	ADDQ $8, R13
	ADDQ $64, R10
	DECQ CX
	JNZ  ogroup

store:
	STORE_AVX2(Y4, Y5, (DI))
	STORE_AVX2(Y6, Y7, (DI)(R12*1))
	STORE_AVX2(Y8, Y9, (DI)(R12*2))
	LEAQ (DI)(R12*2), AX
	STORE_AVX2(Y10, Y11, (AX)(R12*1))
	ADDQ $32, DI
	XORQ $1, R15
	JZ   odd
	ADDQ $32, BX
	JMP  next

odd:
	ADDQ R11, BX
	SUBQ $32, BX

next:
	DECQ DX
	JNZ  half
	VZEROUPPER
	RET

// func dequantAVX2(y *float32, ldy int, acc *int32, ldacc, rows, n int, sa *int32, scale *float32, zb, off *int32, bias *float32)
//
// dequantAVX512 in 8 lanes, for n a multiple of 8 (≥ 8; the caller does
// the n%8 columns left in Go): v = acc - zb·sa[i] (VPMULLD keeps the low
// 32 bits, Go's wrapping int32 product) + off, VCVTDQ2PS (round to
// nearest even, as Go's float32(int32)), VMULPS by scale, VADDPS of bias:
// one rounding each, no fused multiply-add. Registers as dequantAVX512's,
// Y10 sa[i] broadcast.
TEXT ·dequantAVX2(SB), NOSPLIT, $0-88
	MOVQ y+0(FP), DI
	MOVQ ldy+8(FP), R8
	SHLQ $2, R8
	MOVQ acc+16(FP), SI
	MOVQ ldacc+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), R10
	MOVQ n+40(FP), R11
	MOVQ sa+48(FP), R12
	MOVQ scale+56(FP), BX
	MOVQ zb+64(FP), DX
	MOVQ off+72(FP), R13
	MOVQ bias+80(FP), R14

ydrow:
	TESTQ DX, DX
	JZ    ydnosa
	VPBROADCASTD (R12), Y10

ydnosa:
	XORQ R15, R15

ydcol:
	VMOVDQU (SI)(R15*4), Y0
	TESTQ   DX, DX
	JZ      ydnozb
	VMOVDQU (DX)(R15*4), Y1
	VPMULLD Y10, Y1, Y1
	VPSUBD  Y1, Y0, Y0

ydnozb:
	VPADDD    (R13)(R15*4), Y0, Y0
	VCVTDQ2PS Y0, Y0
	VMULPS    (BX)(R15*4), Y0, Y0
	TESTQ     R14, R14
	JZ        ydnobias
	VADDPS    (R14)(R15*4), Y0, Y0

ydnobias:
	VMOVUPS Y0, (DI)(R15*4)
	ADDQ    $8, R15
	CMPQ    R15, R11
	JLT     ydcol

	ADDQ R8, DI
	ADDQ R9, SI
	ADDQ $4, R12
	DECQ R10
	JNZ  ydrow
	VZEROUPPER
	RET

// The low byte of each dword of a 128-bit lane to the lane's first four
// bytes (VPSHUFB; 0x80 zeroes a byte).
DATA packShufAVX2<>+0(SB)/8, $0x808080800c080400
DATA packShufAVX2<>+8(SB)/8, $0x8080808080808080
DATA packShufAVX2<>+16(SB)/8, $0x808080800c080400
DATA packShufAVX2<>+24(SB)/8, $0x8080808080808080
GLOBL packShufAVX2<>(SB), RODATA|NOPTR, $32

// func packAVX2(dst *byte, src *int32, n int, off int32) (lo, hi, sum int32)
//
// packAVX512 in 8 lanes for n a multiple of 8 (≥ 8): dst[i] = byte(src[i]
// + off) (the low byte of each lane, VPSHUFB, then the two halves' four
// bytes side by side), and the smallest, largest and wrapping sum of src.
TEXT ·packAVX2(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), DX
	MOVL off+24(FP), AX
	MOVD AX, X5
	VPBROADCASTD X5, Y5
	MOVL $0x7fffffff, AX
	MOVD AX, X1
	VPBROADCASTD X1, Y1
	MOVL $0x80000000, AX
	MOVD AX, X2
	VPBROADCASTD X2, Y2
	VPXOR Y3, Y3, Y3
	VMOVDQU packShufAVX2<>(SB), Y6

yploop:
	VMOVDQU (SI), Y0
	VPMINSD Y0, Y1, Y1
	VPMAXSD Y0, Y2, Y2
	VPADDD  Y0, Y3, Y3
	VPADDD  Y5, Y0, Y0
	VPSHUFB Y6, Y0, Y0
	VEXTRACTI128 $1, Y0, X4
	VPUNPCKLDQ X4, X0, X0
	VMOVQ   X0, (DI)
	ADDQ    $32, SI
	ADDQ    $8, DI
	SUBQ    $8, DX
	JG      yploop

	VEXTRACTI128 $1, Y1, X4
	VPMINSD X4, X1, X1
	VPSHUFD $0x4e, X1, X4
	VPMINSD X4, X1, X1
	VPSHUFD $0xb1, X1, X4
	VPMINSD X4, X1, X1
	MOVL X1, lo+32(FP)

	VEXTRACTI128 $1, Y2, X4
	VPMAXSD X4, X2, X2
	VPSHUFD $0x4e, X2, X4
	VPMAXSD X4, X2, X2
	VPSHUFD $0xb1, X2, X4
	VPMAXSD X4, X2, X2
	MOVL X2, hi+36(FP)

	VEXTRACTI128 $1, Y3, X4
	VPADDD X4, X3, X3
	VPSHUFD $0x4e, X3, X4
	VPADDD X4, X3, X3
	VPSHUFD $0xb1, X3, X4
	VPADDD X4, X3, X3
	MOVL X3, sum+40(FP)
	VZEROUPPER
	RET
