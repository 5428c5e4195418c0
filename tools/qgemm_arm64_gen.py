# Generates internal/qgemm/qgemm_arm64.s: python3 tools/qgemm_arm64_gen.py internal/qgemm/qgemm_arm64.s
# (needs llvm-mc to check the WORD encodings of the instructions Go's assembler lacks). The output is committed.
import subprocess

def sdot(d, n, m, idx):
    # SDOT Vd.4S, Vn.16B, Vm.4B[idx] = 0x4f80e000 | L<<21 | M<<20 | Rm<<16 | H<<11 | Rn<<5 | Rd
    H, L = idx >> 1, idx & 1
    w = 0x4f80e000 | L << 21 | (m >> 4) << 20 | (m & 15) << 16 | H << 11 | n << 5 | d
    return w, "SDOT V%d.4S, V%d.16B, V%d.4B[%d]" % (d, n, m, idx)

allwords = []
def W(d, n, m, idx):
    w, txt = sdot(d, n, m, idx)
    allwords.append((w, txt))
    return "\tWORD $0x%08x // %s\n" % (w, txt)

out = []
o = out.append
o('''//go:build !purego

#include "textflag.h"

// The SDOT kernels (ARMv8.2 dot product, FEAT_DotProd). Go's assembler has
// no SDOT, so it is encoded with WORD (the mnemonic in each comment):
//
//	SDOT Vd.4S, Vn.16B, Vm.4B[i] = 0x4f80e000 | L<<21 | M<<20 | Rm<<16 | H<<11 | Rn<<5 | Rd
//
// with i = H:L and m = M:Rm (every word below was checked against
// llvm-mc -mattr=+dotprod's encoding of its mnemonic). Each 32-bit lane
// e of Vd gains Σ_{t<4} s8(Vn.B[4e+t])·s8(Vm.B[4i+t]), modulo 2^32 (no
// saturation).
// Here Vn is four columns of a panel of packed B (lane e: column e's four
// codes of one group) and Vm holds bytes of rows of A, the index picking a
// group of four of them.
//
// The tile is 8 rows × 8 columns, in V16–V31 (row r: V(16+2r) columns
// 0–3, V(17+2r) columns 4–7); a call covers 16 rows (two 8-row blocks)
// of nb whole panels of 16 columns (two 8-column halves), and stores all
// of them (the Go side runs the last, partial tiles into a scratch tile).
''')

def zero():
    for r in range(16, 32):
        o("\tVEOR V%d.B16, V%d.B16, V%d.B16\n" % (r, r, r))

def store(lbl):
    # R15 = C of the sub-tile, R5 ldc in bytes
    for r in range(8):
        o("\tVST1.P [V%d.S4, V%d.S4], (R15)(R5)\n" % (16 + 2 * r, 17 + 2 * r))

