package vk

import (
	"math"

	"github.com/vktrain/vktrain/nn/backend"
)

// MinMax writes [min, max, count of non-finite values] of the F32 tensor x
// into dst (length 3): a two-pass reduction.
func (b *Backend) MinMax(dst, x backend.Tensor) {
	dm, ok := backend.OpMinMax.Check(&b.err, b, backend.Params{}, dst, x)
	if !ok {
		return
	}
	const op = "MinMax"
	xt, d := tensor(x), tensor(dst)
	wg := int(b.tune.red)
	// At most redGroups workgroups (each ends in a barrier tree, which CPU
	// drivers run slowly), more where an invocation would loop too long;
	// on CPU drivers also at least 256 elements per invocation (a
	// workgroup's own cost there is microseconds).
	n := dm.Len
	groups := min(b.stride(n, wg*8), uint32(max(b.tune.redGroups, (n+wg*maxLoop-1)/(wg*maxLoop))), 1024)
	if b.tune.strideGroups > 0 {
		groups = min(groups, max(b.stride(n, wg*256), uint32((n+wg*maxLoop-1)/(wg*maxLoop))))
	}
	part := b.scratch(op, 4*int(groups)) // a uvec4 per workgroup
	push := struct{ N, Groups uint32 }{uint32(n), groups}
	b.took("q_minmax", pick(groups > 1, "groups>1", "groups=1"))
	if groups == 1 { // one workgroup reduces x into dst (PASS 2): one dispatch
		b.dispatch(op, "q_minmax", []uint32{uint32(wg), 2}, pushOf(push), 1, 1, 1, xt, part, d)
		return
	}
	b.dispatch(op, "q_minmax", []uint32{uint32(wg), 0}, pushOf(push), groups, 1, 1, xt, part, d)
	b.dispatch(op, "q_minmax", []uint32{uint32(wg), 1}, pushOf(push), 1, 1, 1, xt, part, d)
}

// Histogram counts the finite values of the F32 tensor x into the I32
// tensor counts, see ref.HistogramBin.
func (b *Backend) Histogram(counts, x backend.Tensor, lo, hi float32) {
	d, ok := backend.OpHistogram.Check(&b.err, b, backend.Params{Lo: lo, Hi: hi}, counts, x)
	if !ok {
		return
	}
	const op = "Histogram"
	xt, c := tensor(x), tensor(counts)
	inv := float32(d.Bins) / (hi - lo)
	b.record(op, b.seq.Fill(c.st.buf, 0))
	push := struct {
		N, Bins uint32
		Lo, Inv float32
	}{uint32(d.Len), uint32(d.Bins), lo, inv}
	b.dispatch(op, "q_histogram", []uint32{b.wg()}, pushOf(push), b.fewStride(d.Len, int(b.wg())*4), 1, 1, xt, c)
}

// quantParams uploads, per channel, the float32 reciprocal 1/s (rounded on
// the host, as ref.QuantizeValue), the zero point and, with scales, s.
func (b *Backend) quantParams(op string, p backend.QuantSpec, inv, scales bool) (*Tensor, uint32) {
	n := len(p.Scale) + len(p.Zero)
	if scales {
		n += len(p.Scale)
	}
	w, t, off := b.reserve(op, n)
	if t == nil {
		return nil, 0
	}
	w = w[:0] // filled in place, within its capacity
	for _, s := range p.Scale {
		if inv {
			s = 1 / s
		}
		w = append(w, math.Float32bits(s))
	}
	for _, z := range p.Zero {
		w = append(w, uint32(z))
	}
	if scales {
		for _, s := range p.Scale {
			w = append(w, math.Float32bits(s))
		}
	}
	return t, off
}

// outQ8 prepares the Q8 output q for codes in [lo, hi]: packed unsigned,
// packed signed, or one int per code when the range has both signs.
func (b *Backend) outQ8(op string, q *Tensor, lo, hi int32) qfmt {
	f := qU8
	switch {
	case lo < 0 && hi > 127:
		f = qWide
		if err := b.grow(q.st, int64(q.Len())*4); err != nil {
			b.failf(op, "%v", err)
		}
	case lo < 0:
		f = qS8
	}
	q.st.q = f
	return f
}

