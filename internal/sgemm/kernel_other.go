//go:build purego || !(amd64 || arm64)

package sgemm

// archKernels returns no assembly kernels: only the generic one is used.
func archKernels() []*kernel { return nil }
