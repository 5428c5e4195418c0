package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// The layer kinds. Each kind is described once, here: its names in the
// short syntax, how it parses and prints, which LayerSpec fields it uses,
// how many inputs it reads, its output shape and parameter count (known
// from the spec alone, before anything is allocated), what it builds and
// whether an ablation drops it. Parsing, printing, validation, building,
// Describe and the checkpoint size checks all go through this table.

// specField names a numeric field of LayerSpec.
type specField uint8

const (
	fieldOut specField = 1 << iota
	fieldKernel
	fieldStride
	fieldPad
	fieldSize
)

var fieldNames = []struct {
	f    specField
	name string
}{{fieldOut, "out"}, {fieldKernel, "kernel"}, {fieldStride, "stride"}, {fieldPad, "pad"}, {fieldSize, "size"}}

func (l LayerSpec) field(f specField) int {
	switch f {
	case fieldOut:
		return l.Out
	case fieldKernel:
		return l.Kernel
	case fieldStride:
		return l.Stride
	case fieldPad:
		return l.Pad
	case fieldSize:
		return l.Size
	}
	return 0
}

// maxField bounds every numeric field of a layer: larger values are
// refused as implausible, which also keeps the shape arithmetic of a
// hostile checkpoint header far from overflow.
const maxField = 1 << 24

// hugeCount saturates element counts (shapes, parameters).
const hugeCount = int64(1) << 40

// satMul multiplies non-negative counts, saturating at hugeCount.
func satMul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > hugeCount/b {
		return hugeCount
	}
	return a * b
}

// satLen is the element count of a shape, saturating at hugeCount.
func satLen(s []int) int64 {
	n := int64(1)
	for _, d := range s {
		n = satMul(n, int64(d))
	}
	return n
}

// layerKind describes one kind of layer.
type layerKind struct {
	// name is the canonical LayerSpec.Type; aliases are accepted too.
	name    string
	aliases []string
	// syntax is the short form, doc one line of help.
	syntax, doc string
	// fields are the LayerSpec fields the kind uses (others must be 0);
	// positive must be > 0, the rest of fields >= 0.
	fields, positive specField
	// args are the numbers the short syntax takes: at least min, at most
	// len(order), filling the fields in order; defaults gives the value
	// of each missing one (-1: the value of the first field).
	min      int
	order    []specField
	defaults []int
	// inputs is the number of inputs: 1, or 2 for a merge.
	inputs int
	// shape returns the output shape of one example for the inputs'
	// shapes of one example.
	shape func(l LayerSpec, in [][]int) ([]int, error)
	// params counts the elements of the parameters and buffers the layer
	// allocates (a lower bound of what its checkpoint holds), saturating.
	params func(l LayerSpec, in [][]int) int64
	// build constructs the layer for inputs of these per-example shapes.
	build func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error)
	// dropped reports whether the ablations of o remove the layer.
	dropped func(o Options) bool
	// quantized: the layer quantizes its weights and its input (the last
	// such layer of a model takes QuantConfig.OutputBits).
	quantized bool
	// expand, for a block (a macro of several layers), returns its layers,
	// all named and with explicit inputs, given the name and per-example
	// shape of what it reads.
	expand func(l LayerSpec, from string, in []int) []LayerSpec
}

// format renders l in the short syntax.
func (k *layerKind) format(l LayerSpec) string {
	parts := []string{k.name}
	for _, f := range k.order {
		parts = append(parts, strconv.Itoa(l.field(f)))
	}
	return strings.Join(parts, ":")
}

// parse builds the spec of one short-syntax token whose kind is k.
func (k *layerKind) parse(nums []int) (LayerSpec, error) {
	if len(nums) < k.min || len(nums) > len(k.order) {
		if len(k.order) == 0 {
			return LayerSpec{}, fmt.Errorf("%s takes no arguments", k.name)
		}
		return LayerSpec{}, fmt.Errorf("want %s", k.syntax)
	}
	l := LayerSpec{Type: k.name}
	for i, f := range k.order {
		v := 0
		switch {
		case i < len(nums):
			v = nums[i]
		case k.defaults[i] < 0:
			v = nums[0]
		default:
			v = k.defaults[i]
		}
		l.set(f, v)
	}
	return l, nil
}

