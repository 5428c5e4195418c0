package data

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkBatch64MNIST converts 64 MNIST images (28×28×1) to a normalized
// float32 batch, the per-step data cost of training on MNIST.
func BenchmarkBatch64MNIST(b *testing.B) {
	train, _, err := Resolve("mini")
	if err != nil {
		b.Fatal(err)
	}
	norm := ComputeNorm(train)
	idx := NewOrder(train.N, 1).Epoch(0)[:64]
	dst := make([]float32, 64*train.ImageSize())
	lab := make([]int32, 64)
	b.SetBytes(int64(64 * train.ImageSize()))
	for b.Loop() {
		if err := train.Batch(dst, lab, idx, norm); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatchAug64CIFARShape is the same for 32×32×3 images with random
// crop (pad 4) and flip, the usual CIFAR-10 augmentation.
func BenchmarkBatchAug64CIFARShape(b *testing.B) {
	s := &Set{Name: "synthetic", N: 256, H: 32, W: 32, C: 3, Classes: 10}
	s.Pix = seq(s.N * s.ImageSize())
	s.Labels = make([]uint8, s.N)
	norm := ComputeNorm(s)
	idx := NewOrder(s.N, 1).Epoch(0)[:64]
	dst := make([]float32, 64*s.ImageSize())
	rng := rand.New(rand.NewPCG(1, 2))
	b.SetBytes(int64(64 * s.ImageSize()))
	for b.Loop() {
		if err := s.BatchAug(dst, nil, idx, norm, Augment{Pad: 4, Flip: true}, rng); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadMNIST loads (gunzips and checks) all 70000 MNIST images.
func BenchmarkLoadMNIST(b *testing.B) {
	if _, _, err := Resolve("mnist"); err != nil {
		b.Skip(err)
	}
	b.SetBytes(70000 * 28 * 28)
	for b.Loop() {
		if _, _, err := Resolve("mnist"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEpochOrder shuffles the 60000 indices of an MNIST epoch.
func BenchmarkEpochOrder(b *testing.B) {
	o := NewOrder(60000, 1)
	e := 0
	for b.Loop() {
		o.Epoch(e)
		e++
	}
}
