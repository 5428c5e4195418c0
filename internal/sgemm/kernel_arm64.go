//go:build !purego

package sgemm

// kernel8x8NEON is the NEON micro-kernel for an 8×8 tile (see microKernel;
// strides in elements, rsa must be 1).
//
//go:noescape
func kernel8x8NEON(k int, a *float32, rsa, csa int, b *float32, c *float32, ldc int, alpha, beta float32)

func kernelNEON(k int, a []float32, rsa, csa int, b []float32, c []float32, ldc int, alpha, beta float32) {
	kernel8x8NEON(k, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, beta)
}

// archKernels: every arm64 CPU has Advanced SIMD (NEON).
func archKernels() []*kernel {
	return []*kernel{{name: "neon", mr: 8, nr: 8, fn: kernelNEON}}
}
