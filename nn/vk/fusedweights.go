package vk

import (
	"github.com/vktrain/vktrain/nn/backend"
)

var _ backend.FusedWeightGrad = (*Backend)(nil)

// wprepPush mirrors q_wprep's push constants.
type wprepPush struct {
	Rows, Cols, RowWords uint32
	QMin, QMax           int32
	Off, Nch             uint32
}

// QuantizeWeights is Quantize, RowSumI (where sw is not nil) and
// Dequantize (where what is not nil) of a weight matrix in one dispatch
// (q_wprep): a workgroup per row, the codes packed as q_quantize packs
// them, their sum reduced in the workgroup and x̂ = s·(q-z) computed from
// the code as q_dequantize computes it, bit for bit the composition.
func (b *Backend) QuantizeWeights(qw, sw, what, w backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpQuantizeWeights.Check(&b.err, b, backend.Params{P: p}, qw, sw, what, w)
	if !ok {
		return
	}
	const op = "QuantizeWeights"
	qt, wt, st, xt := tensor(qw), tensor(w), tensor(sw), tensor(what)
	rows, cols := d.M, d.K
	// outQ8 first: growing q to one int per code runs the recorded work,
	// which resets the parameter arena (see Quantize).
	f := b.outQ8(op, qt, p.QMin, p.QMax)
	prm, off := b.quantParams(op, p, true, true)
	if b.failed() {
		return
	}
	items := qt.rowWords()
	if f == qWide {
		items = cols
	}
	// Workgroups as wide as a row's items (at least 8, at most wg): no
	// invocation idles through a short row's loop.
	wg := uint32(8)
	for wg < b.wg() && int(wg) < items {
		wg *= 2
	}
	wg = min(wg, b.wg())
	if b.tune.cpu {
		// CPU drivers: one SIMD batch of lavapipe, whose barriers (the
		// row sum's) cost a switch per batch of a larger workgroup
		// (measured at the fc1 weights, 128x2304: about 1.0 ms at 8,
		// 1.5 at 32, 2.1 at 64).
		wg = 8
	}
	gx := min(rows, int(b.dev.Info().Limits.MaxComputeWorkGroupCount[0]))
	if sg := b.tune.strideGroups; sg > 0 {
		// CPU drivers: each workgroup costs microseconds, so a few per
		// thread, each looping over rows.
		gx = min(gx, max(sg, ceilDiv(rows, maxLoop)))
	}
	vec := f != qWide && cols%4 == 0
	perch := len(p.Scale) > 1
	spec := []uint32{wg, uint32(f), wordCodes(qt, f), b2u(vec), b2u(perch), b2u(st != nil), b2u(xt != nil)}
	if b.paths != nil {
		const k = "q_wprep"
		b.took(k, fmtQ[f])
		if f != qWide {
			b.took(k, jmaxPaths[wordCodes(qt, f)])
		}
		b.took(k, pick(vec, "vec", "novec"))
		b.took(k, pick(perch, "perch=1", "perch=0"))
		b.took(k, pick(st != nil, "sw", "nosw"))
		b.took(k, pick(xt != nil, "what", "nowhat"))
		b.tookLoop2(k, items, int(wg))
	}
	if st == nil {
		st = qt // bound, not written
	}
	if xt == nil {
		xt = qt // bound, not written
	}
	push := wprepPush{Rows: uint32(rows), Cols: uint32(cols), RowWords: uint32(qt.rowWords()), QMin: p.QMin, QMax: p.QMax,
		Off: off, Nch: uint32(len(p.Scale))}
	b.dispatch(op, "q_wprep", spec, pushOf(push), uint32(gx), 1, 1, wt, qt, st, xt, prm)
}

// denseGradWPush mirrors q_densegradw's push constants.
type denseGradWPush struct {
	Rows, Nout, Groups, K, Items, RowWords, Off, Nch uint32
	QMin, QMax                                       int32
	XS                                               float32
	XZ                                               int32
}

// quantGradPush mirrors q_quantgrad's push constants.
type quantGradPush struct {
	Slice, Chunks, ChunkLen uint32
	QMin, QMax              int32
	Off, Nch, Parts         uint32
}

// denseGradWRows is the rows of dy that q_densegradw's loops over r take
// in one pass (its RCHUNK).
const denseGradWRows = 32768

