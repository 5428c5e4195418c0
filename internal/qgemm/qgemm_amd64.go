//go:build !purego

package qgemm

import "golang.org/x/sys/cpu"

// gemmVNNI computes the tiles of Rows rows of packed A at a (row stride
// 4·kq bytes; all Rows rows are read) with the nb panels of packed B at b,
// storing the first rows rows of each tile's products at c (row stride ldc
// int32), the last panel's columns under mask (one bit per lane, the
// other panels whole).
//
//go:noescape
func gemmVNNI(a *byte, kq int, b *byte, nb int, c *int32, ldc int, rows int, mask uint16)

// gemmVNNIOff is gemmVNNI with rows lda bytes apart and group q of a row
// at qoff[q] from its start (see GemmOff).
//
//go:noescape
func gemmVNNIOff(a *byte, lda int, qoff *int, kq int, b *byte, nb int, c *int32, ldc int, rows int, mask uint16)

func gemmOffAVX512VNNI(c []int32, ldc int, a []byte, lda, rows int, qoff []int, bp []byte, n int) {
	nb := (n + lanes - 1) / lanes
	mask := uint16(1<<(n-(nb-1)*lanes) - 1)
	for i0 := 0; i0 < rows; i0 += Rows {
		gemmVNNIOff(&a[i0*lda], lda, &qoff[0], len(qoff), &bp[0], nb, &c[i0*ldc], ldc, min(Rows, rows-i0), mask)
	}
}

// dequantAVX512 is DequantRows for rows ≥ 1, n ≥ 1; zb and bias may be nil
// (sa is read only when zb is not).
//
//go:noescape
func dequantAVX512(y *float32, ldy int, acc *int32, ldacc, rows, n int, sa *int32, scale *float32, zb, off *int32, bias *float32)

// packAVX512 is pack for n ≥ 1.
//
//go:noescape
func packAVX512(dst *byte, src *int32, n int, off int32) (lo, hi, sum int32)

func packRowAVX512(dst []byte, src []int32, off int32) (lo, hi, sum int32) {
	if len(src) == 0 {
		return 1<<31 - 1, -1 << 31, 0
	}
	_ = dst[len(src)-1]
	return packAVX512(&dst[0], &src[0], len(src), off)
}

func gemmAVX512VNNI(c []int32, ldc int, a []byte, rows int, bp []byte, n, kq int) {
	nb := (n + lanes - 1) / lanes
	mask := uint16(1<<(n-(nb-1)*lanes) - 1) // 16 lanes: 1<<16 wraps to 0, so 0xffff
	kp := 4 * kq
	for i0 := 0; i0 < rows; i0 += Rows {
		gemmVNNI(&a[i0*kp], kq, &bp[0], nb, &c[i0*ldc], ldc, min(Rows, rows-i0), mask)
	}
}

func dequantRowsAVX512(y []float32, ldy int, acc []int32, ldacc, rows, n int, sa []int32, scale []float32, zb, off []int32, bias []float32) {
	var psa, pzb *int32
	var pbias *float32
	if zb != nil {
		psa, pzb = &sa[0], &zb[0]
	}
	if bias != nil {
		pbias = &bias[0]
	}
	dequantAVX512(&y[0], ldy, &acc[0], ldacc, rows, n, psa, &scale[0], pzb, &off[0], pbias)
}

func archKernels() []*kernel {
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI {
		return []*kernel{{name: "avx512-vnni", gemm: gemmAVX512VNNI, dequant: dequantRowsAVX512, pack: packRowAVX512, gemmOff: gemmOffAVX512VNNI}}
	}
	return nil
}
