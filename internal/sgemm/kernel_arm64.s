//go:build !purego

#include "textflag.h"

// NEON micro-kernel for an 8×8 tile (see microKernel in sgemm.go); A must
// have row stride 1 (packed, or op(A) stored k-major), any k stride.
//
// Per k step: load the 8 values of A (V0, V1) and the 8 values of the packed
// B row (V2, V3), then 16 FMLA by element: row i of the tile, in V(16+2i) and
// V(17+2i), gains B·A[i]. Go's assembler has no by-element FMLA/FMUL, so
// they are encoded with WORD (mnemonic in the comment):
//   FMLA Vd.4S, Vn.4S, Vm.S[i] = 0x4f801000 | L<<21 | M<<20 | Rm<<16 | H<<11 | Rn<<5 | Rd
//   FMUL Vd.4S, Vn.4S, Vm.S[i] = 0x4f809000 | (same fields), with i = H:L, m = M:Rm.
// Then C = alpha·acc + beta·C, C not read when beta == ±0.
//
// Registers: R0 k, R1 A, R2 A k stride (bytes), R3 B, R4 C, R5 ldc (bytes).

// func kernel8x8NEON(k int, a *float32, rsa, csa int, b *float32, c *float32, ldc int, alpha, beta float32)
TEXT ·kernel8x8NEON(SB), NOSPLIT, $0-64
	MOVD k+0(FP), R0
	MOVD a+8(FP), R1
	MOVD csa+24(FP), R2
	MOVD b+32(FP), R3
	MOVD c+40(FP), R4
	MOVD ldc+48(FP), R5
	LSL  $2, R2, R2
	LSL  $2, R5, R5

	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VEOR V24.B16, V24.B16, V24.B16
	VEOR V25.B16, V25.B16, V25.B16
	VEOR V26.B16, V26.B16, V26.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	CBZ  R0, neon_store

neon_loop:
	VLD1 (R1), [V0.S4, V1.S4]
	ADD  R2, R1, R1
	VLD1.P 32(R3), [V2.S4, V3.S4]
	WORD $0x4f801050 // FMLA V16.4S, V2.4S, V0.S[0]
	WORD $0x4f801071 // FMLA V17.4S, V3.4S, V0.S[0]
	WORD $0x4fa01052 // FMLA V18.4S, V2.4S, V0.S[1]
	WORD $0x4fa01073 // FMLA V19.4S, V3.4S, V0.S[1]
	WORD $0x4f801854 // FMLA V20.4S, V2.4S, V0.S[2]
	WORD $0x4f801875 // FMLA V21.4S, V3.4S, V0.S[2]
	WORD $0x4fa01856 // FMLA V22.4S, V2.4S, V0.S[3]
	WORD $0x4fa01877 // FMLA V23.4S, V3.4S, V0.S[3]
	WORD $0x4f811058 // FMLA V24.4S, V2.4S, V1.S[0]
	WORD $0x4f811079 // FMLA V25.4S, V3.4S, V1.S[0]
	WORD $0x4fa1105a // FMLA V26.4S, V2.4S, V1.S[1]
	WORD $0x4fa1107b // FMLA V27.4S, V3.4S, V1.S[1]
	WORD $0x4f81185c // FMLA V28.4S, V2.4S, V1.S[2]
	WORD $0x4f81187d // FMLA V29.4S, V3.4S, V1.S[2]
	WORD $0x4fa1185e // FMLA V30.4S, V2.4S, V1.S[3]
	WORD $0x4fa1187f // FMLA V31.4S, V3.4S, V1.S[3]
	SUBS $1, R0, R0
	BNE  neon_loop

