//go:build !purego

#include "textflag.h"

// Row-pass kernels (see rowKernels in rows.go): rows ≥ 1 rows of cols
// elements, the columns [0, w). Every element is computed by the float32
// operations of the Go definition, one instruction each, in its order:
// products are one VMULPS (rounded), never fused with an addition. The
// operands are in the order of the Go expressions (Go's VSUBPS b, a, d is
// d = a - b, Intel's first source being a), which decides the payload of
// a NaN made of two NaNs (see "NaN payloads" in doc.go).
//
// AVX-512F: any w ≥ 1: whole vectors of 16 columns, then one last block
// of 1 to 16 columns under the mask K1 (loads zero-masked and stores
// masked, so the lanes outside it touch no memory), whose per-column
// operands stay in registers across the rows. AVX2: w a multiple of 8,
// the generic code takes the rest.

#define LT_OQ $0x11
#define GT_OQ $0x1e

// TAILSPLIT(w) splits w ≥ 1 columns into R15 bytes of whole vectors and a
// last block of (w-1)%16+1 columns, whose lanes it sets in K1 (clobbers
// AX, CX).
#define TAILSPLIT(w) \
	MOVQ  w, R15; \
	LEAQ  -1(R15), CX; \
	ANDQ  $15, CX; \
	INCQ  CX; \
	SUBQ  CX, R15; \
	SHLQ  $2, R15; \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K1

// func bnApplyAVX512(y, h, x, add, cbeta, mean, invstd, gamma, beta *float32, rows, cols, w, flags int)
//
// xhat = (((x + add) + cbeta) - mean) · invstd (add not nil; else
// (x - mean) · invstd); y = (gamma · xhat) + beta, then where K3 (relu)
// VMAXPS +0, y: y > 0 ? y : +0, the second operand for NaN and ±0,
// which is ReLU exactly.
TEXT ·bnApplyAVX512(SB), NOSPLIT, $0-104
	MOVQ y+0(FP), DI
	MOVQ h+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ add+24(FP), R8
	MOVQ cbeta+32(FP), R9
	MOVQ mean+40(FP), R10
	MOVQ invstd+48(FP), R11
	MOVQ gamma+56(FP), R12
	MOVQ beta+64(FP), R13
	TAILSPLIT(w+88(FP))
	MOVQ  flags+96(FP), AX
	ANDL  $1, AX
	NEGL  AX
	KMOVW AX, K3                    // relu lanes
	VMOVUPS.Z (R10)(R15*1), K1, Z20 // the last block's mean,
	VMOVUPS.Z (R11)(R15*1), K1, Z21 // invstd,
	VMOVUPS.Z (R12)(R15*1), K1, Z22 // gamma,
	VMOVUPS.Z (R13)(R15*1), K1, Z23 // beta
	TESTQ R8, R8
	JZ    bn512_start
	VMOVUPS.Z (R8)(R15*1), K1, Z24  // add
	VMOVUPS.Z (R9)(R15*1), K1, Z25  // cbeta

bn512_start:
	VPXORD Z31, Z31, Z31
	MOVQ   cols+80(FP), BX
	SHLQ   $2, BX
	MOVQ   rows+72(FP), CX

bn512_row:
	XORQ AX, AX
	CMPQ AX, R15
	JGE  bn512_tail

bn512_full:
	VMOVUPS (DX)(AX*1), Z0          // x
	TESTQ   R8, R8
	JZ      bn512_fsub
	VADDPS  (R8)(AX*1), Z0, Z0      // x + add
	VADDPS  (R9)(AX*1), Z0, Z0      // + cbeta

bn512_fsub:
	VSUBPS  (R10)(AX*1), Z0, Z0     // - mean
	VMULPS  (R11)(AX*1), Z0, Z0     // xhat = · invstd
	VMOVUPS Z0, (SI)(AX*1)
	VMOVUPS (R12)(AX*1), Z1
	VMULPS  Z0, Z1, Z1              // gamma · xhat
	VADDPS  (R13)(AX*1), Z1, Z1     // + beta
	VMAXPS  Z31, Z1, K3, Z1         // ReLU
	VMOVUPS Z1, (DI)(AX*1)
	ADDQ    $64, AX
	CMPQ    AX, R15
	JLT     bn512_full

