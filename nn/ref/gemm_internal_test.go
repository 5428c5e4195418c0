package ref

import (
	"math/rand/v2"
	"testing"
)

// naiveGemmI is the definition of GemmI: wrapping int32 dot products.
func naiveGemmI(a, b []int32, m, n, k int) []int32 {
	acc := make([]int32, m*n)
	for i := range m {
		for j := range n {
			var s int32
			for l := range k {
				s += a[i*k+l] * b[j*k+l]
			}
			acc[i*n+j] = s
		}
	}
	return acc
}

// TestGemmIPaths checks both GemmI kernels (int32 blocks and exact float
// chunks) and the fallback for values too large for float chunks against
// the naive definition, including wrapping.
func TestGemmIPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		m, n, k int
		lo, hi  int32
	}{
		{5, 3, 70, -128, 255},
		{7, 9, 1000, -128, 255},
		{3, 2, 300, 255, 255},
		{9, 5, 200, -1 << 20, 1 << 20}, // too large for float chunks: int kernel
		{4, 4, 100, -1 << 31, 1<<31 - 1},
		{6, 3, 40000, 200, 255}, // wraps
	}
	for _, c := range cases {
		a, bm := make([]int32, c.m*c.k), make([]int32, c.n*c.k)
		for i := range a {
			a[i] = c.lo + int32(rng.Int64N(int64(c.hi)-int64(c.lo)+1))
		}
		for i := range bm {
			bm[i] = c.lo + int32(rng.Int64N(int64(c.hi)-int64(c.lo)+1))
		}
		want := naiveGemmI(a, bm, c.m, c.n, c.k)
		for _, threads := range []int{1, 2, 3} {
			b, err := NewWithOptions(Options{Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]int32, c.m*c.n)
			gemmI(got, a, bm, c.n, c.k, 0, c.m)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%+v: int kernel [%d] = %d, want %d", c, i, got[i], want[i])
				}
			}
			ma, mb := maxAbs(a), maxAbs(bm)
			clear(got)
			b.gemmI32(got, a, bm, c.m, c.n, c.k, ma, mb)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%+v threads %d: GemmI [%d] = %d, want %d", c, threads, i, got[i], want[i])
				}
			}
			if _, float := floatChunk(ma, mb, c.k); !float && int64(c.hi)-int64(c.lo) < 1<<12 {
				t.Fatalf("%+v: float kernel refused 8-bit codes", c)
			}
		}
	}
}
