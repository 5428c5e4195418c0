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
	jq := &b.jobs.quantize
	*jq = quantizeJob{q: q, x: w.(*Tensor).st.f[:d.Len], p: p, slice: d.Slice, invs: b.reciprocals(p)}
	b.run(jq, d.Len, 1<<14)
	*jq = quantizeJob{}
	if !isNil(sw) {
		js := &b.jobs.rowSumI
		*js = rowSumIJob{s: sw.(*Tensor).st.i, a: q, k: d.K}
		b.run(js, d.M, max(1, 1<<14/max(d.K, 1)))
		*js = rowSumIJob{}
	}
	if !isNil(what) {
		jd := &b.jobs.dequantize
		*jd = dequantizeJob{x: what.(*Tensor).st.f[:d.Len], q: q, p: p, slice: d.Slice}
		b.run(jd, d.Len, 1<<14)
		*jd = dequantizeJob{}
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
	dyf := dy.(*Tensor).st.f[:r*out]
	if !isNil(dBias) {
		jc := &b.jobs.colSum
		*jc = colSumJob{s: dBias.(*Tensor).st.f, x: dyf, c: out}
		b.run(jc, out, 8)
		*jc = colSumJob{}
	}
	b.convCols = grow(b.convCols, r*k)
	xhat := b.convCols
	jd := &b.jobs.dequantize
	*jd = dequantizeJob{x: xhat, q: qx.(*Tensor).st.i[:r*k], p: xs, slice: r * k}
	b.run(jd, r*k, 1<<14)
	*jd = dequantizeJob{}
	b.weightGrad = grow(b.weightGrad, out*k)
	dWHat := b.weightGrad
	b.gemm(dWHat, dyf, xhat, out, k, r, out, k, true, false, 1, 0)
	b.quantGradSlices(gw.(*Tensor).st.f, dScale.(*Tensor).st.f, dZero.(*Tensor).st.f, w.(*Tensor).st.f, dWHat, ws, d.Slice)
}

// quantGradSlices is QuantGrad's work on checked slices (see QuantGrad):
// the same jobs, so the same results.
func (b *Backend) quantGradSlices(dx, dScale, dZero, x, dxhat []float32, p backend.QuantSpec, slice int) {
	j := &b.jobs.quantGrad
	*j = quantGradJob{dx: dx, dScale: dScale, dZero: dZero, x: x, dxhat: dxhat, invs: b.reciprocals(p), p: p, slice: slice}
	if len(p.Scale) > 1 || b.threads == 1 || slice < 1<<14 {
		j.termS = b.termScratch(2 * slice * b.threads)
		b.run(j, len(p.Scale), 1)
		*j = quantGradJob{}
		return
	}
	j.split = true
	t := b.termScratch(2 * slice)
	j.termS, j.termZ = t[:slice], t[slice:]
	b.run(j, slice, 1<<13)
	j.dScale[0], j.dZero[0] = sumTerms(j.termS, j.termZ)
	*j = quantGradJob{}
}