bn512_tail:
	VMOVUPS.Z (DX)(AX*1), K1, Z0
	TESTQ     R8, R8
	JZ        bn512_tsub
	VADDPS    Z24, Z0, Z0
	VADDPS    Z25, Z0, Z0

bn512_tsub:
	VSUBPS  Z20, Z0, Z0
	VMULPS  Z21, Z0, Z0
	VMOVUPS Z0, K1, (SI)(AX*1)
	VMULPS  Z0, Z22, Z1
	VADDPS  Z23, Z1, Z1
	VMAXPS  Z31, Z1, K3, Z1
	VMOVUPS Z1, K1, (DI)(AX*1)
	ADDQ    BX, DI
	ADDQ    BX, SI
	ADDQ    BX, DX
	DECQ    CX
	JNZ     bn512_row
	VZEROUPPER
	RET

// func rowAddAVX512(y, x, add, beta *float32, rows, cols, w int)
//
// y = (x + add) + beta, or x + add where beta is nil.
TEXT ·rowAddAVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ add+16(FP), R8
	MOVQ beta+24(FP), R9
	TAILSPLIT(w+48(FP))
	VMOVUPS.Z (R8)(R15*1), K1, Z20  // the last block's add
	TESTQ R9, R9
	JZ    ra512_start
	VMOVUPS.Z (R9)(R15*1), K1, Z21  // and beta

ra512_start:
	MOVQ cols+40(FP), BX
	SHLQ $2, BX
	MOVQ rows+32(FP), CX

ra512_row:
	XORQ AX, AX
	CMPQ AX, R15
	JGE  ra512_tail

ra512_full:
	VMOVUPS (SI)(AX*1), Z0
	VADDPS  (R8)(AX*1), Z0, Z0      // x + add
	TESTQ   R9, R9
	JZ      ra512_fst
	VADDPS  (R9)(AX*1), Z0, Z0      // + beta

ra512_fst:
	VMOVUPS Z0, (DI)(AX*1)
	ADDQ    $64, AX
	CMPQ    AX, R15
	JLT     ra512_full

ra512_tail:
	VMOVUPS.Z (SI)(AX*1), K1, Z0
	VADDPS    Z20, Z0, Z0
	TESTQ     R9, R9
	JZ        ra512_tst
	VADDPS    Z21, Z0, Z0

ra512_tst:
	VMOVUPS Z0, K1, (DI)(AX*1)
	ADDQ    BX, DI
	ADDQ    BX, SI
	DECQ    CX
	JNZ     ra512_row
	VZEROUPPER
	RET

// func bnGradDXAVX512(dx, dy, h, y, kk, db, dg *float32, fr float32, rows, cols, w int)
//
// m = dy, or where y is not nil dy where 0 < y (the ordered comparison,
// Masked's predicate; a zero-masked load of dy, +0 elsewhere);
// dx = kk · ((fr · m - db) - h · dg).
TEXT ·bnGradDXAVX512(SB), NOSPLIT, $0-88
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ h+16(FP), DX
	MOVQ y+24(FP), R8
	MOVQ kk+32(FP), R9
	MOVQ db+40(FP), R10
	MOVQ dg+48(FP), R11
	VBROADCASTSS fr+56(FP), Z30
	TAILSPLIT(w+80(FP))
	VMOVUPS.Z (R9)(R15*1), K1, Z20  // the last block's kk,
	VMOVUPS.Z (R10)(R15*1), K1, Z21 // db,
	VMOVUPS.Z (R11)(R15*1), K1, Z22 // dg
	VPXORD Z31, Z31, Z31
	MOVQ   cols+72(FP), BX
	SHLQ   $2, BX
	MOVQ   rows+64(FP), CX

