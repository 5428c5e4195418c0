package vk_test

import (
	"testing"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
	"github.com/vktrain/vktrain/nn/vk"
)

// stepAllocs returns the heap allocations of a steady-state training step
// (int8, batch 16, a convolution with compensation and batch norm and two
// fully connected layers) on be, after warm-up steps.
func stepAllocs(t *testing.T, be backend.Backend) float64 {
	t.Helper()
	train, _, err := data.Resolve("mini")
	if err != nil {
		t.Fatal(err)
	}
	norm := data.ComputeNorm(train)
	layers, err := nn.ParseLayers("conv:8:5,comp,bn,relu,pool:2,fc:32,comp,relu,fc:10,comp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build([]int{28, 28, 1}, layers, 10, nn.Options{Quant: nn.QuantConfig{Bits: 8}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := nn.NewTrainer(m, be, nn.TrainConfig{LR: 0.01, Momentum: 0.9, Threshold: 1, CompL2: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	const batch = 16
	x := make([]float32, batch*784)
	lab := make([]int32, batch)
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i
	}
	if err := train.Batch(x, lab, idx, norm); err != nil {
		t.Fatal(err)
	}
	for range 3 { // calibration, pipelines, workspaces
		if _, err := tr.TrainStep(x, lab); err != nil {
			t.Fatal(err)
		}
	}
	var stepErr error
	n := testing.AllocsPerRun(5, func() {
		if _, err := tr.TrainStep(x, lab); err != nil && stepErr == nil {
			stepErr = err
		}
	})
	if stepErr != nil {
		t.Fatal(stepErr)
	}
	return n
}

// TestTrainStepAllocs checks that a steady-state training step on the
// Vulkan backend allocates no more than the same step on the reference
// backend: the Vulkan backend adds no allocations to those of package nn
// (TestStepAllocs checks the backend's own work alone).
func TestTrainStepAllocs(t *testing.T) {
	vb, err := vk.New(gputest.Open(t), vk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer vb.Close()
	onVK := stepAllocs(t, vb)
	rb := ref.New()
	defer rb.Close()
	onRef := stepAllocs(t, rb)
	t.Logf("allocations per step: %v on %s, %v on %s", onVK, vb.Name(), onRef, rb.Name())
	if onVK > onRef {
		t.Errorf("a training step allocates %v times on Vulkan, %v on the reference backend; want no more", onVK, onRef)
	}
}
