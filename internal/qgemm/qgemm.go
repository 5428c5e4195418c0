package qgemm

import (
	"os"
	"unsafe"
)

// Rows is the number of rows of A one kernel tile covers.
const Rows = 16

// lanes is the number of columns of one panel of packed B (one int32 lane
// each).
const lanes = 16

// kernel is one implementation of the tile kernel (gemm) and of the
// dequantization rows (dequant).
type kernel struct {
	name string
	// aSigned: the kernel reads the bytes of packed A as s8 (arm64 SDOT)
	// rather than u8 (VPDPBUSD, generic); B is s8 for every kernel.
	aSigned bool
	gemm    func(c []int32, ldc int, a []byte, rows int, bp []byte, n, kq int)
	dequant func(y []float32, ldy int, acc []int32, ldacc, rows, n int, sa []int32, scale []float32, zb, off []int32, bias []float32)
	// pack sets dst[i] = byte(src[i] + off) and returns the smallest,
	// largest and wrapping sum of src (MaxInt32, MinInt32, 0 for none).
	pack func(dst []byte, src []int32, off int32) (lo, hi, sum int32)
	// gemmOff is GemmOff for kq = len(qoff) ≥ 1.
	gemmOff func(c []int32, ldc int, a []byte, lda, rows int, qoff []int, bp []byte, n int)
}

var genericKernel = &kernel{name: "generic", gemm: gemmGeneric[uint8], dequant: dequantGeneric, pack: packGeneric, gemmOff: gemmOffGeneric[uint8]}

// genericS8Kernel is the generic kernel with A read as s8: the
// specification of the kernels with aSigned (SDOT), which the tests hold
// them to. It is not in kernels: "generic" is the fallback.
var genericS8Kernel = &kernel{name: "generic-s8", aSigned: true, gemm: gemmGeneric[int8], dequant: dequantGeneric, pack: packGeneric, gemmOff: gemmOffGeneric[int8]}

func packGeneric(dst []byte, src []int32, off int32) (lo, hi, sum int32) {
	lo, hi = 1<<31-1, -1<<31
	dst = dst[:len(src)]
	for i, v := range src {
		lo = min(lo, v)
		hi = max(hi, v)
		sum += v
		dst[i] = byte(v + off)
	}
	return lo, hi, sum
}

// kernels lists the implementations usable on this CPU, preferred first;
// generic is last.
var kernels []*kernel

// active is the implementation in use, chosen once at start-up.
var active *kernel

func init() {
	kernels = append(archKernels(), genericKernel)
	active = kernels[0]
	if want := os.Getenv("VKTRAIN_QGEMM"); want != "" {
		for _, k := range kernels {
			if k.name == want {
				active = k
			}
		}
	}
}

// Kernel names the implementation chosen at run time for this CPU
// ("avx512-vnni", "avx2", "neon-sdot" or "generic"). The environment variable
// VKTRAIN_QGEMM, read at start-up, overrides the choice with any name that
// the CPU supports (VKTRAIN_QGEMM=generic: the callers keep their own
// path); the build tag purego leaves the assembly out.
func Kernel() string { return active.name }

// ASigned reports whether the kernel in use reads the bytes of packed A as
// s8 (arm64 SDOT: s8·s8 products) rather than u8 (AVX-512 VNNI and the
// generic kernel: u8·s8). [Offsets] chooses the offsets for that type.
func ASigned() bool { return active.aSigned }

// SumA returns the wrapping int32 sum of the bytes a read as the active
// kernel's type of A (u8 or s8, see [ASigned]).
func SumA(a []byte) int32 {
	var s int32
	if active.aSigned {
		for _, v := range a {
			s += int32(int8(v))
		}
		return s
	}
	for _, v := range a {
		s += int32(v)
	}
	return s
}

// Fast reports whether an assembly kernel is in use. Callers use this
// package only then: the generic kernel is the specification of the packed
// layout, not a fast path.
func Fast() bool { return active != genericKernel }

// KPad returns k rounded up to a multiple of 4: the row stride of packed A
// and the k extent of packed B (the padding is zeros).
func KPad(k int) int { return (k + 3) &^ 3 }

// ALen returns the length of a packed A of rows rows: whole tiles of Rows
// rows (the kernel reads every row of a tile; rows past the last are never
// stored, so their bytes may be anything).
func ALen(rows, k int) int { return (rows + Rows - 1) / Rows * Rows * KPad(k) }

