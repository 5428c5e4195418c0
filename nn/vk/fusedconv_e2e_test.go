package vk_test

import (
	"math"
	"slices"
	"testing"

	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn"
	"github.com/vktrain/vktrain/nn/vk"
)

// TestFusedConvTrainsLikeComposed trains the same nets on Vulkan with the
// fused convolution ops (backend.FusedConv) and, Unfused, with the
// composed ones: the forward ops agree bit for bit and the gradients
// within float tolerances, so the losses and parameters must stay within
// the end-to-end tolerances of TestTrainMatchesReference.
func TestFusedConvTrainsLikeComposed(t *testing.T) {
	for _, spec := range []string{
		"conv:16:5,comp,bn,relu,pool:2,fc:16,comp,relu,fc:10,comp",
		"conv:6:3:2:1,relu,conv:8:3:1:1,comp,relu,gap,fc:10,comp",
	} {
		t.Run(spec, func(t *testing.T) {
			dev := gputest.Open(t)
			run := func(unfused bool) ([]float64, *nn.Model) {
				layers, err := nn.ParseLayers(spec)
				if err != nil {
					t.Fatal(err)
				}
				m, err := nn.Build([]int{12, 12, 1}, layers, 10, nn.Options{Quant: nn.QuantConfig{Bits: 8}, Seed: 5})
				if err != nil {
					t.Fatal(err)
				}
				m.Unfused = unfused
				b, err := vk.New(dev, vk.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { b.Close() })
				tr, err := nn.NewTrainer(m, b, nn.TrainConfig{LR: 0.05, Momentum: 0.9, Threshold: 1})
				if err != nil {
					t.Fatal(err)
				}
				if got := m.Fused(); unfused == slices.Contains(got, "conv1") {
					t.Fatalf("unfused %v: fused layers %v", unfused, got)
				}
				x := make([]float32, 16*144)
				lab := make([]int32, 16)
				for i := range x {
					x[i] = float32(math.Sin(float64(i) * 0.37))
				}
				for i := range lab {
					lab[i] = int32(i % 10)
				}
				var losses []float64
				for range e2eSteps {
					st, err := tr.TrainStep(x, lab)
					if err != nil {
						t.Fatal(err)
					}
					losses = append(losses, st.Loss)
				}
				if err := m.SyncBuffers(); err != nil {
					t.Fatal(err)
				}
				return losses, m
			}
			lf, mf := run(false)
			lu, mu := run(true)
			for i := range lf {
				if math.Abs(lf[i]-lu[i]) > e2eLossTol*math.Abs(lu[i]) {
					t.Errorf("step %d: loss fused %v, composed %v", i, lf[i], lu[i])
				}
			}
			pf, pu := mf.Params(), mu.Params()
			for i := range pf {
				scale := 0.0
				for _, v := range pu[i].Data {
					scale = max(scale, math.Abs(float64(v)))
				}
				for j := range pf[i].Data {
					if d := math.Abs(float64(pf[i].Data[j] - pu[i].Data[j])); d > e2eParamTol*(1+scale) {
						t.Fatalf("%s[%d]: fused %v, composed %v", pf[i].Name, j, pf[i].Data[j], pu[i].Data[j])
					}
				}
			}
		})
	}
}
