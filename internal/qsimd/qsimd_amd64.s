//go:build !purego

#include "textflag.h"

// AVX2 kernels, 8 float32 lanes per vector; n is a positive multiple of 8.
// See the package documentation for the exactness argument. Go's operand
// order is the reverse of Intel's: VSUBPS b, a, d is d = a - b,
// VCMPPS $p, b, a, d is d = (a p b), VBLENDVPS m, b, a, d is d = m ? b : a,
// VANDNPS b, a, d is d = ^a & b.

// Comparison predicates (VCMPPS imm8).
#define LT_OQ $0x11
#define GE_OQ $0x1d
#define GT_OQ $0x1e
#define UNORD_Q $0x03

// Rounding control for VROUNDPS: toward zero, exceptions suppressed.
#define TRUNC $0x0b

// BCAST32(imm, Y) broadcasts the 32-bit constant imm into Y (clobbers AX).
#define BCAST32(imm, Y, X) MOVL imm, AX; VMOVD AX, X; VPBROADCASTD X, Y

// ROUND(Q, T, D) sets T = round(Q) half away from zero, exactly, for every
// float32 Q but NaN (NaN Q gives a NaN), using D as scratch; Y14 = 0.5,
// Y13 = 0x7fffffff, Y12 = 0x80000000, Y11 = 1.0.
//   T = trunc(Q); D = |Q - T| (exact); T += (D >= 0.5) ? copysign(1, Q) : +0
#define ROUND(Q, T, D) \
	VROUNDPS TRUNC, Q, T; \
	VSUBPS   T, Q, D; \
	VANDPS   Y13, D, D; \
	VCMPPS   GE_OQ, Y14, D, D; \
	VANDPS   Y12, Q, Y5; \
	VORPS    Y11, Y5, Y5; \
	VANDPS   D, Y5, Y5; \
	VADDPS   Y5, T, T

