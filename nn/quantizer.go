package nn

import (
	"fmt"
	"github.com/vktrain/vktrain/internal/qsimd"
	"math"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/quant"
)

// QuantMode says how a quantizer's scale and zero point evolve in training.
type QuantMode uint8

const (
	// QuantLearned initialises scale and zero point from statistics on the
	// first batch and then trains them by gradient (LSQ+ with
	// straight-through rounding), as METHOD.md S100.3 asks.
	QuantLearned QuantMode = iota
	// QuantStats recomputes them from statistics every step: per-channel
	// min/max of the current weights, and a moving average of the batch
	// min/max for activations. The calibration method sets the first
	// ranges only.
	QuantStats
)

// String returns "learned" or "stats".
func (m QuantMode) String() string {
	if m == QuantStats {
		return "stats"
	}
	return "learned"
}

// ParseQuantMode parses "learned" or "stats".
func ParseQuantMode(s string) (QuantMode, error) {
	switch s {
	case "learned", "lsq":
		return QuantLearned, nil
	case "stats":
		return QuantStats, nil
	}
	return 0, fmt.Errorf("quantization mode %q: want learned or stats", s)
}

// Quantizer holds the quantization parameters of one tensor: per tensor
// (activations, unsigned codes) or per output channel (weights, signed
// codes). Scale and zero point are parameters of the model: trainable in
// QuantLearned mode, saved buffers in QuantStats mode.
type Quantizer struct {
	name      string
	scheme    quant.Scheme
	mode      QuantMode
	method    quant.Method
	symmetric bool
	channels  int
	momentum  float32

	Scale *Param // [channels]
	Zero  *Param // [channels], continuous; the code zero point is round(Zero) clamped
	ema   quant.EMA
	ready bool

	spec backend.QuantSpec
	ref  []float32 // reference scales of the last step (logScaleGrads)
	// lower bounds of the weight scales of the last step (applyFloor); nil
	// for activations.
	lower []float32
}

func newQuantizer(name string, s quant.Scheme, mode QuantMode, method quant.Method, channels int, symmetric bool, momentum float32) *Quantizer {
	q := &Quantizer{name: name, scheme: s, mode: mode, method: method, channels: channels, symmetric: symmetric, momentum: momentum}
	scaleKind, zeroKind := KindQuantScale, KindQuantZero
	if mode == QuantStats {
		scaleKind, zeroKind = KindBuffer, KindBuffer
	}
	if symmetric {
		zeroKind = KindBuffer
	}
	q.Scale = newParam(name+".scale", scaleKind, channels)
	q.Zero = newParam(name+".zero", zeroKind, channels)
	for i := range q.Scale.Data {
		q.Scale.Data[i] = 1
	}
	q.spec.Scale = make([]float32, channels)
	q.spec.Zero = make([]int32, channels)
	q.spec.QMin, q.spec.QMax = s.Range()
	return q
}

// learnsInput reports whether the layer's input quantizer learns its scale
// and zero point, which then need the gradient with respect to the
// layer's input even where nothing else does (the first layer).
func (d *dense) learnsInput() bool { return d.xq != nil && d.xq.mode == QuantLearned }

// params returns the quantizer's parameters.
func (q *Quantizer) params() []*Param { return []*Param{q.Scale, q.Zero} }

// Spec returns the current backend spec (scale, integer zero point and
// code range). The slices are reused between calls.
func (q *Quantizer) Spec() backend.QuantSpec {
	for i := range q.spec.Scale {
		s := q.Scale.Data[i]
		if !(s > 0) || math.IsInf(float64(s), 0) {
			s = 1
		}
		q.spec.Scale[i] = s
		z := math.Round(float64(q.Zero.Data[i]))
		if z < float64(q.spec.QMin) || math.IsNaN(z) {
			z = float64(q.spec.QMin)
		}
		if z > float64(q.spec.QMax) {
			z = float64(q.spec.QMax)
		}
		q.spec.Zero[i] = int32(z)
	}
	return q.spec
}

func (q *Quantizer) set(i int, p quant.Params) {
	q.Scale.Data[i] = p.Scale
	q.Zero.Data[i] = float32(p.Zero)
}

// calibrateWeights sets per-channel parameters from the host weights w
// (channel-major).
func (q *Quantizer) calibrateWeights(w []float32, m quant.Method) error {
	ps, err := quant.CalibratePerChannel(w, q.channels, q.scheme, m, q.symmetric)
	if err != nil {
		return fmt.Errorf("%s: %w", q.name, err)
	}
	for i, p := range ps {
		q.set(i, p)
	}
	q.ready = true
	return nil
}

// observe feeds a batch range of an activation tensor. The first range
// initialises the parameters; later ones update the moving average, which
// sets the parameters in QuantStats mode.
func (q *Quantizer) observe(lo, hi float32) {
	q.ema.Momentum = q.momentum
	q.ema.Update(lo, hi)
	if !q.ready || q.mode == QuantStats {
		var p quant.Params
		if q.symmetric {
			p = quant.FromMinMaxSymmetric(q.ema.Lo, q.ema.Hi, q.scheme)
		} else {
			p = quant.FromMinMax(q.ema.Lo, q.ema.Hi, q.scheme)
		}
		q.set(0, p)
		q.ready = true
	}
}

