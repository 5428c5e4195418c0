//go:build !purego

#include "textflag.h"

// Optimizer kernels (see optimKernels in optim.go). Every element is
// computed by the float32 operations of the Go definition, one instruction
// each, in its order: products are one VMULPS (rounded), never fused with
// an addition, and the operands are in the order of the Go expressions
// (Go's VSUBPS b, a, d is d = a - b). Clip only compares (ordered, false
// for NaNs) and stores the broadcast bounds.
//
// AVX-512F: any n ≥ 1: whole vectors of 16 elements, then one last block
// of 1 to 16 under the mask K7 (loads zero-masked, comparisons and stores
// masked: the lanes outside it touch no memory). AVX2: n a multiple of 8.

#define LT_OQ $0x11
#define GT_OQ $0x1e

// OPTSPLIT(n) splits n ≥ 1 elements into R15 bytes of whole vectors and a
// last block of (n-1)%16+1 elements, whose lanes it sets in K7 (clobbers
// AX, CX).
#define OPTSPLIT(n) \
	MOVQ  n, R15; \
	LEAQ  -1(R15), CX; \
	ANDQ  $15, CX; \
	INCQ  CX; \
	SUBQ  CX, R15; \
	SHLQ  $2, R15; \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K7

// func clipAVX512(gr *float32, n int, tau, ntau float32) int
//
// high = g > tau, low = g < ntau and not high (ordered comparisons); tau
// is stored where high, ntau where low; the count is popcount(high|low).
TEXT ·clipAVX512(SB), NOSPLIT, $0-32
	MOVQ gr+0(FP), DI
	OPTSPLIT(n+8(FP))
	VBROADCASTSS tau+16(FP), Z1
	VBROADCASTSS ntau+20(FP), Z2
	XORQ AX, AX                     // byte offset
	XORQ DX, DX                     // count
	CMPQ AX, R15
	JGE  clip512_tail

clip512_full:
	VMOVUPS (DI)(AX*1), Z0
	VCMPPS  GT_OQ, Z1, Z0, K1       // g > tau
	VCMPPS  LT_OQ, Z2, Z0, K2       // g < -tau
	KANDNW  K2, K1, K2              // and not g > tau
	VMOVUPS Z1, K1, (DI)(AX*1)
	VMOVUPS Z2, K2, (DI)(AX*1)
	KORW    K1, K2, K3
	KMOVW   K3, BX
	POPCNTL BX, BX
	ADDQ    BX, DX
	ADDQ    $64, AX
	CMPQ    AX, R15
	JLT     clip512_full

clip512_tail:
	VMOVUPS.Z (DI)(AX*1), K7, Z0
	VCMPPS    GT_OQ, Z1, Z0, K7, K1
	VCMPPS    LT_OQ, Z2, Z0, K7, K2
	KANDNW    K2, K1, K2
	VMOVUPS   Z1, K1, (DI)(AX*1)
	VMOVUPS   Z2, K2, (DI)(AX*1)
	KORW      K1, K2, K3
	KMOVW     K3, BX
	POPCNTL   BX, BX
	ADDQ      BX, DX
	MOVQ      DX, ret+24(FP)
	VZEROUPPER
	RET

// func sgdMomentumAVX512(data, mom, grad *float32, n int, wd, m, lr float32)
//
// gg = g + wd·data; v = m·mom + gg; mom = v; data = data - lr·v.
TEXT ·sgdMomentumAVX512(SB), NOSPLIT, $0-44
	MOVQ data+0(FP), DI
	MOVQ mom+8(FP), SI
	MOVQ grad+16(FP), DX
	OPTSPLIT(n+24(FP))
	VBROADCASTSS wd+32(FP), Z10
	VBROADCASTSS m+36(FP), Z11
	VBROADCASTSS lr+40(FP), Z12
	XORQ AX, AX                     // byte offset
	CMPQ AX, R15
	JGE  sgd512_tail

