//go:build !purego

#include "textflag.h"

// func gemmVNNI(a *byte, kq int, b *byte, nb int, c *int32, ldc int, rows int, mask uint16)
//
// One tile of 16 rows of packed A (row stride 4·kq bytes) times nb panels
// of packed B (16 columns, kq groups of 64 bytes each, one after the
// other). Z0–Z15 hold the tile's 16 rows of one panel's 16 columns (row i
// in Zi, column 16jb+l in lane l). Per group q: Z16 = the panel's 64 bytes
// (signed), and for each row i its 4 bytes a[i, 4q..4q+3] (unsigned)
// broadcast to every lane; VPDPBUSD adds the four u8·s8 products of each
// lane to its int32 lane, wrapping (non-saturating).
//
// In Go's operand order VPDPBUSD Zs, Zu, Zd is Intel's VPDPBUSD zmm_d,
// zmm_u, zmm_s: the second source (Zs, here the weights) is the signed
// one, the first (Zu) the unsigned one.
//
// Registers: AX rows 0–7 of the group, R15 rows 8–15 (AX + 8·lda), R8 lda,
// R9 3·lda, R10 5·lda, R11 7·lda, BX the panel group, CX the panel's
// groups left, DX the panels left, DI the panel's columns of c, R12 ldc in
// bytes, R13 rows, R14 the row of c being stored, SI the tile.
TEXT ·gemmVNNI(SB), NOSPLIT, $0-58
	MOVQ a+0(FP), SI
	MOVQ kq+8(FP), R8
	SHLQ $2, R8
	MOVQ b+16(FP), BX
	MOVQ nb+24(FP), DX
	MOVQ c+32(FP), DI
	MOVQ ldc+40(FP), R12
	SHLQ $2, R12
	MOVQ rows+48(FP), R13
	KMOVW mask+56(FP), K2
	KXNORW K1, K1, K1
	LEAQ (R8)(R8*2), R9
	LEAQ (R8)(R8*4), R10
	LEAQ (R9)(R8*4), R11

panel:
	KMOVW K1, K3
	CMPQ DX, $1
	JNE  whole
	KMOVW K2, K3

whole:
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
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ SI, AX
	LEAQ (SI)(R8*8), R15
	MOVQ kq+8(FP), CX

group:
	VMOVDQU32 (BX), Z16
	VPBROADCASTD (AX), Z17
	VPDPBUSD Z16, Z17, Z0
	VPBROADCASTD (AX)(R8*1), Z18
	VPDPBUSD Z16, Z18, Z1
	VPBROADCASTD (AX)(R8*2), Z19
	VPDPBUSD Z16, Z19, Z2
	VPBROADCASTD (AX)(R9*1), Z20
	VPDPBUSD Z16, Z20, Z3
	VPBROADCASTD (AX)(R8*4), Z21
	VPDPBUSD Z16, Z21, Z4
	VPBROADCASTD (AX)(R10*1), Z22
	VPDPBUSD Z16, Z22, Z5
	VPBROADCASTD (AX)(R9*2), Z23
	VPDPBUSD Z16, Z23, Z6
	VPBROADCASTD (AX)(R11*1), Z24
	VPDPBUSD Z16, Z24, Z7
	VPBROADCASTD (R15), Z17
	VPDPBUSD Z16, Z17, Z8
	VPBROADCASTD (R15)(R8*1), Z18
	VPDPBUSD Z16, Z18, Z9
	VPBROADCASTD (R15)(R8*2), Z19
	VPDPBUSD Z16, Z19, Z10
	VPBROADCASTD (R15)(R9*1), Z20
	VPDPBUSD Z16, Z20, Z11
	VPBROADCASTD (R15)(R8*4), Z21
	VPDPBUSD Z16, Z21, Z12
	VPBROADCASTD (R15)(R10*1), Z22
	VPDPBUSD Z16, Z22, Z13
	VPBROADCASTD (R15)(R9*2), Z23
	VPDPBUSD Z16, Z23, Z14
	VPBROADCASTD (R15)(R11*1), Z24
	VPDPBUSD Z16, Z24, Z15
	ADDQ $4, AX
	ADDQ $4, R15
	ADDQ $64, BX
	DECQ CX
	JNZ  group

	MOVQ DI, R14
	VMOVDQU32 Z0, K3, (R14)
	CMPQ R13, $1
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z1, K3, (R14)
	CMPQ R13, $2
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z2, K3, (R14)
	CMPQ R13, $3
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z3, K3, (R14)
	CMPQ R13, $4
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z4, K3, (R14)
	CMPQ R13, $5
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z5, K3, (R14)
	CMPQ R13, $6
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z6, K3, (R14)
	CMPQ R13, $7
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z7, K3, (R14)
	CMPQ R13, $8
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z8, K3, (R14)
	CMPQ R13, $9
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z9, K3, (R14)
	CMPQ R13, $10
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z10, K3, (R14)
	CMPQ R13, $11
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z11, K3, (R14)
	CMPQ R13, $12
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z12, K3, (R14)
	CMPQ R13, $13
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z13, K3, (R14)
	CMPQ R13, $14
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z14, K3, (R14)
	CMPQ R13, $15
	JEQ stored
	ADDQ R12, R14
	VMOVDQU32 Z15, K3, (R14)