gd512_row:
	XORQ AX, AX
	CMPQ AX, R15
	JGE  gd512_tail

gd512_full:
	TESTQ     R8, R8
	JZ        gd512_fplain
	VCMPPS    LT_OQ, (R8)(AX*1), Z31, K2 // 0 < y
	VMOVUPS.Z (SI)(AX*1), K2, Z0         // m
	JMP       gd512_fm

gd512_fplain:
	VMOVUPS (SI)(AX*1), Z0

gd512_fm:
	VMULPS  Z0, Z30, Z0             // fr · m
	VSUBPS  (R10)(AX*1), Z0, Z0     // - db
	VMOVUPS (DX)(AX*1), Z1
	VMULPS  (R11)(AX*1), Z1, Z1     // h · dg
	VSUBPS  Z1, Z0, Z0
	VMOVUPS (R9)(AX*1), Z1
	VMULPS  Z0, Z1, Z0              // kk · d
	VMOVUPS Z0, (DI)(AX*1)
	ADDQ    $64, AX
	CMPQ    AX, R15
	JLT     gd512_full

gd512_tail:
	TESTQ     R8, R8
	JZ        gd512_tplain
	VMOVUPS.Z (R8)(AX*1), K1, Z2     // y (+0 outside the block: not > 0)
	VCMPPS    LT_OQ, Z2, Z31, K2
	VMOVUPS.Z (SI)(AX*1), K2, Z0
	JMP       gd512_tm

gd512_tplain:
	VMOVUPS.Z (SI)(AX*1), K1, Z0

gd512_tm:
	VMULPS    Z0, Z30, Z0
	VSUBPS    Z21, Z0, Z0
	VMOVUPS.Z (DX)(AX*1), K1, Z1
	VMULPS    Z22, Z1, Z1
	VSUBPS    Z1, Z0, Z0
	VMULPS    Z0, Z20, Z0
	VMOVUPS   Z0, K1, (DI)(AX*1)
	ADDQ      BX, DI
	ADDQ      BX, SI
	ADDQ      BX, DX
	TESTQ     R8, R8
	JZ        gd512_next
	ADDQ      BX, R8

gd512_next:
	DECQ CX
	JNZ  gd512_row
	VZEROUPPER
	RET

// iota32 is 0, 1, ..., 15 as int32: the lanes' column offsets.
DATA iota32<>+0(SB)/4, $0
DATA iota32<>+4(SB)/4, $1
DATA iota32<>+8(SB)/4, $2
DATA iota32<>+12(SB)/4, $3
DATA iota32<>+16(SB)/4, $4
DATA iota32<>+20(SB)/4, $5
DATA iota32<>+24(SB)/4, $6
DATA iota32<>+28(SB)/4, $7
DATA iota32<>+32(SB)/4, $8
DATA iota32<>+36(SB)/4, $9
DATA iota32<>+40(SB)/4, $10
DATA iota32<>+44(SB)/4, $11
DATA iota32<>+48(SB)/4, $12
DATA iota32<>+52(SB)/4, $13
DATA iota32<>+56(SB)/4, $14
DATA iota32<>+60(SB)/4, $15
GLOBL iota32<>(SB), RODATA|NOPTR, $64

// BCASTD(r, V, X) broadcasts the low 32 bits of the register r into V.
#define BCASTD(r, V, X) VMOVD r, X; VPBROADCASTD X, V

