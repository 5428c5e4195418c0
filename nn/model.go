package nn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/vktrain/vktrain/nn/backend"
)

// DefaultSpec is the patent's reference network (figure 2): one
// convolution and two fully connected layers, each quantized layer
// followed by its compensation layer, batch norm after the convolution,
// ReLU after every layer but the last.
const DefaultSpec = "conv:32:3,comp,bn,relu,pool:2,fc:128,comp,relu,fc:10,comp"

// LayerSpec describes one layer of a model (see LayerSyntax for the
// kinds). A layer reads the previous layer of the spec unless Inputs names
// others.
type LayerSpec struct {
	// Type is the layer kind: conv, fc, dw, pool, avgpool, gap, add, comp,
	// bn, relu, flatten, or the block res.
	Type string `json:"type"`
	// Name identifies the layer (its parameters are NAME.weight, …) and
	// lets later layers read it. Empty: TYPE1, TYPE2, … in spec order.
	Name string `json:"name,omitempty"`
	// Inputs names the layers read (InputName for the model input);
	// empty means the previous layer. add reads two (one name: the
	// previous layer and that one).
	Inputs []string `json:"inputs,omitempty"`
	// Out is the number of filters (conv, res) or features (fc).
	Out int `json:"out,omitempty"`
	// Kernel, Stride and Pad describe conv and dw; Size and Stride the
	// pools; Stride res.
	Kernel int `json:"kernel,omitempty"`
	Stride int `json:"stride,omitempty"`
	Pad    int `json:"pad,omitempty"`
	Size   int `json:"size,omitempty"`
}

// String renders the layer in the short spec syntax (without its name
// and inputs).
func (s LayerSpec) String() string {
	if k := kindOf(s.Type); k != nil {
		return k.format(s)
	}
	return s.Type
}

// ModelSpec is a whole model: input shape per example and layers.
type ModelSpec struct {
	// Input is [H, W, C] of one example.
	Input  []int       `json:"input"`
	Layers []LayerSpec `json:"layers"`
}

// String renders the layers in the short syntax when that describes the
// same graph (chains, and residual blocks as res:OUT:STRIDE), else as a
// JSON layer list. Either way ParseLayers reads it back to the same model.
func (m ModelSpec) String() string {
	if s, ok := m.compact(); ok {
		return s
	}
	ls := m.Layers
	if nodes, err := compile(nil, m.Layers, Options{}); err == nil {
		ls = normalSpecs(nodes)
	}
	b, err := json.Marshal(ls)
	if err != nil {
		return fmt.Sprint(m.Layers)
	}
	return string(b)
}

// ParseLayers parses a model: the name of a named model (NamedModels), the
// short syntax (comma-separated layers, see LayerSyntax), or JSON — a
// ModelSpec object or a list of LayerSpec, inline or in a file whose name
// ends in .json. JSON describes arbitrary graphs with "name" and
// "inputs". Blocks (res) stay unexpanded until Build knows the shapes.
func ParseLayers(s string) ([]LayerSpec, error) {
	s = strings.TrimSpace(s)
	for _, nm := range NamedModels() {
		if s == nm.Name {
			return ParseLayers(nm.Spec)
		}
	}
	if strings.HasSuffix(s, ".json") || strings.HasPrefix(s, "[") || strings.HasPrefix(s, "{") {
		return parseJSON(s)
	}
	var out []LayerSpec
	for i, tok := range strings.Split(s, ",") {
		tok = strings.TrimSpace(tok)
		f := strings.Split(tok, ":")
		k := kindOf(f[0])
		if k == nil {
			return nil, fmt.Errorf("model spec: layer %d %q: unknown layer type %q (want %s, or a named model: %s)", i+1, tok, f[0], kindNamesList(), namedList())
		}
		nums := make([]int, len(f)-1)
		for j, v := range f[1:] {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("model spec: layer %d %q: %q is not a non-negative integer", i+1, tok, v)
			}
			nums[j] = n
		}
		l, err := k.parse(nums)
		if err != nil {
			return nil, fmt.Errorf("model spec: layer %d %q: %w", i+1, tok, err)
		}
		out = append(out, l)
	}
	return out, validateLayers(out)
}

