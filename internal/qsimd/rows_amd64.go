//go:build !purego

package qsimd

// The row-pass kernels (rows_amd64.s); see rowKernels for the arguments.

//go:noescape
func bnApplyAVX512(y, h, x, add, cbeta, mean, invstd, gamma, beta *float32, rows, cols, w, flags int)

//go:noescape
func rowAddAVX512(y, x, add, beta *float32, rows, cols, w int)

//go:noescape
func bnGradDXAVX512(dx, dy, h, y, kk, db, dg *float32, fr float32, rows, cols, w int)

//go:noescape
func maxPool2AVX512(y *float32, arg *int32, x *float32, i0, ow, cols, w, xstep, row int)

//go:noescape
func bnApplyAVX2(y, h, x, add, cbeta, mean, invstd, gamma, beta *float32, rows, cols, w, flags int)

//go:noescape
func rowAddAVX2(y, x, add, beta *float32, rows, cols, w int)

//go:noescape
func bnGradDXAVX2(dx, dy, h, y, kk, db, dg *float32, fr float32, rows, cols, w int)

//go:noescape
func maxPool2AVX2(y *float32, arg *int32, x *float32, i0, ow, cols, w, xstep, row int)

var rowAVX512 = &rowKernels{width: 16, partial: true, bnApply: bnApplyAVX512, rowAdd: rowAddAVX512,
	bnGradDX: bnGradDXAVX512, maxPool2: maxPool2AVX512}

var rowAVX2 = &rowKernels{width: 8, bnApply: bnApplyAVX2, rowAdd: rowAddAVX2,
	bnGradDX: bnGradDXAVX2, maxPool2: maxPool2AVX2}
