package quant

import (
	"math"
	"testing"
)

// TestRoundMatchesMathRound holds the fast Round to math.Round on every
// float32 of a stride through all bit patterns and on the values around
// every half-integer tie up to 2^24 in magnitude, where rounding errors
// would show.
func TestRoundMatchesMathRound(t *testing.T) {
	check := func(v float32) {
		t.Helper()
		got, want := Round(v), math.Round(float64(v))
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("Round(%v) (bits %#08x) = %v, math.Round = %v", v, math.Float32bits(v), got, want)
		}
	}
	for u := uint64(0); u < 1<<32; u += 509 {
		check(math.Float32frombits(uint32(u)))
	}
	for _, v := range []float32{0, float32(math.Copysign(0, -1)), 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999997, -0.49999997,
		1 << 23, 1<<23 + 1, 1 << 24, 1<<24 + 2, math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.SmallestNonzeroFloat32} {
		check(v)
	}
	for k := float32(0); k < 1<<24; k += 4093 {
		for _, h := range []float32{k + 0.5, -(k + 0.5)} {
			check(h)
			check(math.Nextafter32(h, 0))
			check(math.Nextafter32(h, float32(math.Inf(int(h)))))
		}
	}
}
