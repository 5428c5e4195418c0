package vk

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// benchDevice opens the best device without validation (which would
// distort timings), skipping when there is no Vulkan.
func benchDevice(b *testing.B) *gpu.Device {
	b.Helper()
	d, err := gpu.Open(gpu.Options{DeviceIndex: -1})
	if errors.Is(err, gpu.ErrNoVulkan) || errors.Is(err, gpu.ErrNoDevice) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// gemmIShapes are the benchmark shapes: the first convolution of a small
// CNN over a 208x208 image (M = 43264 rows, K = 9, N = 32) and a deep one
// (M = 64, K = 5408, N = 128).
var gemmIShapes = [][3]int{{43264, 9, 32}, {64, 5408, 128}}

func benchGemmI(b *testing.B, bk backend.Backend, m, k, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	av, bv := make([]int32, m*k), make([]int32, n*k)
	for i := range av {
		av[i] = int32(rng.IntN(256))
	}
	for i := range bv {
		bv[i] = int32(rng.IntN(255)) - 127
	}
	mk := func(dt backend.DType, v []int32, shape ...int) backend.Tensor {
		t, err := bk.New(dt, shape...)
		if err != nil {
			b.Fatal(err)
		}
		if v != nil {
			if err := bk.WriteI32(t, v); err != nil {
				b.Fatal(err)
			}
		}
		return t
	}
	a, w, acc := mk(backend.Q8, av, m, k), mk(backend.Q8, bv, n, k), mk(backend.I32, nil, m, n)
	bk.GemmI(acc, a, w) // warm up: lavapipe compiles at the first dispatch
	if err := bk.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		bk.GemmI(acc, a, w)
		if err := bk.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
}

// BenchmarkGemmI times GemmI (recording, submit and wait) per variant,
// with and without the shared-memory tiles, and the reference backend.
func BenchmarkGemmI(b *testing.B) {
	dev := benchDevice(b)
	for _, sh := range gemmIShapes {
		m, k, n := sh[0], sh[1], sh[2]
		b.Run(fmt.Sprintf("%dx%dx%d/ref", m, k, n), func(b *testing.B) { benchGemmI(b, ref.New(), m, k, n) })
		for _, v := range Variants(dev) {
			for _, tiled := range []bool{false, true} {
				name := v
				if tiled {
					if v == VariantInt8 {
						continue
					}
					name += "-tiled"
				}
				b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, name), func(b *testing.B) {
					bk, err := New(dev, Options{Variant: v})
					if err != nil {
						b.Fatal(err)
					}
					defer bk.Close()
					bk.tune.tiled = tiled
					benchGemmI(b, bk, m, k, n)
				})
			}
		}
	}
}
