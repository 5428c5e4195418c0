package ref

import (
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/internal/qsimd"
)

func BenchmarkReLURows(b *testing.B) {
	y := make([]float32, 64*24*24*16)
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, len(y))
	for i := range src {
		src[i] = float32(r.NormFloat64())
	}
	b.SetBytes(int64(4 * len(y)))
	b.ResetTimer()
	for range b.N {
		copy(y, src)
		for i := 0; i < len(y); i += 16 {
			reluRow(y[i : i+16])
		}
	}
}

// positive reports v > 0 from its bits: the bits of the values above 0,
// up to +Inf, are 1..0x7f800000; zeros, negatives and NaNs fall outside.
func positive(u uint32) bool { return u-1 < 0x7f800000 }

// TestPositiveMask holds the branch-free mask (qsimd.PositiveMask, which
// relu, ReLUGrad and the batch norm's backward use) to positive on the
// boundaries (±0, the smallest subnormal, MaxFloat32, ±Inf, NaNs of both
// signs) and on random bit patterns.
func TestPositiveMask(t *testing.T) {
	us := []uint32{0, 1, 2, 0x007fffff, 0x00800000, 0x3f800000, 0x7f7fffff, 0x7f800000, 0x7f800001, 0x7fc00000,
		0x7fffffff, 0x80000000, 0x80000001, 0xbf800000, 0xff800000, 0xff800001, 0xffc00000, 0xffffffff}
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		us = append(us, r.Uint32())
	}
	for _, u := range us {
		want := uint32(0)
		if positive(u) {
			want = 0xffffffff
		}
		if got := qsimd.PositiveMask(u); got != want {
			t.Fatalf("PositiveMask(%#08x) = %#08x, want %#08x", u, got, want)
		}
	}
}
