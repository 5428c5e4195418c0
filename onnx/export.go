// Package onnx exports vktrain models as ONNX graphs in QDQ form
// (QuantizeLinear / DequantizeLinear around float operators), opset 13, so
// that ONNX Runtime, TensorRT, OpenVINO and the other importers of ONNX
// can run them.
//
// The model is written through the Go types generated from onnx.proto
// (package onnxpb, tools/gen_onnx.sh) and google.golang.org/protobuf;
// nothing of the wire format is written by hand.
//
// # How vktrain's inference maps to ONNX
//
//   - Quantized layers (conv, dw, fc): the layer's per-tensor input
//     quantizer becomes QuantizeLinear → DequantizeLinear with its learned
//     scale and zero point (uint8 zero point: activations are unsigned).
//     Below 8 bits a Clip to the quantizer's representable range
//     [s·(qmin−z), s·(qmax−z)] comes first, so the codes stay in their
//     narrow range (opset 13 has no 4-bit types). The weights are stored as
//     their integer codes (int8 initializers, computed with vktrain's own
//     quant.Code) and a per-channel DequantizeLinear (axis 0) with the
//     learned scales and zero points; then Conv (group = C for dw) or Gemm
//     with the float bias.
//   - Compensation at inference adds γ·running_mean + β per channel; it is
//     folded into the bias of the quantized layer it follows (when that
//     layer's output goes nowhere else), else it is an Add of a constant.
//   - Batch norm is a BatchNormalization with the running statistics and
//     epsilon, not folded: folding it into the weights would change the
//     learned integer codes, and folding it into the per-channel weight
//     scales would make a scale negative wherever γ < 0, which importers
//     reject. Unfolded, the graph computes what vktrain computes, in the
//     same order, from the same codes.
//   - With Options.IncludeNormalization the graph normalises its input
//     (pixel values in [0, 1]) with vktrain's own per-channel table of the
//     256 pixel levels (Round, Gather), bit-identical to vktrain's data
//     loader; inputs between levels are snapped to the nearest level.
//   - ReLU, max pool, average pool, global average pool (+ Flatten),
//     residual Add, Flatten and Gemm map one to one. vktrain is NHWC and
//     ONNX NCHW: convolution weights are transposed, an fc that reads an
//     image has its weight columns permuted to the CHW order of ONNX's
//     Flatten (an exact reordering of codes), and an explicit flatten layer
//     transposes to NHWC first.
//
// # Where ONNX Runtime and vktrain differ
//
// vktrain quantizes as clamp(round(x·fl32(1/s)) + z), rounding half away
// from zero and multiplying by the float32 reciprocal of the scale (so GPU
// and CPU codes agree bit for bit); ONNX's QuantizeLinear divides by the
// scale and rounds half to even. A code differs only where x/s lands
// within a float32 rounding error of a half-integer (or exactly on one):
// the two differ there by one code. Float sums also run in a different
// order (vktrain sums integer products exactly and scales once; ONNX
// Runtime's float Conv and Gemm sum dequantized values, or run integer
// kernels after fusing the QDQ pattern), and compensation is folded into
// the bias. Logits therefore agree closely but not bit for bit; the tests
// compare predicted classes and report the largest logit difference.
package onnx

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/vktrain/vktrain/nn"
	pb "github.com/vktrain/vktrain/onnx/onnxpb"
)

// Opset is the ONNX operator set the exporter writes.
const Opset = 13

// IRVersion is the ONNX IR version of the written models (the one that
// came with opset 13).
const IRVersion = 7

// InputName and OutputName are the names of the graph's input (float32
// [N, C, H, W]) and output (float32 [N, classes], the logits).
const (
	InputName  = "input"
	OutputName = "logits"
)

// Metadata keys written into the model's metadata_props.
const (
	// MetaMean and MetaStd hold the per-channel input normalisation as
	// JSON arrays: the model takes (pixel/255 − mean)/std unless
	// MetaNormalization says it is in the graph.
	MetaMean = "vktrain.norm_mean"
	MetaStd  = "vktrain.norm_std"
	// MetaNormalization is "in_graph" (the input is pixel/255 in [0, 1])
	// or "external" (the input is already normalised).
	MetaNormalization = "vktrain.normalization"
	// MetaClassNames holds the class names as a JSON array (absent when
	// the checkpoint has none).
	MetaClassNames = "vktrain.class_names"
	// MetaModel is the model spec, MetaBits the code width ("float" for a
	// float model).
	MetaModel = "vktrain.model"
	MetaBits  = "vktrain.bits"
)

