//go:build !purego

package qsimd

// The column-sum kernels (colsums_amd64.s); see colKernels for the
// arguments.

//go:noescape
func colSumAVX512(dst, x *float32, rows, cols, w int)

//go:noescape
func colProdAVX512(dst, x, y *float32, rows, cols, w int)

//go:noescape
func colSqDevAVX512(dst, x, mean *float32, rows, cols, w int)

//go:noescape
func colCompAVX512(dst, x, add, beta *float32, rows, cols, w int)

//go:noescape
func colCompSqAVX512(dst, x, add, beta, mean *float32, rows, cols, w int)

//go:noescape
func colMaskedAVX512(db, dg, dy, h, y *float32, rows, cols, w int)

//go:noescape
func colSumAVX2(dst, x *float32, rows, cols, w int)

//go:noescape
func colProdAVX2(dst, x, y *float32, rows, cols, w int)

//go:noescape
func colSqDevAVX2(dst, x, mean *float32, rows, cols, w int)

//go:noescape
func colCompAVX2(dst, x, add, beta *float32, rows, cols, w int)

//go:noescape
func colCompSqAVX2(dst, x, add, beta, mean *float32, rows, cols, w int)

//go:noescape
func colMaskedAVX2(db, dg, dy, h, y *float32, rows, cols, w int)

var colAVX512 = &colKernels{width: 16, partial: true, sum: colSumAVX512, prod: colProdAVX512, sqDev: colSqDevAVX512,
	comp: colCompAVX512, compSq: colCompSqAVX512, masked: colMaskedAVX512}

var colAVX2 = &colKernels{width: 8, sum: colSumAVX2, prod: colProdAVX2, sqDev: colSqDevAVX2,
	comp: colCompAVX2, compSq: colCompSqAVX2, masked: colMaskedAVX2}
