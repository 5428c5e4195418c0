// Tests and benchmarks of the host side of a training step: the weight
// statistics, the update and the gradient check.
package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/quant"
)

func BenchmarkWeightRefScales(b *testing.B) {
	q := newQuantizer("w", quant.Weights(8), QuantLearned, quant.MethodMinMax, 128, true, 0.9)
	w := make([]float32, 128*2304)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range w {
		w[i] = float32(r.NormFloat64() * 0.05)
	}
	b.ResetTimer()
	for range b.N {
		q.weightRefScales(w)
	}
}

func BenchmarkSGDStep(b *testing.B) {
	p := newParam("w", KindWeight, 128*2304)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range p.Data {
		p.Data[i] = float32(r.NormFloat64() * 0.05)
		p.Grad[i] = float32(r.NormFloat64() * 0.01)
	}
	o := SGD{LR: 0.01, Momentum: 0.9}
	b.ResetTimer()
	for range b.N {
		o.Step([]*Param{p})
	}
}

// TestFirstNonFinite checks the gradient check of a training step: the
// first NaN or ±Inf anywhere (in the vector kernel's part and in its
// tail), -1 for finite values including ±0, subnormals and ±MaxFloat32.
func TestFirstNonFinite(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 31, 64, 1000} {
		g := make([]float32, n)
		for i := range g {
			g[i] = float32(i%7) - 3
		}
		if n > 2 {
			g[1], g[2] = math.Float32frombits(1), -math.MaxFloat32
		}
		if got := firstNonFinite(g); got != -1 {
			t.Fatalf("n=%d finite: %d", n, got)
		}
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			for _, at := range []int{0, n / 2, n - 1} {
				if n == 0 {
					continue
				}
				h := append([]float32(nil), g...)
				h[at] = bad
				if at+1 < n {
					h[n-1] = bad
				}
				if got := firstNonFinite(h); got != at {
					t.Errorf("n=%d %v at %d: got %d", n, bad, at, got)
				}
			}
		}
	}
}