// Options choose what goes into the exported model besides the graph.
type Options struct {
	// Mean and Std are the per-channel input normalisation the model was
	// trained with (pixel/255 − mean)/std; empty means none (mean 0, std 1).
	Mean, Std []float32
	// IncludeNormalization puts the normalisation into the graph (a table
	// lookup of the 256 pixel levels, see the package doc), so that the
	// model takes pixel/255 in [0, 1]; otherwise the caller normalises and
	// the metadata says how.
	IncludeNormalization bool
	// ClassNames are written to the metadata when not empty.
	ClassNames []string
	// ProducerVersion is written as the model's producer_version.
	ProducerVersion string
	// Metadata are further metadata_props entries.
	Metadata map[string]string
}

// builder accumulates the graph.
type builder struct {
	g     *pb.GraphProto
	names map[string]bool
}

func (b *builder) unique(base string) string {
	n := base
	for i := 2; b.names[n]; i++ {
		n = base + "_" + strconv.Itoa(i)
	}
	b.names[n] = true
	return n
}

func dims(shape []int) []int64 {
	d := make([]int64, len(shape))
	for i, v := range shape {
		d[i] = int64(v)
	}
	return d
}

// floats adds a float32 initializer and returns its name.
func (b *builder) floats(name string, shape []int, v []float32) string {
	name = b.unique(name)
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: proto.String(name), Dims: dims(shape),
		DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), FloatData: slices.Clone(v)})
	return name
}

// codes adds an int8 (signed) or uint8 initializer and returns its name.
func (b *builder) codes(name string, shape []int, v []int32, signed bool) string {
	name = b.unique(name)
	dt := pb.TensorProto_UINT8
	if signed {
		dt = pb.TensorProto_INT8
	}
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: proto.String(name), Dims: dims(shape),
		DataType: proto.Int32(int32(dt)), Int32Data: slices.Clone(v)})
	return name
}

func intAttr(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func intsAttr(name string, v ...int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INTS.Enum(), Ints: v}
}

func floatAttr(name string, v float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// node adds a node and returns its (single) output's name.
func (b *builder) node(op, name string, in []string, attrs ...*pb.AttributeProto) string {
	out := b.unique(name)
	b.g.Node = append(b.g.Node, &pb.NodeProto{Name: proto.String(out), OpType: proto.String(op), Input: in, Output: []string{out}, Attribute: attrs})
	return out
}

func valueInfo(name string, elem pb.TensorProto_DataType, shape []int64, batch string) *pb.ValueInfoProto {
	sh := &pb.TensorShapeProto{}
	for i, d := range shape {
		dim := &pb.TensorShapeProto_Dimension{}
		if i == 0 && batch != "" {
			dim.Value = &pb.TensorShapeProto_Dimension_DimParam{DimParam: batch}
		} else {
			dim.Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		sh.Dim = append(sh.Dim, dim)
	}
	return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
		TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: sh}}}}
}

// value is a tensor of the graph: its name and its rank with the batch
// (4: NCHW image, 2: [N, F]).
type value struct {
	name string
	rank int
}