func namedList() string {
	var s []string
	for _, nm := range NamedModels() {
		s = append(s, nm.Name)
	}
	return strings.Join(s, ", ")
}

// parseJSON reads a ModelSpec object or a LayerSpec list, inline or from
// a file; unknown fields are refused (a misspelt "inputs" would otherwise
// silently make a chain).
func parseJSON(s string) ([]LayerSpec, error) {
	raw := []byte(s)
	if !strings.HasPrefix(s, "[") && !strings.HasPrefix(s, "{") {
		b, err := os.ReadFile(s)
		if err != nil {
			return nil, fmt.Errorf("model spec: %w", err)
		}
		raw = bytes.TrimSpace(b)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ls []LayerSpec
	if bytes.HasPrefix(raw, []byte("{")) {
		var ms ModelSpec
		if err := dec.Decode(&ms); err != nil {
			return nil, fmt.Errorf("model spec %s: not a JSON model {\"input\": …, \"layers\": […]}: %w", s, err)
		}
		ls = ms.Layers
	} else if err := dec.Decode(&ls); err != nil {
		return nil, fmt.Errorf("model spec %s: not a JSON layer list or model: %w", s, err)
	}
	return ls, validateLayers(ls)
}

// validateLayers checks the structure of a spec: kinds, fields, names,
// inputs and their order.
func validateLayers(ls []LayerSpec) error {
	_, err := compile(nil, ls, Options{})
	return err
}

// Options choose how a spec is built.
type Options struct {
	Quant QuantConfig
	// NoCompensation drops comp layers; NoNorm drops bn layers (the
	// ablations of METHOD.md).
	NoCompensation, NoNorm bool
	// Seed initialises the weights.
	Seed uint64
	// Init is how conv and fc weights start: InitHe (the zero value) or
	// InitUniform.
	Init Init
}

// Init names a weight initialisation of conv and fc layers.
type Init string

const (
	// InitHe draws weights from a normal distribution of standard deviation
	// sqrt(2/fan_in) (He et al.), biases 0.
	InitHe Init = ""
	// InitUniform draws weights and biases uniformly from
	// [-1/sqrt(fan_in), 1/sqrt(fan_in)], PyTorch's default for its conv and
	// linear layers. Behind batch norm a smaller weight takes larger
	// relative steps at the same learning rate, so this trains faster in
	// short schedules (res8 on Fashion-MNIST in 3 epochs: 90.2 % against
	// 87.5 % with InitHe).
	InitUniform Init = "uniform"
)

// ParseInit parses "he" or "uniform".
func ParseInit(s string) (Init, error) {
	switch s {
	case "he", "":
		return InitHe, nil
	case "uniform", "torch":
		return InitUniform, nil
	}
	return "", fmt.Errorf("init %q: want he or uniform", s)
}

// String returns "he" or "uniform".
func (i Init) String() string {
	if i == InitHe {
		return "he"
	}
	return string(i)
}

// Model is a graph of layers (a chain in the simplest case).
type Model struct {
	// Spec is the resolved graph: blocks expanded, ablated layers
	// removed, every layer named; Inputs are given where a layer does not
	// read the one before it.
	Spec ModelSpec
	Opts Options
	// Layers are the layers in Spec order (topological).
	Layers  []Layer
	Classes int
	// Unfused makes Bind keep every op separate even where the backend
	// has fused ones (backend.FusedBNReLU for a batch norm read only by a
	// ReLU, backend.FusedCompBN for a compensation layer read only by a
	// batch norm, backend.FusedGemmIDequant for the integer products of
	// conv and fc layers, backend.FusedConv for the passes of quantized
	// convs, backend.FusedQuantize for the input quantization of quantized
	// layers). Results agree within the fused ops' declared tolerance (bit
	// for bit on the reference backend); the switch is for comparisons.
	Unfused bool
	b       backend.Backend
	g       graph
	shapes  [][]int // output shape of one example, per layer
}

// Build constructs a model for examples of shape input [H, W, C] and
// checks that every layer's shapes fit; the last layer must produce
// classes outputs.
func Build(input []int, layers []LayerSpec, classes int, opts Options) (*Model, error) {
	if len(input) != 3 || input[0] <= 0 || input[1] <= 0 || input[2] <= 0 {
		return nil, fmt.Errorf("model: input shape %v, want [H W C] with positive sizes", input)
	}
	opts.Quant = opts.Quant.withDefaults()
	if err := opts.Quant.Validate(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if _, err := ParseInit(opts.Init.String()); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	nodes, err := compile(input, layers, opts)
	if err != nil {
		return nil, err
	}
	if out := nodes[len(nodes)-1].shape; len(out) != 1 || out[0] != classes {
		return nil, fmt.Errorf("model: output shape %v per batch, want [N %d] for %d classes (end the spec with fc:%d)", withBatch(out), classes, classes, classes)
	}
	last := -1 // the last quantized layer: OutputBits applies to it
	for i, n := range nodes {
		if n.kind.quantized {
			last = i
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x766b747261696e))
	m := &Model{Spec: ModelSpec{Input: append([]int(nil), input...), Layers: normalSpecs(nodes)}, Opts: opts, Classes: classes}
	for i, n := range nodes {
		in := make([][]int, len(n.in))
		for j, r := range n.in {
			in[j] = input
			if r >= 0 {
				in[j] = nodes[r].shape
			}
		}
		lo := opts
		lo.Quant.readsInput = slices.Contains(n.in, -1)
		lo.Quant.writesOutput = i == last
		lo.Quant.init = opts.Init
		l, err := n.kind.build(n.spec, in, lo, rng)
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		got, err := l.OutShape(withBatch(in[0]))
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		if !slices.Equal(got[1:], n.shape) {
			return nil, fmt.Errorf("model: %s: the layer gives %v per example, its kind %v", n.spec.Name, got[1:], n.shape)
		}
		m.Layers = append(m.Layers, l)
		m.shapes = append(m.shapes, n.shape)
	}
	if m.g, err = newGraph(nodes, m.Layers); err != nil {
		return nil, err
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
	m.g.release()
	for _, l := range m.Layers {
		if err := l.Bind(b); err != nil {
			return fmt.Errorf("%s: %w", l.Name(), err)
		}
	}
	m.fuse(b)
	m.fuseQuant(b)
	m.b = b
	return b.Sync()
}

// fuse marks what runs as fused ops on b unless m.Unfused: a batch norm
// whose only reader is a ReLU (backend.FusedBNReLU), a compensation layer
// whose only reader is a batch norm (backend.FusedCompBN), and the integer
// products of the quantized conv and fc layers with their dequantization
// (backend.FusedGemmIDequant), and the passes of the quantized convs
// without im2col matrices (backend.FusedConv).
func (m *Model) fuse(b backend.Backend) {
	_, can := b.(backend.FusedBNReLU)
	_, canGemm := b.(backend.FusedGemmIDequant)
	_, canConv := b.(backend.FusedConv)
	_, canWeights := b.(backend.FusedWeightGrad)
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *BatchNorm:
			l.relu, l.comp, l.bias, l.xstats = false, nil, nil, statsFeed{}
		case *Compensation:
			l.fused = false
		case *ReLU:
			l.fused = false
		case *Conv2D:
			l.fuseConv, l.statsTo = canConv && !m.Unfused, nil
		}
		if q, ok := l.(quantLayer); ok {
			d := q.core()
			d.fuseGemm = canGemm && !m.Unfused && !d.noRowSums
			d.fuseWeights = canWeights && !m.Unfused
		}
	}
	if _, canComp := b.(backend.FusedCompBN); canComp && !m.Unfused {
		// A compensation layer read only by the batch norm after it.
		for i := 0; i+1 < len(m.Layers); i++ {
			comp, ok1 := m.Layers[i].(*Compensation)
			bn, ok2 := m.Layers[i+1].(*BatchNorm)
			if ok1 && ok2 && m.g.uses[i] == 1 && len(m.g.in[i+1]) == 1 && m.g.in[i+1][0] == i {
				bn.comp, comp.fused = comp, true
				// A conv read only by the compensation: its bias
				// gradient from the batch norm's backward pass where the
				// conv's own backward would skip it (the FusedConv path;
				// the composed path sums dy itself in dense.backward).
				if in := m.g.in[i]; len(in) == 1 && m.g.uses[in[0]] == 1 {
					if conv, ok := m.Layers[in[0]].(*Conv2D); ok && conv.fuseConv && conv.wq != nil {
						bn.bias = conv
						// and its statistics from the conv's epilogue
						// where the backend prefers that.
						if s, ok := b.(backend.FusedStats); ok && s.PrefersEpilogueStats() {
							conv.statsTo = &bn.xstats
						}
					}
				}
			}
		}
	}
	if !can || m.Unfused {
		return
	}
	for i := 0; i+1 < len(m.Layers); i++ {
		bn, ok1 := m.Layers[i].(*BatchNorm)
		relu, ok2 := m.Layers[i+1].(*ReLU)
		if ok1 && ok2 && m.g.uses[i] == 1 && len(m.g.in[i+1]) == 1 && m.g.in[i+1][0] == i {
			bn.relu, relu.fused = true, true
		}
	}
}

// Fused returns the names of the layers that run as or inside fused ops
// on the bound backend: the quantized convs that run without im2col
// matrices (backend.FusedConv), the compensation layers and ReLUs inside
// their batch norm's op, and the max-pools and ReLUs that quantize their
// output for the quantized layer reading it (backend.FusedQuantize).
func (m *Model) Fused() []string {
	var names []string
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *ReLU:
			if l.fused || l.quant != nil {
				names = append(names, l.Name())
			}
		case *MaxPool:
			if l.quant != nil {
				names = append(names, l.Name())
			}
		case *Compensation:
			if l.fused {
				names = append(names, l.Name())
			}
		case *Conv2D:
			if _, ok := l.fusedConv(abilitiesOf(m.b)); ok {
				names = append(names, l.Name())
			}
		}
	}
	return names
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
	m.g.release()
	m.b = nil
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
	core() *dense
}

