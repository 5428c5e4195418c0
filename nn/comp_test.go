package nn

import (
	"math"
	"testing"

	"github.com/vktrain/vktrain/nn/ref"
)

// TestCompensationBeforeBatchNormGetsNoGradient documents the finding of
// METHOD.md: a per-channel constant (γ·E + β) added just before a
// batch-statistics normalisation is removed by it, so in training the
// compensation parameters of conv → comp → bn receive a zero gradient
// (up to float rounding), while the compensation after the last fully
// connected layer, with no normalisation behind it, does learn.
func TestCompensationBeforeBatchNormGetsNoGradient(t *testing.T) {
	train, _, norm := loadMini(t)
	m, err := Build([]int{28, 28, 1}, mustLayers(t, "conv:8:3,comp,bn,relu,pool:2,fc:10,comp"), 10, Options{Quant: QuantConfig{Bits: 8}, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, ref.New(), TrainConfig{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	// Make γ non-zero so that E matters too.
	for _, l := range m.Layers {
		if c, ok := l.(*Compensation); ok {
			for i := range c.Gamma.Data {
				c.Gamma.Data[i] = 0.3
			}
			if err := c.Gamma.upload(tr.b); err != nil {
				t.Fatal(err)
			}
		}
	}
	idx := make([]int, 32)
	for i := range idx {
		idx[i] = i
	}
	x := make([]float32, 32*28*28)
	lab := make([]int32, 32)
	if err := (setBatcher{train, norm}).Batch(x, lab, idx); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.TrainStep(x, lab); err != nil {
		t.Fatal(err)
	}
	maxAbs := func(v []float32) float64 {
		m := 0.0
		for _, x := range v {
			m = math.Max(m, math.Abs(float64(x)))
		}
		return m
	}
	comp1 := m.Layers[1].(*Compensation)
	comp2 := m.Layers[len(m.Layers)-1].(*Compensation)
	// Grad holds the thresholded gradient including the L2 term (λ = 0 here).
	if g := math.Max(maxAbs(comp1.Gamma.Grad), maxAbs(comp1.Beta.Grad)); g > 1e-5 {
		t.Errorf("comp before bn: gradient %g, want ~0", g)
	}
	if g := maxAbs(comp2.Beta.Grad); g < 1e-4 {
		t.Errorf("comp after the last fc: gradient %g, want a real gradient", g)
	}
}