// Export builds the ONNX model of m (a model loaded from a checkpoint or
// trained in this process; its host parameters must be current, see
// nn.Model.SyncBuffers).
func Export(m *nn.Model, o Options) (*pb.ModelProto, error) {
	layers, err := m.ExportLayers()
	if err != nil {
		return nil, err
	}
	in := m.Spec.Input // [H W C]
	h, w, c := in[0], in[1], in[2]
	if len(o.Mean) == 0 && len(o.Std) == 0 {
		o.Mean, o.Std = make([]float32, c), make([]float32, c)
		for i := range o.Std {
			o.Std[i] = 1
		}
	}
	if len(o.Mean) != c || len(o.Std) != c {
		return nil, fmt.Errorf("onnx export: normalisation has %d means and %d stds, the model takes %d channels", len(o.Mean), len(o.Std), c)
	}
	for i, s := range o.Std {
		if !(s > 0) || math.IsInf(float64(s), 0) || math.IsNaN(float64(o.Mean[i])) {
			return nil, fmt.Errorf("onnx export: normalisation channel %d has mean %v std %v; std must be positive and finite", i, o.Mean[i], s)
		}
	}
	if len(o.ClassNames) != 0 && len(o.ClassNames) != m.Classes {
		return nil, fmt.Errorf("onnx export: %d class names for %d classes", len(o.ClassNames), m.Classes)
	}

	b := &builder{g: &pb.GraphProto{Name: proto.String("vktrain")}, names: map[string]bool{InputName: true, OutputName: true}}
	b.g.Input = []*pb.ValueInfoProto{valueInfo(InputName, pb.TensorProto_FLOAT, []int64{-1, int64(c), int64(h), int64(w)}, "N")}
	x := value{InputName, 4}
	if o.IncludeNormalization {
		x.name = b.normalize(o.Mean, o.Std)
	}

	idx := map[string]int{}
	for i, l := range layers {
		idx[l.Spec.Name] = i
	}
	uses := make([]int, len(layers))
	for _, l := range layers {
		for _, n := range l.Spec.Inputs {
			if j, ok := idx[n]; ok {
				uses[j]++
			}
		}
	}
	// Compensation layers folded into the bias of the layer they follow.
	folded := make([]bool, len(layers))
	extra := make([][]float32, len(layers)) // per-channel bias additions, in application order
	for i, l := range layers {
		if l.Spec.Type != "comp" {
			continue
		}
		j, ok := idx[l.Spec.Inputs[0]]
		for ok && folded[j] && uses[j] == 1 {
			j, ok = idx[layers[j].Spec.Inputs[0]]
		}
		if !ok || uses[j] != 1 || !isDense(layers[j].Spec.Type) {
			continue
		}
		folded[i] = true
		extra[j] = append(extra[j], compShift(l)...)
	}

	vals := map[string]value{nn.InputName: x}
	for i, l := range layers {
		ins := make([]value, len(l.Spec.Inputs))
		for k, n := range l.Spec.Inputs {
			v, ok := vals[n]
			if !ok {
				return nil, fmt.Errorf("onnx export: layer %s reads %q, which has no value yet", l.Spec.Name, n)
			}
			ins[k] = v
		}
		var y value
		switch {
		case folded[i]:
			y = ins[0]
		default:
			y, err = b.layer(l, ins, extra[i])
		}
		if err != nil {
			return nil, fmt.Errorf("onnx export: %s: %w", l.Spec.Name, err)
		}
		vals[l.Spec.Name] = y
	}
	last := vals[layers[len(layers)-1].Spec.Name]
	if last.rank != 2 {
		return nil, fmt.Errorf("onnx export: the model's output has rank %d, want [N classes]", last.rank)
	}
	b.g.Node = append(b.g.Node, &pb.NodeProto{Name: proto.String(OutputName), OpType: proto.String("Identity"), Input: []string{last.name}, Output: []string{OutputName}})
	b.g.Output = []*pb.ValueInfoProto{valueInfo(OutputName, pb.TensorProto_FLOAT, []int64{-1, int64(m.Classes)}, "N")}

	bits := "float" // the model's --bits (the image and the last layer may be wider)
	if q := m.Opts.Quant; !q.Float {
		bits = strconv.Itoa(cmp.Or(q.Bits, 8))
	}
	meta := map[string]string{
		MetaMean:  jsonFloats(o.Mean),
		MetaStd:   jsonFloats(o.Std),
		MetaModel: m.Spec.String(),
		MetaBits:  bits,
	}
	meta[MetaNormalization] = "external"
	if o.IncludeNormalization {
		meta[MetaNormalization] = "in_graph"
	}
	if len(o.ClassNames) > 0 {
		meta[MetaClassNames] = jsonStrings(o.ClassNames)
	}
	for k, v := range o.Metadata {
		meta[k] = v
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var props []*pb.StringStringEntryProto
	for _, k := range keys {
		props = append(props, &pb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(meta[k])})
	}
	doc := fmt.Sprintf("vktrain model %s, %s bits, input float32 [N, %d, %d, %d] ", m.Spec.String(), bits, c, h, w)
	if o.IncludeNormalization {
		doc += "with pixel values in [0, 1] (normalisation in the graph)"
	} else {
		doc += fmt.Sprintf("normalised as (pixel/255 - mean)/std per channel, mean %s std %s (metadata %s, %s)", meta[MetaMean], meta[MetaStd], MetaMean, MetaStd)
	}
	doc += "; output: logits [N, " + strconv.Itoa(m.Classes) + "]"
	b.g.DocString = proto.String(doc)
	return &pb.ModelProto{
		IrVersion:       proto.Int64(IRVersion),
		OpsetImport:     []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName:    proto.String("vktrain"),
		ProducerVersion: proto.String(o.ProducerVersion),
		Domain:          proto.String("io.github.vktrain"),
		ModelVersion:    proto.Int64(1),
		DocString:       proto.String(doc),
		Graph:           b.g,
		MetadataProps:   props,
	}, nil
}