// BLen returns the length of packed B with n columns: panels of 16 columns
// (the last padded with zero columns), each KPad(k)/4 groups of 64 bytes.
func BLen(n, k int) int { return (n + lanes - 1) / lanes * lanes * KPad(k) }

// Offsets returns the offsets oa and ob that move codes of A in [alo, ahi]
// into the kernel's type of A (u8: a+oa in [0, 255]; s8 where [ASigned]:
// a+oa in [-128, 127]) and codes of B in [blo, bhi] into s8 (b+ob in
// [-128, 127]), each 0 when the codes already fit, and false when a range
// does not fit one of the two 8-bit ranges (empty ranges, lo > hi, fit).
// So oa is 0 or 128 for a u8 kernel, 0 or -128 for an s8 one; ob is 0 or
// -128.
func Offsets(alo, ahi, blo, bhi int32) (oa, ob int32, ok bool) {
	u8 := alo > ahi || alo >= 0 && ahi <= 255
	s8 := alo > ahi || alo >= -128 && ahi <= 127
	switch {
	case !active.aSigned && u8 || active.aSigned && s8:
	case !active.aSigned && s8:
		oa = 128
	case active.aSigned && u8:
		oa = -128
	default:
		return 0, 0, false
	}
	switch {
	case blo > bhi || blo >= -128 && bhi <= 127:
	case blo >= 0 && bhi <= 255:
		ob = -128
	default:
		return 0, 0, false
	}
	return oa, ob, true
}

// PackA writes the rows×k codes a (row-major) plus oa as bytes into dst,
// row stride KPad(k), the padding zeros: dst[i*KPad(k)+p] = byte(a[i*k+p]
// + oa). It returns the smallest and largest code (MaxInt32, MinInt32 for
// no codes); the bytes are the codes the kernel needs only when every
// a+oa lies in its type of A (u8 or s8, see [ASigned] and [Offsets]),
// which the caller checks. When sums is not nil, sums[i] is Σ_p a[i*k+p]
// in wrapping int32 (the row sums of the codes).
func PackA(dst []byte, a []int32, rows, k int, oa int32, sums []int32) (lo, hi int32) {
	kp := KPad(k)
	lo, hi = 1<<31-1, -1<<31
	for i := range rows {
		row := dst[i*kp : (i+1)*kp]
		l, h, s := active.pack(row, a[i*k:(i+1)*k], oa)
		lo, hi = min(lo, l), max(hi, h)
		clear(row[k:])
		if sums != nil {
			sums[i] = s
		}
	}
	return lo, hi
}

// PackB writes the panels of 16 columns [16·jb0, 16·jb1) of the n×k codes
// b (row-major, one row per column of the product) plus ob into dst (the
// whole packed B, BLen(n, k) bytes): panel jb, group q, lane l holds
// b[16jb+l, 4q..4q+3] + ob as four bytes at dst[((jb·KPad(k)/4+q)·16+l)·4],
// zeros past n and k. It returns the smallest and largest code of the
// panels (see PackA). When sums is not nil, sums[j] is Σ_p (b[j,p] + ob)
// in wrapping int32 for the columns j of the panels. tmp is scratch of at
// least min(KPad(k), 1024) bytes.
func PackB(dst, tmp []byte, b []int32, n, k int, ob int32, jb0, jb1 int, sums []int32) (lo, hi int32) {
	kp := KPad(k)
	lo, hi = 1<<31-1, -1<<31
	tmp = tmp[:min(kp, 1024)]
	for jb := jb0; jb < jb1; jb++ {
		panel := dst[jb*lanes*kp : (jb+1)*lanes*kp]
		for l := range lanes {
			j := jb*lanes + l
			if j >= n {
				for p := l * 4; p < len(panel); p += 4 * lanes {
					*(*[4]byte)(panel[p:]) = [4]byte{}
				}
				continue
			}
			// The column's bytes, a chunk of k at a time, then four at a
			// time to their lane of each group.
			var s int32
			for p0 := 0; p0 < kp; p0 += max(len(tmp), 1) {
				p1 := min(kp, p0+len(tmp))
				t := tmp[:p1-p0]
				if p0 < k {
					l, h, sum := active.pack(t, b[j*k+p0:j*k+min(k, p1)], ob)
					lo, hi, s = min(lo, l), max(hi, h), s+sum
				}
				clear(t[max(0, min(k, p1)-p0):])
				// Group q of the chunk to lane l of group p0/4+q: 4 bytes
				// every 64 (the slice expressions check the bounds once).
				scatter4(panel[(p0/4*lanes+l)*4:(p1/4*lanes)*4], t)
			}
			if sums != nil {
				sums[j] = s + int32(k)*ob
			}
		}
	}
	return lo, hi
}

