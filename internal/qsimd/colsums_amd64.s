//go:build !purego

#include "textflag.h"

// Column-sum kernels (see colKernels in colsums.go): one block of w
// columns over rows ≥ 1 rows of cols elements; lane j of the accumulator
// is column c0+j's float32 sum, one addition per row in increasing row
// order, as the scalar chain of the Go code. Products are one VMULPS
// (rounded), then one VADDPS: no fused multiply-add. The operands are in
// the order of the Go expressions (the running sum, x, m first; in Go's
// syntax VADDPS b, a, d is d = a + b, Intel's first source being a),
// which decides the payload of a NaN sum or product of two NaNs; the Go
// compiler treats these operations as commutative and picks its own
// order, differently from column to column of one loop, so only that
// payload may differ from the Go code's (see "NaN payloads" in doc.go).
//
// AVX-512F: any w in [1, 16], the lanes outside the block masked by K1
// (loads zero-masked, so masked lanes never touch memory and stay 0).
// AVX2: w = 8.

#define LT_OQ $0x11

// PFSETUP sets R10 to the prefetch distance, 16 rows of BX bytes; PF(p)
// prefetches the row that far ahead of p. The kernels are bound by
// memory when their matrices come from DRAM (a batch norm's backward reads
// activations written during the forward pass), where the prefetches
// measured ~1.7x faster; past the end they are harmless hints.
#define PFSETUP MOVQ BX, R10; SHLQ $4, R10
#define PF(p) PREFETCHT0 (p)(R10*1)

// COLMASK(w) sets K1 to the low w bits (clobbers AX, CX).
#define COLMASK(w) MOVQ w, CX; MOVL $1, AX; SHLL CX, AX; DECL AX; KMOVW AX, K1

// func colSumAVX512(dst, x *float32, rows, cols, w int)
TEXT ·colSumAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ cols+24(FP), BX
	SHLQ $2, BX
	COLMASK(w+32(FP))
	MOVQ rows+16(FP), CX
	VPXORD Z0, Z0, Z0
	PFSETUP

csum512_loop:
	PF(SI)
	VMOVUPS.Z (SI), K1, Z1
	VADDPS    Z1, Z0, Z0            // s = s + x
	ADDQ      BX, SI
	DECQ      CX
	JNZ       csum512_loop
	VMOVUPS   Z0, K1, (DI)
	VZEROUPPER
	RET

// func colProdAVX512(dst, x, y *float32, rows, cols, w int)
TEXT ·colProdAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ cols+32(FP), BX
	SHLQ $2, BX
	COLMASK(w+40(FP))
	MOVQ rows+24(FP), CX
	VPXORD Z0, Z0, Z0
	PFSETUP

cprod512_loop:
	PF(SI)
	PF(DX)
	VMOVUPS.Z (SI), K1, Z1
	VMOVUPS.Z (DX), K1, Z2
	VMULPS    Z2, Z1, Z1            // x * y
	VADDPS    Z1, Z0, Z0
	ADDQ      BX, SI
	ADDQ      BX, DX
	DECQ      CX
	JNZ       cprod512_loop
	VMOVUPS   Z0, K1, (DI)
	VZEROUPPER
	RET

// func colSqDevAVX512(dst, x, mean *float32, rows, cols, w int)
TEXT ·colSqDevAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ mean+16(FP), DX
	MOVQ cols+32(FP), BX
	SHLQ $2, BX
	COLMASK(w+40(FP))
	MOVQ rows+24(FP), CX
	VPXORD Z0, Z0, Z0
	VMOVUPS.Z (DX), K1, Z2          // mean
	PFSETUP

csq512_loop:
	PF(SI)
	VMOVUPS.Z (SI), K1, Z1
	VSUBPS    Z2, Z1, Z1            // d = x - mean
	VMULPS    Z1, Z1, Z1            // d * d
	VADDPS    Z1, Z0, Z0
	ADDQ      BX, SI
	DECQ      CX
	JNZ       csq512_loop
	VMOVUPS   Z0, K1, (DI)
	VZEROUPPER
	RET

// func colCompAVX512(dst, x, add, beta *float32, rows, cols, w int)
TEXT ·colCompAVX512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ add+16(FP), DX
	MOVQ beta+24(FP), R8
	MOVQ cols+40(FP), BX
	SHLQ $2, BX
	COLMASK(w+48(FP))
	MOVQ rows+32(FP), CX
	VPXORD Z0, Z0, Z0
	VMOVUPS.Z (DX), K1, Z2          // add
	VMOVUPS.Z (R8), K1, Z3          // beta
	PFSETUP

