//go:build !purego

#include "textflag.h"

// NEON kernels, 4 float32 lanes per vector; n is a positive multiple of 4.
// See the package documentation for the exactness argument. Go's assembler
// lacks most floating-point vector instructions, so they are encoded with
// WORD (the instruction is in the comment). FRINTA rounds to nearest with
// ties away from zero, which is quant.Round on a float32 value, exactly.

// func codesNEON(dst *int32, x *float32, n int, inv, blo, bhi float32, z, zc int32)
TEXT ·codesNEON(SB), NOSPLIT, $0-44
	MOVD  dst+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  n+16(FP), R2
	MOVWU inv+24(FP), R3
	VDUP  R3, V31.S4
	MOVWU blo+28(FP), R3
	VDUP  R3, V30.S4
	MOVWU bhi+32(FP), R3
	VDUP  R3, V29.S4
	MOVWU z+36(FP), R3
	VDUP  R3, V28.S4
	MOVWU zc+40(FP), R3
	VDUP  R3, V27.S4
	LSR   $2, R2, R2

codes_loop:
	VLD1.P 16(R1), [V0.S4]
	WORD $0x6e3fdc00 // FMUL V0.4S, V0.4S, V31.4S; q = x*inv
	WORD $0x4e20e401 // FCMEQ V1.4S, V0.4S, V0.4S; q is not NaN
	WORD $0x6e218802 // FRINTA V2.4S, V0.4S; r = round(q)
	WORD $0x4e3ef442 // FMAX V2.4S, V2.4S, V30.4S; clamp to [qmin-z, qmax-z]
	WORD $0x4ebdf442 // FMIN V2.4S, V2.4S, V29.4S
	WORD $0x4ea1b842 // FCVTZS V2.4S, V2.4S
	VADD   V28.S4, V2.S4, V2.S4   // + z
	WORD $0x6ee11f62 // BIF V2.16B, V27.16B, V1.16B; NaN: clamp(z)
	VST1.P [V2.S4], 16(R0)
	SUBS   $1, R2, R2
	BNE    codes_loop
	RET

// func gradTermsNEON(dx, x, gr, ts, tz *float32, n int, inv, s, lowT, highT, blo, bhi float32)
TEXT ·gradTermsNEON(SB), NOSPLIT, $0-72
	MOVD  dx+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  gr+16(FP), R2
	MOVD  ts+24(FP), R3
	MOVD  tz+32(FP), R4
	MOVD  n+40(FP), R5
	MOVWU inv+48(FP), R6
	VDUP  R6, V31.S4
	MOVWU s+52(FP), R6
	VDUP  R6, V26.S4
	MOVWU lowT+56(FP), R6
	VDUP  R6, V28.S4
	MOVWU highT+60(FP), R6
	VDUP  R6, V27.S4
	MOVWU blo+64(FP), R6
	VDUP  R6, V30.S4
	MOVWU bhi+68(FP), R6
	VDUP  R6, V29.S4
	MOVW  $0x80000000, R6
	VDUP  R6, V25.S4
	LSR   $2, R5, R5

grad_loop:
	VLD1.P 16(R1), [V0.S4]        // x
	VLD1.P 16(R2), [V5.S4]        // g
	WORD $0x6e3fdc00 // FMUL V0.4S, V0.4S, V31.4S; q = x*inv
	WORD $0x6e218801 // FRINTA V1.4S, V0.4S; r = round(q)
	WORD $0x6ea1e7c2 // FCMGT V2.4S, V30.4S, V1.4S; low:  r < qmin-z  (v < qmin)
	WORD $0x6ebde423 // FCMGT V3.4S, V1.4S, V29.4S; high: r > qmax-z  (v > qmax)
	WORD $0x4ea0d424 // FSUB V4.4S, V1.4S, V0.4S; r - q
	WORD $0x6ea31f64 // BIT V4.16B, V27.16B, V3.16B; high: highT
	WORD $0x6ea21f84 // BIT V4.16B, V28.16B, V2.16B; low: lowT
	WORD $0x6e25dc84 // FMUL V4.4S, V4.4S, V5.4S; ts = factor * g (factor first: see "NaN payloads" in doc.go)
	VST1.P [V4.S4], 16(R3)
	VORR   V2.B16, V3.B16, V2.B16 // outside the range
	WORD $0x6e3adca4 // FMUL V4.4S, V5.4S, V26.4S; g*s
	VEOR   V25.B16, V4.B16, V4.B16 // -(g*s)
	VAND   V2.B16, V4.B16, V4.B16
	VST1.P [V4.S4], 16(R4)        // tz = outside ? -(g*s) : +0
	CBZ    R0, grad_nodx
	WORD $0x4e621ca4 // BIC V4.16B, V5.16B, V2.16B; dx = outside ? +0 : g
	VST1.P [V4.S4], 16(R0)

