package vk

import (
	"math"

	"github.com/vktrain/vktrain/nn/backend"
)

// MinMax writes [min, max, count of non-finite values] of the F32 tensor x
// into dst (length 3): a two-pass reduction.
func (b *Backend) MinMax(dst, x backend.Tensor) {
	const op = "MinMax"
	xt := b.arg(op, "x", x, backend.F32)
	d := b.arg(op, "dst", dst, backend.F32)
	if xt == nil || d == nil {
		return
	}
	if d.Len() != 3 {
		b.failf(op, "dst is %v, want 3 elements (min, max, non-finite count)", d.shape)
		return
	}
	b.noAlias(op, d, "dst", xt)
	wg := int(b.tune.red)
	// At most redGroups workgroups (each ends in a barrier tree, which CPU
	// drivers run slowly), more where an invocation would loop too long.
	n := xt.Len()
	groups := min(b.stride(n, wg*8), uint32(max(b.tune.redGroups, (n+wg*maxLoop-1)/(wg*maxLoop))), 1024)
	part := b.scratch(op, 4*int(groups))
	push := struct{ N, Groups uint32 }{uint32(xt.Len()), groups}
	b.dispatch(op, "q_minmax", []uint32{uint32(wg), 0}, push, groups, 1, 1, xt, part, d)
	b.dispatch(op, "q_minmax", []uint32{uint32(wg), 1}, push, 1, 1, 1, xt, part, d)
}

// Histogram counts the finite values of the F32 tensor x into the I32
// tensor counts, see ref.HistogramBin.
func (b *Backend) Histogram(counts, x backend.Tensor, lo, hi float32) {
	const op = "Histogram"
	xt := b.arg(op, "x", x, backend.F32)
	c := b.arg(op, "counts", counts, backend.I32)
	if xt == nil || c == nil {
		return
	}
	if !(hi > lo) || math.IsInf(float64(lo), 0) || math.IsInf(float64(hi), 0) {
		b.failf(op, "range [%v, %v]: want finite lo < hi", lo, hi)
		return
	}
	b.noAlias(op, c, "counts", xt)
	if b.failed() {
		return
	}
	bins := c.Len()
	inv := float32(bins) / (hi - lo)
	b.record(op, b.seq.Fill(c.st.buf, 0))
	push := struct {
		N, Bins uint32
		Lo, Inv float32
	}{uint32(xt.Len()), uint32(bins), lo, inv}
	b.dispatch(op, "q_histogram", []uint32{b.wg()}, push, b.fewStride(xt.Len(), int(b.wg())*4), 1, 1, xt, c)
}

// spec validates p for a tensor with rows slices along dimension 0 and
// returns the elements per slice.
func (b *Backend) spec(op string, p backend.QuantSpec, t *Tensor) int {
	c := backend.NewCheck(op, &b.err)
	return c.Spec("p", p, shapeSlice(t))
}

// quantParams uploads, per channel, the float32 reciprocal 1/s (rounded on
// the host, as ref.QuantizeValue), the zero point and, with scales, s.
func (b *Backend) quantParams(op string, p backend.QuantSpec, inv, scales bool) (*Tensor, uint32) {
	n := len(p.Scale)
	w := make([]uint32, 0, 3*n)
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
	return b.upload(op, w)
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
	const op = "Quantize"
	xt := b.arg(op, "x", x, backend.F32)
	qt := b.arg(op, "q", q, backend.Q8)
	if xt == nil || qt == nil {
		return
	}
	if qt.Len() != xt.Len() {
		b.failf(op, "q is %v, want %d elements (x is %v)", qt.shape, xt.Len(), xt.shape)
		return
	}
	slice := b.spec(op, p, xt)
	if b.failed() {
		return
	}
	prm, off := b.quantParams(op, p, true, false)
	f := b.outQ8(op, qt, p.QMin, p.QMax)
	if b.failed() {
		return
	}
	push := struct {
		N, Cols, RowWords, Words, Slice uint32
		QMin, QMax                      int32
		Off, Nch, Inv0                  uint32
		Z0                              int32
	}{uint32(xt.Len()), uint32(qt.cols()), uint32(qt.rowWords()), uint32(qt.rows() * qt.rowWords()), uint32(slice), p.QMin, p.QMax,
		off, uint32(len(p.Scale)), math.Float32bits(1 / p.Scale[0]), p.Zero[0]}
	wide, items := uint32(0), int(push.Words)
	if f == qWide {
		wide, items = 1, xt.Len()
	}
	spec := []uint32{b.wg(), wide, perChannel(p), wordCodes(qt, f)}
	b.dispatch(op, "q_quantize", spec, push, b.fewStride(items, int(b.wg())), 1, 1, xt, qt, prm)
}