func (l *LayerSpec) set(f specField, v int) {
	switch f {
	case fieldOut:
		l.Out = v
	case fieldKernel:
		l.Kernel = v
	case fieldStride:
		l.Stride = v
	case fieldPad:
		l.Pad = v
	case fieldSize:
		l.Size = v
	}
}

// fill gives the fields that must be positive and are 0 (left out of a
// JSON spec) their short-syntax defaults: stride 1, a pool's stride its
// size.
func (k *layerKind) fill(l *LayerSpec) {
	for i, f := range k.order {
		if k.positive&f == 0 || l.field(f) != 0 || k.defaults[i] == 0 {
			continue
		}
		if k.defaults[i] < 0 {
			l.set(f, l.field(k.order[0]))
		} else {
			l.set(f, k.defaults[i])
		}
	}
}

// check reports fields that are out of range or not used by the kind.
func (k *layerKind) check(l LayerSpec) error {
	var pos, unused []string
	for _, fn := range fieldNames {
		v := l.field(fn.f)
		switch {
		case k.fields&fn.f == 0:
			if v != 0 {
				unused = append(unused, fn.name)
			}
		case v > maxField:
			return fmt.Errorf("%s %d is implausibly large (at most %d)", fn.name, v, maxField)
		case k.positive&fn.f != 0 && v <= 0:
			pos = append(pos, fn.name)
		case v < 0:
			return fmt.Errorf("%s must not be negative", fn.name)
		}
	}
	if len(pos) > 0 {
		return fmt.Errorf("%s must be positive", joinAnd(pos))
	}
	if len(unused) > 0 {
		return fmt.Errorf("%s does not take %s", k.name, joinAnd(unused))
	}
	return nil
}

func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// image returns the [H, W, C] of an image input, or an error naming what
// the layer needs.
func image(kind string, in []int) (h, w, c int, err error) {
	if len(in) != 3 {
		return 0, 0, 0, fmt.Errorf("%s needs an image input [H W C], got %v", kind, in)
	}
	return in[0], in[1], in[2], nil
}

// window returns the output size of a window of k moved s at a time over
// n padded by p on both sides, or an error when the window does not fit.
func window(n, k, s, p int) (int, error) {
	if n+2*p < k {
		if p > 0 {
			return 0, fmt.Errorf("window %d larger than the padded input side %d", k, n+2*p)
		}
		return 0, fmt.Errorf("window %d larger than the input side %d", k, n)
	}
	return (n+2*p-k)/s + 1, nil
}

func windowShape(kind string, in []int, k, s, p, outC int) ([]int, error) {
	h, w, c, err := image(kind, in)
	if err != nil {
		return nil, err
	}
	oh, err := window(h, k, s, p)
	if err != nil {
		return nil, err
	}
	ow, err := window(w, k, s, p)
	if err != nil {
		return nil, err
	}
	if outC == 0 {
		outC = c
	}
	return []int{oh, ow, outC}, nil
}

func same(l LayerSpec, in [][]int) ([]int, error) { return in[0], nil }
func noParams(LayerSpec, [][]int) int64           { return 0 }
func never(Options) bool                          { return false }
func last(in []int) int                           { return in[len(in)-1] }
func withBatch(in []int) []int                    { return append([]int{1}, in...) }

func channels(kind string, in []int) (int, error) {
	if len(in) == 0 {
		return 0, fmt.Errorf("%s needs an input with a channel (last) dimension", kind)
	}
	return last(in), nil
}

