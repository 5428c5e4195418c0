package nn

import (
	"fmt"
	"math"

	"github.com/vktrain/vktrain/internal/qsimd"
)

// ThresholdMode chooses how gradients are limited before the update.
type ThresholdMode uint8

const (
	// ThresholdElement clips each gradient element to [-τ, τ] (the
	// patent's element-wise comparison with a preset threshold).
	ThresholdElement ThresholdMode = iota
	// ThresholdGlobalNorm scales all gradients so that their joint L2 norm
	// is at most τ.
	ThresholdGlobalNorm
	// ThresholdNone applies no limit.
	ThresholdNone
)

// String names the mode as the CLI spells it.
func (m ThresholdMode) String() string {
	switch m {
	case ThresholdGlobalNorm:
		return "global-norm"
	case ThresholdNone:
		return "none"
	}
	return "element"
}

// ParseThresholdMode parses element, global-norm or none.
func ParseThresholdMode(s string) (ThresholdMode, error) {
	switch s {
	case "element", "elementwise":
		return ThresholdElement, nil
	case "global-norm", "norm":
		return ThresholdGlobalNorm, nil
	case "none", "off":
		return ThresholdNone, nil
	}
	return 0, fmt.Errorf("threshold mode %q: want element, global-norm or none", s)
}

// Threshold limits the gradients of ps in place and returns how many
// elements were clipped (element mode) or 1 when the norm was scaled.
func Threshold(ps []*Param, mode ThresholdMode, tau float32) int {
	if mode == ThresholdNone || tau <= 0 {
		return 0
	}
	if mode == ThresholdGlobalNorm {
		var ss float64
		for _, p := range ps {
			if !p.Trainable() {
				continue
			}
			for _, g := range p.Grad {
				ss += float64(g) * float64(g)
			}
		}
		norm := math.Sqrt(ss)
		if norm <= float64(tau) {
			return 0
		}
		f := float32(float64(tau) / norm)
		for _, p := range ps {
			if !p.Trainable() {
				continue
			}
			for i := range p.Grad {
				p.Grad[i] *= f
			}
		}
		return 1
	}
	// Per element: g > tau gives tau, else g < -tau gives -tau, each
	// counted; NaNs stay (qsimd.Clip, vector code where the CPU has it).
	n := 0
	for _, p := range ps {
		if !p.Trainable() {
			continue
		}
		n += qsimd.Clip(p.Grad, tau)
	}
	return n
}

// SGD is stochastic gradient descent with optional momentum and weight
// decay (on weights only): v = μ·v + g + wd·θ; θ = θ - lr·v.
type SGD struct {
	LR, Momentum, WeightDecay float32
}

// Step applies one update to every trainable parameter. Quantization
// scales (KindQuantScale) are updated in the log domain, s ← s·exp(-lr·v),
// with their Grad taken as the gradient with respect to log s (the trainer
// converts LSQ's gradient, see Quantizer.logScaleGrads), so they stay
// positive; ScaleFloor bounds them below against underflow.
func (o SGD) Step(ps []*Param) {
	for _, p := range ps {
		if !p.Trainable() {
			continue
		}
		wd := float32(0)
		if p.Kind == KindWeight {
			wd = o.WeightDecay
		}
		if o.Momentum != 0 && p.Mom == nil {
			p.Mom = make([]float32, len(p.Data))
		}
		logDomain := p.Kind == KindQuantScale
		if !logDomain && o.Momentum != 0 {
			// The common case as its own loop, the same arithmetic as
			// below without the per-element branches, per element
			// g += wd·θ; v = μ·v + g; θ -= lr·v (qsimd.SGDMomentum,
			// vector code where the CPU has it).
			qsimd.SGDMomentum(p.Data, p.Mom, p.Grad, wd, o.Momentum, o.LR)
			continue
		}
		for i, g := range p.Grad {
			g += wd * p.Data[i]
			if o.Momentum != 0 {
				p.Mom[i] = o.Momentum*p.Mom[i] + g
				g = p.Mom[i]
			}
			if logDomain {
				p.Data[i] = float32(float64(p.Data[i]) * math.Exp(-float64(o.LR)*float64(g)))
				if !(p.Data[i] > ScaleFloor) {
					p.Data[i] = ScaleFloor
				}
				continue
			}
			p.Data[i] -= o.LR * g
		}
	}
}
