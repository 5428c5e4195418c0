package ref

import (
	"math"

	"github.com/vktrain/vktrain/internal/qsimd"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/quant"
)

// minMaxJob finds the finite minimum and maximum and counts the
// non-finite values of x[lo:hi] into the part's slot of parts.
type minMaxJob struct {
	x     []float32
	parts []minMaxPart
}

type minMaxPart struct {
	lo, hi float32
	seen   bool
	bad    int
}

func (j *minMaxJob) run(lo, hi, part int) {
	var r minMaxPart
	r.lo, r.hi, r.seen, r.bad = qsimd.MinMax(j.x[lo:hi])
	j.parts[part] = r
}

// MinMax writes [min, max, count of non-finite values] of x into dst.
// Minimum and maximum do not depend on the order of the elements, so the
// parts of x are searched in parallel.
func (b *Backend) MinMax(dst, x backend.Tensor) {
	if _, ok := backend.OpMinMax.Check(&b.err, b, backend.Params{}, dst, x); !ok {
		return
	}
	b.minMax3(dst.(*Tensor).st.f, x.(*Tensor).st.f)
}

// minMax3 writes MinMax's [min, max, non-finite count] of x into d[:3].
func (b *Backend) minMax3(d, x []float32) {
	if len(b.minMax) != b.threads {
		b.minMax = make([]minMaxPart, b.threads)
	}
	clear(b.minMax)
	j := &b.jobs.minMax
	*j = minMaxJob{x: x, parts: b.minMax}
	b.run(j, len(x), 1<<15)
	*j = minMaxJob{}
	var r minMaxPart
	for _, p := range b.minMax {
		r.bad += p.bad
		if !p.seen {
			continue
		}
		if !r.seen {
			r.lo, r.hi, r.seen = p.lo, p.hi, true
			continue
		}
		r.lo = min(r.lo, p.lo)
		r.hi = max(r.hi, p.hi)
	}
	d[0], d[1], d[2] = r.lo, r.hi, float32(r.bad)
}

// HistogramBin returns the bin of the finite value v in a histogram of
// bins bins over [lo, hi): floor((v-lo)·f) with f = bins/(hi-lo) and each
// step rounded to float32 (only correctly rounded subtraction and
// multiplication, which Vulkan guarantees, decide the bin), clamped to
// [0, bins-1].
func HistogramBin(v, lo, hi float32, bins int) int {
	inv := float32(bins) / (hi - lo)
	f := float32(float32(v-lo) * inv)
	g := math.Floor(float64(f))
	if !(g >= 0) { // also catches NaN from Inf-Inf
		return 0
	}
	if g >= float64(bins) {
		return bins - 1
	}
	return int(g)
}

// Histogram counts the finite values of x into counts, see HistogramBin.
func (b *Backend) Histogram(counts, x backend.Tensor, lo, hi float32) {
	d, ok := backend.OpHistogram.Check(&b.err, b, backend.Params{Lo: lo, Hi: hi}, counts, x)
	if !ok {
		return
	}
	c, xt := counts.(*Tensor), x.(*Tensor)
	bins := d.Bins
	clear(c.st.i)
	for _, v := range xt.st.f {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			continue
		}
		c.st.i[HistogramBin(v, lo, hi, bins)]++
	}
}

// QuantizeValue returns the code of x: clamp(round(x·fl32(1/s))+z, qmin,
// qmax), quant.Code, the one definition of the quantizer that Quantize
// applies to every element (1/s and the product are each rounded to
// float32, round is half away from zero, NaN gives z).
func QuantizeValue(x, s float32, z, qmin, qmax int32) int32 {
	return quant.Code(x, s, z, qmin, qmax)
}

// quantizeJob writes the codes of elements [lo, hi) of x.
type quantizeJob struct {
	q     []int32
	x     []float32
	p     backend.QuantSpec
	slice int
	invs  []float32 // fl32(1/s) per slice
}

