package nn

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/vktrain/vktrain/nn/backend"
)

// DefaultSpec is the patent's reference network (figure 2): one
// convolution and two fully connected layers, each quantized layer
// followed by its compensation layer, batch norm after the convolution,
// ReLU after every layer but the last.
const DefaultSpec = "conv:32:3,comp,bn,relu,pool:2,fc:128,comp,relu,fc:10,comp"

// LayerSpec describes one layer of a model.
type LayerSpec struct {
	// Type is conv, fc, comp, bn, relu, pool or flatten.
	Type string `json:"type"`
	// Out is the number of filters (conv) or features (fc).
	Out int `json:"out,omitempty"`
	// Kernel, Stride and Pad describe conv; Size and Stride describe pool.
	Kernel int `json:"kernel,omitempty"`
	Stride int `json:"stride,omitempty"`
	Pad    int `json:"pad,omitempty"`
	Size   int `json:"size,omitempty"`
}

// String renders the layer in the short spec syntax.
func (s LayerSpec) String() string {
	switch s.Type {
	case "conv":
		return fmt.Sprintf("conv:%d:%d:%d:%d", s.Out, s.Kernel, s.Stride, s.Pad)
	case "fc":
		return fmt.Sprintf("fc:%d", s.Out)
	case "pool":
		return fmt.Sprintf("pool:%d:%d", s.Size, s.Stride)
	}
	return s.Type
}

// ModelSpec is a whole model: input shape per example and layers.
type ModelSpec struct {
	// Input is [H, W, C] of one example.
	Input  []int       `json:"input"`
	Layers []LayerSpec `json:"layers"`
}

// String renders the layers in the short spec syntax.
func (m ModelSpec) String() string {
	parts := make([]string, len(m.Layers))
	for i, l := range m.Layers {
		parts[i] = l.String()
	}
	return strings.Join(parts, ",")
}

// ParseLayers parses the short syntax: comma-separated layers
// conv:OUT:K[:STRIDE[:PAD]], fc:OUT, pool:SIZE[:STRIDE], comp, bn, relu,
// flatten. A value that names a readable file is read as JSON: either a
// ModelSpec or a list of LayerSpec.
func ParseLayers(s string) ([]LayerSpec, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, ".json") || strings.HasPrefix(s, "[") || strings.HasPrefix(s, "{") {
		raw := []byte(s)
		if !strings.HasPrefix(s, "[") && !strings.HasPrefix(s, "{") {
			b, err := os.ReadFile(s)
			if err != nil {
				return nil, fmt.Errorf("model spec: %w", err)
			}
			raw = b
		}
		var ms ModelSpec
		if err := json.Unmarshal(raw, &ms); err == nil && len(ms.Layers) > 0 {
			return ms.Layers, validateLayers(ms.Layers)
		}
		var ls []LayerSpec
		if err := json.Unmarshal(raw, &ls); err != nil {
			return nil, fmt.Errorf("model spec %s: not a JSON layer list or model: %w", s, err)
		}
		return ls, validateLayers(ls)
	}
	var out []LayerSpec
	for i, tok := range strings.Split(s, ",") {
		tok = strings.TrimSpace(tok)
		f := strings.Split(tok, ":")
		nums := make([]int, len(f)-1)
		for j, v := range f[1:] {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("model spec: layer %d %q: %q is not a non-negative integer", i+1, tok, v)
			}
			nums[j] = n
		}
		arg := func(j, def int) int {
			if j < len(nums) {
				return nums[j]
			}
			return def
		}
		var l LayerSpec
		switch f[0] {
		case "conv":
			if len(nums) < 2 || len(nums) > 4 {
				return nil, fmt.Errorf("model spec: layer %d %q: want conv:OUT:KERNEL[:STRIDE[:PAD]]", i+1, tok)
			}
			l = LayerSpec{Type: "conv", Out: nums[0], Kernel: nums[1], Stride: arg(2, 1), Pad: arg(3, 0)}
		case "fc", "linear":
			if len(nums) != 1 {
				return nil, fmt.Errorf("model spec: layer %d %q: want fc:OUT", i+1, tok)
			}
			l = LayerSpec{Type: "fc", Out: nums[0]}
		case "pool", "maxpool":
			if len(nums) < 1 || len(nums) > 2 {
				return nil, fmt.Errorf("model spec: layer %d %q: want pool:SIZE[:STRIDE]", i+1, tok)
			}
			l = LayerSpec{Type: "pool", Size: nums[0], Stride: arg(1, nums[0])}
		case "comp", "bn", "relu", "flatten":
			if len(nums) != 0 {
				return nil, fmt.Errorf("model spec: layer %d %q takes no arguments", i+1, tok)
			}
			l = LayerSpec{Type: f[0]}
		default:
			return nil, fmt.Errorf("model spec: layer %d %q: unknown layer type %q (want conv, fc, pool, comp, bn, relu, flatten)", i+1, tok, f[0])
		}
		out = append(out, l)
	}
	return out, validateLayers(out)
}

