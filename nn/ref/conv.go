package ref

import (
	"github.com/vktrain/vktrain/nn/backend"
)

var _ backend.FusedConv = (*Backend)(nil)

// ConvIDequant is Im2ColI then GemmIDequant (see backend.FusedConv), bit
// for bit: GemmIDequant's blocks of rows, each made by im2col from the
// image codes in the chunk's scratch instead of read from a stored matrix
// (the integer products are exact in any order, the dequantization is the
// same per element).
func (b *Backend) ConvIDequant(y, qx, qw, sw, bias backend.Tensor, g backend.ConvGeom, xs, ws backend.QuantSpec) {
	d, ok := backend.OpConvIDequant.Check(&b.err, b, backend.Params{Conv: g, P: xs, PB: ws}, y, qx, qw, sw, bias)
	if !ok {
		return
	}
	b.convSrc = convSrc{x: qx.(*Tensor).st.i, g: g, pad: xs.Zero[0]}
	b.gemmIDequant(y, nil, &b.convSrc, qw, sw, bias, d.M, d.N, d.K, xs, ws)
	b.convSrc = convSrc{}
}

// ConvGradWQ is Dequantize(Im2ColI(qx)) then Gemm(dw, dy, x̂cols, true,
// false, 1, 0) (see backend.FusedConv), bit for bit: the same jobs on the
// backend's scratch (the integer im2col and its dequantization in SIMD
// run faster here than a float im2col of the dequantized image).
func (b *Backend) ConvGradWQ(dw, dy, qx backend.Tensor, g backend.ConvGeom, xs backend.QuantSpec) {
	d, ok := backend.OpConvGradWQ.Check(&b.err, b, backend.Params{Conv: g, P: xs}, dw, dy, qx)
	if !ok {
		return
	}
	out, k, r := d.M, d.N, d.K
	if cap(b.convColsI) < r*k {
		b.convColsI = make([]int32, r*k)
	}
	colsI := b.convColsI[:r*k]
	ji := &b.jobs.im2colI
	*ji = im2colIJob{cols: colsI, x: qx.(*Tensor).st.i, g: g, pad: xs.Zero[0]}
	b.run(ji, r, max(1, 4096/k))
	*ji = im2colIJob{}
	b.convCols = grow(b.convCols, r*k)
	jd := &b.jobs.dequantize
	*jd = dequantizeJob{x: b.convCols, q: colsI, p: xs, slice: r * k}
	b.run(jd, r*k, 1<<14)
	*jd = dequantizeJob{}
	b.gemm(dw.(*Tensor).st.f, dy.(*Tensor).st.f, b.convCols, out, k, r, out, k, true, false, 1, 0)
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
