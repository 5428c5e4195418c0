package qsimd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestOptimPageEnd runs the optimizer passes with each operand in turn
// ending where an inaccessible page begins: a kernel that loaded or stored
// a whole vector past the last element would fault.
func TestOptimPageEnd(t *testing.T) {
	all := guardedFloats(t)
	atEnd := func(v []float32) []float32 { return atPageEnd(all, v) }
	rng := rand.New(rand.NewPCG(45, 46))
	for n := 1; n <= 40; n++ {
		x := optimValues(rng, n, 0.05, 0.5)
		want := append([]float32(nil), x...)
		wn := clipGeneric(want, 0.5)
		data, mom, grad := colValues(rng, n, 0.02), colValues(rng, n, 0.02), colValues(rng, n, 0.02)
		wd, wm := append([]float32(nil), data...), append([]float32(nil), mom...)
		sgdMomentumGeneric(wd, wm, grad, 5e-4, 0.9, 0.01)
		for _, k := range asmKernels(t) {
			got := atEnd(x)
			var gn int
			withKernel(k, func() { gn = Clip(got, 0.5) })
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) || gn != wn {
					t.Fatalf("%s Clip n=%d at the page end: [%d] = %#x, want %#x (count %d, want %d)",
						k.name, n, i, math.Float32bits(got[i]), math.Float32bits(want[i]), gn, wn)
				}
			}
			for end := range 3 {
				args := [][]float32{append([]float32(nil), data...), append([]float32(nil), mom...), append([]float32(nil), grad...)}
				args[end] = atEnd(args[end])
				withKernel(k, func() { SGDMomentum(args[0], args[1], args[2], 5e-4, 0.9, 0.01) })
				for i := range n {
					if !sameBits(args[0][i], wd[i]) || !sameBits(args[1][i], wm[i]) {
						t.Fatalf("%s SGDMomentum n=%d operand %d at the page end: [%d] differs", k.name, n, end, i)
					}
				}
			}
		}
	}
}