sgd512_full:
	VMOVUPS (DI)(AX*1), Z0          // data
	VMULPS  Z0, Z10, Z3             // wd * data
	VMOVUPS (DX)(AX*1), Z1          // g
	VADDPS  Z3, Z1, Z1              // g + wd*data
	VMULPS  (SI)(AX*1), Z11, Z4     // m * mom
	VADDPS  Z1, Z4, Z4              // v = m*mom + g
	VMOVUPS Z4, (SI)(AX*1)          // mom = v
	VMULPS  Z4, Z12, Z5             // lr * v
	VSUBPS  Z5, Z0, Z0              // data - lr*v
	VMOVUPS Z0, (DI)(AX*1)
	ADDQ    $64, AX
	CMPQ    AX, R15
	JLT     sgd512_full

sgd512_tail:
	VMOVUPS.Z (DI)(AX*1), K7, Z0
	VMULPS    Z0, Z10, Z3
	VMOVUPS.Z (DX)(AX*1), K7, Z1
	VADDPS    Z3, Z1, Z1
	VMOVUPS.Z (SI)(AX*1), K7, Z2
	VMULPS    Z2, Z11, Z4
	VADDPS    Z1, Z4, Z4
	VMOVUPS   Z4, K7, (SI)(AX*1)
	VMULPS    Z4, Z12, Z5
	VSUBPS    Z5, Z0, Z0
	VMOVUPS   Z0, K7, (DI)(AX*1)
	VZEROUPPER
	RET

// func clipAVX2(gr *float32, n int, tau, ntau float32) int
//
// As clipAVX512 with vector masks; a vector with no element to change is
// not stored.
TEXT ·clipAVX2(SB), NOSPLIT, $0-32
	MOVQ gr+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS tau+16(FP), Y1
	VBROADCASTSS ntau+20(FP), Y2
	SHRQ $3, CX
	XORQ AX, AX                     // byte offset
	XORQ DX, DX                     // count

clip2_loop:
	VMOVUPS   (DI)(AX*1), Y0
	VCMPPS    GT_OQ, Y1, Y0, Y3     // g > tau
	VCMPPS    LT_OQ, Y2, Y0, Y4     // g < -tau
	VANDNPS   Y4, Y3, Y4            // and not g > tau
	VORPS     Y3, Y4, Y5
	VMOVMSKPS Y5, BX
	TESTL     BX, BX
	JZ        clip2_next
	POPCNTL   BX, BX
	ADDQ      BX, DX
	VBLENDVPS Y3, Y1, Y0, Y0
	VBLENDVPS Y4, Y2, Y0, Y0
	VMOVUPS   Y0, (DI)(AX*1)

clip2_next:
	ADDQ $32, AX
	DECQ CX
	JNZ  clip2_loop
	MOVQ DX, ret+24(FP)
	VZEROUPPER
	RET

// func sgdMomentumAVX2(data, mom, grad *float32, n int, wd, m, lr float32)
TEXT ·sgdMomentumAVX2(SB), NOSPLIT, $0-44
	MOVQ data+0(FP), DI
	MOVQ mom+8(FP), SI
	MOVQ grad+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS wd+32(FP), Y10
	VBROADCASTSS m+36(FP), Y11
	VBROADCASTSS lr+40(FP), Y12
	SHRQ $3, CX
	XORQ AX, AX                     // byte offset

sgd2_loop:
	VMOVUPS (DI)(AX*1), Y0          // data
	VMULPS  Y0, Y10, Y3             // wd * data
	VMOVUPS (DX)(AX*1), Y1          // g
	VADDPS  Y3, Y1, Y1              // g + wd*data
	VMULPS  (SI)(AX*1), Y11, Y4     // m * mom
	VADDPS  Y1, Y4, Y4              // v = m*mom + g
	VMOVUPS Y4, (SI)(AX*1)          // mom = v
	VMULPS  Y4, Y12, Y5             // lr * v
	VSUBPS  Y5, Y0, Y0              // data - lr*v
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     sgd2_loop
	VZEROUPPER
	RET
