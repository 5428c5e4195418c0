package sgemm

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// guarded returns a slice of n float32 whose last element is the last word
// of a mapped page followed by an inaccessible page: reading past its end
// faults.
func guarded(t *testing.T, n int) []float32 {
	t.Helper()
	page := unix.Getpagesize()
	size := (n*4+page-1)/page*page + page
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	if err := unix.Mprotect(mem[size-page:], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	end := size - page
	return unsafe.Slice((*float32)(unsafe.Pointer(&mem[end-n*4])), n)
}

// TestNoOverread puts A, B and C right before an inaccessible page: no kernel
// or packing routine may read past the end of an operand.
func TestNoOverread(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	var ctx Context
	shapes := []shape{{1, 1, 1, false, false}, {7, 9, 11, false, false}, {13, 25, 37, false, false}, {16, 25, 300, false, false}, {5, 33, 3, false, false}, {64, 10, 128, false, false}}
	for _, s0 := range shapes {
		for tr := 0; tr < 4; tr++ {
			s := s0
			s.transA, s.transB = tr&1 != 0, tr&2 != 0
			p := newProblem(rng, s, 1, 0, false, uniform(rng))
			a, b := guarded(t, len(p.a)), guarded(t, len(p.b))
			copy(a, p.a)
			copy(b, p.b)
			n := len(p.c) - guardLen
			var want []float32
			for _, k := range testKernels() {
				c := guarded(t, n)
				ctx.sgemm(k, s.transA, s.transB, s.m, s.n, s.k, 1, a, p.lda, b, p.ldb, 0, c, p.ldc)
				if want == nil {
					want = append([]float32(nil), c...)
					continue
				}
				for i := range c {
					if d := c[i] - want[i]; d > 1e-4 || d < -1e-4 {
						t.Fatalf("%s: %v: C[%d] = %g, want %g", k.name, s, i, c[i], want[i])
					}
				}
			}
		}
	}
}