func (j *quantizeJob) run(lo, hi, _ int) {
	for lo < hi {
		c := lo / j.slice
		end := min(hi, (c+1)*j.slice)
		qsimd.Codes(j.q[lo:end], j.x[lo:end], j.invs[c], j.p.Zero[c], j.p.QMin, j.p.QMax)
		lo = end
	}
}

// termScratch returns n float32 of QuantGrad's scratch.
func (b *Backend) termScratch(n int) []float32 {
	if cap(b.terms) < n {
		b.terms = make([]float32, n)
	}
	return b.terms[:n]
}

// reciprocals returns fl32(1/s) for every scale of p, in the backend's
// small scratch.
func (b *Backend) reciprocals(p backend.QuantSpec) []float32 {
	invs := b.floats(len(p.Scale))
	for c, s := range p.Scale {
		invs[c] = 1 / s
	}
	return invs
}

// Quantize writes the codes of x into q per p.
func (b *Backend) Quantize(q, x backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpQuantize.Check(&b.err, b, backend.Params{P: p}, q, x)
	if !ok {
		return
	}
	b.quantize(q.(*Tensor).st.i, x.(*Tensor).st.f[:d.Len], p, d.Slice)
}

// quantize is Quantize's job on the elements: the codes of x into q, in
// slices of slice elements (one per scale of p).
func (b *Backend) quantize(q []int32, x []float32, p backend.QuantSpec, slice int) {
	j := &b.jobs.quantize
	*j = quantizeJob{q: q, x: x, p: p, slice: slice, invs: b.reciprocals(p)}
	b.run(j, len(x), 1<<14)
	*j = quantizeJob{}
}

// dequantizeJob writes x = s·float32(q-z) for elements [lo, hi).
type dequantizeJob struct {
	x     []float32
	q     []int32
	p     backend.QuantSpec
	slice int
}

func (j *dequantizeJob) run(lo, hi, _ int) {
	for lo < hi {
		c := lo / j.slice
		end := min(hi, (c+1)*j.slice)
		qsimd.Dequantize(j.x[lo:end], j.q[lo:end], j.p.Scale[c], j.p.Zero[c])
		lo = end
	}
}

// Dequantize writes x = Scale·(q-Zero), computed as s·float32(q-z).
func (b *Backend) Dequantize(x, q backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpDequantize.Check(&b.err, b, backend.Params{P: p}, x, q)
	if !ok {
		return
	}
	b.dequantize(x.(*Tensor).st.f[:d.Len], q.(*Tensor).st.i, p, d.Slice)
}

// dequantize is Dequantize's job on the elements: x = s·float32(q-z), in
// slices of slice elements (one per scale of p).
func (b *Backend) dequantize(x []float32, q []int32, p backend.QuantSpec, slice int) {
	j := &b.jobs.dequantize
	*j = dequantizeJob{x: x, q: q, p: p, slice: slice}
	b.run(j, len(x), 1<<14)
	*j = dequantizeJob{}
}

// quantGradJob runs QuantGrad for the slices [lo, hi) (whole), or, when
// split (one slice over the workers), for its elements [lo, hi), writing
// dx and the float32 terms of the two sums into termS and termZ for the
// caller to add in element order.
type quantGradJob struct {
	dx, dScale, dZero, x, dxhat, invs []float32
	termS, termZ                      []float32
	p                                 backend.QuantSpec
	slice                             int
	split                             bool
}

// quantGradTerms computes the straight-through dx (when dx is not nil)
// and, into ts and tz, the float32 terms of the scale and zero-point sums
// of the elements x of one slice of scale s, reciprocal inv and zero
// point z: for q = x·inv and r = round(q), v = r + z below QMin or above
// QMax gives dx = 0, ts = g·(QMin-z) or g·(QMax-z) and tz = -(g·s); in
// range, dx = g, ts = g·(float32(r)-q) and tz = 0 (internal/qsimd, whose
// plain Go code is this definition and whose SIMD kernels match it bit
// for bit).
func quantGradTerms(dx, x, g, ts, tz []float32, s, inv float32, z int32, p backend.QuantSpec) {
	qsimd.GradTerms(dx, x, g[:len(x)], ts[:len(x)], tz[:len(x)], s, inv, z, p.QMin, p.QMax)
}

