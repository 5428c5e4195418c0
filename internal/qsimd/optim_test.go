package qsimd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// optimScalars are the thresholds, weight decays, momenta and learning
// rates the optimizer passes are tested with: the specials and some
// ordinary values.
func optimScalar(rng *rand.Rand) float32 {
	if rng.IntN(3) == 0 {
		return specials[rng.IntN(len(specials))]
	}
	return float32(rng.NormFloat64() * []float64{1e-4, 1e-2, 1, 100}[rng.IntN(4)])
}

// optimValues returns n values for the optimizer passes: colValues' mix
// (specials at rate p), sometimes with values near ±tau.
func optimValues(rng *rand.Rand, n int, p float64, tau float32) []float32 {
	x := colValues(rng, n, p)
	if rng.IntN(2) == 0 {
		for i := range x {
			if rng.IntN(3) == 0 {
				v := math.Float32bits(tau) + uint32(rng.IntN(5)) - 2
				x[i] = f32(v ^ uint32(rng.IntN(2))<<31)
			}
		}
	}
	return x
}

// TestClip compares Clip on every kernel with the generic code on random
// lengths, offsets and thresholds (negative, zero, NaN and infinite ones
// included): the same bits (Clip computes nothing, so NaNs keep theirs
// too), the same count, nothing written outside the slice.
func TestClip(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, k := range asmKernels(t) {
		for range trials() {
			n, off := pickLen(rng), rng.IntN(17)
			tau := optimScalar(rng)
			if rng.IntN(2) == 0 {
				tau = float32(math.Abs(float64(tau)))
			}
			x := optimValues(rng, n, 0.05, tau)
			want := append([]float32(nil), x...)
			var wn int
			withKernel(genericKernel, func() { wn = Clip(want, tau) })
			buf := sentinelF(n, off)
			copy(buf[off:], x)
			var gn int
			withKernel(k, func() { gn = Clip(buf[off:off+n], tau) })
			if gn != wn {
				t.Fatalf("%s: n=%d tau=%v: count %d, want %d", k.name, n, tau, gn, wn)
			}
			for i := range want {
				if math.Float32bits(buf[off+i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: n=%d tau=%v: [%d] = %#x, want %#x (x %#x)", k.name, n, tau, i,
						math.Float32bits(buf[off+i]), math.Float32bits(want[i]), math.Float32bits(x[i]))
				}
			}
			checkGuardsF(t, k.name+" Clip", buf, off, n)
		}
	}
}

// TestSGDMomentum compares SGDMomentum on every kernel with the generic
// code on random lengths, offsets, values and coefficients: the same bits
// but for NaN payloads (any NaN where the generic code gives one, see
// "NaN payloads" in doc.go), nothing written outside data and mom, grad
// not written.
func TestSGDMomentum(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, k := range asmKernels(t) {
		for range trials() {
			n, off := pickLen(rng), rng.IntN(17)
			p := []float64{0, 0.01, 0.1}[rng.IntN(3)]
			data, mom, grad := colValues(rng, n, p), colValues(rng, n, p), colValues(rng, n, p)
			wd, m, lr := optimScalar(rng), optimScalar(rng), optimScalar(rng)
			if rng.IntN(2) == 0 {
				wd, m, lr = 5e-4, 0.9, 0.01
			}
			wd0, wm0 := append([]float32(nil), data...), append([]float32(nil), mom...)
			withKernel(genericKernel, func() { SGDMomentum(wd0, wm0, grad, wd, m, lr) })
			bd, bm, bg := sentinelF(n, off), sentinelF(n, off), sentinelF(n, off)
			copy(bd[off:], data)
			copy(bm[off:], mom)
			copy(bg[off:], grad)
			withKernel(k, func() { SGDMomentum(bd[off:off+n], bm[off:off+n], bg[off:off+n], wd, m, lr) })
			for i := range n {
				if !sameBits(bd[off+i], wd0[i]) || !sameBits(bm[off+i], wm0[i]) {
					t.Fatalf("%s: n=%d wd=%v m=%v lr=%v: [%d] data %#x mom %#x, want %#x %#x (data %v mom %v grad %v)",
						k.name, n, wd, m, lr, i, math.Float32bits(bd[off+i]), math.Float32bits(bm[off+i]),
						math.Float32bits(wd0[i]), math.Float32bits(wm0[i]), data[i], mom[i], grad[i])
				}
				if math.Float32bits(bg[off+i]) != math.Float32bits(grad[i]) {
					t.Fatalf("%s: grad [%d] written", k.name, i)
				}
			}
			checkGuardsF(t, k.name+" SGDMomentum data", bd, off, n)
			checkGuardsF(t, k.name+" SGDMomentum mom", bm, off, n)
			checkGuardsF(t, k.name+" SGDMomentum grad", bg, off, n)
		}
	}
}

func TestSGDMomentumShort(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short mom")
		}
	}()
	SGDMomentum(make([]float32, 3), make([]float32, 2), make([]float32, 3), 0, 0.9, 0.1)
}

func BenchmarkOptim(b *testing.B) {
	const n = 294912 // the MNIST benchmark net's largest weight, 2304x128
	rng := rand.New(rand.NewPCG(1, 1))
	data, mom, grad := colValues(rng, n, 0), colValues(rng, n, 0), colValues(rng, n, 0)
	for i := range grad {
		grad[i] *= 1e-3
	}
	ops := []struct {
		name string
		f    func()
	}{
		{"Clip", func() { Clip(grad, 1) }},
		{"SGDMomentum", func() { SGDMomentum(data, mom, grad, 5e-4, 0.9, 1e-9) }},
	}
	for _, op := range ops {
		for _, k := range kernels {
			b.Run(fmt.Sprintf("%s/%d/%s", op.name, n, k.name), func(b *testing.B) {
				withKernel(k, func() {
					for b.Loop() {
						op.f()
					}
				})
			})
		}
	}
}