// Quantize writes the codes of the F32 tensor x into the Q8 tensor q per
// p, bit for bit as ref.QuantizeValue.
func (b *Backend) Quantize(q, x backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpQuantize.Check(&b.err, b, backend.Params{P: p}, q, x)
	if !ok {
		return
	}
	const op = "Quantize"
	xt, qt := tensor(x), tensor(q)
	slice := d.Slice
	// outQ8 first: growing q to one int per code runs the recorded work,
	// which resets the parameter arena (an upload before it would be
	// overwritten by later ones of the same batch).
	f := b.outQ8(op, qt, p.QMin, p.QMax)
	prm, off := b.quantParams(op, p, true, false)
	if b.failed() {
		return
	}
	push := struct {
		N, Cols, RowWords, Words, Slice uint32
		QMin, QMax                      int32
		Off, Nch, Inv0                  uint32
		Z0                              int32
		Rows, RPC                       uint32
	}{uint32(xt.Len()), uint32(qt.cols()), uint32(qt.rowWords()), uint32(qt.rows() * qt.rowWords()), uint32(slice), p.QMin, p.QMax,
		off, uint32(len(p.Scale)), math.Float32bits(1 / p.Scale[0]), p.Zero[0], 0, 0}
	wide, items := uint32(0), int(push.Words)
	if f == qWide {
		wide, items = 1, xt.Len()
	}
	flat := items // PERCH 0: words, or quads of one-code items
	if f == qWide || qt.cols() == 1 {
		flat = ceilDiv(items, 4)
	}
	l := b.quantLaunch(p, slice, qt, items, flat)
	push.Rows, push.RPC = uint32(qt.rows()), uint32(l.rpc)
	spec := []uint32{l.wx, wide, l.perch, wordCodes(qt, f), l.wy, b2u(f != qWide && qt.cols()%4 == 0)}
	if b.paths != nil {
		const k = "q_quantize"
		b.tookQuant(k, l.perch, f, qt, spec[5] != 0)
		b.took(k, pick(f == qWide, "q=wide", "q=packed"))
		if l.perch == 0 && (f == qWide || qt.cols() == 1) {
			b.took(k, "quads")
		}
	}
	b.dispatch(op, "q_quantize", spec, pushOf(push), l.gx, l.gy, 1, xt, qt, prm)
}

// Dequantize writes x = s·(q-z) of the Q8 tensor q into the F32 tensor x.
func (b *Backend) Dequantize(x, q backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpDequantize.Check(&b.err, b, backend.Params{P: p}, x, q)
	if !ok {
		return
	}
	b.dequantize("Dequantize", tensor(x), tensor(q), p, d.Slice)
}

// dequantize records Dequantize's kernel for slice elements per channel
// (operands checked by the caller's op).
func (b *Backend) dequantize(op string, xt, qt *Tensor, p backend.QuantSpec, slice int) {
	prm, off := b.quantParams(op, p, false, false)
	wide := qt.st.q == qWide
	push := struct {
		N, Cols, RowWords, Slice, Off, Nch, S0 uint32
		Z0                                     int32
		Words, Rows, RPC                       uint32
	}{uint32(qt.Len()), uint32(qt.cols()), uint32(qt.rowWords()), uint32(slice), off, uint32(len(p.Scale)),
		math.Float32bits(p.Scale[0]), p.Zero[0], uint32(qt.rows() * qt.rowWords()), uint32(qt.rows()), 0}
	items := int(push.Words)
	if wide {
		items = qt.Len()
	}
	l := b.quantLaunch(p, slice, qt, items, ceilDiv(qt.Len(), 4))
	push.RPC = uint32(l.rpc)
	spec := []uint32{l.wx, uint32(qt.st.q), l.perch, wordCodes(qt, qt.st.q), l.wy, b2u(!wide && qt.cols()%4 == 0)}
	if b.paths != nil {
		b.tookQuant("q_dequantize", l.perch, qt.st.q, qt, spec[5] != 0)
		b.took("q_dequantize", fmtQ[qt.st.q])
	}
	b.dispatch(op, "q_dequantize", spec, pushOf(push), l.gx, l.gy, 1, qt, xt, prm)
}

