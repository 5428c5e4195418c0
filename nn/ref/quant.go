package ref

import (
	"math"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/quant"
)

// MinMax writes [min, max, count of non-finite values] of x into dst.
func (b *Backend) MinMax(dst, x backend.Tensor) {
	if _, ok := backend.OpMinMax.Check(&b.err, b, backend.Params{}, dst, x); !ok {
		return
	}
	d, xt := dst.(*Tensor), x.(*Tensor)
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

// Quantize writes the codes of x into q per p.
func (b *Backend) Quantize(q, x backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpQuantize.Check(&b.err, b, backend.Params{P: p}, q, x)
	if !ok {
		return
	}
	qt, xt := q.(*Tensor), x.(*Tensor)
	slice := d.Slice
	scale := append([]float32(nil), p.Scale...)
	zero := append([]int32(nil), p.Zero...)
	b.parallel(d.Len, 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			c := i / slice
			qt.st.i[i] = QuantizeValue(xt.st.f[i], scale[c], zero[c], p.QMin, p.QMax)
		}
	})
}

// Dequantize writes x = Scale·(q-Zero), computed as s·float32(q-z).
func (b *Backend) Dequantize(x, q backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpDequantize.Check(&b.err, b, backend.Params{P: p}, x, q)
	if !ok {
		return
	}
	xt, qt := x.(*Tensor), q.(*Tensor)
	slice := d.Slice
	scale := append([]float32(nil), p.Scale...)
	zero := append([]int32(nil), p.Zero...)
	b.parallel(d.Len, 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			c := i / slice
			xt.st.f[i] = scale[c] * float32(qt.st.i[i]-zero[c])
		}
	})
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
	xt, gt, ds, dz := x.(*Tensor), dxhat.(*Tensor), dScale.(*Tensor), dZero.(*Tensor)
	var dxt *Tensor
	if !isNil(dx) {
		dxt = dx.(*Tensor)
	}
	slice := d.Slice
	nch := len(p.Scale)
	scale := append([]float32(nil), p.Scale...)
	zero := append([]int32(nil), p.Zero...)
	qmin, qmax := float64(p.QMin), float64(p.QMax)
	b.parallel(nch, 1, func(clo, chi int) {
		for c := clo; c < chi; c++ {
			s, z := scale[c], zero[c]
			lowT, highT := float32(p.QMin-z), float32(p.QMax-z)
			var sumS, sumZ float32
			for i := c * slice; i < (c+1)*slice; i++ {
				g := gt.st.f[i]
				q := quant.Scaled(xt.st.f[i], s)
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