# ---------------- gemmSDOT ----------------
o('''
// func gemmSDOT(a *byte, kq int, b *byte, nb int, c *int32, ldc int)
//
// Per sub-tile (8-row block rb, 8-column half h of the panel) and per
// block of four groups (16 bytes of k): V0–V7 = 16 bytes of each of the 8
// rows (4 groups), then per group g the half panel's two vectors (32
// bytes at 64g + 32h of the block's 256) and 16 SDOT, row r's by element
// [g] of Vr: 8 loads of A, 4 of B (pairs), 64 SDOT per block (1024
// multiply-adds). The kq%4 groups left are done one at a time, each row's
// 4 bytes loaded alone (LDR S, element [0]), so no load reaches past a
// row's 4·kq bytes.
//
// Registers: R0 a, R1 kq, R2 the panel, R3 panels left, R4 c of the
// panel, R5 ldc in bytes, R6–R13 the 8 rows of A, R14 B, R15 C, R19 the
// row stride 4·kq, R20 the blocks of 4 groups, R21 kq%4, R22 64, R23 the
// panel's bytes 64·kq, R24 the loop count.
TEXT ·gemmSDOT(SB), NOSPLIT, $0-48
	MOVD a+0(FP), R0
	MOVD kq+8(FP), R1
	MOVD b+16(FP), R2
	MOVD nb+24(FP), R3
	MOVD c+32(FP), R4
	MOVD ldc+40(FP), R5
	LSL  $2, R5, R5
	LSL  $2, R1, R19
	LSR  $2, R1, R20
	AND  $3, R1, R21
	MOVD $64, R22
	LSL  $6, R1, R23

panel:
''')
for rb in range(2):
    for h in range(2):
        sfx = "%d%d" % (rb, h)
        # A row pointers
        if rb == 0:
            o("\tMOVD R0, R6\n")
        else:
            o("\tADD  R19<<3, R0, R6\n")
        for i in range(7, 14):
            o("\tADD  R19, R%d, R%d\n" % (i - 1, i))
        if h == 0:
            o("\tMOVD R2, R14\n")
        else:
            o("\tADD  $32, R2, R14\n")
        zero()
        o("\tCBZ  R20, tail%s\n" % sfx)
        o("\tMOVD R20, R24\n\n")
        o("block%s:\n" % sfx)
        for i in range(8):
            o("\tVLD1.P 16(R%d), [V%d.B16]\n" % (6 + i, i))
        for g in range(4):
            b0, b1 = 8 + 2 * g, 9 + 2 * g
            o("\tVLD1.P (R14)(R22), [V%d.B16, V%d.B16]\n" % (b0, b1))
            for r in range(8):
                o(W(16 + 2 * r, b0, r, g))
                o(W(17 + 2 * r, b1, r, g))
        o("\tSUBS $1, R24, R24\n")
        o("\tBNE  block%s\n\n" % sfx)
        o("tail%s:\n" % sfx)
        o("\tCBZ  R21, store%s\n" % sfx)
        o("\tMOVD R21, R24\n\n")
        o("group%s:\n" % sfx)
        for i in range(8):
            o("\tFMOVS.P 4(R%d), F%d\n" % (6 + i, i))
        o("\tVLD1.P (R14)(R22), [V8.B16, V9.B16]\n")
        for r in range(8):
            o(W(16 + 2 * r, 8, r, 0))
            o(W(17 + 2 * r, 9, r, 0))
        o("\tSUBS $1, R24, R24\n")
        o("\tBNE  group%s\n\n" % sfx)
        o("store%s:\n" % sfx)
        if rb == 0 and h == 0:
            o("\tMOVD R4, R15\n")
        elif rb == 0:
            o("\tADD  $32, R4, R15\n")
        else:
            o("\tADD  R5<<3, R4, R15\n")
            if h == 1:
                o("\tADD  $32, R15, R15\n")
        store(sfx)
        o("\n")
o('''\tADD  R23, R2, R2
	ADD  $64, R4, R4
	SUBS $1, R3, R3
	BNE  panel
	RET
''')

# ---------------- gemmSDOTOff ----------------
o('''
// func gemmSDOTOff(a *byte, lda int, qoff *int, kq int, b *byte, nb int, c *int32, ldc int)
//
// gemmSDOT with row r of the tile at a + r·lda and its group q at
// qoff[q] from there (see GemmOff): one group at a time, each row's four
// bytes loaded alone (LDR S, register offset qoff[q]) and used by element
// [0]: 8 loads of A, 1 of B (a pair), 16 SDOT per group and sub-tile.
//
// Registers: R0 a, R1 lda, R2 the panel, R3 panels left, R4 c of the
// panel, R5 ldc in bytes, R6–R13 the 8 rows of A, R14 B, R15 C, R19 the
// offsets, R21 the offset of the group, R20 kq, R22 64, R23 the panel's
// bytes 64·kq, R24 the loop count.
TEXT ·gemmSDOTOff(SB), NOSPLIT, $0-64
	MOVD a+0(FP), R0
	MOVD lda+8(FP), R1
	MOVD kq+24(FP), R20
	MOVD b+32(FP), R2
	MOVD nb+40(FP), R3
	MOVD c+48(FP), R4
	MOVD ldc+56(FP), R5
	LSL  $2, R5, R5
	MOVD $64, R22
	LSL  $6, R20, R23

opanel:
''')
for rb in range(2):
    for h in range(2):
        sfx = "%d%d" % (rb, h)
        if rb == 0:
            o("\tMOVD R0, R6\n")
        else:
            o("\tADD  R1<<3, R0, R6\n")
        for i in range(7, 14):
            o("\tADD  R1, R%d, R%d\n" % (i - 1, i))
        if h == 0:
            o("\tMOVD R2, R14\n")
        else:
            o("\tADD  $32, R2, R14\n")
        zero()
        o("\tMOVD qoff+16(FP), R19\n")
        o("\tMOVD R20, R24\n\n")
        o("ogroup%s:\n" % sfx)
        o("\tMOVD.P 8(R19), R21\n")
        for i in range(8):
            o("\tFMOVS (R%d)(R21), F%d\n" % (6 + i, i))
        o("\tVLD1.P (R14)(R22), [V8.B16, V9.B16]\n")
        for r in range(8):
            o(W(16 + 2 * r, 8, r, 0))
            o(W(17 + 2 * r, 9, r, 0))
        o("\tSUBS $1, R24, R24\n")
        o("\tBNE  ogroup%s\n\n" % sfx)
        if rb == 0 and h == 0:
            o("\tMOVD R4, R15\n")
        elif rb == 0:
            o("\tADD  $32, R4, R15\n")
        else:
            o("\tADD  R5<<3, R4, R15\n")
            if h == 1:
                o("\tADD  $32, R15, R15\n")
        store(sfx)
        o("\n")