stored:
	ADDQ $64, DI
	DECQ DX
	JNZ  panel
	VZEROUPPER
	RET

// func dequantAVX512(y *float32, ldy int, acc *int32, ldacc, rows, n int, sa *int32, scale *float32, zb, off *int32, bias *float32)
//
// Per row i and block of 16 columns (the last under a mask: the loads
// zero-masked, the store masked, so nothing outside the row is touched):
// v = acc - zb·sa[i] (VPMULLD keeps the low 32 bits: Go's wrapping int32
// product) + off, VCVTDQ2PS (round to nearest even, as Go's float32(int32)),
// VMULPS by scale, VADDPS of bias: one rounding each, no fused
// multiply-add, the operations of the Go definition.
//
// Registers: DI y row, R8 ldy bytes, SI acc row, R9 ldacc bytes, R10 rows
// left, R11 n, R12 sa, BX scale, DX zb, R13 off, R14 bias, R15 column, Z30
// sa[i] broadcast.
TEXT ·dequantAVX512(SB), NOSPLIT, $0-88
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

drow:
	TESTQ DX, DX
	JZ    dnosa
	VPBROADCASTD (R12), Z30

dnosa:
	XORQ R15, R15

dcol:
	MOVQ R11, CX
	SUBQ R15, CX
	CMPQ CX, $16
	JGE  dfull
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	JMP  dbody

dfull:
	KXNORW K1, K1, K1

dbody:
	VMOVDQU32.Z (SI)(R15*4), K1, Z0
	TESTQ DX, DX
	JZ    dnozb
	VMOVDQU32.Z (DX)(R15*4), K1, Z1
	VPMULLD Z30, Z1, Z1
	VPSUBD Z1, Z0, Z0

dnozb:
	VMOVDQU32.Z (R13)(R15*4), K1, Z2
	VPADDD Z2, Z0, Z0
	VCVTDQ2PS Z0, Z0
	VMOVUPS.Z (BX)(R15*4), K1, Z3
	VMULPS Z0, Z3, Z0
	TESTQ R14, R14
	JZ    dnobias
	VMOVUPS.Z (R14)(R15*4), K1, Z4
	VADDPS Z4, Z0, Z0

dnobias:
	VMOVUPS Z0, K1, (DI)(R15*4)
	ADDQ $16, R15
	CMPQ R15, R11
	JLT  dcol

	ADDQ R8, DI
	ADDQ R9, SI
	ADDQ $4, R12
	DECQ R10
	JNZ  drow
	VZEROUPPER
	RET

// func packAVX512(dst *byte, src *int32, n int, off int32) (lo, hi, sum int32)
//
// dst[i] = byte(src[i] + off) (VPMOVDB truncates: the low byte, as Go's
// byte conversion), and the smallest, largest and wrapping sum of src,
// 16 lanes at a time; the last n%16 under a mask (loads zero-masked, the
// minimum and maximum merge-masked, the byte store masked). n ≥ 1.
TEXT ·packAVX512(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), DX
	MOVL off+24(FP), AX
	VPBROADCASTD AX, Z5
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z1
	MOVL $0x80000000, AX
	VPBROADCASTD AX, Z2
	VPXORD Z3, Z3, Z3
	KXNORW K1, K1, K1

ploop:
	CMPQ DX, $16
	JGE  pfull
	MOVQ DX, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1

pfull:
	VMOVDQU32.Z (SI), K1, Z0
	VPMINSD Z0, Z1, K1, Z1
	VPMAXSD Z0, Z2, K1, Z2
	VPADDD Z0, Z3, Z3
	VPADDD Z5, Z0, Z0
	VPMOVDB Z0, K1, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	SUBQ $16, DX
	JG   ploop

	VEXTRACTI64X4 $1, Z1, Y4
	VPMINSD Y4, Y1, Y1
	VEXTRACTI128 $1, Y1, X4
	VPMINSD X4, X1, X1
	VPSHUFD $0x4e, X1, X4
	VPMINSD X4, X1, X1
	VPSHUFD $0xb1, X1, X4
	VPMINSD X4, X1, X1
	MOVL X1, lo+32(FP)

	VEXTRACTI64X4 $1, Z2, Y4
	VPMAXSD Y4, Y2, Y2
	VEXTRACTI128 $1, Y2, X4
	VPMAXSD X4, X2, X2
	VPSHUFD $0x4e, X2, X4
	VPMAXSD X4, X2, X2
	VPSHUFD $0xb1, X2, X4
	VPMAXSD X4, X2, X2
	MOVL X2, hi+36(FP)

	VEXTRACTI64X4 $1, Z3, Y4
	VPADDD Y4, Y3, Y3
	VEXTRACTI128 $1, Y3, X4
	VPADDD X4, X3, X3
	VPSHUFD $0x4e, X3, X4
	VPADDD X4, X3, X3
	VPSHUFD $0xb1, X3, X4
	VPADDD X4, X3, X3
	MOVL X3, sum+40(FP)
	VZEROUPPER
	RET