// DenseGradWQ is ColSum, Dequantize, Gemm (dyᵀ·x̂) and QuantGrad of the
// weights in one dispatch (q_densegradw, see its header): a workgroup
// owns TO rows of dW and walks all of K in blocks, summing dy[r,o]·x̂[r,c]
// over r in a register tile with x̂ dequantized from the codes as they are
// loaded, then applying QuantGrad's rule to the tile (gw and the terms of
// dScale and dZero, reduced per row in the workgroup) and summing dy's
// columns for dBias. On CPU drivers tiles of 8 rows by 16 columns per
// invocation in workgroups of 8 (every load costs lavapipe tens of
// multiply-adds: large tiles; at the fc1 weights, 128x2304 with 64 rows,
// about 4.0 ms against 5.5 for f_gemm_rt, q_quantgrad, q_dequantize and
// f_colsum on a loaded 2-core machine, 16 rows by 16 columns about the
// same), on GPUs one row per workgroup of wg invocations, 4 columns each. A per-tensor ws adds a second dispatch:
// q_quantgrad's PASS 1 adds the workgroups' partial sums in order. No
// shape falls back to the composition: the kernel loops over rows of
// dW beyond the grid and over r in passes of denseGradWRows rows.
func (b *Backend) DenseGradWQ(gw, dScale, dZero, dBias, dy, qx, w backend.Tensor, xs, ws backend.QuantSpec) {
	d, ok := backend.OpDenseGradWQ.Check(&b.err, b, backend.Params{P: xs, PB: ws}, gw, dScale, dZero, dBias, dy, qx, w)
	if !ok {
		return
	}
	const op = "DenseGradWQ"
	out, k, r := d.M, d.N, d.K
	gwt, dst, dzt, dbt, dyt, xt, wt := tensor(gw), tensor(dScale), tensor(dZero), tensor(dBias), tensor(dy), tensor(qx), tensor(w)
	items := ceilDiv(k, 4)
	wx, to, tw := int(min(64, b.wg())), 1, 1
	if b.tune.cpu {
		wx, to, tw = 8, 8, 4
	}
	to = min(to, out)
	tw = max(1, min(tw, ceilDiv(items, wx)))
	groups := ceilDiv(out, to)
	gx := min(groups, int(b.dev.Info().Limits.MaxComputeWorkGroupCount[0]))
	pert := len(ws.Scale) == 1
	prm, off := b.quantParams(op, ws, true, true)
	if b.failed() {
		return
	}
	push := denseGradWPush{Rows: uint32(r), Nout: uint32(out), Groups: uint32(groups), K: uint32(k), Items: uint32(items),
		RowWords: uint32(xt.rowWords()), Off: off, Nch: uint32(len(ws.Scale)), QMin: ws.QMin, QMax: ws.QMax, XS: xs.Scale[0], XZ: xs.Zero[0]}
	spec := []uint32{uint32(wx), uint32(to), uint32(tw), uint32(xt.st.q), b2u(pert), b2u(dbt != nil), b2u(k%4 == 0)}
	if b.paths != nil {
		const kn = "q_densegradw"
		b.took(kn, fmtX[xt.st.q])
		b.took(kn, pick(pert, "ws=tensor", "ws=channel"))
		b.took(kn, pick(k%4 == 0, "vec", "novec"))
		b.took(kn, pick(dbt != nil, "bias", "nobias"))
		b.took(kn, pick(r%2 == 1, "r=odd", "r=even"))
		b.took(kn, pick(r > denseGradWRows, "rpasses>1", "rpasses=1"))
	}
	if dbt == nil {
		dbt = gwt // bound, not written
	}
	if !pert {
		b.dispatch(op, "q_densegradw", spec, pushOf(push), uint32(gx), 1, 1, dyt, xt, wt, prm, gwt, dst, dzt, dbt)
		return
	}
	// Per tensor: the workgroups' partial sums into scratch (through the
	// ds binding), then q_quantgrad's PASS 1 adds them in order.
	part := b.scratch(op, 2*groups)
	if part == nil {
		return
	}
	b.dispatch(op, "q_densegradw", spec, pushOf(push), uint32(gx), 1, 1, dyt, xt, wt, prm, gwt, part, dzt, dbt)
	qp := quantGradPush{Slice: uint32(out * k), Chunks: uint32(groups), ChunkLen: uint32(to * k), QMin: ws.QMin, QMax: ws.QMax, Off: off, Nch: 1, Parts: 1}
	b.dispatch(op, "q_quantgrad", []uint32{b.wg(), 1, 1}, pushOf(qp), 1, 1, 1, wt, wt, gwt, part, dst, dzt, prm)
}

// ConvGradWQuant is ColSum, ConvGradWQ and QuantGrad of a conv layer's
// weights (see backend.FusedWeightGrad) with dWHat never stored:
// ConvGradWQ's kernels (f_convgradw on GPUs, f_gemm_rtc on CPU drivers,
// the composed kernels elsewhere; convGradWParts) leave the product as
// the partial products of its split sum over the rows in the backend's
// scratch, and q_quantgrad's KSUM build adds each element's partials in
// order as it reads them, as f_gemm_ksum would have (so gw, dScale and
// dZero are QuantGrad's of the composition's dWHat bit for bit on the
// same backend), in place of f_gemm_ksum's pass writing dWHat and
// QuantGrad's reading it. A product that is not split is written to the
// scratch and read by the plain build. Its partial sums of dScale and
// dZero (several chunks per slice) go to a scratch of the geometry's
// (convScratch.qpart), the backend's holding the product. The bias
// gradient is ColSum's kernels, first.
func (b *Backend) ConvGradWQuant(gw, dScale, dZero, dBias, dy, qx, w backend.Tensor, g backend.ConvGeom, xs, ws backend.QuantSpec) {
	d, ok := backend.OpConvGradWQuant.Check(&b.err, b, backend.Params{Conv: g, P: xs, PB: ws}, gw, dScale, dZero, dBias, dy, qx, w)
	if !ok {
		return
	}
	const op = "ConvGradWQuant"
	out, k, rows := d.M, d.N, d.K
	dyt := tensor(dy)
	if dbt := tensor(dBias); dbt != nil {
		// ColSum's kernels (which may use the scratch: before the product).
		part, lanes := b.colSumPart(op, rows, out, dyt)
		if part == nil {
			return
		}
		b.took("f_colsum", "sum")
		b.colFin(op, "f_colsum", []uint32{0}, pushOf(clfPush{C: uint32(out), Lanes: uint32(lanes), F: float32(rows)}), out, part, dbt, part)
	}
	chunks, chunkLen := b.quantGradPlan(d.Slice)
	qpart := b.convGrown(op, &b.convEntry(rows, k).qpart, 2*len(ws.Scale)*chunks)
	pt, parts := b.convGradWParts(op, nil, dyt, tensor(qx), g, xs, out, k, rows)
	prm, off := b.quantParams(op, ws, true, true)
	if pt == nil || qpart == nil || prm == nil {
		return
	}
	b.quantGrad(op, tensor(gw), tensor(dScale), tensor(dZero), tensor(w), pt, qpart, prm, off, ws, d.Slice, chunks, chunkLen, parts)
}
