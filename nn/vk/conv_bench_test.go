package vk

import (
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
)

// BenchmarkFusedConv times the fused convolution's ops (backend.FusedConv)
// at the MNIST stem (64x28x28x1, 16 filters of 5x5) against the composed
// ops they replace, reading through storage and texel buffers.
func BenchmarkFusedConv(bm *testing.B) {
	vs, vt := readModes(bm, gputest.OpenBench(bm))
	g := backend.ConvGeom{N: 64, H: 28, W: 28, C: 1, KH: 5, KW: 5, StrideH: 1, StrideW: 1}
	const out = 16
	rows, k := g.Rows(), g.K()
	xs := backend.QuantSpec{Scale: []float32{0.01}, Zero: []int32{3}, QMin: 0, QMax: 255}
	for _, bk := range []*Backend{vs, vt} {
		rng := rand.New(rand.NewPCG(7, 8))
		ts := &benchTensors{tb: bm, bk: bk, rng: rng}
		mk := ts.mk
		img := mk(backend.F32, g.N, g.H, g.W, g.C)
		qx := mk(backend.Q8, g.N, g.H, g.W, g.C)
		bk.Quantize(qx, img, xs)
		dy, w, dw := mk(backend.F32, rows, out), mk(backend.F32, out, k), mk(backend.F32, out, k)
		cols, colsF := mk(backend.Q8, rows, k), mk(backend.F32, rows, k)
		dx := mk(backend.F32, g.N, g.H, g.W, g.C)
		ws := backend.QuantSpec{Scale: []float32{0.02}, Zero: []int32{0}, QMin: -127, QMax: 127}
		qw, sw, bias, y := mk(backend.Q8, out, k), mk(backend.I32, out), mk(backend.F32, out), mk(backend.F32, rows, out)
		bk.Quantize(qw, w, ws)
		ops := []benchOp{
			{"ConvIDequant", func() { bk.ConvIDequant(y, qx, qw, sw, bias, g, xs, ws) }},
			{"ConvIDequant-composed", func() {
				bk.Im2ColI(cols, qx, g, xs.Zero[0])
				bk.GemmIDequant(y, cols, qw, sw, bias, xs, ws)
			}},
			{"ConvGradWQ", func() { bk.ConvGradWQ(dw, dy, qx, g, xs) }},
			{"ConvGradWQ-composed", func() {
				bk.Im2ColI(cols, qx, g, xs.Zero[0])
				bk.Dequantize(colsF, cols, xs)
				bk.Gemm(dw, dy, colsF, true, false, 1, 0)
			}},
			{"ConvGradX", func() { bk.ConvGradX(dx, dy, w, g) }},
			{"ConvGradX-composed", func() {
				bk.Gemm(colsF, dy, w, false, false, 1, 0)
				bk.Col2Im(dx, colsF, g)
			}},
		}
		runBenchOps(bm, bk, ops, ts.all)
	}
}
