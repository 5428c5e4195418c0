package quant

import (
	"math/rand/v2"
	"testing"
)

func benchData(n int) []float32 {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func BenchmarkQuantize(b *testing.B) {
	x := benchData(1 << 16)
	q := make([]int32, len(x))
	s := Activations(8)
	p := FromMinMax(-3, 3, s)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		Quantize(q, x, p, s)
	}
}

func BenchmarkFakeQuantize(b *testing.B) {
	x := benchData(1 << 16)
	y := make([]float32, len(x))
	s := Weights(8)
	p := FromMinMax(-3, 3, s)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		FakeQuantize(y, x, p, s)
	}
}

func BenchmarkPack4(b *testing.B) {
	q := make([]int32, 1<<16)
	for i := range q {
		q[i] = int32(i%255 - 127)
	}
	w := make([]uint32, PackedLen(len(q), 256))
	b.SetBytes(int64(4 * len(q)))
	for b.Loop() {
		Pack4(w, q, 256)
	}
}

func BenchmarkUnpack4(b *testing.B) {
	q := make([]int32, 1<<16)
	w := make([]uint32, PackedLen(len(q), 256))
	b.SetBytes(int64(4 * len(q)))
	for b.Loop() {
		Unpack4(q, w, 256, true)
	}
}

func BenchmarkGrad(b *testing.B) {
	x := benchData(1 << 16)
	g := benchData(1 << 16)
	dx := make([]float32, len(x))
	s := Weights(8)
	p := FromMinMax(-2, 2, s)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		Grad(dx, x, g, p, s)
	}
}

func BenchmarkCalibrateMSE(b *testing.B) {
	x := benchData(1 << 16)
	s := Weights(8)
	for b.Loop() {
		if _, err := Calibrate(x, s, MethodMSE); err != nil {
			b.Fatal(err)
		}
	}
}