// func maxPool2AVX512(y *float32, arg *int32, x *float32, i0, ow, cols, w, xstep, row int)
//
// Per window and lane: v = a, at = its index; then for b, c, d in turn
// where (ordered) e > v: v = e, at = e's index (a merge under the
// comparison's mask). The indices are int32 sums, wrapping as the Go
// conversions of the int sums do.
TEXT ·maxPool2AVX512(SB), NOSPLIT, $0-72
	MOVQ y+0(FP), DI
	MOVQ arg+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ cols+40(FP), BX
	MOVQ row+64(FP), R12
	BCASTD(BX, Z11, X11)            // +cols: b's index
	BCASTD(R12, Z12, X12)           // +row: c's index
	LEAQ (R12)(BX*1), AX
	BCASTD(AX, Z13, X13)            // +row+cols: d's index
	MOVQ xstep+56(FP), R11
	BCASTD(R11, Z14, X14)           // the next window's indices
	MOVL $16, AX
	BCASTD(AX, Z15, X15)            // the next block's indices
	MOVQ i0+24(FP), AX
	BCASTD(AX, Z10, X10)
	VMOVDQU32 iota32<>(SB), Z9
	VPADDD    Z9, Z10, Z10          // the window's first block's indices
	SHLQ $2, BX                     // bytes per output pixel
	SHLQ $2, R11                    // bytes to the next window
	SHLQ $2, R12
	LEAQ (SI)(BX*1), R8             // b
	LEAQ (SI)(R12*1), R9            // c
	LEAQ (R9)(BX*1), R10            // d
	TAILSPLIT(w+48(FP))
	MOVQ ow+32(FP), CX

mp512_pix:
	XORQ      AX, AX
	VMOVDQA32 Z10, Z9
	CMPQ      AX, R15
	JGE       mp512_tail

mp512_full:
	VMOVUPS   (SI)(AX*1), Z0        // v = a
	VMOVDQA32 Z9, Z4                // at
	VMOVUPS   (R8)(AX*1), Z1
	VCMPPS    GT_OQ, Z0, Z1, K2     // b > v
	VMOVAPS   Z1, K2, Z0
	VPADDD    Z11, Z9, K2, Z4
	VMOVUPS   (R9)(AX*1), Z1
	VCMPPS    GT_OQ, Z0, Z1, K2     // c > v
	VMOVAPS   Z1, K2, Z0
	VPADDD    Z12, Z9, K2, Z4
	VMOVUPS   (R10)(AX*1), Z1
	VCMPPS    GT_OQ, Z0, Z1, K2     // d > v
	VMOVAPS   Z1, K2, Z0
	VPADDD    Z13, Z9, K2, Z4
	VMOVUPS   Z0, (DI)(AX*1)
	VMOVDQU32 Z4, (DX)(AX*1)
	VPADDD    Z15, Z9, Z9
	ADDQ      $64, AX
	CMPQ      AX, R15
	JLT       mp512_full

mp512_tail:
	VMOVUPS.Z (SI)(AX*1), K1, Z0
	VMOVDQA32 Z9, Z4
	VMOVUPS.Z (R8)(AX*1), K1, Z1
	VCMPPS    GT_OQ, Z0, Z1, K2
	VMOVAPS   Z1, K2, Z0
	VPADDD    Z11, Z9, K2, Z4
	VMOVUPS.Z (R9)(AX*1), K1, Z1
	VCMPPS    GT_OQ, Z0, Z1, K2
	VMOVAPS   Z1, K2, Z0
	VPADDD    Z12, Z9, K2, Z4
	VMOVUPS.Z (R10)(AX*1), K1, Z1
	VCMPPS    GT_OQ, Z0, Z1, K2
	VMOVAPS   Z1, K2, Z0
	VPADDD    Z13, Z9, K2, Z4
	VMOVUPS   Z0, K1, (DI)(AX*1)
	VMOVDQU32 Z4, K1, (DX)(AX*1)
	ADDQ      R11, SI
	ADDQ      R11, R8
	ADDQ      R11, R9
	ADDQ      R11, R10
	ADDQ      BX, DI
	ADDQ      BX, DX
	VPADDD    Z14, Z10, Z10
	DECQ      CX
	JNZ       mp512_pix
	VZEROUPPER
	RET

// AVX2: w a positive multiple of 8 (R15 = w·4 bytes).

