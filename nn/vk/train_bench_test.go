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

// BenchmarkTrainStep times one training step of the default network
// (int8, batch 64) on the reference backend and on Vulkan side by side,
// with allocations per step:
//
//	go test -run - -bench TrainStep -benchmem ./nn/vk/
func BenchmarkTrainStep(b *testing.B) {
	b.Run("cpu", func(b *testing.B) { benchTrainStep(b, ref.New()) })
	b.Run("vulkan", func(b *testing.B) {
		vb, err := vk.New(gputest.OpenBench(b), vk.Options{})
		if err != nil {
			b.Fatal(err)
		}
		benchTrainStep(b, vb)
	})
}

func benchTrainStep(b *testing.B, be backend.Backend) {
	defer be.Close()
	train, _, err := data.Resolve("mini")
	if err != nil {
		b.Fatal(err)
	}
	norm := data.ComputeNorm(train)
	layers, err := nn.ParseLayers(nn.DefaultSpec)
	if err != nil {
		b.Fatal(err)
	}
	m, err := nn.Build([]int{28, 28, 1}, layers, 10, nn.Options{Quant: nn.QuantConfig{Bits: 8}, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := nn.NewTrainer(m, be, nn.TrainConfig{LR: 0.01, Momentum: 0.9, Threshold: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	x := make([]float32, 64*784)
	lab := make([]int32, 64)
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = i
	}
	if err := train.Batch(x, lab, idx, norm); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 3; i++ { // calibration, pipelines, workspaces
		if _, err := tr.TrainStep(x, lab); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.TrainStep(x, lab); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "img/s")
}
