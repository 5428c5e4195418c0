//go:build purego || !(amd64 || arm64)

package qgemm

// archKernels returns no assembly kernels: only the generic one is built.
func archKernels() []*kernel { return nil }