// layerKinds is the table of kinds, in the order help lists them.
var layerKinds = []*layerKind{
	{
		name: "conv", quantized: true, syntax: "conv:OUT:KERNEL[:STRIDE[:PAD]]", doc: "quantized convolution, OUT filters KERNEL×KERNEL (stride 1, pad 0 by default)",
		fields: fieldOut | fieldKernel | fieldStride | fieldPad, positive: fieldOut | fieldKernel | fieldStride,
		min: 2, order: []specField{fieldOut, fieldKernel, fieldStride, fieldPad}, defaults: []int{0, 0, 1, 0}, inputs: 1,
		shape: func(l LayerSpec, in [][]int) ([]int, error) {
			return windowShape("conv", in[0], l.Kernel, l.Stride, l.Pad, l.Out)
		},
		params: func(l LayerSpec, in [][]int) int64 {
			return satMul(int64(l.Out), satMul(int64(l.Kernel)*int64(l.Kernel), int64(last(in[0])))) + int64(l.Out)
		},
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewConv2D(l.Name, last(in[0]), l.Out, l.Kernel, l.Stride, l.Pad, o.Quant, rng)
		},
		dropped: never,
	},
	{
		name: "fc", quantized: true, aliases: []string{"linear"}, syntax: "fc:OUT", doc: "quantized fully connected layer with OUT features (flattens its input)",
		fields: fieldOut, positive: fieldOut, min: 1, order: []specField{fieldOut}, defaults: []int{0}, inputs: 1,
		shape: func(l LayerSpec, in [][]int) ([]int, error) { return []int{l.Out}, nil },
		params: func(l LayerSpec, in [][]int) int64 {
			return satMul(int64(l.Out), satLen(in[0])) + int64(l.Out)
		},
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewLinear(l.Name, shapeLen(in[0]), l.Out, o.Quant, rng)
		},
		dropped: never,
	},
	{
		name: "dw", quantized: true, aliases: []string{"dwconv"}, syntax: "dw:KERNEL[:STRIDE[:PAD]]", doc: "quantized depthwise convolution, one KERNEL×KERNEL filter per input channel (stride 1, pad 0 by default)",
		fields: fieldKernel | fieldStride | fieldPad, positive: fieldKernel | fieldStride,
		min: 1, order: []specField{fieldKernel, fieldStride, fieldPad}, defaults: []int{0, 1, 0}, inputs: 1,
		shape: func(l LayerSpec, in [][]int) ([]int, error) {
			return windowShape("dw", in[0], l.Kernel, l.Stride, l.Pad, 0)
		},
		params: func(l LayerSpec, in [][]int) int64 {
			c := int64(last(in[0]))
			return satMul(c, int64(l.Kernel)*int64(l.Kernel)) + c
		},
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewDepthwiseConv2D(l.Name, last(in[0]), l.Kernel, l.Stride, l.Pad, o.Quant, rng)
		},
		dropped: never,
	},
	{
		name: "pool", aliases: []string{"maxpool"}, syntax: "pool:SIZE[:STRIDE]", doc: "max-pool, SIZE×SIZE windows (stride SIZE by default)",
		fields: fieldSize | fieldStride, positive: fieldSize | fieldStride,
		min: 1, order: []specField{fieldSize, fieldStride}, defaults: []int{0, -1}, inputs: 1,
		shape: func(l LayerSpec, in [][]int) ([]int, error) {
			return windowShape("pool", in[0], l.Size, l.Stride, 0, 0)
		},
		params: noParams,
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewMaxPool(l.Name, l.Size, l.Stride)
		},
		dropped: never,
	},
	{
		name: "avgpool", syntax: "avgpool:SIZE[:STRIDE]", doc: "average pool, SIZE×SIZE windows (stride SIZE by default)",
		fields: fieldSize | fieldStride, positive: fieldSize | fieldStride,
		min: 1, order: []specField{fieldSize, fieldStride}, defaults: []int{0, -1}, inputs: 1,
		shape: func(l LayerSpec, in [][]int) ([]int, error) {
			return windowShape("avgpool", in[0], l.Size, l.Stride, 0, 0)
		},
		params: noParams,
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewAvgPool(l.Name, l.Size, l.Stride)
		},
		dropped: never,
	},
	{
		name: "gap", syntax: "gap", doc: "global average pool: [H W C] -> [C]", inputs: 1,
		shape: func(l LayerSpec, in [][]int) ([]int, error) {
			_, _, c, err := image("gap", in[0])
			return []int{c}, err
		},
		params: noParams,
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewGlobalAvgPool(l.Name), nil
		},
		dropped: never,
	},
	{
		name: "add", syntax: "add", doc: "residual add of two inputs of one shape (JSON \"inputs\": two names, or one added to the previous layer)", inputs: 2,
		shape: func(l LayerSpec, in [][]int) ([]int, error) {
			if !slices.Equal(in[0], in[1]) {
				return nil, fmt.Errorf("add: inputs %s %v and %s %v differ in shape", l.Inputs[0], in[0], l.Inputs[1], in[1])
			}
			return in[0], nil
		},
		params: noParams,
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewAdd(l.Name), nil
		},
		dropped: never,
	},
	{
		name: "comp", syntax: "comp", doc: "error compensation γ·E+β per channel (dropped by --comp=false)", inputs: 1,
		shape: func(l LayerSpec, in [][]int) ([]int, error) {
			_, err := channels("comp", in[0])
			return in[0], err
		},
		params: func(l LayerSpec, in [][]int) int64 { return 3 * int64(last(in[0])) },
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewCompensation(l.Name, last(in[0])), nil
		},
		dropped: func(o Options) bool { return o.NoCompensation },
	},
	{
		name: "bn", syntax: "bn", doc: "batch normalisation per channel (dropped by --norm=false)", inputs: 1,
		shape: func(l LayerSpec, in [][]int) ([]int, error) {
			_, err := channels("bn", in[0])
			return in[0], err
		},
		params: func(l LayerSpec, in [][]int) int64 { return 4 * int64(last(in[0])) },
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewBatchNorm(l.Name, last(in[0])), nil
		},
		dropped: func(o Options) bool { return o.NoNorm },
	},
	{
		name: "relu", syntax: "relu", doc: "max(x, 0)", inputs: 1, shape: same, params: noParams,
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewReLU(l.Name), nil
		},
		dropped: never,
	},
	{
		name: "flatten", syntax: "flatten", doc: "[H W C] -> [H·W·C] (fc flattens by itself)", inputs: 1,
		shape: func(l LayerSpec, in [][]int) ([]int, error) {
			n := satLen(in[0])
			if len(in[0]) == 0 || n >= hugeCount {
				return nil, fmt.Errorf("flatten: cannot flatten %v", in[0])
			}
			return []int{int(n)}, nil
		},
		params: noParams,
		build: func(l LayerSpec, in [][]int, o Options, rng *rand.Rand) (Layer, error) {
			return NewFlatten(l.Name), nil
		},
		dropped: never,
	},
	{
		name: "res", syntax: "res:OUT[:STRIDE]",
		doc:    "residual basic block: conv 3×3/STRIDE pad 1, bn, relu, conv 3×3 pad 1, bn, plus the input (through conv 1×1/STRIDE + bn when the shape changes), relu; its layers are named NAME.conv1 … NAME (the final relu)",
		fields: fieldOut | fieldStride, positive: fieldOut | fieldStride,
		min: 1, order: []specField{fieldOut, fieldStride}, defaults: []int{0, 1}, inputs: 1,
		expand: expandRes,
	},
}

