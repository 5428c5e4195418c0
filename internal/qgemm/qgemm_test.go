package qgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/cpu"
)

// naive is the definition of the integer GEMM (nn/ref's GemmI): wrapping
// int32 dot products of a [m, k] and b [n, k].
func naive(a, b []int32, m, n, k int) []int32 {
	c := make([]int32, m*n)
	for i := range m {
		for j := range n {
			var s int32
			for p := range k {
				s += a[i*k+p] * b[j*k+p]
			}
			c[i*n+j] = s
		}
	}
	return c
}

// withKernel runs f with k as the active implementation.
func withKernel(k *kernel, f func()) {
	old := active
	active = k
	defer func() { active = old }()
	f()
}

// allKernels returns every implementation of this CPU, generic last,
// then generic-s8 (the specification of the s8·s8 kernels, tested on
// every CPU: the offsets and corrections for an s8 A).
func allKernels(t *testing.T) []*kernel {
	if len(kernels) == 1 {
		t.Log("no assembly kernel on this CPU: generic only")
	}
	return append(kernels[:len(kernels):len(kernels)], genericS8Kernel)
}

// spec returns the generic kernel that reads A as k does: k's
// specification.
func spec(k *kernel) *kernel {
	if k.aSigned {
		return genericS8Kernel
	}
	return genericKernel
}

// aCode returns the code of A that the byte v is for kernel k (u8 or s8).
func aCode(k *kernel, v byte) int32 {
	if k.aSigned {
		return int32(int8(v))
	}
	return int32(v)
}

// aRange returns the codes that packed A holds without an offset for k.
func aRange(k *kernel) (lo, hi int32) {
	if k.aSigned {
		return -128, 127
	}
	return 0, 255
}

func TestKernel(t *testing.T) {
	t.Logf("Kernel() = %s; available: %d; A signed: %v", Kernel(), len(kernels), ASigned())
	if os.Getenv("VKTRAIN_QGEMM") == "generic" && Kernel() != "generic" {
		t.Fatalf("VKTRAIN_QGEMM=generic but Kernel() = %s", Kernel())
	}
	if runtime.GOARCH == "arm64" && cpu.ARM64.HasASIMDDP && os.Getenv("VKTRAIN_QGEMM") == "" && Kernel() != "neon-sdot" && Kernel() != "generic" {
		t.Fatalf("arm64 with dot product: Kernel() = %s", Kernel())
	}
	vnni := cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI
	if runtime.GOARCH == "amd64" && cpu.X86.HasAVX2 && !vnni && os.Getenv("VKTRAIN_QGEMM") == "" && Kernel() != "avx2" && Kernel() != "generic" {
		t.Fatalf("amd64 with AVX2, without AVX-512 VNNI: Kernel() = %s", Kernel())
	}
	if Fast() != (Kernel() != "generic") {
		t.Fatalf("Fast() = %v with Kernel() = %s", Fast(), Kernel())
	}
	for _, k := range allKernels(t) {
		withKernel(k, func() {
			b := []byte{0, 1, 127, 128, 255}
			want := int32(0 + 1 + 127 + 128 + 255)
			if k.aSigned {
				want = 0 + 1 + 127 - 128 - 1
			}
			if got := SumA(b); got != want || ASigned() != k.aSigned {
				t.Fatalf("%s: SumA = %d, want %d", k.name, got, want)
			}
		})
	}
}

