//go:build !purego

#include "textflag.h"

// Micro-kernels (see microKernel in sgemm.go): the tile is 6 rows × 2 vectors.
// Per k step: load one row of the packed B micro-panel (2 vectors), broadcast
// the 6 values of A (row stride R9, rows 3..5 addressed from BX = row 3), and
// do 12 fused multiply-adds. Then C = alpha·acc + beta·C (C not read when
// beta == 0).
//
// Registers: CX k, SI/BX A, R9 A row stride, R12 A k stride, DI B, DX C,
// R8 ldc (bytes).

// func kernel6x16AVX2(k int, a *float32, rsa, csa int, b *float32, c *float32, ldc int, alpha, beta float32)
TEXT ·kernel6x16AVX2(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R9
	MOVQ csa+24(FP), R12
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R9                  // row stride of A in bytes
	SHLQ $2, R12                 // k stride of A in bytes
	SHLQ $2, R8                  // ldc in bytes
	LEAQ (R9)(R9*2), R10         // 3·rsa
	LEAQ (SI)(R10*1), BX         // BX = row 3 of A

	// Accumulators: row i in Y(2i), Y(2i+1).
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ CX, CX
	JEQ   kernel6x16AVX2_store

kernel6x16AVX2_loop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	VBROADCASTSS (SI), Y14 // A[row 0]
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS (SI)(R9*1), Y15 // A[row 1]
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS (SI)(R9*2), Y14 // A[row 2]
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS (BX), Y15 // A[row 3]
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS (SI)(R9*4), Y14 // A[row 4]
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS (BX)(R9*2), Y15 // A[row 5]
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ R12, SI
	ADDQ R12, BX
	ADDQ $64, DI
	DECQ CX
	JNE  kernel6x16AVX2_loop

kernel6x16AVX2_store:
	VBROADCASTSS alpha+56(FP), Y14
	VMULPS Y14, Y0, Y0
	VMULPS Y14, Y1, Y1
	VMULPS Y14, Y2, Y2
	VMULPS Y14, Y3, Y3
	VMULPS Y14, Y4, Y4
	VMULPS Y14, Y5, Y5
	VMULPS Y14, Y6, Y6
	VMULPS Y14, Y7, Y7
	VMULPS Y14, Y8, Y8
	VMULPS Y14, Y9, Y9
	VMULPS Y14, Y10, Y10
	VMULPS Y14, Y11, Y11
	MOVL beta+60(FP), AX
	ANDL $0x7fffffff, AX         // beta == ±0: do not read C
	JEQ  kernel6x16AVX2_beta0
	VBROADCASTSS beta+60(FP), Y15
	VFMADD231PS (DX), Y15, Y0
	VFMADD231PS 32(DX), Y15, Y1
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Y15, Y2
	VFMADD231PS 32(DX), Y15, Y3
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Y15, Y4
	VFMADD231PS 32(DX), Y15, Y5
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Y15, Y6
	VFMADD231PS 32(DX), Y15, Y7
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Y15, Y8
	VFMADD231PS 32(DX), Y15, Y9
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Y15, Y10
	VFMADD231PS 32(DX), Y15, Y11
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET

kernel6x16AVX2_beta0:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET

// func kernel6x32AVX512(k int, a *float32, rsa, csa int, b *float32, c *float32, ldc int, alpha, beta float32)
TEXT ·kernel6x32AVX512(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R9
	MOVQ csa+24(FP), R12
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R9                  // row stride of A in bytes
	SHLQ $2, R12                 // k stride of A in bytes
	SHLQ $2, R8                  // ldc in bytes
	LEAQ (R9)(R9*2), R10         // 3·rsa
	LEAQ (SI)(R10*1), BX         // BX = row 3 of A

	// Accumulators: row i in Z(2i), Z(2i+1).
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	TESTQ CX, CX
	JEQ   kernel6x32AVX512_store

kernel6x32AVX512_loop:
	VMOVUPS (DI), Z12
	VMOVUPS 64(DI), Z13
	VBROADCASTSS (SI), Z14 // A[row 0]
	VFMADD231PS Z12, Z14, Z0
	VFMADD231PS Z13, Z14, Z1
	VBROADCASTSS (SI)(R9*1), Z15 // A[row 1]
	VFMADD231PS Z12, Z15, Z2
	VFMADD231PS Z13, Z15, Z3
	VBROADCASTSS (SI)(R9*2), Z14 // A[row 2]
	VFMADD231PS Z12, Z14, Z4
	VFMADD231PS Z13, Z14, Z5
	VBROADCASTSS (BX), Z15 // A[row 3]
	VFMADD231PS Z12, Z15, Z6
	VFMADD231PS Z13, Z15, Z7
	VBROADCASTSS (SI)(R9*4), Z14 // A[row 4]
	VFMADD231PS Z12, Z14, Z8
	VFMADD231PS Z13, Z14, Z9
	VBROADCASTSS (BX)(R9*2), Z15 // A[row 5]
	VFMADD231PS Z12, Z15, Z10
	VFMADD231PS Z13, Z15, Z11
	ADDQ R12, SI
	ADDQ R12, BX
	ADDQ $128, DI
	DECQ CX
	JNE  kernel6x32AVX512_loop

kernel6x32AVX512_store:
	VBROADCASTSS alpha+56(FP), Z14
	VMULPS Z14, Z0, Z0
	VMULPS Z14, Z1, Z1
	VMULPS Z14, Z2, Z2
	VMULPS Z14, Z3, Z3
	VMULPS Z14, Z4, Z4
	VMULPS Z14, Z5, Z5
	VMULPS Z14, Z6, Z6
	VMULPS Z14, Z7, Z7
	VMULPS Z14, Z8, Z8
	VMULPS Z14, Z9, Z9
	VMULPS Z14, Z10, Z10
	VMULPS Z14, Z11, Z11
	MOVL beta+60(FP), AX
	ANDL $0x7fffffff, AX         // beta == ±0: do not read C
	JEQ  kernel6x32AVX512_beta0
	VBROADCASTSS beta+60(FP), Z15
	VFMADD231PS (DX), Z15, Z0
	VFMADD231PS 64(DX), Z15, Z1
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z2
	VFMADD231PS 64(DX), Z15, Z3
	VMOVUPS Z2, (DX)
	VMOVUPS Z3, 64(DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z4
	VFMADD231PS 64(DX), Z15, Z5
	VMOVUPS Z4, (DX)
	VMOVUPS Z5, 64(DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z6
	VFMADD231PS 64(DX), Z15, Z7
	VMOVUPS Z6, (DX)
	VMOVUPS Z7, 64(DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z8
	VFMADD231PS 64(DX), Z15, Z9
	VMOVUPS Z8, (DX)
	VMOVUPS Z9, 64(DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z10
	VFMADD231PS 64(DX), Z15, Z11
	VMOVUPS Z10, (DX)
	VMOVUPS Z11, 64(DX)
	VZEROUPPER
	RET

kernel6x32AVX512_beta0:
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z2, (DX)
	VMOVUPS Z3, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z4, (DX)
	VMOVUPS Z5, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z6, (DX)
	VMOVUPS Z7, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z8, (DX)
	VMOVUPS Z9, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z10, (DX)
	VMOVUPS Z11, 64(DX)
	VZEROUPPER
	RET

// func transpose8AVX(dst *float32, ldd int, src *float32, lds int, jb, pb int)
//
// dst[p*ldd+j] = src[j*lds+p] for j < 8·jb, p < 8·pb, in 8×8 blocks: load 8
// rows of src (8 values each), transpose in registers (unpack, shuffle,
// 128-bit permute), store 8 rows of dst. Strides in elements.
TEXT ·transpose8AVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	MOVQ jb+32(FP), R10
	MOVQ pb+40(FP), R11
	SHLQ $2, R8
	SHLQ $2, R9
	LEAQ (R8)(R8*2), R12           // 3·ldd
	LEAQ (R9)(R9*2), R13           // 3·lds
	TESTQ R10, R10
	JEQ  tr_done
	TESTQ R11, R11
	JEQ  tr_done

tr_jloop:
	MOVQ SI, AX                    // src block: rows j..j+7, column p
	MOVQ DI, BX                    // dst block: rows p..p+7, column j
	MOVQ R11, CX

tr_ploop:
	LEAQ (AX)(R9*4), DX            // src row j+4
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(R9*1), Y1
	VMOVUPS (AX)(R9*2), Y2
	VMOVUPS (AX)(R13*1), Y3
	VMOVUPS (DX), Y4
	VMOVUPS (DX)(R9*1), Y5
	VMOVUPS (DX)(R9*2), Y6
	VMOVUPS (DX)(R13*1), Y7
	VUNPCKLPS Y1, Y0, Y8           // r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5]
	VUNPCKHPS Y1, Y0, Y9           // r0[2] r1[2] r0[3] r1[3] | r0[6] r1[6] r0[7] r1[7]
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0     // r0..3[0] | r0..3[4]
	VSHUFPS $0xEE, Y10, Y8, Y1     // r0..3[1] | r0..3[5]
	VSHUFPS $0x44, Y11, Y9, Y2     // r0..3[2] | r0..3[6]
	VSHUFPS $0xEE, Y11, Y9, Y3     // r0..3[3] | r0..3[7]
	VSHUFPS $0x44, Y14, Y12, Y4    // r4..7[0] | r4..7[4]
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8   // r0..7[0]
	VPERM2F128 $0x20, Y5, Y1, Y9   // r0..7[1]
	VPERM2F128 $0x20, Y6, Y2, Y10  // r0..7[2]
	VPERM2F128 $0x20, Y7, Y3, Y11  // r0..7[3]
	VPERM2F128 $0x31, Y4, Y0, Y12  // r0..7[4]
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	LEAQ (BX)(R8*4), DX            // dst row p+4
	VMOVUPS Y8, (BX)
	VMOVUPS Y9, (BX)(R8*1)
	VMOVUPS Y10, (BX)(R8*2)
	VMOVUPS Y11, (BX)(R12*1)
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, (DX)(R8*1)
	VMOVUPS Y14, (DX)(R8*2)
	VMOVUPS Y15, (DX)(R12*1)
	ADDQ $32, AX                   // next 8 values of p in src
	LEAQ (BX)(R8*8), BX            // next 8 rows of dst
	DECQ CX
	JNE  tr_ploop

	LEAQ (SI)(R9*8), SI            // next 8 rows of src
	ADDQ $32, DI                   // next 8 columns of dst
	DECQ R10
	JNE  tr_jloop

tr_done:
	VZEROUPPER
	RET

// maskTable: 8 all-ones then 8 zero lanes; the 8 lanes at maskTable+32-4·t
// have the first t set.
DATA maskTable<>+0(SB)/8, $0xffffffffffffffff
DATA maskTable<>+8(SB)/8, $0xffffffffffffffff
DATA maskTable<>+16(SB)/8, $0xffffffffffffffff
DATA maskTable<>+24(SB)/8, $0xffffffffffffffff
DATA maskTable<>+32(SB)/8, $0
DATA maskTable<>+40(SB)/8, $0
DATA maskTable<>+48(SB)/8, $0
DATA maskTable<>+56(SB)/8, $0
GLOBL maskTable<>(SB), RODATA|NOPTR, $64

// func copyPanelAVX(dst *float32, ldd int, src *float32, lds int, rows, cols int)
//
// dst[p*ldd+j] = src[p*lds+j] for j < cols and 0 for cols ≤ j < ldd, p <
// rows; ldd is a multiple of 8 and cols ≤ ldd. The last partial vector of a
// source row is read with a masked load (no access past cols).
TEXT ·copyPanelAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R11
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	MOVQ rows+32(FP), CX
	MOVQ cols+40(FP), DX
	SHLQ $2, R11                   // dst row in bytes
	SHLQ $2, R9                    // src stride in bytes
	MOVQ DX, R10
	SHRQ $3, R10                   // full vectors per row
	MOVQ DX, R12
	ANDQ $7, R12                   // tail lanes
	LEAQ maskTable<>+32(SB), AX
	SHLQ $2, R12
	SUBQ R12, AX
	VMOVUPS (AX), Y15              // mask of the tail lanes
	VXORPS Y14, Y14, Y14
	TESTQ CX, CX
	JEQ  cp_done

cp_row:
	XORQ BX, BX                    // byte offset in the row
	MOVQ R10, R13
	TESTQ R13, R13
	JEQ  cp_tail

cp_full:
	VMOVUPS (SI)(BX*1), Y0
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ $32, BX
	DECQ R13
	JNE  cp_full

cp_tail:
	TESTQ R12, R12
	JEQ  cp_zero
	VMASKMOVPS (SI)(BX*1), Y15, Y0
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ $32, BX

cp_zero:
	CMPQ BX, R11
	JGE  cp_next
	VMOVUPS Y14, (DI)(BX*1)
	ADDQ $32, BX
	JMP  cp_zero

cp_next:
	ADDQ R9, SI
	ADDQ R11, DI
	DECQ CX
	JNE  cp_row

cp_done:
	VZEROUPPER
	RET

// func kernel12x16AVX512(k int, a *float32, rsa, csa int, b *float32, c *float32, ldc int, alpha, beta float32)
//
// AVX-512F micro-kernel for a 12×16 tile (for narrow B): row i in Z(i); per
// k step one ZMM load of B and 12 FMAs with the A value broadcast from memory
// (embedded broadcast). A rows 0..8 are addressed from SI and BX = SI+3·rsa,
// rows 9..11 from R11 = SI+9·rsa.
TEXT ·kernel12x16AVX512(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R9
	MOVQ csa+24(FP), R12
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R9
	SHLQ $2, R12
	SHLQ $2, R8
	LEAQ (R9)(R9*2), R10           // 3·rsa
	LEAQ (SI)(R10*1), BX           // row 3
	LEAQ (SI)(R9*8), R11
	ADDQ R9, R11                   // row 9
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	TESTQ CX, CX
	JEQ   kernel12x16AVX512_store

kernel12x16AVX512_loop:
	VMOVUPS (DI), Z12
	VFMADD231PS.BCST (SI), Z12, Z0
	VFMADD231PS.BCST (SI)(R9*1), Z12, Z1
	VFMADD231PS.BCST (SI)(R9*2), Z12, Z2
	VFMADD231PS.BCST (BX), Z12, Z3
	VFMADD231PS.BCST (SI)(R9*4), Z12, Z4
	VFMADD231PS.BCST (BX)(R9*2), Z12, Z5
	VFMADD231PS.BCST (BX)(R10*1), Z12, Z6
	VFMADD231PS.BCST (BX)(R9*4), Z12, Z7
	VFMADD231PS.BCST (SI)(R9*8), Z12, Z8
	VFMADD231PS.BCST (R11), Z12, Z9
	VFMADD231PS.BCST (R11)(R9*1), Z12, Z10
	VFMADD231PS.BCST (R11)(R9*2), Z12, Z11
	ADDQ R12, SI
	ADDQ R12, BX
	ADDQ R12, R11
	ADDQ $64, DI
	DECQ CX
	JNE  kernel12x16AVX512_loop

kernel12x16AVX512_store:
	VBROADCASTSS alpha+56(FP), Z14
	VMULPS Z14, Z0, Z0
	VMULPS Z14, Z1, Z1
	VMULPS Z14, Z2, Z2
	VMULPS Z14, Z3, Z3
	VMULPS Z14, Z4, Z4
	VMULPS Z14, Z5, Z5
	VMULPS Z14, Z6, Z6
	VMULPS Z14, Z7, Z7
	VMULPS Z14, Z8, Z8
	VMULPS Z14, Z9, Z9
	VMULPS Z14, Z10, Z10
	VMULPS Z14, Z11, Z11
	MOVL beta+60(FP), AX
	ANDL $0x7fffffff, AX           // beta == ±0: do not read C
	JEQ  kernel12x16AVX512_beta0
	VBROADCASTSS beta+60(FP), Z15
	VFMADD231PS (DX), Z15, Z0
	VMOVUPS Z0, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z1
	VMOVUPS Z1, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z2
	VMOVUPS Z2, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z3
	VMOVUPS Z3, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z4
	VMOVUPS Z4, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z5
	VMOVUPS Z5, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z6
	VMOVUPS Z6, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z7
	VMOVUPS Z7, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z8
	VMOVUPS Z8, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z9
	VMOVUPS Z9, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z10
	VMOVUPS Z10, (DX)
	ADDQ R8, DX
	VFMADD231PS (DX), Z15, Z11
	VMOVUPS Z11, (DX)
	VZEROUPPER
	RET

kernel12x16AVX512_beta0:
	VMOVUPS Z0, (DX)
	ADDQ R8, DX
	VMOVUPS Z1, (DX)
	ADDQ R8, DX
	VMOVUPS Z2, (DX)
	ADDQ R8, DX
	VMOVUPS Z3, (DX)
	ADDQ R8, DX
	VMOVUPS Z4, (DX)
	ADDQ R8, DX
	VMOVUPS Z5, (DX)
	ADDQ R8, DX
	VMOVUPS Z6, (DX)
	ADDQ R8, DX
	VMOVUPS Z7, (DX)
	ADDQ R8, DX
	VMOVUPS Z8, (DX)
	ADDQ R8, DX
	VMOVUPS Z9, (DX)
	ADDQ R8, DX
	VMOVUPS Z10, (DX)
	ADDQ R8, DX
	VMOVUPS Z11, (DX)
	VZEROUPPER
	RET