// sumTerms returns the float32 sums of ts and tz in element order.
func sumTerms(ts, tz []float32) (sumS, sumZ float32) {
	tz = tz[:len(ts)]
	for i, v := range ts {
		sumS += v
		sumZ += tz[i]
	}
	return sumS, sumZ
}

func (j *quantGradJob) run(lo, hi, part int) {
	p := j.p
	if j.split {
		var dx []float32
		if j.dx != nil {
			dx = j.dx[lo:hi]
		}
		quantGradTerms(dx, j.x[lo:hi], j.dxhat[lo:hi], j.termS[lo:hi], j.termZ[lo:hi], p.Scale[0], j.invs[0], p.Zero[0], p)
		return
	}
	// Per slice: the terms in this part's share of the scratch, then the
	// sums in element order.
	ts := j.termS[part*2*j.slice : part*2*j.slice+j.slice]
	tz := j.termS[part*2*j.slice+j.slice : (part+1)*2*j.slice]
	for c := lo; c < hi; c++ {
		var dx []float32
		if j.dx != nil {
			dx = j.dx[c*j.slice : (c+1)*j.slice]
		}
		quantGradTerms(dx, j.x[c*j.slice:(c+1)*j.slice], j.dxhat[c*j.slice:(c+1)*j.slice], ts, tz, p.Scale[c], j.invs[c], p.Zero[c], p)
		j.dScale[c], j.dZero[c] = sumTerms(ts, tz)
	}
}

// QuantGrad is the straight-through backward of fake quantization, see
// backend.Backend. Per slice, dScale and dZero are float32 sums in
// increasing element order of the float32 terms dxhat·(round(v)-v) with
// v = x·fl32(1/s) (quant.Scaled, the value quant.Code rounds),
// dxhat·(QMin-z) or dxhat·(QMax-z), and -(dxhat·s).
func (b *Backend) QuantGrad(dx, dScale, dZero, x, dxhat backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpQuantGrad.Check(&b.err, b, backend.Params{P: p}, dx, dScale, dZero, x, dxhat)
	if !ok {
		return
	}
	var dxf []float32
	if !isNil(dx) {
		dxf = dx.(*Tensor).st.f
	}
	b.quantGradSlices(dxf, dScale.(*Tensor).st.f, dZero.(*Tensor).st.f, x.(*Tensor).st.f, dxhat.(*Tensor).st.f, p, d.Slice)
}

// quantGradSlices is QuantGrad's work on checked slices, dx nil or not
// (see QuantGrad), p's quantizer in slices of slice elements.
func (b *Backend) quantGradSlices(dx, dScale, dZero, x, dxhat []float32, p backend.QuantSpec, slice int) {
	j := &b.jobs.quantGrad
	*j = quantGradJob{dx: dx, dScale: dScale, dZero: dZero, x: x, dxhat: dxhat, invs: b.reciprocals(p), p: p, slice: slice}
	if len(p.Scale) > 1 || b.threads == 1 || slice < 1<<14 {
		// Slices over the workers, each with its own terms scratch.
		j.termS = b.termScratch(2 * slice * b.threads)
		b.run(j, len(p.Scale), 1)
		*j = quantGradJob{}
		return
	}
	// One large slice (an activation quantizer): the elements' terms in
	// parallel, then the two sums in element order, as above.
	j.split = true
	t := b.termScratch(2 * slice)
	j.termS, j.termZ = t[:slice], t[slice:]
	b.run(j, slice, 1<<13)
	j.dScale[0], j.dZero[0] = sumTerms(j.termS, j.termZ)
	*j = quantGradJob{}
}

func isNil(t backend.Tensor) bool {
	if t == nil {
		return true
	}
	rt, ok := t.(*Tensor)
	return ok && rt == nil
}