o('''\tADD  R23, R2, R2
	ADD  $64, R4, R4
	SUBS $1, R3, R3
	BNE  opanel
	RET
''')

import sys
open(sys.argv[1], 'w').write("".join(out))

# Check every SDOT encoding against llvm-mc.
uniq = sorted(set(allwords))
src = "\n".join(t.lower().replace("v", "v").replace(".16b", ".16b") for _, t in uniq)
src = "\n".join(("sdot v%s" % t[6:]).replace("V", "v").replace("4S", "4s").replace("16B", "16b").replace("4B", "4b") for _, t in uniq)
res = subprocess.run(["llvm-mc", "-triple=aarch64", "-mattr=+dotprod", "-show-encoding"], input=src, capture_output=True, text=True)
enc = [l for l in res.stdout.splitlines() if "encoding" in l]
assert len(enc) == len(uniq), (res.stderr, len(enc), len(uniq))
for (w, t), l in zip(uniq, enc):
    bs = l.split("[")[-1].rstrip("]").split(",")
    v = int.from_bytes(bytes(int(x, 16) for x in bs), "little")
    assert v == w, (t, hex(w), l)
print("checked", len(uniq), "SDOT encodings against llvm-mc")

# ---------------- dequant and pack (NEON), encodings from llvm-mc ----------------
def llvm_words(lines):
    res = subprocess.run(["llvm-mc", "-triple=aarch64", "-mattr=+dotprod", "-show-encoding"], input="\n".join(lines), capture_output=True, text=True)
    enc = [l for l in res.stdout.splitlines() if "encoding" in l]
    assert len(enc) == len(lines), res.stderr
    out = {}
    for t, l in zip(lines, enc):
        bs = l.split("[")[-1].rstrip("]").split(",")
        out[t] = int.from_bytes(bytes(int(x, 16) for x in bs), "little")
    return out

needed = []
def E(t):
    needed.append(t)
    return "\tWORD $%%(%s)s // %s\n" % (t, t.upper().replace("V", "V").replace(".4S", ".4S"))