// product runs the whole integer GEMM through the packed path: offsets
// from the code ranges, PackA and PackB (B in two halves of its panels),
// Gemm, and the corrections. ok is false when the codes do not fit.
func product(a, b []int32, m, n, k int, guard func(n int) []byte) (c []int32, ok bool) {
	alen, blen := ALen(m, k), BLen(n, k)
	var ab, bb []byte
	if guard != nil {
		ab, bb = guard(alen), guard(blen)
	} else {
		ab, bb = make([]byte, alen), make([]byte, blen)
		for i := range ab {
			ab[i] = 0xa5 // the padding rows may hold anything
		}
	}
	sa := make([]int32, m)
	alo, ahi := PackA(ab, a, m, k, 0, sa)
	nb := (n + 15) / 16
	sb := make([]int32, nb*16)
	blo, bhi := PackB(bb, make([]byte, 1024), b, n, k, 0, 0, nb/2, sb)
	lo2, hi2 := PackB(bb, make([]byte, 1024), b, n, k, 0, nb/2, nb, sb)
	blo, bhi = min(blo, lo2), max(bhi, hi2)
	oa, ob, ok := Offsets(alo, ahi, blo, bhi)
	if !ok {
		return nil, false
	}
	if oa != 0 {
		PackA(ab, a, m, k, oa, nil)
	}
	if ob != 0 {
		PackB(bb, make([]byte, 1024), b, n, k, ob, 0, nb, sb)
	}
	c = make([]int32, m*n)
	for i := range c {
		c[i] = 0x5a5a5a5a
	}
	Gemm(c, n, ab, m, bb, n, k)
	var rt, ct []int32
	if ob != 0 {
		rt = make([]int32, m)
		RowTerms(rt, sa, k, oa, ob)
	}
	if oa != 0 {
		ct = make([]int32, n)
		ColTerms(ct, sb[:n], k, oa, ob)
	}
	Correct(c, n, m, n, rt, ct)
	return c, true
}

// codeRanges are the quantizer's code ranges (quant.Scheme.Range: 8, 4
// and 2 bits, signed and unsigned, the full signed byte) and the
// extremes.
var codeRanges = []struct {
	name   string
	lo, hi int32
}{
	{"u8", 0, 255}, {"s8", -127, 127}, {"s8full", -128, 127},
	{"u4", 0, 15}, {"s4", -7, 7}, {"s4full", -8, 7}, {"u2", 0, 3}, {"s2", -1, 1},
	{"max255", 255, 255}, {"min-128", -128, -128}, {"max127", 127, 127}, {"zero", 0, 0},
}

func fill(rng *rand.Rand, v []int32, lo, hi int32) {
	for i := range v {
		v[i] = lo + int32(rng.Int64N(int64(hi)-int64(lo)+1))
	}
}

func TestGemmAgainstDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {1, 1, 4}, {3, 5, 7}, {16, 16, 25}, {17, 16, 25}, {15, 17, 3},
		{33, 10, 128}, {64, 128, 2304}, {40, 33, 9}, {5, 48, 1029}, {100, 16, 28}, {2, 31, 2}}
	for _, kern := range allKernels(t) {
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			for _, ra := range codeRanges {
				for _, rb := range codeRanges {
					if m*n*k > 1<<16 && (ra.name != "u8" && ra.name != "s8full" || rb.name != "s8" && rb.name != "u8") {
						continue // the large shapes with the main ranges only
					}
					if m*n*k > 1<<20 && spec(kern) == kern && testing.Short() {
						continue // slow under qemu
					}
					a, b := make([]int32, m*k), make([]int32, n*k)
					fill(rng, a, ra.lo, ra.hi)
					fill(rng, b, rb.lo, rb.hi)
					var got []int32
					var ok bool
					withKernel(kern, func() { got, ok = product(a, b, m, n, k, nil) })
					if !ok {
						t.Fatalf("%s %v a %s b %s: codes refused", kern.name, s, ra.name, rb.name)
					}
					want := naive(a, b, m, n, k)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s %v a %s b %s: c[%d] = %d, want %d", kern.name, s, ra.name, rb.name, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestGemmWraps checks sums past int32 (long k of extreme codes): the
// kernel's VPDPBUSD accumulates without saturating, wrapping as Go does.
func TestGemmWraps(t *testing.T) {
	for _, kern := range allKernels(t) {
		for _, c := range []struct{ av, bv int32 }{{255, -128}, {255, 127}, {-128, -128}, {-128, 255}, {127, 255}} {
			m, n, k := 3, 18, 140001
			a, b := make([]int32, m*k), make([]int32, n*k)
			fill(nil2(), a, c.av, c.av)
			fill(nil2(), b, c.bv, c.bv)
			var got []int32
			var ok bool
			withKernel(kern, func() { got, ok = product(a, b, m, n, k, nil) })
			want := naive(a, b, m, n, k)
			if !ok || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
				t.Fatalf("%s %d×%d k=%d: got %v (ok %v), want %d", kern.name, c.av, c.bv, k, got[:1], ok, want[0])
			}
			if int64(want[0]) == int64(c.av)*int64(c.bv)*int64(k) {
				t.Fatalf("%d×%d k=%d does not wrap", c.av, c.bv, k)
			}
		}
	}
}

func nil2() *rand.Rand { return rand.New(rand.NewPCG(0, 0)) }

func TestOffsets(t *testing.T) {
	withKernel(genericKernel, func() { testOffsets(t) })
	withKernel(genericS8Kernel, func() {
		// A read as s8: codes in [0, 255] move by -128, signed ones stay.
		for _, c := range []struct {
			alo, ahi, blo, bhi int32
			oa, ob             int32
			ok                 bool
		}{
			{0, 255, -128, 127, -128, 0, true},
			{-128, 127, -127, 127, 0, 0, true},
			{0, 127, 0, 127, 0, 0, true},
			{-1, 1, 0, 255, 0, -128, true},
			{0, 200, 0, 200, -128, -128, true},
			{-128, 255, 0, 1, 0, 0, false},
			{0, 256, 0, 1, 0, 0, false},
			{math.MaxInt32, math.MinInt32, math.MaxInt32, math.MinInt32, 0, 0, true},
		} {
			oa, ob, ok := Offsets(c.alo, c.ahi, c.blo, c.bhi)
			if ok != c.ok || ok && (oa != c.oa || ob != c.ob) {
				t.Errorf("s8 A: Offsets(%d, %d, %d, %d) = %d, %d, %v; want %d, %d, %v", c.alo, c.ahi, c.blo, c.bhi, oa, ob, ok, c.oa, c.ob, c.ok)
			}
		}
		if _, ok := product([]int32{-1, 200}, []int32{1, 1}, 1, 1, 2, nil); ok {
			t.Error("s8 A: codes -1 and 200 in one operand accepted")
		}
	})
}

func testOffsets(t *testing.T) {
	for _, c := range []struct {
		alo, ahi, blo, bhi int32
		oa, ob             int32
		ok                 bool
	}{
		{0, 255, -128, 127, 0, 0, true},
		{-128, 127, -127, 127, 128, 0, true},
		{-1, 1, 0, 255, 128, -128, true},
		{0, 15, 0, 200, 0, -128, true},
		{-128, 255, 0, 1, 0, 0, false},
		{0, 1, -1, 128, 0, 0, false},
		{0, 256, 0, 1, 0, 0, false},
		{math.MaxInt32, math.MinInt32, math.MaxInt32, math.MinInt32, 0, 0, true},
	} {
		oa, ob, ok := Offsets(c.alo, c.ahi, c.blo, c.bhi)
		if ok != c.ok || ok && (oa != c.oa || ob != c.ob) {
			t.Errorf("Offsets(%d, %d, %d, %d) = %d, %d, %v; want %d, %d, %v", c.alo, c.ahi, c.blo, c.bhi, oa, ob, ok, c.oa, c.ob, c.ok)
		}
	}
	// Mixed codes do not fit and must be refused.
	if _, ok := product([]int32{-1, 200}, []int32{1, 1}, 1, 1, 2, nil); ok {
		t.Error("codes -1 and 200 in one operand accepted")
	}
}

// TestDequantRows holds the assembly dequantization to the generic code
// bit for bit, with and without zero points and bias, every tail length.
func TestDequantRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 7, 15, 16, 17, 31, 32, 33, 128, 130} {
		rows, ldy, ldacc := 5, n+3, n+1
		acc := make([]int32, rows*ldacc)
		for i := range acc {
			acc[i] = int32(rng.Uint32())
			if i%3 == 0 {
				acc[i] = int32(rng.IntN(1<<20) - 1<<19)
			}
		}
		sa := make([]int32, rows)
		fill(rng, sa, -1<<30, 1<<30)
		scale, bias := make([]float32, n), make([]float32, n)
		zb, off := make([]int32, n), make([]int32, n)
		for c := range n {
			scale[c] = float32(math.Ldexp(rng.Float64()+0.5, rng.IntN(60)-40))
			bias[c] = rng.Float32() - 0.5
			zb[c] = int32(rng.IntN(256) - 128)
			off[c] = int32(rng.Uint32())
		}
		bias[0] = float32(math.NaN())
		if n > 1 {
			scale[1] = 3e38 // overflows to ±Inf
		}
		for _, withZB := range []bool{false, true} {
			for _, withBias := range []bool{false, true} {
				z, bs := zb, bias
				if !withZB {
					z = nil
				}
				if !withBias {
					bs = nil
				}
				want := make([]float32, rows*ldy)
				for i := range want {
					want[i] = 42 // outside the rows: not written
				}
				withKernel(genericKernel, func() { DequantRows(want, ldy, acc, ldacc, rows, n, sa, scale, z, off, bs) })
				for _, kern := range allKernels(t) {
					got := make([]float32, rows*ldy)
					for i := range got {
						got[i] = 42
					}
					withKernel(kern, func() { DequantRows(got, ldy, acc, ldacc, rows, n, sa, scale, z, off, bs) })
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s n=%d zb %v bias %v: y[%d] = %v, want %v", kern.name, n, withZB, withBias, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestDequantRowsDefinition checks the generic code against the
// expression of nn/ref's dequantConsts.row.
func TestDequantRowsDefinition(t *testing.T) {
	scale, off, zb, bias := []float32{0.37}, []int32{-5}, []int32{3}, []float32{0.25}
	acc, sa := []int32{1000}, []int32{11}
	y := make([]float32, 1)
	withKernel(genericKernel, func() { DequantRows(y, 1, acc, 1, 1, 1, sa, scale, zb, off, bias) })
	v := acc[0] - zb[0]*sa[0] + off[0]
	if want := float32(scale[0]*float32(v)) + bias[0]; y[0] != want {
		t.Fatalf("got %v, want %v", y[0], want)
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range [][3]int{{36864, 16, 25}, {64, 128, 2304}, {64, 10, 128}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 2))
		a, w := make([]int32, m*k), make([]int32, n*k)
		fill(rng, a, 0, 255)
		fill(rng, w, -127, 127)
		ab, bb := make([]byte, ALen(m, k)), make([]byte, BLen(n, k))
		PackA(ab, a, m, k, 0, nil)
		PackB(bb, make([]byte, 1024), w, n, k, 0, 0, (n+15)/16, nil)
		c := make([]int32, m*n)
		for _, kern := range kernels {
			b.Run(fmt.Sprintf("%s/M%d_N%d_K%d", kern.name, m, n, k), func(b *testing.B) {
				withKernel(kern, func() {
					b.SetBytes(int64(2 * m * n * k))
					for b.Loop() {
						Gemm(c, n, ab, m, bb, n, k)
					}
				})
			})
		}
	}
}

// TestPack holds the assembly packer to the generic one: bytes, range
// and sum, for every tail length and extreme values, and nothing written
// past n.
func TestPack(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 2, 15, 16, 17, 31, 32, 33, 100, 1000} {
		for _, vals := range [][2]int32{{0, 255}, {-128, 127}, {math.MinInt32, math.MaxInt32}, {-5, -5}, {math.MaxInt32, math.MaxInt32}, {math.MinInt32, math.MinInt32}} {
			src := make([]int32, n)
			fill(rng, src, vals[0], vals[1])
			for _, off := range []int32{0, 128, -128} {
				want := make([]byte, n+20)
				wl, wh, ws := packGeneric(want, src, off)
				for _, kern := range allKernels(t) {
					got := make([]byte, n+20)
					for i := range got {
						got[i] = 0xee
					}
					l, h, s := kern.pack(got, src, off)
					if l != wl || h != wh || s != ws {
						t.Fatalf("%s n=%d %v off %d: range %d..%d sum %d, want %d..%d sum %d", kern.name, n, vals, off, l, h, s, wl, wh, ws)
					}
					for i := range n {
						if got[i] != want[i] {
							t.Fatalf("%s n=%d %v off %d: byte %d = %d, want %d", kern.name, n, vals, off, i, got[i], want[i])
						}
					}
					for i := n; i < len(got); i++ {
						if got[i] != 0xee {
							t.Fatalf("%s n=%d: byte %d past n written", kern.name, n, i)
						}
					}
				}
			}
		}
	}
}

// TestGemmOff holds GemmOff to the definition: a convolution of a padded
// byte image (rows: the output positions of one output row, C bytes
// apart) against the naive sums, and arbitrary offset tables against the
// generic kernel.
func TestGemmOff(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct{ h, w, ch, kh, kw, n int }{{28, 28, 1, 5, 5, 16}, {10, 9, 3, 3, 3, 33}, {6, 40, 2, 1, 1, 5}, {7, 20, 5, 2, 4, 16}} {
		span := c.kw * c.ch
		spanP := KPad(span)
		kq := c.kh * spanP / 4
		img := make([]byte, c.h*c.w*c.ch+Rows*c.ch+spanP+64)
		for i := range img {
			img[i] = byte(rng.IntN(256))
		}
		w := make([]int32, c.n*c.kh*span) // [n][kh][kw·C]
		fill(rng, w, -128, 127)
		// The weights with each filter row padded to spanP with zeros.
		wp := make([]int32, c.n*c.kh*spanP)
		for j := range c.n {
			for kh := range c.kh {
				copy(wp[(j*c.kh+kh)*spanP:], w[(j*c.kh+kh)*span:(j*c.kh+kh+1)*span])
			}
		}
		bp := make([]byte, BLen(c.n, 4*kq))
		PackB(bp, make([]byte, 1024), wp, c.n, 4*kq, 0, 0, (c.n+15)/16, nil)
		qoff := make([]int, kq)
		for kh := range c.kh {
			for h := range spanP / 4 {
				qoff[kh*spanP/4+h] = kh*c.w*c.ch + 4*h
			}
		}
		oh, ow := c.h-c.kh+1, c.w-c.kw+1
		for _, kern := range allKernels(t) {
			for oy := range oh {
				got := make([]int32, ow*c.n)
				withKernel(kern, func() { GemmOff(got, c.n, img[oy*c.w*c.ch:], c.ch, ow, qoff, bp, c.n) })
				for ox := range ow {
					for j := range c.n {
						var s int32
						for kh := range c.kh {
							for t := range span {
								s += aCode(kern, img[((oy+kh)*c.w+ox)*c.ch+t]) * w[(j*c.kh+kh)*span+t]
							}
						}
						if got[ox*c.n+j] != s {
							t.Fatalf("%s %+v oy %d ox %d j %d: %d, want %d", kern.name, c, oy, ox, j, got[ox*c.n+j], s)
						}
					}
				}
			}
		}
	}
	// Arbitrary tables and strides, extreme bytes.
	for range 50 {
		rows, n, kq, lda := 1+rng.IntN(40), 1+rng.IntN(40), 1+rng.IntN(20), rng.IntN(7)
		qoff := make([]int, kq)
		for q := range qoff {
			qoff[q] = rng.IntN(100)
		}
		a := make([]byte, ((rows+Rows-1)/Rows*Rows-1)*lda+104)
		for i := range a {
			a[i] = byte(rng.IntN(256))
			if rng.IntN(4) == 0 {
				a[i] = 255
			}
		}
		b := make([]int32, n*4*kq)
		fill(rng, b, -128, 127)
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = -128
			}
		}
		bp := make([]byte, BLen(n, 4*kq))
		PackB(bp, make([]byte, 1024), b, n, 4*kq, 0, 0, (n+15)/16, nil)
		wants := map[*kernel][]int32{}
		for _, g := range []*kernel{genericKernel, genericS8Kernel} {
			want := make([]int32, rows*n)
			withKernel(g, func() { GemmOff(want, n, a, lda, rows, qoff, bp, n) })
			for i := range rows {
				for j := range n {
					var s int32
					for q, o := range qoff {
						for t := range 4 {
							s += aCode(g, a[i*lda+o+t]) * b[j*4*kq+4*q+t]
						}
					}
					if want[i*n+j] != s {
						t.Fatalf("%s GemmOff: [%d,%d] = %d, want %d", g.name, i, j, want[i*n+j], s)
					}
				}
			}
			wants[g] = want
		}
		for _, kern := range allKernels(t) {
			want := wants[spec(kern)]
			got := make([]int32, rows*n+3)
			withKernel(kern, func() { GemmOff(got, n, a, lda, rows, qoff, bp, n) })
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s rows %d n %d kq %d lda %d: [%d] = %d, want %d", kern.name, rows, n, kq, lda, i, got[i], want[i])
				}
			}
			if got[rows*n] != 0 {
				t.Fatalf("%s: wrote past the rows", kern.name)
			}
		}
	}
}