// scatter4 copies the groups of four bytes of src to every 64th byte of
// dst: dst[64q:64q+4] = src[4q:4q+4] for 4q < len(src); dst must reach
// 64(len(src)/4 - 1) + 4.
func scatter4(dst, src []byte) {
	n := len(src) / 4
	if n == 0 {
		return
	}
	_ = dst[64*(n-1)+3]
	d, s := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src))
	for q := range n {
		*(*uint32)(unsafe.Add(d, 64*q)) = *(*uint32)(unsafe.Add(s, 4*q))
	}
}

// Gemm computes the products of rows rows of packed A (from a, PackA's
// layout, ALen(rows, k) bytes) with the n columns of packed B (bp, PackB's
// layout): c[i*ldc+j] = Σ_{p<KPad(k)} A8(a[i*KPad(k)+p])·s8(b'[j,p]) in
// wrapping int32, for i < rows, j < n, A8 the kernel's type of A (u8, or
// s8 where [ASigned]). Nothing else of c is written.
func Gemm(c []int32, ldc int, a []byte, rows int, bp []byte, n, k int) {
	if rows <= 0 || n <= 0 {
		return
	}
	kp := KPad(k)
	if len(a) < ALen(rows, k) || len(bp) < BLen(n, k) || len(c) < (rows-1)*ldc+n || ldc < n {
		panic("qgemm: Gemm: short operands")
	}
	if kp == 0 {
		for i := range rows {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	active.gemm(c, ldc, a, rows, bp, n, kp/4)
}

// gemmGeneric is Gemm in Go over the packed layout, the bytes of A read as
// A (uint8 or int8); the rows past rows are not computed.
func gemmGeneric[A uint8 | int8](c []int32, ldc int, a []byte, rows int, bp []byte, n, kq int) {
	kp := 4 * kq
	for jb := 0; jb*lanes < n; jb++ {
		panel := bp[jb*lanes*kp : (jb+1)*lanes*kp]
		for l := range min(lanes, n-jb*lanes) {
			j := jb*lanes + l
			for i := range rows {
				row := a[i*kp : (i+1)*kp]
				var s int32
				for q := range kq {
					g := panel[(q*lanes+l)*4:]
					for t := range 4 {
						s += int32(A(row[4*q+t])) * int32(int8(g[t]))
					}
				}
				c[i*ldc+j] = s
			}
		}
	}
}

// GemmOff is Gemm with the bytes of A read in place: row i's group q
// (four bytes, of the kernel's type of A) at a[i*lda+qoff[q]], for kq =
// len(qoff) groups, with packed B of K = 4·kq (BLen(n, 4·kq) bytes).
// Every row of the tiles of Rows rows is read: a must hold the bytes of
// rows up to
// Rows·⌈rows/Rows⌉ - 1 (the last rows' products are not stored). A
// stride-1 convolution reads its image this way: rows are consecutive
// output positions of one output row (lda = C bytes apart in the padded
// image), group q = (kh, h) of the receptive field at kh·(row stride) +
// 4h, the span of KW·C bytes of each filter row padded to a multiple of 4
// with zero weights (the image bytes they meet add 0).
func GemmOff(c []int32, ldc int, a []byte, lda, rows int, qoff []int, bp []byte, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	kq := len(qoff)
	last := 0
	for _, o := range qoff {
		if o < 0 {
			panic("qgemm: GemmOff: negative offset")
		}
		last = max(last, o)
	}
	if kq > 0 && len(a) < ((rows+Rows-1)/Rows*Rows-1)*lda+last+4 || len(bp) < BLen(n, 4*kq) || len(c) < (rows-1)*ldc+n || ldc < n || lda < 0 {
		panic("qgemm: GemmOff: short operands")
	}
	if kq == 0 {
		for i := range rows {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	active.gemmOff(c, ldc, a, lda, rows, qoff, bp, n)
}

func gemmOffGeneric[A uint8 | int8](c []int32, ldc int, a []byte, lda, rows int, qoff []int, bp []byte, n int) {
	kp := 4 * len(qoff)
	for jb := 0; jb*lanes < n; jb++ {
		panel := bp[jb*lanes*kp : (jb+1)*lanes*kp]
		for l := range min(lanes, n-jb*lanes) {
			for i := range rows {
				var s int32
				for q, o := range qoff {
					g := panel[(q*lanes+l)*4:]
					for t := range 4 {
						s += int32(A(a[i*lda+o+t])) * int32(int8(g[t]))
					}
				}
				c[i*ldc+jb*lanes+l] = s
			}
		}
	}
}

// DequantRows writes, for i < rows and c < n,
//
//	v = acc[i*ldacc+c] - zb[c]·sa[i] + off[c]   (wrapping int32)
//	y[i*ldy+c] = float32(scale[c]·float32(v)) + bias[c]
//
// each product and sum rounded to float32 (no fused multiply-add): the
// dequantization of nn/ref (dequantConsts.row). zb nil means zeros (sa is
// then not read); bias nil means no addition.
func DequantRows(y []float32, ldy int, acc []int32, ldacc, rows, n int, sa []int32, scale []float32, zb, off []int32, bias []float32) {
	if rows <= 0 || n <= 0 {
		return
	}
	_ = y[(rows-1)*ldy+n-1]
	_ = acc[(rows-1)*ldacc+n-1]
	_, _ = scale[n-1], off[n-1]
	if zb != nil {
		_, _ = zb[n-1], sa[rows-1]
	}
	if bias != nil {
		_ = bias[n-1]
	}
	active.dequant(y, ldy, acc, ldacc, rows, n, sa, scale, zb, off, bias)
}

func dequantGeneric(y []float32, ldy int, acc []int32, ldacc, rows, n int, sa []int32, scale []float32, zb, off []int32, bias []float32) {
	for i := range rows {
		out, a := y[i*ldy:i*ldy+n], acc[i*ldacc:i*ldacc+n]
		var s int32
		if zb != nil {
			s = sa[i]
		}
		for c, v := range a {
			if zb != nil {
				v -= zb[c] * s
			}
			v += off[c]
			r := float32(scale[c] * float32(v))
			if bias != nil {
				r += bias[c]
			}
			out[c] = r
		}
	}
}

// ColTerms writes dst[j] = K·oa·ob - oa·sb[j] (wrapping int32), the
// per-column correction of the products of offset codes, from the column
// sums sb of packed B (PackB's sums, which include ob) and the true k.
func ColTerms(dst, sb []int32, k int, oa, ob int32) {
	for j, s := range sb {
		dst[j] = int32(k)*oa*ob - oa*s
	}
}

// RowTerms writes dst[i] = -ob·(sa[i] + K·oa) (wrapping int32), the
// per-row correction, from the row sums sa of the codes of A (PackA's
// sums, without oa) and the true k.
func RowTerms(dst, sa []int32, k int, oa, ob int32) {
	for i, s := range sa {
		dst[i] = -ob * (s + int32(k)*oa)
	}
}

// Correct adds rowTerm[i] (when rowTerm is not nil) and colTerm[j] (when
// colTerm is not nil) to c[i*ldc+j] for i < rows, j < n, wrapping.
func Correct(c []int32, ldc, rows, n int, rowTerm, colTerm []int32) {
	for i := range rows {
		ci := c[i*ldc : i*ldc+n]
		var r int32
		if rowTerm != nil {
			r = rowTerm[i]
		}
		if colTerm == nil {
			for j := range ci {
				ci[j] += r
			}
			continue
		}
		ct := colTerm[:n]
		for j := range ci {
			ci[j] += r + ct[j]
		}
	}
}

// PackBytes writes dst[i] = byte(src[i] + off) and returns the smallest
// and largest of src (see PackA).
func PackBytes(dst []byte, src []int32, off int32) (lo, hi int32) {
	lo, hi, _ = active.pack(dst, src, off)
	return lo, hi
}

// dequantPtrs returns the first elements of DequantRows' optional operands
// for the assembly kernels: sa and zb where zb is given (nil: the kernel
// reads neither), bias where given.
func dequantPtrs(sa, zb []int32, bias []float32) (psa, pzb *int32, pbias *float32) {
	if zb != nil {
		psa, pzb = &sa[0], &zb[0]
	}
	if bias != nil {
		pbias = &bias[0]
	}
	return psa, pzb, pbias
}
