package ref

import (
	"fmt"
	"math"

	"github.com/vktrain/vktrain/nn/backend"
)

// MinMax writes [min, max, count of non-finite values] of x into dst.
func (b *Backend) MinMax(dst, x backend.Tensor) {
	o := b.begin("MinMax")
	xt := o.input("x", x, backend.F32)
	d := o.output("dst", dst, backend.F32)
	o.wantLen("dst", d, 3, "min, max, non-finite count")
	if !o.done() {
		return
	}
	lo, hi := float32(0), float32(0)
	seen := false
	bad := 0
	for _, v := range xt.st.f {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			bad++
			continue
		}
		if !seen {
			lo, hi, seen = v, v, true
			continue
		}
		lo = min(lo, v)
		hi = max(hi, v)
	}
	d.st.f[0], d.st.f[1], d.st.f[2] = lo, hi, float32(bad)
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
	o := b.begin("Histogram")
	xt := o.input("x", x, backend.F32)
	c := o.output("counts", counts, backend.I32)
	if !(hi > lo) || math.IsInf(float64(lo), 0) || math.IsInf(float64(hi), 0) {
		o.failf("range [%v, %v]: want finite lo < hi", lo, hi)
	}
	if !o.done() {
		return
	}
	bins := c.Len()
	clear(c.st.i)
	for _, v := range xt.st.f {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			continue
		}
		c.st.i[HistogramBin(v, lo, hi, bins)]++
	}
}

// QuantizeValue returns clamp(round(x·(1/s))+z, qmin, qmax), where 1/s
// and the product are each rounded to float32, round is half away from
// zero, and NaN gives z. It is the scalar definition of Quantize. The
// reciprocal is used instead of a division because Vulkan guarantees
// correctly rounded multiplication but not division, so GPU kernels can
// match this bit for bit.
func QuantizeValue(x, s float32, z, qmin, qmax int32) int32 {
	if x != x {
		return z
	}
	inv := 1 / s
	v := math.Round(float64(float32(x*inv))) + float64(z)
	if v < float64(qmin) {
		return qmin
	}
	if v > float64(qmax) {
		return qmax
	}
	return int32(v)
}

// checkSpec validates p for a tensor t (slices along dimension 0) and
// returns the number of elements per slice of a per-channel spec (or the
// tensor length for a per-tensor one).
func (o *op) checkSpec(name string, p backend.QuantSpec, t *Tensor) int {
	return o.Spec(name, p, shapeOf(t))
}

// Quantize writes the codes of x into q per p.
func (b *Backend) Quantize(q, x backend.Tensor, p backend.QuantSpec) {
	o := b.begin("Quantize")
	xt := o.input("x", x, backend.F32)
	qt := o.output("q", q, backend.Q8)
	o.wantLen("q", qt, lenOf(xt), "x is "+shapeStr(xt))
	slice := o.checkSpec("p", p, xt)
	if !o.done() {
		return
	}
	scale := append([]float32(nil), p.Scale...)
	zero := append([]int32(nil), p.Zero...)
	b.parallel(xt.Len(), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			c := i / slice
			qt.st.i[i] = QuantizeValue(xt.st.f[i], scale[c], zero[c], p.QMin, p.QMax)
		}
	})
}

// Dequantize writes x = Scale·(q-Zero), computed as s·float32(q-z).
func (b *Backend) Dequantize(x, q backend.Tensor, p backend.QuantSpec) {
	o := b.begin("Dequantize")
	qt := o.input("q", q, backend.Q8)
	xt := o.output("x", x, backend.F32)
	o.wantLen("x", xt, lenOf(qt), "q is "+shapeStr(qt))
	slice := o.checkSpec("p", p, qt)
	if !o.done() {
		return
	}
	scale := append([]float32(nil), p.Scale...)
	zero := append([]int32(nil), p.Zero...)
	b.parallel(qt.Len(), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			c := i / slice
			xt.st.f[i] = scale[c] * float32(qt.st.i[i]-zero[c])
		}
	})
}

// QuantGrad is the straight-through backward of fake quantization, see
// backend.Backend. Per slice, dScale and dZero are float32 sums in
// increasing element order of the float32 terms dxhat·(round(x/s)-x/s)
// (x/s computed as in QuantizeValue, x·(1/s)),
// dxhat·(QMin-z) or dxhat·(QMax-z), and -(dxhat·s).
func (b *Backend) QuantGrad(dx, dScale, dZero, x, dxhat backend.Tensor, p backend.QuantSpec) {
	o := b.begin("QuantGrad")
	xt := o.input("x", x, backend.F32)
	gt := o.input("dxhat", dxhat, backend.F32)
	o.wantLen("dxhat", gt, lenOf(xt), "x is "+shapeStr(xt))
	var dxt *Tensor
	if !isNil(dx) {
		dxt = o.output("dx", dx, backend.F32)
		o.wantLen("dx", dxt, lenOf(xt), "x is "+shapeStr(xt))
	}
	ds := o.output("dScale", dScale, backend.F32)
	dz := o.output("dZero", dZero, backend.F32)
	o.wantLen("dScale", ds, len(p.Scale), "one per scale")
	o.wantLen("dZero", dz, len(p.Scale), "one per scale")
	slice := o.checkSpec("p", p, xt)
	if !o.done() {
		return
	}
	nch := len(p.Scale)
	scale := append([]float32(nil), p.Scale...)
	zero := append([]int32(nil), p.Zero...)
	qmin, qmax := float64(p.QMin), float64(p.QMax)
	b.parallel(nch, 1, func(clo, chi int) {
		for c := clo; c < chi; c++ {
			s, z := scale[c], zero[c]
			inv := 1 / s
			lowT, highT := float32(p.QMin-z), float32(p.QMax-z)
			var sumS, sumZ float32
			for i := c * slice; i < (c+1)*slice; i++ {
				g := gt.st.f[i]
				q := float32(xt.st.f[i] * inv)
				r := math.Round(float64(q))
				v := r + float64(z)
				d := g
				switch {
				case v < qmin:
					d = 0
					sumS += float32(g * lowT)
					sumZ += -float32(g * s)
				case v > qmax:
					d = 0
					sumS += float32(g * highT)
					sumZ += -float32(g * s)
				default:
					sumS += float32(g * (float32(r) - q))
				}
				if dxt != nil {
					dxt.st.f[i] = d
				}
			}
			ds.st.f[c], dz.st.f[c] = sumS, sumZ
		}
	})
}

func isNil(t backend.Tensor) bool {
	if t == nil {
		return true
	}
	rt, ok := t.(*Tensor)
	return ok && rt == nil
}

func shapeStr(t *Tensor) string {
	if t == nil {
		return "?"
	}
	return fmt.Sprint(t.shape)
}
