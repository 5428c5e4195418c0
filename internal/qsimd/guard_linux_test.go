package qsimd

import (
	"syscall"
	"testing"
	"unsafe"
)

// guardedFloats returns a page of float32 followed by an inaccessible page
// (mapped for the test's duration): a kernel that loads or stores past
// the end of a slice ending at the page's end faults. It skips the test
// where the mapping cannot be made.
func guardedFloats(t *testing.T) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip("mmap:", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Skip("mprotect:", err)
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), page/4)
}

// atPageEnd returns a copy of v in all (from guardedFloats) that ends
// where the guard page begins.
func atPageEnd(all, v []float32) []float32 {
	s := all[len(all)-len(v):]
	copy(s, v)
	return s
}