// normalize emits the input normalisation: the pixel level k =
// round(255·x) (clipped to [0, 255]) of each input value x indexes a table
// of (k/255 − mean)/std per channel, computed in float64 and rounded to
// float32 exactly as vktrain's data loader computes it. A Sub and a Div in
// float32 would differ from it by an ulp for some levels, and where such a
// level lies next to a rounding boundary of the first quantizer, every
// image containing it would get another code; the table makes the graph's
// normalised input bit-identical to vktrain's for 8-bit images (x = k/255).
func (b *builder) normalize(mean, std []float32) string {
	c := len(mean)
	lut := make([]float32, 256*c)
	offs := make([]float32, c)
	for ch := range c {
		offs[ch] = float32(256 * ch)
		m, sd := float64(mean[ch]), float64(std[ch])
		for k := range 256 {
			lut[ch*256+k] = float32((float64(k)/255 - m) / sd)
		}
	}
	level := b.node("Round", "norm.level", []string{b.node("Mul", "norm.scale", []string{InputName, b.floats("norm.255", nil, []float32{255})})})
	level = b.node("Clip", "norm.clip", []string{level, b.floats("norm.min", nil, []float32{0}), b.floats("norm.max", nil, []float32{255})})
	if c > 1 {
		level = b.node("Add", "norm.channel", []string{level, b.floats("norm.offset", []int{1, c, 1, 1}, offs)})
	}
	idx := b.node("Cast", "norm.index", []string{level}, intAttr("to", int64(pb.TensorProto_INT64)))
	return b.node("Gather", "norm.lookup", []string{b.floats("norm.table", []int{256 * c}, lut), idx}, intAttr("axis", 0))
}

func isDense(t string) bool { return t == "conv" || t == "fc" || t == "dw" }

// compShift is the compensation's inference shift per channel, in the
// order vktrain adds it: y = (x + fl32(γ·mean)) + β.
func compShift(l nn.ExportLayer) []float32 {
	// Two additions per channel, kept as two entries so that the bias
	// receives them in vktrain's order.
	s := make([]float32, 0, 2*len(l.Gamma))
	for j := range l.Gamma {
		s = append(s, float32(l.Gamma[j]*l.Mean[j]))
	}
	return append(s, l.Beta...)
}

func jsonFloats(v []float32) string {
	p := make([]string, len(v))
	for i, f := range v {
		p[i] = strconv.FormatFloat(float64(f), 'g', -1, 32)
	}
	return "[" + strings.Join(p, ",") + "]"
}