// tookQuant records the paths q_quantize and q_dequantize share: the
// per-channel layout perch, the codes per word of the packed Q8 tensor q
// (format f) and whether words are whole vectors of elements.
func (b *Backend) tookQuant(kernel string, perch uint32, f qfmt, q *Tensor, vec bool) {
	b.took(kernel, perchPaths[perch])
	if f != qWide {
		b.took(kernel, jmaxPaths[wordCodes(q, f)])
	}
	b.took(kernel, pick(vec, "vec", "novec"))
}

// quantLaunch is the launch of q_quantize or q_dequantize (see their
// headers) over the Q8 tensor q of items items (its words, or codes when
// wide) for the spec p with slice elements per channel: the PERCH
// specialization constant (0 for one channel, a grid-stride range over
// flat items; 1, with rpc rows per channel, where every channel is whole
// rows of q (on CPU drivers rows of at least 16 items); else 2), the
// workgroup shape wx by wy and the grid gx by gy.
type quantLaunch struct {
	perch          uint32
	rpc            int
	wx, wy, gx, gy uint32
}

func (b *Backend) quantLaunch(p backend.QuantSpec, slice int, q *Tensor, items, flat int) quantLaunch {
	l := quantLaunch{perch: 2, rpc: 1, wx: b.wg(), wy: 1}
	switch {
	case len(p.Scale) == 1:
		l.perch, l.gx, l.gy = 0, b.fewStride(flat, int(b.wg())), 1
		return l
	case slice%q.cols() == 0:
		perRow := q.rowWords()
		if q.st.q == qWide {
			perRow = q.cols()
		}
		// Short rows would make 2-D workgroups of many rows, which CPU
		// drivers run slowly (lavapipe: about half speed); those take the
		// 1-D form.
		if perRow < 16 && b.tune.strideGroups > 0 {
			break
		}
		if wx, wy, gx, gy, ok := b.rowGrid(perRow, q.rows()); ok {
			return quantLaunch{perch: 1, rpc: slice / q.cols(), wx: wx, wy: wy, gx: gx, gy: gy}
		}
	}
	// One grid-stride range over the items.
	l.gx, l.gy = b.fewStride(items, int(b.wg())), 1
	return l
}

// rowGrid is the launch shape of the row-walking q_* kernels over rows
// rows of items items (words or codes) each: workgroups of wx items by wy
// rows, gx by gy of them. On CPU drivers (tune.strideGroups) about
// strideGroups workgroups in all, each invocation looping over its share of
// rows and items, but enough that none loops more than maxLoop/4 times
// (llvmpipe ends longer loops); elsewhere one item per invocation as far
// as the device's limits allow. ok is false when the grid cannot keep the
// loops that short (then the caller takes the 1-D form).
func (b *Backend) rowGrid(items, rows int) (wx, wy, gx, gy uint32, ok bool) {
	l := b.dev.Info().Limits
	x := max(1, min(items, int(b.wg()), int(l.MaxComputeWorkGroupSize[0])))
	y := max(1, min(int(b.wg())/x, rows, int(l.MaxComputeWorkGroupSize[1])))
	cx, cy := ceilDiv(items, x), ceilDiv(rows, y)
	ok = true
	if sg := b.tune.strideGroups; sg > 0 {
		const most = maxLoop / 4
		// Few workgroups along the row (an invocation's row setup, its
		// channel's constants, is paid per row): more only where the rows
		// are too few to give sg workgroups, or too long for one loop.
		cx = min(cx, max(ceilDiv(sg, cy), ceilDiv(items, x*most/2)))
		per := ceilDiv(items, x*cx) + 1 // loop iterations per row of an invocation
		need := ceilDiv(rows, y*max(1, most/per))
		cy = min(cy, max(sg/cx, need))
		ok = need <= int(l.MaxComputeWorkGroupCount[1]) && cx <= int(l.MaxComputeWorkGroupCount[0])
	}
	cx = min(cx, int(l.MaxComputeWorkGroupCount[0]))
	cy = min(cy, int(l.MaxComputeWorkGroupCount[1]))
	return uint32(x), uint32(y), uint32(cx), uint32(cy), ok
}