func (d *dense) quantizers() (w, x *Quantizer) { return d.wq, d.xq }

// core returns the layer's integer product (its weights and quantizers).
func (d *dense) core() *dense { return d }

// Describe returns a one-line-per-layer summary: name, kind, inputs
// (where a layer does not read the one before it), output shape and
// trainable parameter count.
func (m *Model) Describe() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "input %v\n", m.Spec.Input)
	for i, l := range m.Layers {
		n := 0
		for _, p := range l.Params() {
			if p.Trainable() {
				n += len(p.Data)
			}
		}
		ls := m.Spec.Layers[i]
		fmt.Fprintf(&sb, "  %-12s %-16s -> %v", l.Name(), ls.String(), m.shapes[i])
		if len(ls.Inputs) > 0 {
			fmt.Fprintf(&sb, "  <- %s", strings.Join(ls.Inputs, " + "))
		}
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
	name    string
	in      []int
	xv, dyv viewCache
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
	in := x.Shape()
	if len(in) < 2 {
		return nil, fmt.Errorf("%s: input shape %v has no feature dimensions", l.name, in)
	}
	l.in = append(l.in[:0], in...)
	return l.xv.reshape(c.B, x, in[0], shapeLen(in[1:]))
}

// Backward returns dy viewed in the input shape of the last Forward.
func (l *Flatten) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if len(l.in) == 0 {
		return nil, fmt.Errorf("%s: Backward without Forward", l.name)
	}
	return l.dyv.reshape(c.B, dy, l.in...)
}