grad_nodx:
	SUBS $1, R5, R5
	BNE  grad_loop
	RET

// func dequantizeNEON(dst *float32, q *int32, n int, s float32, z int32)
TEXT ·dequantizeNEON(SB), NOSPLIT, $0-32
	MOVD  dst+0(FP), R0
	MOVD  q+8(FP), R1
	MOVD  n+16(FP), R2
	MOVWU s+24(FP), R3
	VDUP  R3, V30.S4
	MOVWU z+28(FP), R3
	VDUP  R3, V31.S4
	LSR   $2, R2, R2

deq_loop:
	VLD1.P 16(R1), [V0.S4]
	VSUB   V31.S4, V0.S4, V0.S4   // q - z (wrapping)
	WORD $0x4e21d800 // SCVTF V0.4S, V0.4S
	WORD $0x6e20dfc0 // FMUL V0.4S, V30.4S, V0.4S; s * float32(q-z)
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R2, R2
	BNE    deq_loop
	RET

// func minMaxNEON(x *float32, n int, acc *minMaxAcc)
//
// Per lane: the min and max of the order keys (see key in qsimd.go) of the
// finite values, and the count of the others (|bits| > 0x7f7fffff).
// minMaxAcc is lo [16]int32 at 0, hi at 64, bad at 128.
TEXT ·minMaxNEON(SB), NOSPLIT, $0-24
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	MOVD acc+16(FP), R2
	ADD  $64, R2, R3
	ADD  $128, R2, R4
	VLD1 (R2), [V10.S4]           // lo keys
	VLD1 (R3), [V9.S4]            // hi keys
	VLD1 (R4), [V8.S4]            // bad counts
	MOVW $0x7fffffff, R5
	VDUP R5, V13.S4
	MOVW $0x7f7fffff, R5
	VDUP R5, V12.S4
	MOVW $0x80000000, R5
	VDUP R5, V11.S4
	LSR  $2, R1, R1

mm_loop:
	VLD1.P 16(R0), [V0.S4]
	WORD $0x4f210401 // SSHR V1.4S, V0.4S, #31
	VAND   V13.B16, V1.B16, V1.B16
	VEOR   V0.B16, V1.B16, V1.B16 // key
	VAND   V13.B16, V0.B16, V2.B16
	WORD $0x4eac3442 // CMGT V2.4S, V2.4S, V12.4S; non-finite
	VSUB   V2.S4, V8.S4, V8.S4    // count it
	WORD $0x4ea21c43 // MOV V3.16B, V2.16B
	WORD $0x6e611da3 // BSL V3.16B, V13.16B, V1.16B; non-finite: no candidate for min
	WORD $0x4ea36d4a // SMIN V10.4S, V10.4S, V3.4S
	WORD $0x6ea21d61 // BIT V1.16B, V11.16B, V2.16B; nor for max
	WORD $0x4ea16529 // SMAX V9.4S, V9.4S, V1.4S
	SUBS   $1, R1, R1
	BNE    mm_loop
	VST1   [V10.S4], (R2)
	VST1   [V9.S4], (R3)
	VST1   [V8.S4], (R4)
	RET