// func bnApplyAVX2(y, h, x, add, cbeta, mean, invstd, gamma, beta *float32, rows, cols, w, flags int)
//
// As bnApplyAVX512; the ReLU is VMAXPS +0, y selected by Y14 (all ones
// where relu).
TEXT ·bnApplyAVX2(SB), NOSPLIT, $0-104
	MOVQ y+0(FP), DI
	MOVQ h+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ add+24(FP), R8
	MOVQ cbeta+32(FP), R9
	MOVQ mean+40(FP), R10
	MOVQ invstd+48(FP), R11
	MOVQ gamma+56(FP), R12
	MOVQ beta+64(FP), R13
	MOVQ w+88(FP), R15
	SHLQ $2, R15
	MOVQ flags+96(FP), AX
	ANDL $1, AX
	NEGL AX
	BCASTD(AX, Y14, X14)            // relu
	VXORPS Y15, Y15, Y15
	MOVQ   cols+80(FP), BX
	SHLQ   $2, BX
	MOVQ   rows+72(FP), CX

bn2_row:
	XORQ AX, AX

bn2_full:
	VMOVUPS (DX)(AX*1), Y0          // x
	TESTQ   R8, R8
	JZ      bn2_sub
	VADDPS  (R8)(AX*1), Y0, Y0      // x + add
	VADDPS  (R9)(AX*1), Y0, Y0      // + cbeta

bn2_sub:
	VSUBPS    (R10)(AX*1), Y0, Y0   // - mean
	VMULPS    (R11)(AX*1), Y0, Y0   // xhat = · invstd
	VMOVUPS   Y0, (SI)(AX*1)
	VMOVUPS   (R12)(AX*1), Y1
	VMULPS    Y0, Y1, Y1            // gamma · xhat
	VADDPS    (R13)(AX*1), Y1, Y1   // + beta
	VMAXPS    Y15, Y1, Y2           // y > 0 ? y : +0
	VBLENDVPS Y14, Y2, Y1, Y1       // relu ? that : y
	VMOVUPS   Y1, (DI)(AX*1)
	ADDQ      $32, AX
	CMPQ      AX, R15
	JLT       bn2_full
	ADDQ      BX, DI
	ADDQ      BX, SI
	ADDQ      BX, DX
	DECQ      CX
	JNZ       bn2_row
	VZEROUPPER
	RET