func jsonStrings(v []string) string {
	p := make([]string, len(v))
	for i, s := range v {
		p[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(p, ",") + "]"
}

// layer emits the nodes of one (not folded) layer reading ins and returns
// its output. extra are compensation shifts folded into a dense layer's
// bias, each len(bias) long.
func (b *builder) layer(l nn.ExportLayer, ins []value, extra []float32) (value, error) {
	name := l.Spec.Name
	x := ins[0]
	switch l.Spec.Type {
	case "conv", "dw", "fc":
		return b.dense(l, x, extra)
	case "comp":
		shift := compShift(l)
		ch := len(l.Gamma)
		v := x.name
		for k := 0; k < len(shift); k += ch {
			v = b.node("Add", name, []string{v, b.floats(name+".shift", channelShape(ch, x.rank), shift[k:k+ch])})
		}
		return value{v, x.rank}, nil
	case "bn":
		ch := len(l.Gamma)
		if x.rank != 4 && x.rank != 2 {
			return value{}, fmt.Errorf("batch norm over a rank-%d tensor", x.rank)
		}
		return value{b.node("BatchNormalization", name, []string{x.name,
			b.floats(name+".gamma", []int{ch}, l.Gamma), b.floats(name+".beta", []int{ch}, l.Beta),
			b.floats(name+".running_mean", []int{ch}, l.Mean), b.floats(name+".running_var", []int{ch}, l.Var)},
			floatAttr("epsilon", l.Eps)), x.rank}, nil
	case "relu":
		return value{b.node("Relu", name, []string{x.name}), x.rank}, nil
	case "pool", "avgpool":
		if x.rank != 4 {
			return value{}, fmt.Errorf("pooling a rank-%d tensor", x.rank)
		}
		op := "MaxPool"
		if l.Spec.Type == "avgpool" {
			op = "AveragePool"
		}
		k, s := int64(l.Spec.Size), int64(l.Spec.Stride)
		return value{b.node(op, name, []string{x.name}, intsAttr("kernel_shape", k, k), intsAttr("strides", s, s)), 4}, nil
	case "gap":
		if x.rank != 4 {
			return value{}, fmt.Errorf("global average pool of a rank-%d tensor", x.rank)
		}
		p := b.node("GlobalAveragePool", name+".pool", []string{x.name})
		return value{b.node("Flatten", name, []string{p}, intAttr("axis", 1)), 2}, nil
	case "add":
		if ins[0].rank != ins[1].rank {
			return value{}, fmt.Errorf("adding tensors of ranks %d and %d", ins[0].rank, ins[1].rank)
		}
		return value{b.node("Add", name, []string{ins[0].name, ins[1].name}), x.rank}, nil
	case "flatten":
		v := x.name
		if x.rank == 4 { // vktrain flattens NHWC: H, W, C order
			v = b.node("Transpose", name+".nhwc", []string{v}, intsAttr("perm", 0, 2, 3, 1))
		}
		return value{b.node("Flatten", name, []string{v}, intAttr("axis", 1)), 2}, nil
	}
	return value{}, fmt.Errorf("layer type %q has no ONNX export", l.Spec.Type)
}

// channelShape is the shape of a per-channel constant broadcast over a
// tensor of the given rank (NCHW or [N, C]).
func channelShape(c, rank int) []int {
	if rank == 4 {
		return []int{1, c, 1, 1}
	}
	return []int{1, c}
}

// qdq quantizes and dequantizes x per tensor with q (Clip first below 8
// bits, so the codes stay in [qmin, qmax]).
func (b *builder) qdq(name, x string, q *nn.ExportQuant) (string, error) {
	if len(q.Scale) != 1 || len(q.Zero) != 1 || q.Signed || q.QMin < 0 || q.QMax > 255 {
		return "", fmt.Errorf("input quantizer with %d scales, signed %v, codes [%d, %d]: want one scale and unsigned codes within uint8", len(q.Scale), q.Signed, q.QMin, q.QMax)
	}
	s, z := q.Scale[0], q.Zero[0]
	scale := b.floats(name+".x_scale", nil, []float32{s})
	zero := b.codes(name+".x_zero", nil, []int32{z}, false)
	if q.QMin != 0 || q.QMax != 255 {
		lo := b.floats(name+".x_min", nil, []float32{s * float32(q.QMin-z)})
		hi := b.floats(name+".x_max", nil, []float32{s * float32(q.QMax-z)})
		x = b.node("Clip", name+".x_clip", []string{x, lo, hi})
	}
	qx := b.node("QuantizeLinear", name+".x_q", []string{x, scale, zero})
	return b.node("DequantizeLinear", name+".x_dq", []string{qx, scale, zero}), nil
}

// dense emits a conv, dw or fc layer.
func (b *builder) dense(l nn.ExportLayer, x value, extra []float32) (value, error) {
	name := l.Spec.Name
	out := len(l.Bias)
	bias := slices.Clone(l.Bias)
	for k := 0; k < len(extra); k += out {
		for j := range bias {
			bias[j] += extra[k+j]
		}
	}
	// Weights in ONNX layout: conv [Out C KH KW], dw [C 1 K K], fc [Out In]
	// with In in the order of ONNX's Flatten of the input.
	ws := l.WeightShape
	var perm func(o, i int) int // ONNX flat index within a row -> vktrain's
	var shape []int
	switch l.Spec.Type {
	case "conv":
		if x.rank != 4 {
			return value{}, fmt.Errorf("convolution of a rank-%d tensor", x.rank)
		}
		kh, kw, c := ws[1], ws[2], ws[3]
		shape = []int{out, c, kh, kw}
		perm = func(_, i int) int { // i = (ci*kh + y)*kw + x
			ci, r := i/(kh*kw), i%(kh*kw)
			return r*c + ci
		}
	case "dw":
		if x.rank != 4 {
			return value{}, fmt.Errorf("depthwise convolution of a rank-%d tensor", x.rank)
		}
		shape = []int{out, 1, ws[1], ws[2]}
		perm = func(_, i int) int { return i }
	case "fc":
		in := l.In[0]
		k := ws[1]
		shape = []int{out, k}
		perm = func(_, i int) int { return i }
		if x.rank == 4 {
			if len(in) != 3 {
				return value{}, fmt.Errorf("fc reads an image of shape %v", in)
			}
			hh, ww, cc := in[0], in[1], in[2]
			perm = func(_, i int) int { // i = (c*H + y)*W + x -> (y*W + x)*C + c
				ci, r := i/(hh*ww), i%(hh*ww)
				return r*cc + ci
			}
			x = value{b.node("Flatten", name+".flatten", []string{x.name}, intAttr("axis", 1)), 2}
		}
	}
	rowLen := len(l.Weight) / out
	reorder := func(v []int32, f []float32) ([]int32, []float32) {
		var ro []int32
		var rf []float32
		if v != nil {
			ro = make([]int32, len(v))
		}
		if f != nil {
			rf = make([]float32, len(f))
		}
		for o := range out {
			for i := range rowLen {
				src := o*rowLen + perm(o, i)
				if v != nil {
					ro[o*rowLen+i] = v[src]
				}
				if f != nil {
					rf[o*rowLen+i] = f[src]
				}
			}
		}
		return ro, rf
	}
	xin := x.name
	var wname string
	if wq := l.WeightQuant; wq != nil {
		var err error
		if xin, err = b.qdq(name, xin, l.InputQuant); err != nil {
			return value{}, err
		}
		if wq.QMin < -128 || wq.QMax > 127 || !wq.Signed {
			return value{}, fmt.Errorf("weight codes [%d, %d] (signed %v) do not fit int8", wq.QMin, wq.QMax, wq.Signed)
		}
		codes, _ := reorder(l.WeightCodes, nil)
		wc := b.codes(name+".weight_q", shape, codes, true)
		var sc, zp string
		var attrs []*pb.AttributeProto
		if len(wq.Scale) == 1 {
			sc = b.floats(name+".weight_scale", nil, wq.Scale)
			zp = b.codes(name+".weight_zero", nil, wq.Zero, true)
		} else {
			sc = b.floats(name+".weight_scale", []int{len(wq.Scale)}, wq.Scale)
			zp = b.codes(name+".weight_zero", []int{len(wq.Zero)}, wq.Zero, true)
			attrs = append(attrs, intAttr("axis", 0))
		}
		wname = b.node("DequantizeLinear", name+".weight_dq", []string{wc, sc, zp}, attrs...)
	} else {
		_, wf := reorder(nil, l.Weight)
		wname = b.floats(name+".weight", shape, wf)
	}
	bname := b.floats(name+".bias", []int{out}, bias)
	switch l.Spec.Type {
	case "conv", "dw":
		k, s, p := int64(l.Spec.Kernel), int64(l.Spec.Stride), int64(l.Spec.Pad)
		attrs := []*pb.AttributeProto{intsAttr("kernel_shape", k, k), intsAttr("strides", s, s), intsAttr("pads", p, p, p, p)}
		if l.Spec.Type == "dw" {
			attrs = append(attrs, intAttr("group", int64(out)))
		}
		return value{b.node("Conv", name, []string{xin, wname, bname}, attrs...), 4}, nil
	}
	return value{b.node("Gemm", name, []string{xin, wname, bname}, intAttr("transB", 1)), 2}, nil
}

// Marshal encodes the model (deterministically: the same model gives the
// same bytes).
func Marshal(mp *pb.ModelProto) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(mp)
}

// Write exports m to the file path.
func Write(path string, m *nn.Model, o Options) error {
	mp, err := Export(m, o)
	if err != nil {
		return err
	}
	raw, err := Marshal(mp)
	if err != nil {
		return fmt.Errorf("onnx export: encoding: %w", err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return fmt.Errorf("onnx export: %w", err)
	}
	return nil
}