ccomp512_loop:
	PF(SI)
	VMOVUPS.Z (SI), K1, Z1
	VADDPS    Z2, Z1, Z1            // x + add
	VADDPS    Z3, Z1, Z1            // + beta
	VADDPS    Z1, Z0, Z0
	ADDQ      BX, SI
	DECQ      CX
	JNZ       ccomp512_loop
	VMOVUPS   Z0, K1, (DI)
	VZEROUPPER
	RET

// func colCompSqAVX512(dst, x, add, beta, mean *float32, rows, cols, w int)
TEXT ·colCompSqAVX512(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ add+16(FP), DX
	MOVQ beta+24(FP), R8
	MOVQ mean+32(FP), R9
	MOVQ cols+48(FP), BX
	SHLQ $2, BX
	COLMASK(w+56(FP))
	MOVQ rows+40(FP), CX
	VPXORD Z0, Z0, Z0
	VMOVUPS.Z (DX), K1, Z2          // add
	VMOVUPS.Z (R8), K1, Z3          // beta
	VMOVUPS.Z (R9), K1, Z4          // mean
	PFSETUP

ccsq512_loop:
	PF(SI)
	VMOVUPS.Z (SI), K1, Z1
	VADDPS    Z2, Z1, Z1            // x + add
	VADDPS    Z3, Z1, Z1            // + beta
	VSUBPS    Z4, Z1, Z1            // d = yc - mean
	VMULPS    Z1, Z1, Z1            // d * d
	VADDPS    Z1, Z0, Z0
	ADDQ      BX, SI
	DECQ      CX
	JNZ       ccsq512_loop
	VMOVUPS   Z0, K1, (DI)
	VZEROUPPER
	RET

// func colMaskedAVX512(db, dg, dy, h, y *float32, rows, cols, w int)
//
// m = y > 0 ? dy : +0, with y > 0 the ordered float32 comparison (false
// for NaN, ±0 and negative values; true for positive subnormals and
// +Inf), which is PositiveMask's predicate; m is dy's bits or zero, as
// Masked's AND.
TEXT ·colMaskedAVX512(SB), NOSPLIT, $0-64
	MOVQ dy+16(FP), SI
	MOVQ h+24(FP), DX
	MOVQ y+32(FP), R8
	MOVQ cols+48(FP), BX
	SHLQ $2, BX
	COLMASK(w+56(FP))
	MOVQ rows+40(FP), CX
	VPXORD Z0, Z0, Z0               // db
	VPXORD Z4, Z4, Z4               // dg
	VPXORD Z15, Z15, Z15            // +0
	PFSETUP

cmask512_loop:
	PF(SI)
	PF(DX)
	PF(R8)
	VMOVUPS.Z (R8), K1, Z3          // y
	VCMPPS    LT_OQ, Z3, Z15, K2    // 0 < y
	VMOVUPS.Z (SI), K2, Z1          // m
	VADDPS    Z1, Z0, Z0            // db += m
	VMOVUPS.Z (DX), K1, Z2          // h
	VMULPS    Z2, Z1, Z2            // m * h
	VADDPS    Z2, Z4, Z4            // dg += m*h
	ADDQ      BX, SI
	ADDQ      BX, DX
	ADDQ      BX, R8
	DECQ      CX
	JNZ       cmask512_loop
	MOVQ      db+0(FP), DI
	VMOVUPS   Z0, K1, (DI)
	MOVQ      dg+8(FP), DI
	VMOVUPS   Z4, K1, (DI)
	VZEROUPPER
	RET

// AVX2: w = 8 (the argument is ignored).

// func colSumAVX2(dst, x *float32, rows, cols, w int)
TEXT ·colSumAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ cols+24(FP), BX
	SHLQ $2, BX
	MOVQ rows+16(FP), CX
	VXORPS Y0, Y0, Y0
	PFSETUP

csum2_loop:
	PF(SI)
	VADDPS (SI), Y0, Y0             // s = s + x
	ADDQ   BX, SI
	DECQ   CX
	JNZ    csum2_loop
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET

// func colProdAVX2(dst, x, y *float32, rows, cols, w int)
TEXT ·colProdAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ cols+32(FP), BX
	SHLQ $2, BX
	MOVQ rows+24(FP), CX
	VXORPS Y0, Y0, Y0
	PFSETUP

cprod2_loop:
	PF(SI)
	PF(DX)
	VMOVUPS (SI), Y1
	VMULPS  (DX), Y1, Y1            // x * y
	VADDPS  Y1, Y0, Y0
	ADDQ    BX, SI
	ADDQ    BX, DX
	DECQ    CX
	JNZ     cprod2_loop
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET

// func colSqDevAVX2(dst, x, mean *float32, rows, cols, w int)
TEXT ·colSqDevAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ mean+16(FP), DX
	MOVQ cols+32(FP), BX
	SHLQ $2, BX
	MOVQ rows+24(FP), CX
	VXORPS Y0, Y0, Y0
	VMOVUPS (DX), Y2                // mean
	PFSETUP

csq2_loop:
	PF(SI)
	VMOVUPS (SI), Y1
	VSUBPS  Y2, Y1, Y1              // d = x - mean
	VMULPS  Y1, Y1, Y1              // d * d
	VADDPS  Y1, Y0, Y0
	ADDQ    BX, SI
	DECQ    CX
	JNZ     csq2_loop
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET

// func colCompAVX2(dst, x, add, beta *float32, rows, cols, w int)
TEXT ·colCompAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ add+16(FP), DX
	MOVQ beta+24(FP), R8
	MOVQ cols+40(FP), BX
	SHLQ $2, BX
	MOVQ rows+32(FP), CX
	VXORPS Y0, Y0, Y0
	VMOVUPS (DX), Y2                // add
	VMOVUPS (R8), Y3                // beta
	PFSETUP

ccomp2_loop:
	PF(SI)
	VMOVUPS (SI), Y1
	VADDPS  Y2, Y1, Y1              // x + add
	VADDPS  Y3, Y1, Y1              // + beta
	VADDPS  Y1, Y0, Y0
	ADDQ    BX, SI
	DECQ    CX
	JNZ     ccomp2_loop
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET

// func colCompSqAVX2(dst, x, add, beta, mean *float32, rows, cols, w int)
TEXT ·colCompSqAVX2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ add+16(FP), DX
	MOVQ beta+24(FP), R8
	MOVQ mean+32(FP), R9
	MOVQ cols+48(FP), BX
	SHLQ $2, BX
	MOVQ rows+40(FP), CX
	VXORPS Y0, Y0, Y0
	VMOVUPS (DX), Y2                // add
	VMOVUPS (R8), Y3                // beta
	VMOVUPS (R9), Y4                // mean
	PFSETUP

ccsq2_loop:
	PF(SI)
	VMOVUPS (SI), Y1
	VADDPS  Y2, Y1, Y1              // x + add
	VADDPS  Y3, Y1, Y1              // + beta
	VSUBPS  Y4, Y1, Y1              // d = yc - mean
	VMULPS  Y1, Y1, Y1              // d * d
	VADDPS  Y1, Y0, Y0
	ADDQ    BX, SI
	DECQ    CX
	JNZ     ccsq2_loop
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET

// func colMaskedAVX2(db, dg, dy, h, y *float32, rows, cols, w int)
TEXT ·colMaskedAVX2(SB), NOSPLIT, $0-64
	MOVQ dy+16(FP), SI
	MOVQ h+24(FP), DX
	MOVQ y+32(FP), R8
	MOVQ cols+48(FP), BX
	SHLQ $2, BX
	MOVQ rows+40(FP), CX
	VXORPS Y0, Y0, Y0               // db
	VXORPS Y4, Y4, Y4               // dg
	VXORPS Y15, Y15, Y15            // +0
	PFSETUP

cmask2_loop:
	PF(SI)
	PF(DX)
	PF(R8)
	VCMPPS  LT_OQ, (R8), Y15, Y3    // 0 < y
	VANDPS  (SI), Y3, Y1            // m = dy & mask
	VADDPS  Y1, Y0, Y0              // db += m
	VMULPS  (DX), Y1, Y2            // m * h
	VADDPS  Y2, Y4, Y4              // dg += m*h
	ADDQ    BX, SI
	ADDQ    BX, DX
	ADDQ    BX, R8
	DECQ    CX
	JNZ     cmask2_loop
	MOVQ    db+0(FP), DI
	VMOVUPS Y0, (DI)
	MOVQ    dg+8(FP), DI
	VMOVUPS Y4, (DI)
	VZEROUPPER
	RET
