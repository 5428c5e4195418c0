//go:build !purego

package qgemm

import "golang.org/x/sys/cpu"

// gemmSDOT computes one tile of Rows rows of packed A at a (row stride
// 4·kq bytes, A read as s8) with the nb panels of packed B at b, storing
// all Rows rows and 16·nb columns of the products at c (row stride ldc
// int32).
//
//go:noescape
func gemmSDOT(a *byte, kq int, b *byte, nb int, c *int32, ldc int)

// gemmSDOTOff is gemmSDOT with rows lda bytes apart and group q of a row
// at qoff[q] from its start (see GemmOff), kq ≥ 1.
//
//go:noescape
func gemmSDOTOff(a *byte, lda int, qoff *int, kq int, b *byte, nb int, c *int32, ldc int)

// dequantNEON is DequantRows for the first n4 columns of each row, n4 a
// positive multiple of 4; zb and bias may be nil (sa is read only when zb
// is not).
//
//go:noescape
func dequantNEON(y *float32, ldy int, acc *int32, ldacc, rows, n4 int, sa *int32, scale *float32, zb, off *int32, bias *float32)

// packNEON is pack for the first n16 elements, n16 a positive multiple of
// 16.
//
//go:noescape
func packNEON(dst *byte, src *int32, n16 int, off int32) (lo, hi, sum int32)

// dequantRowsNEON runs the columns in fours in NEON and the n%4 left in
// Go (the same operations: bit for bit either way).
func dequantRowsNEON(y []float32, ldy int, acc []int32, ldacc, rows, n int, sa []int32, scale []float32, zb, off []int32, bias []float32) {
	n4 := n &^ 3
	if n4 > 0 {
		psa, pzb, pbias := dequantPtrs(sa, zb, bias)
		dequantNEON(&y[0], ldy, &acc[0], ldacc, rows, n4, psa, &scale[0], pzb, &off[0], pbias)
	}
	if n4 < n {
		if zb != nil {
			zb = zb[n4:]
		}
		if bias != nil {
			bias = bias[n4:]
		}
		dequantGeneric(y[n4:], ldy, acc[n4:], ldacc, rows, n-n4, sa, scale[n4:], zb, off[n4:], bias)
	}
}

// packRowNEON packs 16 elements at a time in NEON and the rest in Go.
func packRowNEON(dst []byte, src []int32, off int32) (lo, hi, sum int32) {
	lo, hi = 1<<31-1, -1<<31
	n16 := len(src) &^ 15
	if n16 > 0 {
		_ = dst[n16-1]
		lo, hi, sum = packNEON(&dst[0], &src[0], n16, off)
	}
	if n16 < len(src) {
		l, h, s := packGeneric(dst[n16:], src[n16:], off)
		lo, hi, sum = min(lo, l), max(hi, h), sum+s
	}
	return lo, hi, sum
}

// sdotCall holds the operands of one product for gemmSDOT (qoff nil) or
// gemmSDOTOff.
type sdotCall struct {
	a, bp   []byte
	lda, kq int // lda: the row stride of A (4·kq for gemmSDOT)
	qoff    []int
}

// tile runs the rows [i0, i0+Rows) with the panels [jb0, jb0+nb) into c.
func (s *sdotCall) tile(i0, jb0, nb int, c *int32, ldc int) {
	b := &s.bp[jb0*lanes*4*s.kq]
	if s.qoff == nil {
		gemmSDOT(&s.a[i0*s.lda], s.kq, b, nb, c, ldc)
	} else {
		gemmSDOTOff(&s.a[i0*s.lda], s.lda, &s.qoff[0], s.kq, b, nb, c, ldc)
	}
}

// run computes the rows×n products into c: the whole panels of full tiles
// straight into c, and the partial ones (the last panel with n%16
// columns, the last tile with fewer than Rows rows) into a scratch tile
// whose wanted part is then copied, so that nothing of c past the rows
// and columns is written.
func (s *sdotCall) run(c []int32, ldc, rows, n int) {
	var tmp [Rows * lanes]int32
	whole := n / lanes
	for i0 := 0; i0 < rows; i0 += Rows {
		r := min(Rows, rows-i0)
		jb := 0
		if r == Rows && whole > 0 {
			_ = c[(i0+Rows-1)*ldc+whole*lanes-1]
			s.tile(i0, 0, whole, &c[i0*ldc], ldc)
			jb = whole
		}
		for ; jb*lanes < n; jb++ {
			s.tile(i0, jb, 1, &tmp[0], lanes)
			cols := min(lanes, n-jb*lanes)
			for i := range r {
				copy(c[(i0+i)*ldc+jb*lanes:(i0+i)*ldc+jb*lanes+cols], tmp[i*lanes:i*lanes+cols])
			}
		}
	}
}

func gemmNEONSDOT(c []int32, ldc int, a []byte, rows int, bp []byte, n, kq int) {
	s := sdotCall{a: a, bp: bp, lda: 4 * kq, kq: kq}
	s.run(c, ldc, rows, n)
}

func gemmOffNEONSDOT(c []int32, ldc int, a []byte, lda, rows int, qoff []int, bp []byte, n int) {
	s := sdotCall{a: a, bp: bp, lda: lda, kq: len(qoff), qoff: qoff}
	s.run(c, ldc, rows, n)
}

// archKernels: the SDOT kernel where the CPU has the dot product
// instructions (FEAT_DotProd: Cortex-A55/A75 and later, Jetson Orin's
// A78AE). It reads packed A as s8 ([ASigned]). DequantRows and the
// packers are plain NEON.
func archKernels() []*kernel {
	if cpu.ARM64.HasASIMDDP {
		return []*kernel{{name: "neon-sdot", aSigned: true, gemm: gemmNEONSDOT, dequant: dequantRowsNEON, pack: packRowNEON, gemmOff: gemmOffNEONSDOT}}
	}
	return nil
}