// gradScale returns LSQ's gradient scale for a tensor of n elements per
// channel.
func (q *Quantizer) gradScale(n int) float32 { return quant.GradScale(n, q.scheme) }

// weightRefScales returns, per channel, the scale that min/max statistics
// of the current weights w (channel-major) would give: the reference of
// logScaleGrads. A channel of zero range gets its current scale.
func (q *Quantizer) weightRefScales(w []float32) []float32 {
	if len(q.ref) != q.channels {
		q.ref = make([]float32, q.channels)
	}
	if len(q.lower) != q.channels {
		q.lower = make([]float32, q.channels)
	}
	_, qmax := q.scheme.Range()
	per := len(w) / q.channels
	for c := range q.ref {
		lo, hi, sumAbs := rangeAbs(w[c*per : (c+1)*per])
		q.lower[c] = float32(sumAbs / float64(per) / float64(qmax))
		var p quant.Params
		if q.symmetric {
			p = quant.FromMinMaxSymmetric(lo, hi, q.scheme)
		} else {
			p = quant.FromMinMax(lo, hi, q.scheme)
		}
		q.ref[c] = p.Scale
		if !(hi > lo) {
			q.ref[c] = q.Scale.Data[c]
		}
	}
	return q.ref
}

// rangeAbs returns min(0, w...), max(0, w...) (qsimd.MinMax) and Σ|w| (in
// float64, four partial sums added pairwise) of finite weights w: the
// statistics of weightRefScales. Four independent chains of adds, one per
// lane of four consecutive weights, so that a channel of thousands of
// weights is not one long chain of dependent adds. Weights are finite (a
// step with a non-finite gradient is refused before it changes them).
func rangeAbs(w []float32) (lo, hi float32, sumAbs float64) {
	if l, h, seen, _ := qsimd.MinMax(w); seen {
		lo, hi = min(l, 0), max(h, 0)
	}
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(w); i += 4 {
		s0 += math.Abs(float64(w[i]))
		s1 += math.Abs(float64(w[i+1]))
		s2 += math.Abs(float64(w[i+2]))
		s3 += math.Abs(float64(w[i+3]))
	}
	for ; i < len(w); i++ {
		s0 += math.Abs(float64(w[i]))
	}
	return lo, hi, (s0 + s1) + (s2 + s3)
}

// applyFloor keeps every weight scale at or above its lower bound, the
// channel's mean |w| over qmax, as computed by the last weightRefScales:
// then a weight of the channel with |w| at most the mean has |w|/s <= qmax,
// a code inside the range, so the channel always keeps weights that pass
// gradient to themselves and to the scale. Without the bound, a scale that
// drifted low enough to clip every weight of its channel was stuck there:
// behind batch norm the scale's gradient is then exactly zero, and the
// straight-through gradients of clipped weights are zero too. Momentum
// pushing a bounded scale further down is dropped.
func (q *Quantizer) applyFloor() {
	if q.mode != QuantLearned || len(q.lower) != len(q.Scale.Data) {
		return
	}
	for c, lb := range q.lower {
		if q.Scale.Data[c] < lb {
			q.Scale.Data[c] = lb
			if q.Scale.Mom != nil && q.Scale.Mom[c] > 0 {
				q.Scale.Mom[c] = 0
			}
		}
	}
}

// activationRefScale returns the scale that the moving-average range of
// the activations gives (the current scale before the first batch).
func (q *Quantizer) activationRefScale() []float32 {
	if len(q.ref) != 1 {
		q.ref = make([]float32, 1)
	}
	q.ref[0] = q.Scale.Data[0]
	if q.ema.Init && q.ema.Hi > q.ema.Lo {
		q.ref[0] = quant.FromMinMax(q.ema.Lo, q.ema.Hi, q.scheme).Scale
	}
	return q.ref
}

// logScaleGrads converts LSQ's (already gradient-scaled) scale gradient
// g = gs·∂L/∂s into the gradient that SGD.Step applies to log s:
//
//	g' = g·s/r²
//
// where r is the reference scale (what statistics of the tensor give
// now). At s = r the step is LSQ's (Δs/s = -lr·g/s to first order); the
// update s ← s·exp(-lr·v) can never cross zero, and because r follows
// the tensor's range rather than s, the step does not grow as s shrinks.
// Linear LSQ's relative step grows as 1/s² at a fixed tensor (behind
// batch norm ∂L/∂s ∝ 1/s), which at 8 bits, where s is small, overshot
// scales to the floor within the first hundred steps and killed their
// channels (every code saturated, the gradient then exactly zero).
func (q *Quantizer) logScaleGrads(ref []float32) {
	if q.mode != QuantLearned {
		return
	}
	for i, g := range q.Scale.Grad {
		s, r := q.Scale.Data[i], ref[i]
		if !(r > 0) || math.IsInf(float64(r), 0) {
			r = s
		}
		q.Scale.Grad[i] = float32(float64(g) * float64(s) / (float64(r) * float64(r)))
	}
}
