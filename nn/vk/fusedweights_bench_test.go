package vk

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
)

// BenchmarkFusedWeights times the fused weight ops (backend.FusedWeightGrad)
// at the fc layers of the MNIST patent net (batch 64: 128x2304 and 10x128,
// per-channel 8-bit weights, unsigned 8-bit inputs) against the composed
// ops they replace, reading through texel buffers (the CPU driver's mode).
func BenchmarkFusedWeights(bm *testing.B) {
	_, bk := readModes(bm, gputest.OpenBench(bm))
	for _, sh := range [][2]int{{128, 2304}, {10, 128}} {
		out, k := sh[0], sh[1]
		const r = 64
		rng := rand.New(rand.NewPCG(3, 4))
		ts := &benchTensors{tb: bm, bk: bk, rng: rng}
		mk := ts.mk
		ws := backend.QuantSpec{Scale: make([]float32, out), Zero: make([]int32, out), QMin: -127, QMax: 127}
		for i := range ws.Scale {
			ws.Scale[i] = 0.004
		}
		xs := backend.QuantSpec{Scale: []float32{0.01}, Zero: []int32{3}, QMin: 0, QMax: 255}
		w, x := mk(backend.F32, out, k), mk(backend.F32, r, k)
		qw, sw, what := mk(backend.Q8, out, k), mk(backend.I32, out), mk(backend.F32, out, k)
		qx, xhat := mk(backend.Q8, r, k), mk(backend.F32, r, k)
		bk.Quantize(qx, x, xs)
		dy, gw, dwhat := mk(backend.F32, r, out), mk(backend.F32, out, k), mk(backend.F32, out, k)
		ds, dz, db := mk(backend.F32, out), mk(backend.F32, out), mk(backend.F32, out)
		ops := []benchOp{
			{fmt.Sprintf("QuantizeWeights/%dx%d", out, k), func() { bk.QuantizeWeights(qw, sw, what, w, ws) }},
			{fmt.Sprintf("QuantizeWeights-composed/%dx%d", out, k), func() {
				bk.Quantize(qw, w, ws)
				bk.RowSumI(sw, qw)
				bk.Dequantize(what, qw, ws)
			}},
			{fmt.Sprintf("DenseGradWQ/%dx%d", out, k), func() { bk.DenseGradWQ(gw, ds, dz, db, dy, qx, w, xs, ws) }},
			{fmt.Sprintf("DenseGradWQ-composed/%dx%d", out, k), func() {
				bk.ColSum(db, dy)
				bk.Dequantize(xhat, qx, xs)
				bk.Gemm(dwhat, dy, xhat, true, false, 1, 0)
				bk.QuantGrad(gw, ds, dz, w, dwhat, ws)
			}},
		}
		runBenchOps(bm, bk, ops, ts.all)
	}
}