func validateLayers(ls []LayerSpec) error {
	if len(ls) == 0 {
		return fmt.Errorf("model spec: no layers")
	}
	for i, l := range ls {
		switch l.Type {
		case "conv":
			if l.Out <= 0 || l.Kernel <= 0 || l.Stride <= 0 || l.Pad < 0 {
				return fmt.Errorf("model spec: layer %d (%s): out, kernel and stride must be positive", i+1, l)
			}
		case "fc":
			if l.Out <= 0 {
				return fmt.Errorf("model spec: layer %d (%s): out must be positive", i+1, l)
			}
		case "pool":
			if l.Size <= 0 || l.Stride <= 0 {
				return fmt.Errorf("model spec: layer %d (%s): size and stride must be positive", i+1, l)
			}
		case "comp", "bn", "relu", "flatten":
		default:
			return fmt.Errorf("model spec: layer %d: unknown type %q", i+1, l.Type)
		}
	}
	return nil
}

// Options choose how a spec is built.
type Options struct {
	Quant QuantConfig
	// NoCompensation drops comp layers; NoNorm drops bn layers (the
	// ablations of METHOD.md).
	NoCompensation, NoNorm bool
	// Seed initialises the weights.
	Seed uint64
}

// Model is a sequential stack of layers.
type Model struct {
	Spec    ModelSpec
	Opts    Options
	Layers  []Layer
	Classes int
	b       backend.Backend
}

// Build constructs a model for examples of shape input [H, W, C] and
// checks that every layer's shapes fit; the last layer must produce
// classes outputs.
func Build(input []int, layers []LayerSpec, classes int, opts Options) (*Model, error) {
	if len(input) != 3 || input[0] <= 0 || input[1] <= 0 || input[2] <= 0 {
		return nil, fmt.Errorf("model: input shape %v, want [H W C] with positive sizes", input)
	}
	if err := validateLayers(layers); err != nil {
		return nil, err
	}
	opts.Quant = opts.Quant.withDefaults()
	if err := opts.Quant.Validate(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x766b747261696e))
	m := &Model{Spec: ModelSpec{Input: append([]int(nil), input...)}, Opts: opts, Classes: classes}
	shape := append([]int{1}, input...)
	count := map[string]int{}
	for _, ls := range layers {
		if (ls.Type == "comp" && opts.NoCompensation) || (ls.Type == "bn" && opts.NoNorm) {
			continue
		}
		m.Spec.Layers = append(m.Spec.Layers, ls)
		count[ls.Type]++
		name := fmt.Sprintf("%s%d", ls.Type, count[ls.Type])
		var l Layer
		var err error
		last := shape[len(shape)-1]
		switch ls.Type {
		case "conv":
			if len(shape) != 4 {
				return nil, fmt.Errorf("model: %s needs an image input, got shape %v", name, shape[1:])
			}
			l, err = NewConv2D(name, last, ls.Out, ls.Kernel, ls.Stride, ls.Pad, opts.Quant, rng)
		case "fc":
			l, err = NewLinear(name, shapeLen(shape[1:]), ls.Out, opts.Quant, rng)
		case "pool":
			l, err = NewMaxPool(name, ls.Size, ls.Stride)
		case "comp":
			l = NewCompensation(name, last)
		case "bn":
			l = NewBatchNorm(name, last)
		case "relu":
			l = NewReLU(name)
		case "flatten":
			l = NewFlatten(name)
		}
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		if shape, err = l.OutShape(shape); err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		m.Layers = append(m.Layers, l)
	}
	if len(shape) != 2 || shape[1] != classes {
		return nil, fmt.Errorf("model: output shape %v per batch, want [N %d] for %d classes (end the spec with fc:%d)", shape, classes, classes, classes)
	}
	return m, nil
}

// Params returns every parameter and buffer in layer order.
func (m *Model) Params() []*Param {
	var ps []*Param
	for _, l := range m.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// NumParams counts the trainable parameter elements.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.Params() {
		if p.Trainable() {
			n += len(p.Data)
		}
	}
	return n
}

