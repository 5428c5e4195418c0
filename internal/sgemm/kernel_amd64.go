//go:build !purego

package sgemm

import "golang.org/x/sys/cpu"

// kernel6x16AVX2 is the AVX2+FMA micro-kernel for a 6×16 tile (see
// microKernel; strides in elements).
//
//go:noescape
func kernel6x16AVX2(k int, a *float32, rsa, csa int, b *float32, c *float32, ldc int, alpha, beta float32)

// kernel6x32AVX512 is the AVX-512F micro-kernel for a 6×32 tile.
//
//go:noescape
func kernel6x32AVX512(k int, a *float32, rsa, csa int, b *float32, c *float32, ldc int, alpha, beta float32)

// transpose8AVX sets dst[p*ldd+j] = src[j*lds+p] for j < 8·jb, p < 8·pb
// (strides in elements).
//
//go:noescape
func transpose8AVX(dst *float32, ldd int, src *float32, lds int, jb, pb int)

// transposeAVX is a transposer (see kernel.transpose) built on transpose8AVX.
func transposeAVX(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	jb, pb := rows/8, cols/8
	if jb == 0 || pb == 0 {
		return
	}
	// Bounds: the last element each side touches.
	_ = dst[(8*pb-1)*ldd+8*jb-1]
	_ = src[(8*jb-1)*lds+8*pb-1]
	transpose8AVX(&dst[0], ldd, &src[0], lds, jb, pb)
}

// copyPanelAVX sets dst[p*ldd+j] = src[p*lds+j] for j < cols, 0 for
// cols ≤ j < ldd, p < rows (ldd a multiple of 8, cols ≤ ldd).
//
//go:noescape
func copyPanelAVX(dst *float32, ldd int, src *float32, lds int, rows, cols int)

// copyPanel is a panel copier (see kernel.copyPanel) built on copyPanelAVX.
func copyPanel(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	if rows == 0 {
		return
	}
	_ = dst[rows*ldd-1]
	_ = src[(rows-1)*lds+cols-1]
	copyPanelAVX(&dst[0], ldd, &src[0], lds, rows, cols)
}

// kernel12x16AVX512 is the AVX-512F micro-kernel for a 12×16 tile, used when
// op(B) has at most 16 columns.
//
//go:noescape
func kernel12x16AVX512(k int, a *float32, rsa, csa int, b *float32, c *float32, ldc int, alpha, beta float32)

func kernelAVX512Narrow(k int, a []float32, rsa, csa int, b []float32, c []float32, ldc int, alpha, beta float32) {
	kernel12x16AVX512(k, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, beta)
}

func kernelAVX2(k int, a []float32, rsa, csa int, b []float32, c []float32, ldc int, alpha, beta float32) {
	kernel6x16AVX2(k, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, beta)
}

func kernelAVX512(k int, a []float32, rsa, csa int, b []float32, c []float32, ldc int, alpha, beta float32) {
	kernel6x32AVX512(k, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, beta)
}

func archKernels() []*kernel {
	var ks []*kernel
	var avx2 *kernel
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		avx2 = &kernel{name: "avx2-fma", mr: 6, nr: 16, fn: kernelAVX2, anyRowStride: true, transpose: transposeAVX, copyPanel: copyPanel}
	}
	if cpu.X86.HasAVX512F && avx2 != nil {
		narrow := &kernel{name: "avx512-12x16", mr: 12, nr: 16, fn: kernelAVX512Narrow, anyRowStride: true, transpose: transposeAVX, copyPanel: copyPanel}
		ks = append(ks, &kernel{name: "avx512", mr: 6, nr: 32, fn: kernelAVX512, anyRowStride: true, transpose: transposeAVX, copyPanel: copyPanel, narrow: narrow})
	}
	if avx2 != nil {
		ks = append(ks, avx2)
	}
	return ks
}
