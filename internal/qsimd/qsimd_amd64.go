//go:build !purego

package qsimd

import "golang.org/x/sys/cpu"

// The AVX2 kernels (qsimd_amd64.s) handle n elements, n a positive multiple
// of 8; see kernel for the arguments.

//go:noescape
func codesAVX2(dst *int32, x *float32, n int, inv, blo, bhi float32, z, zc int32)

//go:noescape
func gradTermsAVX2(dx, x, gr, ts, tz *float32, n int, inv, s, lowT, highT, blo, bhi float32)

//go:noescape
func dequantizeAVX2(dst *float32, q *int32, n int, s float32, z int32)

//go:noescape
func minMaxAVX2(x *float32, n int, acc *minMaxAcc)

// The AVX-512F kernels: the same with n a positive multiple of 16.

//go:noescape
func codesAVX512(dst *int32, x *float32, n int, inv, blo, bhi float32, z, zc int32)

//go:noescape
func gradTermsAVX512(dx, x, gr, ts, tz *float32, n int, inv, s, lowT, highT, blo, bhi float32)

//go:noescape
func dequantizeAVX512(dst *float32, q *int32, n int, s float32, z int32)

//go:noescape
func minMaxAVX512(x *float32, n int, acc *minMaxAcc)

func codesAVX2Go(dst []int32, x []float32, inv, blo, bhi float32, z, zc int32) {
	_ = dst[len(x)-1]
	codesAVX2(&dst[0], &x[0], len(x), inv, blo, bhi, z, zc)
}

func gradTermsAVX2Go(dx, x, g, ts, tz []float32, inv, s, lowT, highT, blo, bhi float32) {
	n := len(x)
	_, _, _ = g[n-1], ts[n-1], tz[n-1]
	var dxp *float32
	if dx != nil {
		_ = dx[n-1]
		dxp = &dx[0]
	}
	gradTermsAVX2(dxp, &x[0], &g[0], &ts[0], &tz[0], n, inv, s, lowT, highT, blo, bhi)
}

func dequantizeAVX2Go(dst []float32, q []int32, s float32, z int32) {
	_ = dst[len(q)-1]
	dequantizeAVX2(&dst[0], &q[0], len(q), s, z)
}

func minMaxAVX2Go(x []float32, acc minMaxAcc) minMaxAcc {
	minMaxAVX2(&x[0], len(x), &acc)
	return acc
}

func codesAVX512Go(dst []int32, x []float32, inv, blo, bhi float32, z, zc int32) {
	_ = dst[len(x)-1]
	codesAVX512(&dst[0], &x[0], len(x), inv, blo, bhi, z, zc)
}

func gradTermsAVX512Go(dx, x, g, ts, tz []float32, inv, s, lowT, highT, blo, bhi float32) {
	n := len(x)
	_, _, _ = g[n-1], ts[n-1], tz[n-1]
	var dxp *float32
	if dx != nil {
		_ = dx[n-1]
		dxp = &dx[0]
	}
	gradTermsAVX512(dxp, &x[0], &g[0], &ts[0], &tz[0], n, inv, s, lowT, highT, blo, bhi)
}

func dequantizeAVX512Go(dst []float32, q []int32, s float32, z int32) {
	_ = dst[len(q)-1]
	dequantizeAVX512(&dst[0], &q[0], len(q), s, z)
}

func minMaxAVX512Go(x []float32, acc minMaxAcc) minMaxAcc {
	minMaxAVX512(&x[0], len(x), &acc)
	return acc
}

func archKernels() []*kernel {
	var ks []*kernel
	// The optimizer kernels count with POPCNT.
	opt512, opt2 := optimAVX512, optimAVX2
	if !cpu.X86.HasPOPCNT {
		opt512, opt2 = nil, nil
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, &kernel{name: "avx512", lanes: 16, codes: codesAVX512Go, gradTerms: gradTermsAVX512Go,
			dequantize: dequantizeAVX512Go, minMax: minMaxAVX512Go, cols: colAVX512, rows: rowAVX512, optim: opt512})
	}
	if cpu.X86.HasAVX2 {
		ks = append(ks, &kernel{name: "avx2", lanes: 8, codes: codesAVX2Go, gradTerms: gradTermsAVX2Go,
			dequantize: dequantizeAVX2Go, minMax: minMaxAVX2Go, cols: colAVX2, rows: rowAVX2, optim: opt2})
	}
	return ks
}
