package nn

import (
	"fmt"

	"github.com/vktrain/vktrain/nn/backend"
)

// ParamKind says what a parameter is, which decides how the optimizer and
// the loss treat it.
type ParamKind uint8

const (
	// KindWeight is a conv or linear weight (weight decay applies).
	KindWeight ParamKind = iota
	// KindBias is a bias.
	KindBias
	// KindQuantScale is a trainable quantization scale (kept positive).
	KindQuantScale
	// KindQuantZero is a trainable (continuous) quantization zero point.
	KindQuantZero
	// KindCompGamma is the compensation scale γ (L2 term applies).
	KindCompGamma
	// KindCompBeta is the compensation shift β (L2 term applies).
	KindCompBeta
	// KindNormGamma is the batch-norm scale.
	KindNormGamma
	// KindNormBeta is the batch-norm shift.
	KindNormBeta
	// KindBuffer is state that is saved but not trained (running statistics).
	KindBuffer
)

var kindNames = [...]string{"weight", "bias", "quant_scale", "quant_zero", "comp_gamma", "comp_beta", "norm_gamma", "norm_beta", "buffer"}

// String returns the kind's name as used in checkpoints.
func (k ParamKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Param is one named parameter (or saved buffer) of a layer.
//
// Data is the host master copy in the layout of Shape. Value, when not nil,
// is the backend's copy used by ops; Grad receives the gradient on the host
// after each backward pass, copied from GradT (or written directly by
// layers whose gradient is computed on the host).
type Param struct {
	Name  string
	Kind  ParamKind
	Shape []int
	Data  []float32
	Grad  []float32

	Value backend.Tensor // device copy of Data (nil for host-only parameters)
	GradT backend.Tensor // device gradient (nil when Grad is produced on the host)

	// Mom is the optimizer's momentum buffer (allocated on first use).
	Mom []float32

	// aliased and gradAliased report that Data and Grad are the backend's
	// own (host-visible) memory of Value and GradT.
	aliased, gradAliased bool
}

func newParam(name string, kind ParamKind, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{Name: name, Kind: kind, Shape: append([]int(nil), shape...), Data: make([]float32, n), Grad: make([]float32, n)}
}

// Trainable reports whether the optimizer updates the parameter.
func (p *Param) Trainable() bool { return p.Kind != KindBuffer }

// bind allocates the backend copies of p (value and gradient) on b and
// uploads Data.
func (p *Param) bind(b backend.Backend, withValue, withGrad bool) error {
	ha, _ := b.(backend.HostAccess)
	if withValue {
		t, err := b.New(backend.F32, p.Shape...)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		if err := b.WriteF32(t, p.Data); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		p.Value = t
		// On backends whose memory the host can see (the CPU, unified-memory
		// GPUs) the host copy IS the device copy: no upload per step.
		if ha != nil {
			if v, ok := ha.HostF32(t); ok && len(v) == len(p.Data) {
				p.Data, p.aliased = v, true
			}
		}
	}
	if withGrad {
		t, err := b.New(backend.F32, p.Shape...)
		if err != nil {
			return fmt.Errorf("%s grad: %w", p.Name, err)
		}
		p.GradT = t
		if ha != nil {
			if v, ok := ha.HostF32(t); ok && len(v) == len(p.Grad) {
				p.Grad, p.gradAliased = v, true
			}
		}
	}
	return nil
}

func (p *Param) unbind(b backend.Backend) {
	if p.aliased { // keep the values on the host
		p.Data = append([]float32(nil), p.Data...)
	}
	if p.gradAliased {
		p.Grad = append([]float32(nil), p.Grad...)
	}
	p.aliased, p.gradAliased = false, false
	b.Free(p.Value)
	b.Free(p.GradT)
	p.Value, p.GradT = nil, nil
}

// upload copies Data to the backend copy, if any and if they are not the
// same memory.
func (p *Param) upload(b backend.Backend) error {
	if p.Value == nil || p.aliased {
		return nil
	}
	return b.WriteF32(p.Value, p.Data)
}

// readGrad copies the backend gradient into Grad, unless they are the
// same memory (the caller has synchronised the backend).
func (p *Param) readGrad(b backend.Backend) error {
	if p.GradT == nil || p.gradAliased {
		return nil
	}
	return b.ReadF32(p.GradT, p.Grad)
}

// download copies the backend value into Data (used for buffers the
// backend updates, such as running statistics).
func (p *Param) download(b backend.Backend) error {
	if p.Value == nil {
		return nil
	}
	if p.aliased {
		return b.Sync()
	}
	return b.ReadF32(p.Value, p.Data)
}

// ParamsVersion identifies one state of a model's parameters
// (Context.Params). A trainer keeps one ParamsVersion and advances it
// whenever the parameters change, so a state is the pair (pointer, value
// at the time): work derived under one state may be reused only while
// both are unchanged (see ParamsVersion.State). Advancing in place
// instead of making a new one keeps training steps free of allocations.
type ParamsVersion struct{ n uint64 }

// State returns the count that, with the pointer v, names the current
// state.
func (v *ParamsVersion) State() uint64 { return v.n }

// advance moves v to a new state.
func (v *ParamsVersion) advance() { v.n++ }