neon_store:
	FMOVS alpha+56(FP), F4
	FMOVS beta+60(FP), F5
	WORD $0x4f849210 // FMUL V16.4S, V16.4S, V4.S[0]
	WORD $0x4f849231 // FMUL V17.4S, V17.4S, V4.S[0]
	WORD $0x4f849252 // FMUL V18.4S, V18.4S, V4.S[0]
	WORD $0x4f849273 // FMUL V19.4S, V19.4S, V4.S[0]
	WORD $0x4f849294 // FMUL V20.4S, V20.4S, V4.S[0]
	WORD $0x4f8492b5 // FMUL V21.4S, V21.4S, V4.S[0]
	WORD $0x4f8492d6 // FMUL V22.4S, V22.4S, V4.S[0]
	WORD $0x4f8492f7 // FMUL V23.4S, V23.4S, V4.S[0]
	WORD $0x4f849318 // FMUL V24.4S, V24.4S, V4.S[0]
	WORD $0x4f849339 // FMUL V25.4S, V25.4S, V4.S[0]
	WORD $0x4f84935a // FMUL V26.4S, V26.4S, V4.S[0]
	WORD $0x4f84937b // FMUL V27.4S, V27.4S, V4.S[0]
	WORD $0x4f84939c // FMUL V28.4S, V28.4S, V4.S[0]
	WORD $0x4f8493bd // FMUL V29.4S, V29.4S, V4.S[0]
	WORD $0x4f8493de // FMUL V30.4S, V30.4S, V4.S[0]
	WORD $0x4f8493ff // FMUL V31.4S, V31.4S, V4.S[0]
	MOVWU beta+60(FP), R6
	ANDW $0x7fffffff, R6, R6
	CBZW R6, neon_beta0
	VLD1 (R4), [V6.S4, V7.S4]
	WORD $0x4f8510d0 // FMLA V16.4S, V6.4S, V5.S[0]
	WORD $0x4f8510f1 // FMLA V17.4S, V7.4S, V5.S[0]
	VST1 [V16.S4, V17.S4], (R4)
	ADD  R5, R4, R4
	VLD1 (R4), [V6.S4, V7.S4]
	WORD $0x4f8510d2 // FMLA V18.4S, V6.4S, V5.S[0]
	WORD $0x4f8510f3 // FMLA V19.4S, V7.4S, V5.S[0]
	VST1 [V18.S4, V19.S4], (R4)
	ADD  R5, R4, R4
	VLD1 (R4), [V6.S4, V7.S4]
	WORD $0x4f8510d4 // FMLA V20.4S, V6.4S, V5.S[0]
	WORD $0x4f8510f5 // FMLA V21.4S, V7.4S, V5.S[0]
	VST1 [V20.S4, V21.S4], (R4)
	ADD  R5, R4, R4
	VLD1 (R4), [V6.S4, V7.S4]
	WORD $0x4f8510d6 // FMLA V22.4S, V6.4S, V5.S[0]
	WORD $0x4f8510f7 // FMLA V23.4S, V7.4S, V5.S[0]
	VST1 [V22.S4, V23.S4], (R4)
	ADD  R5, R4, R4
	VLD1 (R4), [V6.S4, V7.S4]
	WORD $0x4f8510d8 // FMLA V24.4S, V6.4S, V5.S[0]
	WORD $0x4f8510f9 // FMLA V25.4S, V7.4S, V5.S[0]
	VST1 [V24.S4, V25.S4], (R4)
	ADD  R5, R4, R4
	VLD1 (R4), [V6.S4, V7.S4]
	WORD $0x4f8510da // FMLA V26.4S, V6.4S, V5.S[0]
	WORD $0x4f8510fb // FMLA V27.4S, V7.4S, V5.S[0]
	VST1 [V26.S4, V27.S4], (R4)
	ADD  R5, R4, R4
	VLD1 (R4), [V6.S4, V7.S4]
	WORD $0x4f8510dc // FMLA V28.4S, V6.4S, V5.S[0]
	WORD $0x4f8510fd // FMLA V29.4S, V7.4S, V5.S[0]
	VST1 [V28.S4, V29.S4], (R4)
	ADD  R5, R4, R4
	VLD1 (R4), [V6.S4, V7.S4]
	WORD $0x4f8510de // FMLA V30.4S, V6.4S, V5.S[0]
	WORD $0x4f8510ff // FMLA V31.4S, V7.4S, V5.S[0]
	VST1 [V30.S4, V31.S4], (R4)
	RET

neon_beta0:
	VST1 [V16.S4, V17.S4], (R4)
	ADD  R5, R4, R4
	VST1 [V18.S4, V19.S4], (R4)
	ADD  R5, R4, R4
	VST1 [V20.S4, V21.S4], (R4)
	ADD  R5, R4, R4
	VST1 [V22.S4, V23.S4], (R4)
	ADD  R5, R4, R4
	VST1 [V24.S4, V25.S4], (R4)
	ADD  R5, R4, R4
	VST1 [V26.S4, V27.S4], (R4)
	ADD  R5, R4, R4
	VST1 [V28.S4, V29.S4], (R4)
	ADD  R5, R4, R4
	VST1 [V30.S4, V31.S4], (R4)
	RET
