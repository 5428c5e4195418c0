package ref

import "github.com/vktrain/vktrain/nn/backend"

var _ backend.FusedWeightGrad = (*Backend)(nil)

// The FusedWeightGrad ops run the composed ops' jobs on the same elements
// (the intermediate matrices in the backend's scratch), so they are bit
// for bit the composition; only the checks and the op counts are those of
// one op.

// QuantizeWeights is Quantize(qw, w, p), then RowSumI(sw, qw) where sw is
// not nil, then Dequantize(what, qw, p) where what is not nil, bit for bit.
func (b *Backend) QuantizeWeights(qw, sw, what, w backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpQuantizeWeights.Check(&b.err, b, backend.Params{P: p}, qw, sw, what, w)
	if !ok {
		return
	}
	q := qw.(*Tensor).st.i[:d.Len]
	b.quantize(q, w.(*Tensor).st.f[:d.Len], p, d.Slice)
	if !isNil(sw) {
		js := &b.jobs.rowSumI
		*js = rowSumIJob{s: sw.(*Tensor).st.i, a: q, k: d.K}
		b.run(js, d.M, max(1, 1<<14/max(d.K, 1)))
		*js = rowSumIJob{}
	}
	if !isNil(what) {
		b.dequantize(what.(*Tensor).st.f[:d.Len], q, p, d.Slice)
	}
}

// DenseGradWQ is ColSum(dBias, dy) where dBias is not nil, then
// Dequantize(x̂, qx, xs), Gemm(dWHat, dy, x̂, true, false, 1, 0) and
// QuantGrad(gw, dScale, dZero, w, dWHat, ws), bit for bit, with x̂ and
// dWHat in the backend's scratch.
func (b *Backend) DenseGradWQ(gw, dScale, dZero, dBias, dy, qx, w backend.Tensor, xs, ws backend.QuantSpec) {
	d, ok := backend.OpDenseGradWQ.Check(&b.err, b, backend.Params{P: xs, PB: ws}, gw, dScale, dZero, dBias, dy, qx, w)
	if !ok {
		return
	}
	out, k, r := d.M, d.N, d.K
	dyf, dWHat := b.weightGradStart(dBias, dy, out, k, r)
	b.convCols = grow(b.convCols, r*k)
	xhat := b.convCols
	b.dequantize(xhat, qx.(*Tensor).st.i[:r*k], xs, r*k)
	b.gemm(dWHat, dyf, xhat, out, k, r, out, k, true, false, 1, 0)
	b.quantGradSlices(gw.(*Tensor).st.f, dScale.(*Tensor).st.f, dZero.(*Tensor).st.f, w.(*Tensor).st.f, dWHat, ws, d.Slice)
}

// weightGradStart is the start DenseGradWQ and ConvGradWQuant share: the
// bias gradient ColSum(dBias, dy) where dBias is given, dy's elements
// [r, out] and the scratch for dWHat [out, k].
func (b *Backend) weightGradStart(dBias, dy backend.Tensor, out, k, r int) (dyf, dWHat []float32) {
	dyf = dy.(*Tensor).st.f[:r*out]
	if !isNil(dBias) {
		b.colSum(dBias.(*Tensor).st.f, dyf, out)
	}
	b.weightGrad = grow(b.weightGrad, out*k)
	return dyf, b.weightGrad
}

// ConvGradWQuant is ColSum(dBias, dy) where dBias is not nil, then
// ConvGradWQ(dWHat, dy, qx, g, xs) and QuantGrad(gw, dScale, dZero, w,
// dWHat, ws), bit for bit, with dWHat (and ConvGradWQ's matrices) in the
// backend's scratch.
func (b *Backend) ConvGradWQuant(gw, dScale, dZero, dBias, dy, qx, w backend.Tensor, g backend.ConvGeom, xs, ws backend.QuantSpec) {
	d, ok := backend.OpConvGradWQuant.Check(&b.err, b, backend.Params{Conv: g, P: xs, PB: ws}, gw, dScale, dZero, dBias, dy, qx, w)
	if !ok {
		return
	}
	out, k, r := d.M, d.N, d.K
	dyf, dWHat := b.weightGradStart(dBias, dy, out, k, r)
	b.convGradWQ(dWHat, dyf, qx.(*Tensor).st.i, g, xs, out, k, r)
	b.quantGradSlices(gw.(*Tensor).st.f, dScale.(*Tensor).st.f, dZero.(*Tensor).st.f, w.(*Tensor).st.f, dWHat, ws, d.Slice)
}
