package qgemm

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// guardPages returns a function that hands out byte slices of a given
// length ending where an inaccessible page begins (each from its own
// mapping), and the cleanup: a kernel that read past the last byte of
// packed A or B, or past the last element of a row it dequantizes, would
// fault.
func guardPages(t *testing.T) (func(n int) []byte, func()) {
	page := syscall.Getpagesize()
	var maps [][]byte
	get := func(n int) []byte {
		size := (n+page-1)/page*page + page
		mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			t.Skip("mmap:", err)
		}
		maps = append(maps, mem)
		if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
			t.Skip("mprotect:", err)
		}
		return mem[size-page-n : size-page]
	}
	return get, func() {
		for _, m := range maps {
			syscall.Munmap(m)
		}
	}
}

func TestGemmPageEnd(t *testing.T) {
	get, done := guardPages(t)
	defer done()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range [][3]int{{1, 1, 1}, {16, 16, 4}, {17, 5, 25}, {3, 33, 130}, {32, 16, 28}} {
		m, n, k := s[0], s[1], s[2]
		for _, kern := range allKernels(t) {
			// The codes of A in the kernel's type (no offset): packed as
			// they are for the direct Gemm below.
			a, b := make([]int32, m*k), make([]int32, n*k)
			lo, hi := aRange(kern)
			fill(rng, a, lo, hi)
			fill(rng, b, -128, 127)
			want := naive(a, b, m, n, k)
			var got []int32
			withKernel(kern, func() { got, _ = product(a, b, m, n, k, get) })
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s %v: c[%d] = %d, want %d", kern.name, s, i, got[i], want[i])
				}
			}
			// c itself ending at the guard page: the masked stores of the
			// last panel write only its n%16 columns.
			c := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(get(4*m*n)))), m*n)
			ab, bb := get(ALen(m, k)), get(BLen(n, k))
			PackA(ab, a, m, k, 0, nil)
			PackB(bb, make([]byte, 1024), b, n, k, 0, 0, (n+15)/16, nil)
			withKernel(kern, func() { Gemm(c, n, ab, m, bb, n, k) })
			for i := range want {
				if c[i] != want[i] {
					t.Fatalf("%s %v (c at the page end): c[%d] = %d, want %d", kern.name, s, i, c[i], want[i])
				}
			}
		}
	}
}

func TestDequantRowsPageEnd(t *testing.T) {
	get, done := guardPages(t)
	defer done()
	f32 := func(n int) []float32 { return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(get(4*n)))), n) }
	i32 := func(n int) []int32 { return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(get(4*n)))), n) }
	for _, n := range []int{1, 5, 16, 21} {
		rows := 3
		y, acc, sa := f32(rows*n), i32(rows*n), i32(rows)
		scale, bias, zb, off := f32(n), f32(n), i32(n), i32(n)
		for i := range acc {
			acc[i] = int32(i*7919 - 1000)
		}
		for c := range n {
			scale[c], bias[c], zb[c], off[c] = 0.5+float32(c), float32(c)/3, int32(c-2), int32(3*c)
		}
		for i := range sa {
			sa[i] = int32(i + 1)
		}
		want := make([]float32, rows*n)
		withKernel(genericKernel, func() { DequantRows(want, n, acc, n, rows, n, sa, scale, zb, off, bias) })
		for _, kern := range allKernels(t) {
			withKernel(kern, func() { DequantRows(y, n, acc, n, rows, n, sa, scale, zb, off, bias) })
			for i := range want {
				if y[i] != want[i] {
					t.Fatalf("%s n=%d: y[%d] = %v, want %v", kern.name, n, i, y[i], want[i])
				}
			}
		}
	}
}

// TestPackPageEnd packs sources and destinations that end at a guard page.
func TestPackPageEnd(t *testing.T) {
	get, done := guardPages(t)
	defer done()
	for _, n := range []int{1, 7, 16, 23, 64} {
		src := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(get(4*n)))), n)
		for i := range src {
			src[i] = int32(i*37 - 100)
		}
		dst := get(n)
		want := make([]byte, n)
		wl, wh, ws := packGeneric(want, src, 3)
		for _, kern := range allKernels(t) {
			l, h, s := kern.pack(dst, src, 3)
			if l != wl || h != wh || s != ws || string(dst) != string(want) {
				t.Fatalf("%s n=%d: wrong pack", kern.name, n)
			}
		}
	}
}

// TestGemmOffPageEnd runs GemmOff on bytes that end at a guard page right
// after the last group of the last row of the last tile.
func TestGemmOffPageEnd(t *testing.T) {
	get, done := guardPages(t)
	defer done()
	rng := rand.New(rand.NewPCG(15, 16))
	for _, s := range [][4]int{{16, 16, 10, 1}, {24, 16, 10, 1}, {5, 3, 7, 3}, {17, 20, 2, 0}} {
		rows, n, kq, lda := s[0], s[1], s[2], s[3]
		qoff := make([]int, kq)
		for q := range qoff {
			qoff[q] = rng.IntN(50)
		}
		qoff[kq-1] = 50
		a := get(((rows+Rows-1)/Rows*Rows-1)*lda + 54)
		for i := range a {
			a[i] = byte(rng.IntN(256))
		}
		b := make([]int32, n*4*kq)
		fill(rng, b, -128, 127)
		bp := get(BLen(n, 4*kq))
		PackB(bp, make([]byte, 1024), b, n, 4*kq, 0, 0, (n+15)/16, nil)
		for _, kern := range allKernels(t) {
			want := make([]int32, rows*n)
			withKernel(spec(kern), func() { GemmOff(want, n, a, lda, rows, qoff, bp, n) })
			got := make([]int32, rows*n)
			withKernel(kern, func() { GemmOff(got, n, a, lda, rows, qoff, bp, n) })
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s %v: [%d] = %d, want %d", kern.name, s, i, got[i], want[i])
				}
			}
		}
	}
}