// Bind puts the model on backend b (uploading parameters), releasing any
// state on a previous backend.
func (m *Model) Bind(b backend.Backend) error {
	m.Release()
	for _, l := range m.Layers {
		if err := l.Bind(b); err != nil {
			return fmt.Errorf("%s: %w", l.Name(), err)
		}
	}
	m.b = b
	return b.Sync()
}

// Backend returns the backend the model is bound to.
func (m *Model) Backend() backend.Backend { return m.b }

// Release frees the model's backend state (host parameters are kept).
func (m *Model) Release() {
	if m.b == nil {
		return
	}
	for _, l := range m.Layers {
		l.Release()
	}
	m.b = nil
}

// Forward runs the layers; the result is the logits [N, Classes].
func (m *Model) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	if m.b == nil {
		return nil, fmt.Errorf("model: not bound to a backend")
	}
	var err error
	for _, l := range m.Layers {
		if x, err = l.Forward(c, x); err != nil {
			return nil, fmt.Errorf("%s: %w", l.Name(), err)
		}
	}
	return x, nil
}

// Backward propagates dlogits back through the layers.
func (m *Model) Backward(c *Context, dy backend.Tensor) error {
	var err error
	for i := len(m.Layers) - 1; i >= 0; i-- {
		l := m.Layers[i]
		if dy, err = l.Backward(c, dy, i > 0); err != nil {
			return fmt.Errorf("%s: %w", l.Name(), err)
		}
	}
	return nil
}

// SyncBuffers copies state the backend updates (running statistics) back
// into the host parameters, e.g. before saving.
func (m *Model) SyncBuffers() error {
	for _, p := range m.Params() {
		if p.Kind == KindBuffer && p.Value != nil {
			if err := p.download(m.b); err != nil {
				return fmt.Errorf("%s: %w", p.Name, err)
			}
		}
	}
	return nil
}

// UploadParams copies every host parameter to the backend.
func (m *Model) UploadParams() error {
	for _, p := range m.Params() {
		if err := p.upload(m.b); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
	}
	return nil
}

// quantLayer is implemented by the quantized layers.
type quantLayer interface {
	Layer
	statsTensor() backend.Tensor
	inputLen() int
	quantizers() (w, x *Quantizer)
	scaleQuantGrads(inputLen int)
}

func (d *dense) quantizers() (w, x *Quantizer) { return d.wq, d.xq }

// Describe returns a one-line-per-layer summary with output shapes.
func (m *Model) Describe() string {
	var sb strings.Builder
	shape := append([]int{1}, m.Spec.Input...)
	fmt.Fprintf(&sb, "input %v\n", shape[1:])
	for _, l := range m.Layers {
		shape, _ = l.OutShape(shape)
		n := 0
		for _, p := range l.Params() {
			if p.Trainable() {
				n += len(p.Data)
			}
		}
		fmt.Fprintf(&sb, "  %-8s -> %v", l.Name(), shape[1:])
		if n > 0 {
			fmt.Fprintf(&sb, "  (%d params)", n)
		}
		sb.WriteByte('\n')
	}
	fmt.Fprintf(&sb, "total %d trainable parameters", m.NumParams())
	return sb.String()
}

// Flatten reshapes [N, ...] to [N, F] (a view, no copy).
type Flatten struct {
	name string
	in   []int
}

// NewFlatten returns a flatten layer.
func NewFlatten(name string) *Flatten { return &Flatten{name: name} }

// Name returns the layer's name.
func (l *Flatten) Name() string { return l.name }

// OutShape returns [N, product of the rest].
func (l *Flatten) OutShape(in []int) ([]int, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("%s: input shape %v has no feature dimensions", l.name, in)
	}
	return []int{in[0], shapeLen(in[1:])}, nil
}

// Params returns nothing.
func (l *Flatten) Params() []*Param { return nil }

// Bind does nothing.
func (l *Flatten) Bind(b backend.Backend) error { return nil }

// Release does nothing.
func (l *Flatten) Release() {}

// Forward returns a flattened view of x.
func (l *Flatten) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	out, err := l.OutShape(x.Shape())
	if err != nil {
		return nil, err
	}
	l.in = append(l.in[:0], x.Shape()...)
	return c.B.Reshape(x, out...)
}

// Backward returns dy viewed in the input shape of the last Forward.
func (l *Flatten) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if len(l.in) == 0 {
		return nil, fmt.Errorf("%s: Backward without Forward", l.name)
	}
	return c.B.Reshape(dy, l.in...)
}