// expandRes returns the layers of the residual block b reading from (of
// per-example shape in).
func expandRes(b LayerSpec, from string, in []int) []LayerSpec {
	n := b.Name
	conv := func(name, input string, out, k, s, p int) LayerSpec {
		return LayerSpec{Type: "conv", Name: n + "." + name, Inputs: []string{input}, Out: out, Kernel: k, Stride: s, Pad: p}
	}
	one := func(typ, name, input string) LayerSpec {
		return LayerSpec{Type: typ, Name: n + "." + name, Inputs: []string{input}}
	}
	ls := []LayerSpec{
		conv("conv1", from, b.Out, 3, b.Stride, 1),
		one("bn", "bn1", n+".conv1"),
		one("relu", "relu1", n+".bn1"),
		conv("conv2", n+".relu1", b.Out, 3, 1, 1),
		one("bn", "bn2", n+".conv2"),
	}
	short := from
	if b.Stride != 1 || len(in) == 0 || last(in) != b.Out {
		ls = append(ls, conv("proj", from, b.Out, 1, b.Stride, 0), one("bn", "projbn", n+".proj"))
		short = n + ".projbn"
	}
	return append(ls,
		LayerSpec{Type: "add", Name: n + ".add", Inputs: []string{n + ".bn2", short}},
		LayerSpec{Type: "relu", Name: n, Inputs: []string{n + ".add"}})
}