// func gemmVNNIOff(a *byte, lda int, qoff *int, kq int, b *byte, nb int, c *int32, ldc int, rows int, mask uint16)
//
// gemmVNNI with the rows of the tile lda bytes apart and group q of row i
// at a + i·lda + qoff[q] (an implicit im2col: the groups of a convolution's
// receptive field in its image). Registers as gemmVNNI's, R8 = lda, and
// R14 the offset table while the groups run (the row of c at the store).
TEXT ·gemmVNNIOff(SB), NOSPLIT, $0-74
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+32(FP), BX
	MOVQ nb+40(FP), DX
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R12
	SHLQ $2, R12
	MOVQ rows+64(FP), R13
	KMOVW mask+72(FP), K2
	KXNORW K1, K1, K1
	LEAQ (R8)(R8*2), R9
	LEAQ (R8)(R8*4), R10
	LEAQ (R9)(R8*4), R11

opanel:
	KMOVW K1, K3
	CMPQ DX, $1
	JNE  owhole
	KMOVW K2, K3

owhole:
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
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ qoff+16(FP), R14
	MOVQ kq+24(FP), CX

ogroup:
	MOVQ (R14), AX
	ADDQ SI, AX
	LEAQ (AX)(R8*8), R15
	VMOVDQU32 (BX), Z16
	VPBROADCASTD (AX), Z17
	VPDPBUSD Z16, Z17, Z0
	VPBROADCASTD (AX)(R8*1), Z18
	VPDPBUSD Z16, Z18, Z1
	VPBROADCASTD (AX)(R8*2), Z19
	VPDPBUSD Z16, Z19, Z2
	VPBROADCASTD (AX)(R9*1), Z20
	VPDPBUSD Z16, Z20, Z3
	VPBROADCASTD (AX)(R8*4), Z21
	VPDPBUSD Z16, Z21, Z4
	VPBROADCASTD (AX)(R10*1), Z22
	VPDPBUSD Z16, Z22, Z5
	VPBROADCASTD (AX)(R9*2), Z23
	VPDPBUSD Z16, Z23, Z6
	VPBROADCASTD (AX)(R11*1), Z24
	VPDPBUSD Z16, Z24, Z7
	VPBROADCASTD (R15), Z17
	VPDPBUSD Z16, Z17, Z8
	VPBROADCASTD (R15)(R8*1), Z18
	VPDPBUSD Z16, Z18, Z9
	VPBROADCASTD (R15)(R8*2), Z19
	VPDPBUSD Z16, Z19, Z10
	VPBROADCASTD (R15)(R9*1), Z20
	VPDPBUSD Z16, Z20, Z11
	VPBROADCASTD (R15)(R8*4), Z21
	VPDPBUSD Z16, Z21, Z12
	VPBROADCASTD (R15)(R10*1), Z22
	VPDPBUSD Z16, Z22, Z13
	VPBROADCASTD (R15)(R9*2), Z23
	VPDPBUSD Z16, Z23, Z14
	VPBROADCASTD (R15)(R11*1), Z24
	VPDPBUSD Z16, Z24, Z15
	ADDQ $8, R14
	ADDQ $64, BX
	DECQ CX
	JNZ  ogroup

	MOVQ DI, R14
	VMOVDQU32 Z0, K3, (R14)
	CMPQ R13, $1
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z1, K3, (R14)
	CMPQ R13, $2
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z2, K3, (R14)
	CMPQ R13, $3
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z3, K3, (R14)
	CMPQ R13, $4
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z4, K3, (R14)
	CMPQ R13, $5
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z5, K3, (R14)
	CMPQ R13, $6
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z6, K3, (R14)
	CMPQ R13, $7
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z7, K3, (R14)
	CMPQ R13, $8
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z8, K3, (R14)
	CMPQ R13, $9
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z9, K3, (R14)
	CMPQ R13, $10
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z10, K3, (R14)
	CMPQ R13, $11
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z11, K3, (R14)
	CMPQ R13, $12
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z12, K3, (R14)
	CMPQ R13, $13
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z13, K3, (R14)
	CMPQ R13, $14
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z14, K3, (R14)
	CMPQ R13, $15
	JEQ ostored
	ADDQ R12, R14
	VMOVDQU32 Z15, K3, (R14)

ostored:
	ADDQ $64, DI
	DECQ DX
	JNZ  opanel
	VZEROUPPER
	RET