// func codesAVX2(dst *int32, x *float32, n int, inv, blo, bhi float32, z, zc int32)
TEXT ·codesAVX2(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS inv+24(FP), Y15
	VBROADCASTSS blo+28(FP), Y10
	VBROADCASTSS bhi+32(FP), Y9
	VBROADCASTSS z+36(FP), Y8
	VBROADCASTSS zc+40(FP), Y7
	BCAST32($0x3f000000, Y14, X14)
	BCAST32($0x7fffffff, Y13, X13)
	BCAST32($0x80000000, Y12, X12)
	BCAST32($0x3f800000, Y11, X11)
	SHRQ $3, CX

codes_loop:
	VMULPS     (SI), Y15, Y0        // q = x*inv
	ROUND(Y0, Y1, Y2)               // r = round(q)
	VMAXPS     Y10, Y1, Y1          // clamp to [qmin-z, qmax-z]
	VMINPS     Y9, Y1, Y1
	VCVTTPS2DQ Y1, Y1
	VPADDD     Y8, Y1, Y1           // + z
	VCMPPS     UNORD_Q, Y0, Y0, Y2  // q is NaN
	VBLENDVPS  Y2, Y7, Y1, Y1       // NaN: clamp(z)
	VMOVDQU    Y1, (DI)
	ADDQ       $32, SI
	ADDQ       $32, DI
	DECQ       CX
	JNZ        codes_loop
	VZEROUPPER
	RET

// func gradTermsAVX2(dx, x, gr, ts, tz *float32, n int, inv, s, lowT, highT, blo, bhi float32)
TEXT ·gradTermsAVX2(SB), NOSPLIT, $0-72
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ gr+16(FP), DX
	MOVQ ts+24(FP), R8
	MOVQ tz+32(FP), R9
	MOVQ n+40(FP), CX
	VBROADCASTSS inv+48(FP), Y15
	VBROADCASTSS s+52(FP), Y6
	VBROADCASTSS lowT+56(FP), Y8
	VBROADCASTSS highT+60(FP), Y7
	VBROADCASTSS blo+64(FP), Y10
	VBROADCASTSS bhi+68(FP), Y9
	BCAST32($0x3f000000, Y14, X14)
	BCAST32($0x7fffffff, Y13, X13)
	BCAST32($0x80000000, Y12, X12)
	BCAST32($0x3f800000, Y11, X11)
	SHRQ $3, CX
	XORQ AX, AX                     // byte offset

grad_loop:
	VMULPS    (SI)(AX*1), Y15, Y0   // q = x*inv
	ROUND(Y0, Y1, Y2)               // r = round(q)
	VCMPPS    LT_OQ, Y10, Y1, Y2    // low:  r < qmin-z  (v < qmin)
	VCMPPS    GT_OQ, Y9, Y1, Y3     // high: r > qmax-z  (v > qmax)
	VSUBPS    Y0, Y1, Y4            // r - q
	VBLENDVPS Y3, Y7, Y4, Y4        // high: highT
	VBLENDVPS Y2, Y8, Y4, Y4        // low: lowT
	VMOVUPS   (DX)(AX*1), Y5        // g
	VMULPS    Y5, Y4, Y4            // factor first: see "NaN payloads" in doc.go
	VMOVUPS   Y4, (R8)(AX*1)        // ts = factor * g
	VORPS     Y3, Y2, Y2            // outside the range
	VMULPS    Y6, Y5, Y4
	VXORPS    Y12, Y4, Y4           // -(g*s)
	VANDPS    Y2, Y4, Y4
	VMOVUPS   Y4, (R9)(AX*1)        // tz = outside ? -(g*s) : +0
	TESTQ     DI, DI
	JZ        grad_nodx
	VANDNPS   Y5, Y2, Y4
	VMOVUPS   Y4, (DI)(AX*1)        // dx = outside ? +0 : g

grad_nodx:
	ADDQ $32, AX
	DECQ CX
	JNZ  grad_loop
	VZEROUPPER
	RET

// func dequantizeAVX2(dst *float32, q *int32, n int, s float32, z int32)
TEXT ·dequantizeAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Y15
	VBROADCASTSS z+28(FP), Y14
	SHRQ $3, CX

deq_loop:
	VMOVDQU   (SI), Y0
	VPSUBD    Y14, Y0, Y0
	VCVTDQ2PS Y0, Y0
	VMULPS    Y0, Y15, Y0           // s * float32(q-z)
	VMOVUPS   Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       deq_loop
	VZEROUPPER
	RET

// func minMaxAVX2(x *float32, n int, acc *minMaxAcc)
//
// Per lane: the min and max of the order keys (see key in qsimd.go) of the
// finite values, and the count of the others (|bits| > 0x7f7fffff).
// minMaxAcc is lo [16]int32 at 0, hi at 64, bad at 128.
TEXT ·minMaxAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ acc+16(FP), DI
	VMOVDQU 0(DI), Y10              // lo keys
	VMOVDQU 64(DI), Y9              // hi keys
	VMOVDQU 128(DI), Y8             // bad counts
	BCAST32($0x7fffffff, Y13, X13)
	BCAST32($0x7f7fffff, Y12, X12)
	BCAST32($0x80000000, Y11, X11)
	SHRQ $3, CX

mm_loop:
	VMOVDQU   (SI), Y0
	VPSRAD    $31, Y0, Y1
	VPAND     Y13, Y1, Y1
	VPXOR     Y0, Y1, Y1            // key
	VPAND     Y13, Y0, Y2
	VPCMPGTD  Y12, Y2, Y2           // non-finite
	VPSUBD    Y2, Y8, Y8            // count it
	VPBLENDVB Y2, Y13, Y1, Y3       // non-finite: no candidate for min
	VPMINSD   Y3, Y10, Y10
	VPBLENDVB Y2, Y11, Y1, Y3       // nor for max
	VPMAXSD   Y3, Y9, Y9
	ADDQ      $32, SI
	DECQ      CX
	JNZ       mm_loop
	VMOVDQU   Y10, 0(DI)
	VMOVDQU   Y9, 64(DI)
	VMOVDQU   Y8, 128(DI)
	VZEROUPPER
	RET

// AVX-512F kernels, 16 float32 lanes per vector; n is a positive multiple
// of 16. The same computations as the AVX2 kernels, with mask registers
// for the comparisons and blends. Masked operations (op ..., K, Z) leave
// the lanes outside the mask unchanged; op.Z zeroes them.

// Rounding control for VRNDSCALEPS: scale 0, toward zero, exceptions
// suppressed.
#define RNDTRUNC $0x0b

// ROUND512(Q, T, D) sets T = round(Q) half away from zero (see ROUND),
// using D, Z5 and K1 as scratch; Z14 = 0.5, Z13 = 0x7fffffff,
// Z12 = 0x80000000, Z11 = 1.0.
#define ROUND512(Q, T, D) \
	VRNDSCALEPS RNDTRUNC, Q, T; \
	VSUBPS      T, Q, D; \
	VPANDD      Z13, D, D; \
	VCMPPS      GE_OQ, Z14, D, K1; \
	VPANDD      Z12, Q, Z5; \
	VPORD       Z11, Z5, Z5; \
	VADDPS      Z5, T, K1, T

// BCAST512(imm, Z, X) broadcasts the 32-bit constant imm into Z (clobbers AX).
#define BCAST512(imm, Z, X) MOVL imm, AX; VMOVD AX, X; VPBROADCASTD X, Z

// func codesAVX512(dst *int32, x *float32, n int, inv, blo, bhi float32, z, zc int32)
TEXT ·codesAVX512(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS inv+24(FP), Z15
	VBROADCASTSS blo+28(FP), Z10
	VBROADCASTSS bhi+32(FP), Z9
	VBROADCASTSS z+36(FP), Z8
	VBROADCASTSS zc+40(FP), Z7
	BCAST512($0x3f000000, Z14, X14)
	BCAST512($0x7fffffff, Z13, X13)
	BCAST512($0x80000000, Z12, X12)
	BCAST512($0x3f800000, Z11, X11)
	SHRQ $4, CX

codes512_loop:
	VMULPS     (SI), Z15, Z0        // q = x*inv
	ROUND512(Z0, Z1, Z2)            // r = round(q)
	VMAXPS     Z10, Z1, Z1          // clamp to [qmin-z, qmax-z]
	VMINPS     Z9, Z1, Z1
	VCVTTPS2DQ Z1, Z1
	VPADDD     Z8, Z1, Z1           // + z
	VCMPPS     UNORD_Q, Z0, Z0, K2  // q is NaN
	VMOVDQA32  Z7, K2, Z1           // NaN: clamp(z)
	VMOVDQU32  Z1, (DI)
	ADDQ       $64, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        codes512_loop
	VZEROUPPER
	RET

// func gradTermsAVX512(dx, x, gr, ts, tz *float32, n int, inv, s, lowT, highT, blo, bhi float32)
TEXT ·gradTermsAVX512(SB), NOSPLIT, $0-72
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ gr+16(FP), DX
	MOVQ ts+24(FP), R8
	MOVQ tz+32(FP), R9
	MOVQ n+40(FP), CX
	VBROADCASTSS inv+48(FP), Z15
	VBROADCASTSS s+52(FP), Z6
	VBROADCASTSS lowT+56(FP), Z8
	VBROADCASTSS highT+60(FP), Z7
	VBROADCASTSS blo+64(FP), Z10
	VBROADCASTSS bhi+68(FP), Z9
	BCAST512($0x3f000000, Z14, X14)
	BCAST512($0x7fffffff, Z13, X13)
	BCAST512($0x80000000, Z12, X12)
	BCAST512($0x3f800000, Z11, X11)
	SHRQ $4, CX
	XORQ AX, AX                     // byte offset

grad512_loop:
	VMULPS    (SI)(AX*1), Z15, Z0   // q = x*inv
	ROUND512(Z0, Z1, Z2)            // r = round(q)
	VCMPPS    LT_OQ, Z10, Z1, K2    // low:  r < qmin-z  (v < qmin)
	VCMPPS    GT_OQ, Z9, Z1, K3     // high: r > qmax-z  (v > qmax)
	VSUBPS    Z0, Z1, Z4            // r - q
	VMOVAPS   Z7, K3, Z4            // high: highT
	VMOVAPS   Z8, K2, Z4            // low: lowT
	VMOVUPS   (DX)(AX*1), Z5        // g
	VMULPS    Z5, Z4, Z4            // factor first: see "NaN payloads" in doc.go
	VMOVUPS   Z4, (R8)(AX*1)        // ts = factor * g
	KORW      K2, K3, K4            // outside the range
	VMULPS    Z6, Z5, Z4
	VPXORD.Z  Z12, Z4, K4, Z4       // tz = outside ? -(g*s) : +0
	VMOVUPS   Z4, (R9)(AX*1)
	TESTQ     DI, DI
	JZ        grad512_nodx
	KNOTW     K4, K5
	VMOVAPS.Z Z5, K5, Z4            // dx = outside ? +0 : g
	VMOVUPS   Z4, (DI)(AX*1)

grad512_nodx:
	ADDQ $64, AX
	DECQ CX
	JNZ  grad512_loop
	VZEROUPPER
	RET

// func dequantizeAVX512(dst *float32, q *int32, n int, s float32, z int32)
TEXT ·dequantizeAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Z15
	VBROADCASTSS z+28(FP), Z14
	SHRQ $4, CX

deq512_loop:
	VMOVDQU32 (SI), Z0
	VPSUBD    Z14, Z0, Z0
	VCVTDQ2PS Z0, Z0
	VMULPS    Z0, Z15, Z0           // s * float32(q-z)
	VMOVUPS   Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       deq512_loop
	VZEROUPPER
	RET

// func minMaxAVX512(x *float32, n int, acc *minMaxAcc)
TEXT ·minMaxAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ acc+16(FP), DI
	VMOVDQU32 0(DI), Z10            // lo keys
	VMOVDQU32 64(DI), Z9            // hi keys
	VMOVDQU32 128(DI), Z8           // bad counts
	BCAST512($0x7fffffff, Z13, X13)
	BCAST512($0x7f7fffff, Z12, X12)
	BCAST512($1, Z11, X11)
	SHRQ $4, CX

mm512_loop:
	VMOVDQU32 (SI), Z0
	VPSRAD    $31, Z0, Z1
	VPANDD    Z13, Z1, Z1
	VPXORD    Z0, Z1, Z1            // key
	VPANDD    Z13, Z0, Z2
	VPCMPGTD  Z12, Z2, K1           // non-finite
	VPADDD    Z11, Z8, K1, Z8       // count it
	KNOTW     K1, K2
	VPMINSD   Z1, Z10, K2, Z10      // finite values only
	VPMAXSD   Z1, Z9, K2, Z9
	ADDQ      $64, SI
	DECQ      CX
	JNZ       mm512_loop
	VMOVDQU32 Z10, 0(DI)
	VMOVDQU32 Z9, 64(DI)
	VMOVDQU32 Z8, 128(DI)
	VZEROUPPER
	RET
