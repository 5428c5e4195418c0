package vk

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// testConvGradWQuantExact checks ConvGradWQuant bit for bit against the
// composition on this backend (ColSum, ConvGradWQ, QuantGrad): its
// q_quantgrad adds the product's partials in f_gemm_ksum's order, so
// gw, dScale, dZero and dBias are the composition's bits. With the
// device's tuning (f_gemm_rtc, k split and whole) and a GPU's
// (f_convgradw, the composed f_gemm with k split and whole), per tensor
// (one chunk per slice and several) and per channel, with and without
// the bias gradient.
func testConvGradWQuantExact(t *testing.T, newB newRecorded) {
	g := func(n, h, w, c, kh, kw int) backend.ConvGeom {
		return backend.ConvGeom{N: n, H: h, W: w, C: c, KH: kh, KW: kw, StrideH: 1, StrideW: 1, PadH: kh / 2, PadW: kw / 2}
	}
	cases := []struct {
		g             backend.ConvGeom
		out           int
		perChan, bias bool
	}{
		{g(1, 5, 5, 1, 3, 3), 1, false, false},
		{g(2, 16, 16, 1, 3, 3), 16, true, true},
		{g(2, 16, 16, 4, 3, 3), 8, false, false},
		{g(2, 16, 16, 16, 3, 3), 64, false, true},
		{g(2, 9, 9, 8, 3, 3), 12, true, true},
	}
	for _, gpuTune := range []bool{false, true} {
		var tweak func(*Backend)
		if gpuTune {
			tweak = gpuTuning
		}
		b := newB(t, Options{}, tweak)
		for _, c := range cases {
			t.Run(fmt.Sprintf("gpu=%v/%v/out%d/perChan=%v/bias=%v", gpuTune, c.g, c.out, c.perChan, c.bias), func(t *testing.T) {
				convGradWQuantCheck(t, b, c.g, c.out, c.perChan, c.bias)
			})
		}
	}
}

func convGradWQuantCheck(t *testing.T, b *Backend, g backend.ConvGeom, out int, perChan, bias bool) {
	rng := rand.New(rand.NewPCG(uint64(g.C), uint64(out)))
	var all []backend.Tensor
	defer func() {
		for _, x := range all {
			b.Free(x)
		}
	}()
	mk := func(dt backend.DType, shape ...int) backend.Tensor {
		x, err := b.New(dt, shape...)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, x)
		return x
	}
	rows, k := g.Rows(), g.K()
	nch := 1
	if perChan {
		nch = out
	}
	ws := backend.QuantSpec{Scale: make([]float32, nch), Zero: make([]int32, nch), QMin: -8, QMax: 7}
	for i := range ws.Scale {
		ws.Scale[i], ws.Zero[i] = 0.05+0.01*float32(i%5), int32(i%3)-1 // |w| up to 1: some clip
	}
	xs := backend.QuantSpec{Scale: []float32{0.02}, Zero: []int32{7}, QMin: 0, QMax: 255}
	dy, w, qx := mk(backend.F32, rows, out), mk(backend.F32, out, k), mk(backend.Q8, g.N, g.H, g.W, g.C)
	if err := b.WriteF32(dy, floatRand(rng, rows*out)); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteF32(w, floatRand(rng, out*k)); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteI32(qx, randCodes(rng, g.N*g.H*g.W*g.C, 0, 255)); err != nil {
		t.Fatal(err)
	}
	type outs struct{ gw, ds, dz, db backend.Tensor }
	mkOuts := func() outs {
		o := outs{gw: mk(backend.F32, out, k), ds: mk(backend.F32, nch), dz: mk(backend.F32, nch)}
		if bias {
			o.db = mk(backend.F32, out)
		}
		return o
	}
	comp, fused, dwhat := mkOuts(), mkOuts(), mk(backend.F32, out, k)
	if bias {
		b.ColSum(comp.db, dy)
	}
	b.ConvGradWQ(dwhat, dy, qx, g, xs)
	b.QuantGrad(comp.gw, comp.ds, comp.dz, w, dwhat, ws)
	b.ConvGradWQuant(fused.gw, fused.ds, fused.dz, fused.db, dy, qx, w, g, xs, ws)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name      string
		want, got backend.Tensor
	}{{"gw", comp.gw, fused.gw}, {"dScale", comp.ds, fused.ds}, {"dZero", comp.dz, fused.dz}, {"dBias", comp.db, fused.db}} {
		if p.want == nil {
			continue
		}
		wv, gv := make([]float32, p.want.Len()), make([]float32, p.got.Len())
		if err := b.ReadF32(p.want, wv); err != nil {
			t.Fatal(err)
		}
		if err := b.ReadF32(p.got, gv); err != nil {
			t.Fatal(err)
		}
		for i := range wv {
			if math.Float32bits(wv[i]) != math.Float32bits(gv[i]) {
				t.Fatalf("%s[%d] = %v fused, %v composed", p.name, i, gv[i], wv[i])
			}
		}
	}
}
