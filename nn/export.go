package nn

import (
	"fmt"
	"slices"

	"github.com/vktrain/vktrain/quant"
)

// ExportQuant is one quantizer as inference applies it: the scales and
// integer zero points of Quantizer.Spec (per output channel for weights,
// one for activations) and the code range.
type ExportQuant struct {
	Scale []float32
	Zero  []int32
	// QMin and QMax bound the codes: signed weights
	// [-(2^(b-1)-1), 2^(b-1)-1], unsigned activations [0, 2^b-1].
	QMin, QMax int32
	// Bits is the code width and Signed the scheme's signedness.
	Bits   int
	Signed bool
}

// ExportLayer is one layer of a model as an exporter sees it: its kind,
// inputs and shapes, and the parameters inference uses.
type ExportLayer struct {
	// Spec is the layer's resolved spec: Type canonical, Name set and
	// Inputs always filled (InputName for the model input).
	Spec LayerSpec
	// In are the per-example shapes of the inputs ([H W C] images or [F]
	// vectors, vktrain's NHWC order) and Out the output's.
	In  [][]int
	Out []int
	// Weight and WeightShape are the float weights of conv ([Out KH KW C]),
	// fc ([Out In], In in the NHWC order of the flattened input) and dw
	// ([C K K]); Bias has Out elements.
	Weight      []float32
	WeightShape []int
	Bias        []float32
	// WeightQuant and InputQuant are the quantizers of a quantized layer
	// (nil in float mode); WeightCodes are the weight codes inference
	// multiplies, quant.Code of each weight with its channel's scale and
	// zero point (what the backends' Quantize computes).
	WeightQuant, InputQuant *ExportQuant
	WeightCodes             []int32
	// Gamma, Beta and Mean are the compensation's γ, β and running mean
	// (comp), or batch norm's affine and running mean (bn); Var and Eps
	// are batch norm's running variance and epsilon.
	Gamma, Beta, Mean, Var []float32
	Eps                    float32
}

// exportQuant copies q's inference state. An uncalibrated quantizer (a
// model that never saw a batch) has no state inference could reproduce.
func exportQuant(layer string, q *Quantizer) (*ExportQuant, error) {
	if !q.ready {
		return nil, fmt.Errorf("%s: quantizer %s was never calibrated (the model has not been trained or run on data); train or evaluate it before exporting", layer, q.name)
	}
	s := q.Spec()
	return &ExportQuant{Scale: slices.Clone(s.Scale), Zero: slices.Clone(s.Zero), QMin: s.QMin, QMax: s.QMax,
		Bits: q.scheme.Bits, Signed: q.scheme.Signed}, nil
}

// ExportLayers describes every layer of m, in graph (topological) order,
// with copies of the host parameters: bound models must call SyncBuffers
// first if the backend holds newer running statistics.
func (m *Model) ExportLayers() ([]ExportLayer, error) {
	nodes, err := compile(m.Spec.Input, m.Spec.Layers, Options{})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if len(nodes) != len(m.Layers) {
		return nil, fmt.Errorf("export: the spec has %d layers, the model %d", len(nodes), len(m.Layers))
	}
	out := make([]ExportLayer, len(nodes))
	for i, n := range nodes {
		e := ExportLayer{Spec: n.spec, Out: slices.Clone(n.shape)}
		e.Spec.Inputs = slices.Clone(n.spec.Inputs)
		for _, j := range n.in {
			if j < 0 {
				e.In = append(e.In, slices.Clone(m.Spec.Input))
			} else {
				e.In = append(e.In, slices.Clone(nodes[j].shape))
			}
		}
		var d *dense
		switch l := m.Layers[i].(type) {
		case *Conv2D:
			d = l.dense
		case *Linear:
			d = l.dense
		case *DepthwiseConv2D:
			d = l.dense
		case *Compensation:
			e.Gamma, e.Beta, e.Mean = slices.Clone(l.Gamma.Data), slices.Clone(l.Beta.Data), slices.Clone(l.RunMean.Data)
		case *BatchNorm:
			e.Gamma, e.Beta, e.Mean, e.Var = slices.Clone(l.Gamma.Data), slices.Clone(l.Beta.Data), slices.Clone(l.RunMean.Data), slices.Clone(l.RunVar.Data)
			e.Eps = l.Eps
		}
		if l := m.Layers[i]; l.Name() != n.spec.Name {
			return nil, fmt.Errorf("export: layer %d is %s, the spec says %s", i, l.Name(), n.spec.Name)
		}
		if d != nil {
			e.Weight, e.WeightShape, e.Bias = slices.Clone(d.W.Data), slices.Clone(d.W.Shape), slices.Clone(d.B.Data)
			if d.wq != nil {
				if e.WeightQuant, err = exportQuant(n.spec.Name, d.wq); err != nil {
					return nil, err
				}
				if e.InputQuant, err = exportQuant(n.spec.Name, d.xq); err != nil {
					return nil, err
				}
				e.WeightCodes = weightCodes(e.Weight, e.WeightQuant)
			}
		}
		out[i] = e
	}
	return out, nil
}

// weightCodes quantizes w (channel-major) per channel as the backends'
// Quantize does.
func weightCodes(w []float32, q *ExportQuant) []int32 {
	codes := make([]int32, len(w))
	slice := len(w) / len(q.Scale)
	for i, v := range w {
		c := i / slice
		codes[i] = quant.Code(v, q.Scale[c], q.Zero[c], q.QMin, q.QMax)
	}
	return codes
}