// TestGemmStride runs Gemm and GemmOff with ldc > n: every kernel writes
// the rows × n products and nothing of the gaps (the partial tiles of 4
// rows and 8 columns of the AVX2 kernel go through a scratch tile).
func TestGemmStride(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][3]int{{1, 1, 5}, {3, 7, 8}, {4, 8, 4}, {5, 9, 13}, {16, 16, 16}, {19, 23, 37}, {33, 40, 12}} {
		m, n, k := s[0], s[1], s[2]
		ldc := n + 5
		for _, kern := range allKernels(t) {
			a, b := make([]int32, m*k), make([]int32, n*k)
			lo, hi := aRange(kern)
			fill(rng, a, lo, hi)
			fill(rng, b, -128, 127)
			want := naive(a, b, m, n, k)
			ab, bb := make([]byte, ALen(m, k)), make([]byte, BLen(n, k))
			PackA(ab, a, m, k, 0, nil)
			PackB(bb, make([]byte, 1024), b, n, k, 0, 0, (n+15)/16, nil)
			kp := KPad(k)
			qoff := make([]int, kp/4)
			for q := range qoff {
				qoff[q] = 4 * q
			}
			for _, off := range []bool{false, true} {
				c := make([]int32, m*ldc+3)
				for i := range c {
					c[i] = 0x5a5a5a5a
				}
				withKernel(kern, func() {
					if off {
						GemmOff(c, ldc, ab, kp, m, qoff, bb, n)
					} else {
						Gemm(c, ldc, ab, m, bb, n, k)
					}
				})
				for i := range m {
					for j := range ldc {
						w := int32(0x5a5a5a5a)
						if j < n {
							w = want[i*n+j]
						}
						if c[i*ldc+j] != w {
							t.Fatalf("%s %v off %v: c[%d,%d] = %#x, want %#x", kern.name, s, off, i, j, c[i*ldc+j], w)
						}
					}
				}
				for _, v := range c[m*ldc:] {
					if v != 0x5a5a5a5a {
						t.Fatalf("%s %v off %v: written past the last row", kern.name, s, off)
					}
				}
			}
		}
	}
}
