//go:build !purego

package qsimd

// The optimizer kernels (optim_amd64.s); see optimKernels for the
// arguments.

//go:noescape
func clipAVX512(gr *float32, n int, tau, ntau float32) int

//go:noescape
func sgdMomentumAVX512(data, mom, grad *float32, n int, wd, m, lr float32)

//go:noescape
func clipAVX2(gr *float32, n int, tau, ntau float32) int

//go:noescape
func sgdMomentumAVX2(data, mom, grad *float32, n int, wd, m, lr float32)

var optimAVX512 = &optimKernels{width: 16, partial: true, clip: clipAVX512, sgdMomentum: sgdMomentumAVX512}

var optimAVX2 = &optimKernels{width: 8, clip: clipAVX2, sgdMomentum: sgdMomentumAVX2}