parts = []
p = parts.append
p('''
// func dequantNEON(y *float32, ldy int, acc *int32, ldacc, rows, n4 int, sa *int32, scale *float32, zb, off *int32, bias *float32)
//
// DequantRows for the first n4 columns (a multiple of 4, ≥ 4) of each
// row, four at a time: v = acc - zb·sa[i] (MUL by element keeps the low
// 32 bits: Go's wrapping int32 product; SUB, ADD wrap), SCVTF (round to
// nearest even under the default FPCR, as Go's float32(int32)), FMUL by
// scale, FADD of bias: one rounding each, no fused multiply-add, the
// operations of the Go definition (AArch64 Advanced SIMD is IEEE 754 like
// the scalar unit: FPCR.FZ and DN are 0 under Go). Go's assembler lacks
// these four, so they are WORDs (encodings from llvm-mc).
//
// Registers: R0 y row, R1 ldy bytes, R2 acc row, R3 ldacc bytes, R4 rows
// left, R5 n4, R6 sa, R7 scale, R8 zb, R9 off, R10 bias, R11–R15, R19,
// R20 the column pointers of y, acc, scale, zb, off, bias, R21 columns
// left, V30.S[0] sa[i].
TEXT ·dequantNEON(SB), NOSPLIT, $0-88
	MOVD y+0(FP), R0
	MOVD ldy+8(FP), R1
	LSL  $2, R1, R1
	MOVD acc+16(FP), R2
	MOVD ldacc+24(FP), R3
	LSL  $2, R3, R3
	MOVD rows+32(FP), R4
	MOVD n4+40(FP), R5
	MOVD sa+48(FP), R6
	MOVD scale+56(FP), R7
	MOVD zb+64(FP), R8
	MOVD off+72(FP), R9
	MOVD bias+80(FP), R10

drow:
	CBZ  R8, dnosa
	FMOVS.P 4(R6), F30

dnosa:
	MOVD R0, R11
	MOVD R2, R12
	MOVD R7, R13
	MOVD R8, R14
	MOVD R9, R15
	MOVD R10, R19
	MOVD R5, R21

dcol:
	VLD1.P 16(R12), [V0.S4]
	CBZ  R8, dnozb
	VLD1.P 16(R14), [V1.S4]
''')
p(E("mul v1.4s, v1.4s, v30.s[0]"))
p('''	VSUB V1.S4, V0.S4, V0.S4

dnozb:
	VLD1.P 16(R15), [V2.S4]
	VADD V2.S4, V0.S4, V0.S4
''')
p(E("scvtf v0.4s, v0.4s"))
p("\tVLD1.P 16(R13), [V3.S4]\n")
p(E("fmul v0.4s, v3.4s, v0.4s"))
p('''	CBZ  R10, dnobias
	VLD1.P 16(R19), [V4.S4]
''')
p(E("fadd v0.4s, v0.4s, v4.4s"))
p('''
dnobias:
	VST1.P [V0.S4], 16(R11)
	SUBS $4, R21, R21
	BNE  dcol
	ADD  R1, R0, R0
	ADD  R3, R2, R2
	SUBS $1, R4, R4
	BNE  drow
	RET

// func packNEON(dst *byte, src *int32, n16 int, off int32) (lo, hi, sum int32)
//
// pack for the first n16 elements (a multiple of 16, ≥ 16), 16 at a
// time: the minimum (SMIN, V16/V17), maximum (SMAX, V18/V19) and wrapping
// sum (ADD, V20/V21) of src, and dst = the low byte of src + off (ADD
// wraps; two UZP1 keep the low half of each int32, then the low byte of
// each half: Go's byte conversion). SMIN, SMAX, SMINV and SMAXV are WORDs
// (encodings from llvm-mc).
TEXT ·packNEON(SB), NOSPLIT, $0-44
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n16+16(FP), R2
	MOVW off+24(FP), R3
	VDUP R3, V31.S4
	MOVW $0x7fffffff, R4
	VDUP R4, V16.S4
	VDUP R4, V17.S4
	MOVW $0x80000000, R4
	VDUP R4, V18.S4
	VDUP R4, V19.S4
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16

ploop:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
''')
for i, (mn, acc) in enumerate([("smin", 16), ("smin", 17), ("smin", 16), ("smin", 17)]):
    p(E("%s v%d.4s, v%d.4s, v%d.4s" % (mn, acc, acc, i)))
for i, acc in enumerate([18, 19, 18, 19]):
    p(E("smax v%d.4s, v%d.4s, v%d.4s" % (acc, acc, i)))
p('''	VADD V0.S4, V20.S4, V20.S4
	VADD V1.S4, V21.S4, V21.S4
	VADD V2.S4, V20.S4, V20.S4
	VADD V3.S4, V21.S4, V21.S4
	VADD V31.S4, V0.S4, V0.S4
	VADD V31.S4, V1.S4, V1.S4
	VADD V31.S4, V2.S4, V2.S4
	VADD V31.S4, V3.S4, V3.S4
	VUZP1 V1.H8, V0.H8, V4.H8
	VUZP1 V3.H8, V2.H8, V5.H8
	VUZP1 V5.B16, V4.B16, V6.B16
	VST1.P [V6.B16], 16(R0)
	SUBS $16, R2, R2
	BNE  ploop

''')
p(E("smin v16.4s, v16.4s, v17.4s"))
p(E("sminv s16, v16.4s"))
p("\tFMOVS F16, lo+32(FP)\n")
p(E("smax v18.4s, v18.4s, v19.4s"))
p(E("smaxv s18, v18.4s"))
p("\tFMOVS F18, hi+36(FP)\n")
p('''	VADD V21.S4, V20.S4, V20.S4
	VADDV V20.S4, V20
	FMOVS F20, sum+40(FP)
	RET
''')
words = llvm_words(sorted(set(needed)))
text = "".join(parts) % {t: "0x%08x" % w for t, w in words.items()}
with open(sys.argv[1], "a") as f:
    f.write(text)
print("encoded", len(words), "NEON words with llvm-mc")