// QuantGrad is the straight-through backward of fake quantization, see
// backend.Backend: dx elementwise, dScale and dZero as per-channel
// reductions (chunk partial sums, then the chunks in order).
func (b *Backend) QuantGrad(dx, dScale, dZero, x, dxhat backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpQuantGrad.Check(&b.err, b, backend.Params{P: p}, dx, dScale, dZero, x, dxhat)
	if !ok {
		return
	}
	const op = "QuantGrad"
	chunks, chunkLen := b.quantGradPlan(d.Slice)
	prm, off := b.quantParams(op, p, true, true)
	part := b.scratch(op, 2*len(p.Scale)*chunks)
	b.quantGrad(op, tensor(dx), tensor(dScale), tensor(dZero), tensor(x), tensor(dxhat), part, prm, off, p, d.Slice, chunks, chunkLen, 1)
}

// quantGradPlan returns how q_quantgrad splits each slice of slice
// elements: into chunks of chunkLen elements, a workgroup each.
func (b *Backend) quantGradPlan(slice int) (chunks, chunkLen int) {
	wg := int(b.tune.red)
	// Chunks of 16 items per invocation on GPUs, 64 on CPU drivers (where
	// each workgroup costs microseconds: fewer, longer ones).
	chunkLen = wg * 16
	if b.tune.strideGroups > 0 {
		chunkLen = wg * 64
	}
	chunks = (slice + chunkLen - 1) / chunkLen
	if chunks > 64 {
		chunks = 64
		chunkLen = (slice + chunks - 1) / chunks
		chunks = (slice + chunkLen - 1) / chunkLen
	}
	return chunks, chunkLen
}

// quantGrad records q_quantgrad (QuantGrad's kernels; operands checked by
// the caller's op) with quantGradPlan's chunks, p's parameters at off in
// prm (quantParams) and the chunks' partial sums in part (at least
// 2·len(p.Scale)·chunks words, where chunks > 1). dxt may be nil (no dx).
// gt holds dxhat, or where parts > 1 parts partial sums of it, one after
// the other, which the kernel adds in order as it reads them (KSUM: see
// ConvGradWQuant).
func (b *Backend) quantGrad(op string, dxt, ds, dz, xt, gt, part, prm *Tensor, off uint32, p backend.QuantSpec, slice, chunks, chunkLen, parts int) {
	nch := len(p.Scale)
	wg := int(b.tune.red)
	if nch > int(b.dev.Info().Limits.MaxComputeWorkGroupCount[1]) {
		b.failf(op, "%d channels exceed the device's workgroup count limit", nch)
		return
	}
	hasDX := uint32(1)
	if dxt == nil {
		hasDX, dxt = 0, ds // bound but not written
	}
	ksum := b2u(parts > 1)
	push := quantGradPush{Slice: uint32(slice), Chunks: uint32(chunks), ChunkLen: uint32(chunkLen), QMin: p.QMin, QMax: p.QMax,
		Off: off, Nch: uint32(nch), Parts: uint32(parts)}
	if b.paths != nil {
		const k = "q_quantgrad"
		b.took(k, pick(chunks > 1, "chunks>1", "chunks=1"))
		b.took(k, pick(hasDX != 0, "dx", "nodx"))
		b.took(k, pick(ksum != 0, "ksum", "noksum"))
		// A workgroup walks its chunk (the last one of a slice may be
		// shorter) two elements per iteration.
		b.tookLoop2(k, min(chunkLen, slice), wg)
		b.tookLoop2(k, slice-(chunks-1)*chunkLen, wg)
	}
	if chunks == 1 { // one workgroup per channel writes its sums (PASS 2): one dispatch
		b.dispatch(op, "q_quantgrad", []uint32{uint32(wg), 2, hasDX, ksum}, pushOf(push), 1, uint32(nch), 1, xt, gt, dxt, part, ds, dz, prm)
		return
	}
	b.dispatch(op, "q_quantgrad", []uint32{uint32(wg), 0, hasDX, ksum}, pushOf(push), uint32(chunks), uint32(nch), 1, xt, gt, dxt, part, ds, dz, prm)
	b.dispatch(op, "q_quantgrad", []uint32{b.wg(), 1, hasDX}, pushOf(push), b.groups(nch, int(b.wg())), 1, 1, xt, gt, dxt, part, ds, dz, prm)
}

// wordCodes is the JMAX specialization constant of the kernels over packed
// Q8 words: the codes in a full word of t, min(cols, 4) (1 for format f wide).
func wordCodes(t *Tensor, f qfmt) uint32 {
	if f == qWide {
		return 1
	}
	return uint32(min(t.cols(), 4))
}
