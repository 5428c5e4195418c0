package ref_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// gemmShapes are the forward GEMMs of a small CNN: a 3x3 conv over a
// batch of 64 26x26 maps (M=43264, K=9, N=32) and a dense layer
// (M=64, K=5408, N=128).
var gemmShapes = [][3]int{{43264, 9, 32}, {64, 5408, 128}}

func BenchmarkGemmI(b *testing.B) {
	for _, s := range gemmShapes {
		m, k, n := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("M%d_K%d_N%d", m, k, n), func(b *testing.B) {
			be := ref.New()
			rng := rand.New(rand.NewPCG(1, 2))
			a, w, acc := mustNew(b, be, backend.I32, m, k), mustNew(b, be, backend.I32, n, k), mustNew(b, be, backend.I32, m, n)
			av, wv := make([]int32, m*k), make([]int32, n*k)
			for i := range av {
				av[i] = int32(rng.IntN(256))
			}
			for i := range wv {
				wv[i] = int32(rng.IntN(255) - 127)
			}
			if be.WriteI32(a, av) != nil || be.WriteI32(w, wv) != nil {
				b.Fatal("write failed")
			}
			b.SetBytes(int64(2 * m * n * k)) // "bytes" = integer ops
			b.ResetTimer()
			for range b.N {
				be.GemmI(acc, a, w)
			}
			if err := be.Sync(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range gemmShapes {
		m, k, n := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("M%d_K%d_N%d", m, k, n), func(b *testing.B) {
			be := ref.New()
			rng := rand.New(rand.NewPCG(1, 2))
			a, w, c := mustNew(b, be, backend.F32, m, k), mustNew(b, be, backend.F32, n, k), mustNew(b, be, backend.F32, m, n)
			av, wv := make([]float32, m*k), make([]float32, n*k)
			for i := range av {
				av[i] = rng.Float32()
			}
			for i := range wv {
				wv[i] = rng.Float32() - 0.5
			}
			if be.WriteF32(a, av) != nil || be.WriteF32(w, wv) != nil {
				b.Fatal("write failed")
			}
			b.SetBytes(int64(2 * m * n * k)) // "bytes" = flops
			b.ResetTimer()
			for range b.N {
				be.Gemm(c, a, w, false, true, 1, 0)
			}
			if err := be.Sync(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func mustNew(b *testing.B, be *ref.Backend, dt backend.DType, shape ...int) backend.Tensor {
	t, err := be.New(dt, shape...)
	if err != nil {
		b.Fatal(err)
	}
	return t
}
