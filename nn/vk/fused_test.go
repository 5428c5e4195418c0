package vk

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// testFusedBNReLUExact checks the fused batch norm + ReLU ops
// (BatchNormReLUTrain, BatchNormReLUInfer, BatchNormReLUGrad) bit for bit
// against the composed ops on this backend (BatchNormTrain then ReLU,
// BatchNormInfer then ReLU, ReLUGrad then BatchNormGrad), in both read
// modes with the device's tuning and a GPU's (strided column reductions,
// scalar kernels), C even and odd, more column pairs than a workgroup.
func testFusedBNReLUExact(t *testing.T, newB newRecorded) {
	for _, gpuTune := range []bool{false, true} {
		for _, reads := range []string{ReadsTexel, ReadsStorage} {
			var tweak func(*Backend)
			if gpuTune {
				tweak = gpuTuning
			}
			b := newB(t, Options{Reads: reads}, tweak)
			for _, sh := range [][2]int{{1001, 24}, {77, 5}, {37, 1280}, {3, 8}} {
				t.Run(fmt.Sprintf("gpu=%v/%s/%dx%d", gpuTune, b.Reads(), sh[0], sh[1]), func(t *testing.T) {
					fusedBNReLUCheck(t, b, sh[0], sh[1])
				})
			}
		}
	}
}

func fusedBNReLUCheck(t *testing.T, b *Backend, r, c int) {
	rng := rand.New(rand.NewPCG(uint64(r), uint64(c)))
	var all []backend.Tensor
	defer func() {
		for _, x := range all {
			b.Free(x)
		}
	}()
	mk := func(v []float32, shape ...int) backend.Tensor {
		x, err := b.New(backend.F32, shape...)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, x)
		if v != nil {
			if err := b.WriteF32(x, v); err != nil {
				t.Fatal(err)
			}
		}
		return x
	}
	x, dy := mk(floatRand(rng, r*c), r, c), mk(floatRand(rng, r*c), r, c)
	g, be := mk(floatRand(rng, c), c), mk(floatRand(rng, c), c)
	type outs struct{ y, xh, yi, dx, m, is, rm, rv, dg, db backend.Tensor }
	mkOuts := func() outs {
		return outs{y: mk(nil, r, c), xh: mk(nil, r, c), yi: mk(nil, r, c), dx: mk(nil, r, c),
			m: mk(nil, c), is: mk(nil, c), rm: mk(nil, c), rv: mk(nil, c), dg: mk(nil, c), db: mk(nil, c)}
	}
	comp, fused, masked := mkOuts(), mkOuts(), mk(nil, r, c)
	b.BatchNormTrain(comp.y, comp.xh, comp.m, comp.is, x, g, be, comp.rm, comp.rv, 0.1, 1e-5)
	b.ReLU(comp.y, comp.y)
	b.ReLUGrad(masked, dy, comp.y)
	b.BatchNormGrad(comp.dx, comp.dg, comp.db, masked, comp.xh, comp.is, g)
	b.BatchNormInfer(comp.yi, x, g, be, comp.rm, comp.rv, 1e-5)
	b.ReLU(comp.yi, comp.yi)
	b.BatchNormReLUTrain(fused.y, fused.xh, fused.m, fused.is, x, g, be, fused.rm, fused.rv, 0.1, 1e-5)
	b.BatchNormReLUGrad(fused.dx, fused.dg, fused.db, dy, fused.y, fused.xh, fused.is, g)
	b.BatchNormReLUInfer(fused.yi, x, g, be, fused.rm, fused.rv, 1e-5)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	zeros := 0
	for _, p := range []struct {
		name       string
		want, got  backend.Tensor
		n          int
		countZeros bool
	}{
		{"y", comp.y, fused.y, r * c, true}, {"xhat", comp.xh, fused.xh, r * c, false}, {"y (infer)", comp.yi, fused.yi, r * c, false},
		{"dx", comp.dx, fused.dx, r * c, false}, {"dgamma", comp.dg, fused.dg, c, false}, {"dbeta", comp.db, fused.db, c, false},
		{"runMean", comp.rm, fused.rm, c, false}, {"runVar", comp.rv, fused.rv, c, false},
	} {
		w, h := make([]float32, p.n), make([]float32, p.n)
		if err := b.ReadF32(p.want, w); err != nil {
			t.Fatal(err)
		}
		if err := b.ReadF32(p.got, h); err != nil {
			t.Fatal(err)
		}
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(h[i]) {
				t.Fatalf("%s[%d] = %v fused, %v composed", p.name, i, h[i], w[i])
			}
			if p.countZeros && w[i] == 0 {
				zeros++
			}
		}
	}
	if r*c >= 100 && (zeros < r*c/10 || zeros > 9*r*c/10) {
		t.Fatalf("%d of %d outputs are 0: the data do not exercise the ReLU", zeros, r*c)
	}
}