// func rowAddAVX2(y, x, add, beta *float32, rows, cols, w int)
TEXT ·rowAddAVX2(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ add+16(FP), R8
	MOVQ beta+24(FP), R9
	MOVQ w+48(FP), R15
	SHLQ $2, R15
	MOVQ cols+40(FP), BX
	SHLQ $2, BX
	MOVQ rows+32(FP), CX

ra2_row:
	XORQ AX, AX

ra2_full:
	VMOVUPS (SI)(AX*1), Y0
	VADDPS  (R8)(AX*1), Y0, Y0      // x + add
	TESTQ   R9, R9
	JZ      ra2_st
	VADDPS  (R9)(AX*1), Y0, Y0      // + beta

ra2_st:
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	CMPQ    AX, R15
	JLT     ra2_full
	ADDQ    BX, DI
	ADDQ    BX, SI
	DECQ    CX
	JNZ     ra2_row
	VZEROUPPER
	RET

// func bnGradDXAVX2(dx, dy, h, y, kk, db, dg *float32, fr float32, rows, cols, w int)
TEXT ·bnGradDXAVX2(SB), NOSPLIT, $0-88
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ h+16(FP), DX
	MOVQ y+24(FP), R8
	MOVQ kk+32(FP), R9
	MOVQ db+40(FP), R10
	MOVQ dg+48(FP), R11
	VBROADCASTSS fr+56(FP), Y14
	VXORPS Y15, Y15, Y15
	MOVQ   w+80(FP), R15
	SHLQ   $2, R15
	MOVQ   cols+72(FP), BX
	SHLQ   $2, BX
	MOVQ   rows+64(FP), CX

gd2_row:
	XORQ AX, AX

gd2_full:
	TESTQ  R8, R8
	JZ     gd2_plain
	VCMPPS LT_OQ, (R8)(AX*1), Y15, Y2 // 0 < y
	VANDPS (SI)(AX*1), Y2, Y0         // m = dy & mask
	JMP    gd2_m

gd2_plain:
	VMOVUPS (SI)(AX*1), Y0

gd2_m:
	VMULPS  Y0, Y14, Y0             // fr · m
	VSUBPS  (R10)(AX*1), Y0, Y0     // - db
	VMOVUPS (DX)(AX*1), Y1
	VMULPS  (R11)(AX*1), Y1, Y1     // h · dg
	VSUBPS  Y1, Y0, Y0
	VMOVUPS (R9)(AX*1), Y1
	VMULPS  Y0, Y1, Y0              // kk · d
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	CMPQ    AX, R15
	JLT     gd2_full
	ADDQ    BX, DI
	ADDQ    BX, SI
	ADDQ    BX, DX
	TESTQ   R8, R8
	JZ      gd2_next
	ADDQ    BX, R8

gd2_next:
	DECQ CX
	JNZ  gd2_row
	VZEROUPPER
	RET

// func maxPool2AVX2(y *float32, arg *int32, x *float32, i0, ow, cols, w, xstep, row int)
//
// As maxPool2AVX512, the merges VBLENDVPS under the comparisons' masks
// (the index vectors blended as bits).
TEXT ·maxPool2AVX2(SB), NOSPLIT, $0-72
	MOVQ y+0(FP), DI
	MOVQ arg+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ cols+40(FP), BX
	MOVQ row+64(FP), R12
	BCASTD(BX, Y11, X11)
	BCASTD(R12, Y12, X12)
	LEAQ (R12)(BX*1), AX
	BCASTD(AX, Y13, X13)
	MOVQ xstep+56(FP), R11
	BCASTD(R11, Y14, X14)
	MOVL $8, AX
	BCASTD(AX, Y15, X15)
	MOVQ i0+24(FP), AX
	BCASTD(AX, Y10, X10)
	VMOVDQU iota32<>(SB), Y9
	VPADDD  Y9, Y10, Y10
	SHLQ $2, BX
	SHLQ $2, R11
	SHLQ $2, R12
	LEAQ (SI)(BX*1), R8
	LEAQ (SI)(R12*1), R9
	LEAQ (R9)(BX*1), R10
	MOVQ w+48(FP), R15
	SHLQ $2, R15
	MOVQ ow+32(FP), CX

mp2_pix:
	XORQ    AX, AX
	VMOVDQU Y10, Y9

mp2_full:
	VMOVUPS   (SI)(AX*1), Y0        // v = a
	VMOVDQU   Y9, Y4                // at
	VMOVUPS   (R8)(AX*1), Y1
	VCMPPS    GT_OQ, Y0, Y1, Y2     // b > v
	VBLENDVPS Y2, Y1, Y0, Y0
	VPADDD    Y11, Y9, Y3
	VBLENDVPS Y2, Y3, Y4, Y4
	VMOVUPS   (R9)(AX*1), Y1
	VCMPPS    GT_OQ, Y0, Y1, Y2     // c > v
	VBLENDVPS Y2, Y1, Y0, Y0
	VPADDD    Y12, Y9, Y3
	VBLENDVPS Y2, Y3, Y4, Y4
	VMOVUPS   (R10)(AX*1), Y1
	VCMPPS    GT_OQ, Y0, Y1, Y2     // d > v
	VBLENDVPS Y2, Y1, Y0, Y0
	VPADDD    Y13, Y9, Y3
	VBLENDVPS Y2, Y3, Y4, Y4
	VMOVUPS   Y0, (DI)(AX*1)
	VMOVDQU   Y4, (DX)(AX*1)
	VPADDD    Y15, Y9, Y9
	ADDQ      $32, AX
	CMPQ      AX, R15
	JLT       mp2_full
	ADDQ      R11, SI
	ADDQ      R11, R8
	ADDQ      R11, R9
	ADDQ      R11, R10
	ADDQ      BX, DI
	ADDQ      BX, DX
	VPADDD    Y14, Y10, Y10
	DECQ      CX
	JNZ       mp2_pix
	VZEROUPPER
	RET
