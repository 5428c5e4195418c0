//go:build purego || !(amd64 || arm64)

package qsimd

// archKernels returns no assembly kernels: only the generic code is used.
func archKernels() []*kernel { return nil }
