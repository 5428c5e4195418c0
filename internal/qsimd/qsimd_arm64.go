//go:build !purego

package qsimd

// The NEON kernels (qsimd_arm64.s) handle n elements, n a positive multiple
// of 4; see kernel for the arguments.

//go:noescape
func codesNEON(dst *int32, x *float32, n int, inv, blo, bhi float32, z, zc int32)

//go:noescape
func gradTermsNEON(dx, x, gr, ts, tz *float32, n int, inv, s, lowT, highT, blo, bhi float32)

//go:noescape
func dequantizeNEON(dst *float32, q *int32, n int, s float32, z int32)

//go:noescape
func minMaxNEON(x *float32, n int, acc *minMaxAcc)

func codesNEONGo(dst []int32, x []float32, inv, blo, bhi float32, z, zc int32) {
	_ = dst[len(x)-1]
	codesNEON(&dst[0], &x[0], len(x), inv, blo, bhi, z, zc)
}

func gradTermsNEONGo(dx, x, g, ts, tz []float32, inv, s, lowT, highT, blo, bhi float32) {
	n := len(x)
	_, _, _ = g[n-1], ts[n-1], tz[n-1]
	var dxp *float32
	if dx != nil {
		_ = dx[n-1]
		dxp = &dx[0]
	}
	gradTermsNEON(dxp, &x[0], &g[0], &ts[0], &tz[0], n, inv, s, lowT, highT, blo, bhi)
}

func dequantizeNEONGo(dst []float32, q []int32, s float32, z int32) {
	_ = dst[len(q)-1]
	dequantizeNEON(&dst[0], &q[0], len(q), s, z)
}

func minMaxNEONGo(x []float32, acc minMaxAcc) minMaxAcc {
	minMaxNEON(&x[0], len(x), &acc)
	return acc
}

// archKernels: every arm64 CPU has Advanced SIMD (NEON).
func archKernels() []*kernel {
	return []*kernel{{name: "neon", lanes: 4, codes: codesNEONGo, gradTerms: gradTermsNEONGo,
		dequantize: dequantizeNEONGo, minMax: minMaxNEONGo}}
}