// kindOf returns the kind named t (canonical name or alias).
func kindOf(t string) *layerKind {
	for _, k := range layerKinds {
		if k.name == t {
			return k
		}
		for _, a := range k.aliases {
			if a == t {
				return k
			}
		}
	}
	return nil
}

func kindNamesList() string {
	var s []string
	for _, k := range layerKinds {
		s = append(s, k.name)
	}
	return strings.Join(s, ", ")
}

// LayerKind is the help of one layer kind (or block) of the short syntax.
type LayerKind struct {
	// Syntax is the short form, e.g. conv:OUT:KERNEL[:STRIDE[:PAD]].
	Syntax string
	// Doc says what the layer does, in one line.
	Doc string
}

// LayerKinds returns the help of every layer kind, in a fixed order.
func LayerKinds() []LayerKind {
	ks := make([]LayerKind, len(layerKinds))
	for i, k := range layerKinds {
		ks[i] = LayerKind{k.syntax, k.doc}
	}
	return ks
}

// LayerSyntax returns a help text listing the short syntax of every layer
// kind, one per line.
func LayerSyntax() string {
	var sb strings.Builder
	for _, k := range LayerKinds() {
		fmt.Fprintf(&sb, "  %-32s %s\n", k.Syntax, k.Doc)
	}
	return sb.String()
}

// NamedModel is a model that --model accepts by name.
type NamedModel struct {
	Name, Spec, Doc string
}

// NamedModels returns the models ParseLayers accepts by name.
func NamedModels() []NamedModel {
	return []NamedModel{
		{"patent", DefaultSpec, "the patent's reference network (figure 2), the default"},
		{"res8", Res8Spec, "ResNet-8 style: a 3×3 stem and three residual blocks (16, 32, 64 channels), global average pool"},
		{"mobile", MobileSpec, "depthwise-separable blocks (32, 64, 64 channels), global average pool"},
	}
}

// Res8Spec is the res8 named model: a 16-channel 3×3 stem, residual blocks
// of 16, 32 (stride 2) and 64 (stride 2) channels, global average pooling
// and a compensated classifier. Compensation sits only after the final
// fc: before a batch norm its γ·E+β is cancelled (zero gradient).
const Res8Spec = "conv:16:3:1:1,bn,relu,res:16:1,res:32:2,res:64:2,gap,fc:10,comp"

// MobileSpec is the mobile named model: a 16-channel 3×3 stem, then
// depthwise-separable blocks (depthwise 3×3, bn, relu, pointwise 1×1, bn,
// relu) of 32, 64 (stride 2) and 64 (stride 2) channels, global average
// pooling and a compensated classifier.
const MobileSpec = "conv:16:3:1:1,bn,relu," +
	"dw:3:1:1,bn,relu,conv:32:1,bn,relu," +
	"dw:3:2:1,bn,relu,conv:64:1,bn,relu," +
	"dw:3:2:1,bn,relu,conv:64:1,bn,relu," +
	"gap,fc:10,comp"
