package ref

import (
	"github.com/vktrain/vktrain/nn/backend"
)

var _ backend.FusedConv = (*Backend)(nil)

// ConvIDequant is Im2ColI then GemmIDequant (see backend.FusedConv), bit
// for bit: GemmIDequant's blocks of rows, each made by im2col in the
// chunk's scratch, as the float32 GEMM operand, from a float32 copy of the
// image codes (exact) instead of read from a stored matrix (the integer
// products are exact in any order, the dequantization is the same per
// element). Where internal/qgemm has an int8 kernel, the int8 path of
// gemm8.go runs instead, with the same result.
func (b *Backend) ConvIDequant(y, qx, qw, sw, bias backend.Tensor, g backend.ConvGeom, xs, ws backend.QuantSpec) {
	d, ok := backend.OpConvIDequant.Check(&b.err, b, backend.Params{Conv: g, P: xs, PB: ws}, y, qx, qw, sw, bias)
	if !ok {
		return
	}
	xi := qx.(*Tensor).st.i[:g.N*g.H*g.W*g.C]
	if q8Enabled && b.gemmIDequant8(y, nil, xi, g, qw, sw, bias, d.M, d.N, d.K, xs, ws) {
		return
	}
	b.convXF = grow(b.convXF, len(xi))
	j := &b.jobs.toFloat
	*j = toFloatJob{dst: b.convXF, src: xi}
	b.run(j, len(xi), 1<<14)
	*j = toFloatJob{}
	b.convSrc = convSrc{x: b.convXF, g: g, pad: float32(xs.Zero[0])}
	b.gemmIDequant(y, nil, &b.convSrc, qw, sw, bias, d.M, d.N, d.K, xs, ws)
	b.convSrc = convSrc{}
}

// toFloatJob writes dst = float32(src) for elements [lo, hi).
type toFloatJob struct {
	dst []float32
	src []int32
}

func (j *toFloatJob) run(lo, hi, _ int) {
	dst, src := j.dst[lo:hi], j.src[lo:hi]
	for i, v := range src {
		dst[i] = float32(v)
	}
}

// ConvGradWQ is Dequantize(Im2ColI(qx)) then Gemm(dw, dy, x̂cols, true,
// false, 1, 0) (see backend.FusedConv), bit for bit: Dequantize is element
// by element, so the float im2col of the dequantized image, padded with
// the dequantized pad code, is the same matrix; the Gemm is the same job
// on the backend's scratch.
func (b *Backend) ConvGradWQ(dw, dy, qx backend.Tensor, g backend.ConvGeom, xs backend.QuantSpec) {
	d, ok := backend.OpConvGradWQ.Check(&b.err, b, backend.Params{Conv: g, P: xs}, dw, dy, qx)
	if !ok {
		return
	}
	b.convGradWQ(dw.(*Tensor).st.f, dy.(*Tensor).st.f, qx.(*Tensor).st.i, g, xs, d.M, d.N, d.K)
}

// convGradWQ is ConvGradWQ's work on checked slices: dw [out, k] from dy
// [r, out] and the image codes qx.
func (b *Backend) convGradWQ(dw, dy []float32, qx []int32, g backend.ConvGeom, xs backend.QuantSpec, out, k, r int) {
	xi := qx[:g.N*g.H*g.W*g.C]
	b.convXF = grow(b.convXF, len(xi))
	b.dequantize(b.convXF, xi, xs, len(xi))
	// Dequantize's value of the pad code (qsimd.Dequantize's definition).
	pad := xs.Scale[0] * float32(xs.Zero[0]-xs.Zero[0])
	b.convCols = grow(b.convCols, r*k)
	ji := &b.jobs.im2col
	*ji = im2colJob{cols: b.convCols, x: b.convXF, g: g, pad: pad}
	b.run(ji, r, max(1, 4096/k))
	*ji = im2colJob{}
	b.gemm(dw, dy, b.convCols, out, k, r, out, k, true, false, 1, 0)
}

// ConvGradX is Gemm(dcols, dy, w, false, false, 1, 0) then Col2Im (see
// backend.FusedConv), bit for bit, the products in the backend's scratch.
func (b *Backend) ConvGradX(dx, dy, w backend.Tensor, g backend.ConvGeom) {
	d, ok := backend.OpConvGradX.Check(&b.err, b, backend.Params{Conv: g}, dx, dy, w)
	if !ok {
		return
	}
	r, k, out := d.M, d.N, d.K
	b.convCols = grow(b.convCols, r*k)
	b.gemm(b.convCols, dy.(*Tensor).st.f, w.(*Tensor).st.f, r, k, out, out, k, false, false, 1, 0)
	j := &b.jobs.col2im
	*j = col2imJob{dx: dx.(*Tensor).st.f, cols: b.convCols, g: g}
	b.run(j, g.N, 1)
	*j = col2imJob{}
}
