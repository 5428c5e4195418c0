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
	psa, pzb, pbias := dequantPtrs(sa, zb, bias)
	dequantAVX512(&y[0], ldy, &acc[0], ldacc, rows, n, psa, &scale[0], pzb, &off[0], pbias)
}

// gemmAVX2 computes a tile of 4 rows of A (lda bytes apart, all 4 read;
// group q of row i at a + i·lda + 4q, or + qoff[q] when qoff is not nil)
// times nh half panels of 8 columns of packed B from b (half h at b +
// (h/2)·64·kq + (h%2)·32), storing 4 rows × 8·nh columns whole at c (row
// stride ldc int32). See qgemm_avx2_amd64.s for why it is exact.
//
//go:noescape
func gemmAVX2(a *byte, lda int, qoff *int, kq int, b *byte, nh int, c *int32, ldc int)

// tilesAVX2 runs gemmAVX2 over rows rows (4 at a time: the tiles of Rows
// rows that Gemm and GemmOff may read are whole tiles of 4) and n columns:
// the whole half panels of a whole tile of 4 rows straight into c, the
// rest (the n%8 columns of the last half panel, the rows%4 rows of the
// last tile) through a scratch tile, of which only the wanted part is
// copied, so nothing outside rows × n of c is written.
func tilesAVX2(c []int32, ldc int, a []byte, lda int, qoff *int, kq int, bp []byte, rows, n int) {
	var tmp [4 * 8]int32
	full := n / 8
	for i0 := 0; i0 < rows; i0 += 4 {
		ap := &a[i0*lda]
		r := min(4, rows-i0)
		h0 := 0
		if r == 4 && full > 0 {
			_ = c[(i0+3)*ldc+8*full-1]
			gemmAVX2(ap, lda, qoff, kq, &bp[0], full, &c[i0*ldc], ldc)
			h0 = full
		}
		for h := h0; 8*h < n; h++ {
			gemmAVX2(ap, lda, qoff, kq, &bp[h/2*64*kq+h%2*32], 1, &tmp[0], 8)
			for i := range r {
				copy(c[(i0+i)*ldc+8*h:(i0+i)*ldc+min(n, 8*h+8)], tmp[8*i:8*i+8])
			}
		}
	}
}

func gemmAVX2Go(c []int32, ldc int, a []byte, rows int, bp []byte, n, kq int) {
	tilesAVX2(c, ldc, a, 4*kq, nil, kq, bp, rows, n)
}

func gemmOffAVX2(c []int32, ldc int, a []byte, lda, rows int, qoff []int, bp []byte, n int) {
	tilesAVX2(c, ldc, a, lda, &qoff[0], len(qoff), bp, rows, n)
}

// dequantAVX2 is DequantRows for rows ≥ 1 and n a multiple of 8, n ≥ 8.
//
//go:noescape
func dequantAVX2(y *float32, ldy int, acc *int32, ldacc, rows, n int, sa *int32, scale *float32, zb, off *int32, bias *float32)

// packAVX2 is pack for n a multiple of 8, n ≥ 8.
//
//go:noescape
func packAVX2(dst *byte, src *int32, n int, off int32) (lo, hi, sum int32)

// dequantRowsAVX2 runs the columns below n&^7 in AVX2, the rest in Go.
func dequantRowsAVX2(y []float32, ldy int, acc []int32, ldacc, rows, n int, sa []int32, scale []float32, zb, off []int32, bias []float32) {
	n8 := n &^ 7
	if n8 > 0 {
		psa, pzb, pbias := dequantPtrs(sa, zb, bias)
		dequantAVX2(&y[0], ldy, &acc[0], ldacc, rows, n8, psa, &scale[0], pzb, &off[0], pbias)
	}
	if n8 == n {
		return
	}
	if zb != nil {
		zb = zb[n8:]
	}
	if bias != nil {
		bias = bias[n8:]
	}
	dequantGeneric(y[n8:], ldy, acc[n8:], ldacc, rows, n-n8, sa, scale[n8:], zb, off[n8:], bias)
}

// packRowAVX2 packs the first len(src)&^7 codes in AVX2, the rest in Go.
func packRowAVX2(dst []byte, src []int32, off int32) (lo, hi, sum int32) {
	n8 := len(src) &^ 7
	lo, hi, sum = packGeneric(dst[n8:], src[n8:], off)
	if n8 > 0 {
		_ = dst[n8-1]
		l, h, s := packAVX2(&dst[0], &src[0], n8, off)
		lo, hi, sum = min(lo, l), max(hi, h), sum+s
	}
	return lo, hi, sum
}

// avx2Kernel is the AVX2 kernel (A u8, B s8; VPMOVZXBW, VPMOVSXBW,
// VPMADDWD, VPADDD), with dequantRowsAVX512 and packAVX512 in 8 lanes.
var avx2Kernel = &kernel{name: "avx2", gemm: gemmAVX2Go, dequant: dequantRowsAVX2, pack: packRowAVX2, gemmOff: gemmOffAVX2}

func archKernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI {
		ks = append(ks, &kernel{name: "avx512-vnni", gemm: gemmAVX512VNNI, dequant: dequantRowsAVX512, pack: packRowAVX512, gemmOff: gemmOffAVX512VNNI})
	}
	if cpu.X86.HasAVX2 {
		ks = append(ks, avx2Kernel)
	}
	return ks
}