// Dequantize writes x = s·(q-z) of the Q8 tensor q into the F32 tensor x.
func (b *Backend) Dequantize(x, q backend.Tensor, p backend.QuantSpec) {
	const op = "Dequantize"
	qt := b.arg(op, "q", q, backend.Q8)
	xt := b.arg(op, "x", x, backend.F32)
	if xt == nil || qt == nil {
		return
	}
	if qt.Len() != xt.Len() {
		b.failf(op, "x is %v, want %d elements (q is %v)", xt.shape, qt.Len(), qt.shape)
		return
	}
	slice := b.spec(op, p, qt)
	if b.failed() {
		return
	}
	prm, off := b.quantParams(op, p, false, false)
	push := struct {
		N, Cols, RowWords, Slice, Off, Nch, S0 uint32
		Z0                                     int32
		Words                                  uint32
	}{uint32(qt.Len()), uint32(qt.cols()), uint32(qt.rowWords()), uint32(slice), off, uint32(len(p.Scale)),
		math.Float32bits(p.Scale[0]), p.Zero[0], uint32(qt.rows() * qt.rowWords())}
	items := int(push.Words)
	if qt.st.q == qWide {
		items = qt.Len()
	}
	spec := []uint32{b.wg(), uint32(qt.st.q), perChannel(p), wordCodes(qt, qt.st.q)}
	b.dispatch(op, "q_dequantize", spec, push, b.fewStride(items, int(b.wg())), 1, 1, qt, xt, prm)
}

// QuantGrad is the straight-through backward of fake quantization, see
// backend.Backend: dx elementwise, dScale and dZero as per-channel
// reductions (chunk partial sums, then the chunks in order).
func (b *Backend) QuantGrad(dx, dScale, dZero, x, dxhat backend.Tensor, p backend.QuantSpec) {
	const op = "QuantGrad"
	xt := b.arg(op, "x", x, backend.F32)
	gt := b.arg(op, "dxhat", dxhat, backend.F32)
	if xt == nil || gt == nil {
		return
	}
	if gt.Len() != xt.Len() {
		b.failf(op, "dxhat is %v, want %d elements (x is %v)", gt.shape, xt.Len(), xt.shape)
		return
	}
	var dxt *Tensor
	if !isNil(dx) {
		if dxt = b.arg(op, "dx", dx, backend.F32); dxt == nil {
			return
		}
		if dxt.Len() != xt.Len() {
			b.failf(op, "dx is %v, want %d elements (x is %v)", dxt.shape, xt.Len(), xt.shape)
			return
		}
	}
	ds := b.arg(op, "dScale", dScale, backend.F32)
	dz := b.arg(op, "dZero", dZero, backend.F32)
	if ds == nil || dz == nil {
		return
	}
	if ds.Len() != len(p.Scale) {
		b.failf(op, "dScale is %v, want %d elements (one per scale)", ds.shape, len(p.Scale))
		return
	}
	if dz.Len() != len(p.Scale) {
		b.failf(op, "dZero is %v, want %d elements (one per scale)", dz.shape, len(p.Scale))
		return
	}
	slice := b.spec(op, p, xt)
	b.noAlias(op, ds, "dScale", xt, gt, dz, dxt)
	b.noAlias(op, dz, "dZero", xt, gt, dxt)
	b.noAlias(op, dxt, "dx", xt, gt)
	if b.failed() {
		return
	}
	nch := len(p.Scale)
	wg := int(b.tune.red)
	// Chunks of 16 items per invocation on GPUs, 64 on CPU drivers (where
	// each workgroup costs microseconds: fewer, longer ones).
	chunkLen := wg * 16
	if b.tune.strideGroups > 0 {
		chunkLen = wg * 64
	}
	chunks := (slice + chunkLen - 1) / chunkLen
	if chunks > 64 {
		chunks = 64
		chunkLen = (slice + chunks - 1) / chunks
		chunks = (slice + chunkLen - 1) / chunkLen
	}
	if nch > int(b.dev.Info().Limits.MaxComputeWorkGroupCount[1]) {
		b.failf(op, "%d channels exceed the device's workgroup count limit", nch)
		return
	}
	prm, off := b.quantParams(op, p, true, true)
	part := b.scratch(op, 2*nch*chunks)
	hasDX := uint32(1)
	if dxt == nil {
		hasDX, dxt = 0, ds // bound but not written
	}
	push := struct {
		Slice, Chunks, ChunkLen uint32
		QMin, QMax              int32
		Off, Nch                uint32
	}{uint32(slice), uint32(chunks), uint32(chunkLen), p.QMin, p.QMax, off, uint32(nch)}
	b.dispatch(op, "q_quantgrad", []uint32{uint32(wg), 0, hasDX}, push, uint32(chunks), uint32(nch), 1, xt, gt, dxt, part, ds, dz, prm)
	b.dispatch(op, "q_quantgrad", []uint32{b.wg(), 1, hasDX}, push, b.groups(nch, int(b.wg())), 1, 1, xt, gt, dxt, part, ds, dz, prm)
}

// perChannel is the PERCH specialization constant: 1 for a spec with one
// scale per slice, 0 for one per tensor (passed in push constants).
func perChannel(p backend.QuantSpec) uint32 {
	if len(p.Scale) > 1 {
		return 1
	}
	return 0
}

// wordCodes is the JMAX specialization constant of the kernels over packed
// Q8 words: the codes in a full word of t, min(cols, 4) (1 for format f wide).
func wordCodes(t *Tensor, f qfmt) uint32 {
	if f == qWide {
		return 1
	}
	return uint32(min(t.cols(), 4))
}

func isNil(t backend.Tensor) bool {
	if t == nil {
		return true
	}
	vt, ok := t.(*Tensor)
	return ok && vt == nil
}
