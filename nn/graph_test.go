package nn

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// Tests of the layer-kind registry, graph models, named models and
// graph checkpoints.

// TestRegistryRoundTrip: every kind's short form parses back to the same
// spec, and whole models print (String) to what ParseLayers rebuilds the
// same graph from, compact or as JSON.
func TestRegistryRoundTrip(t *testing.T) {
	toks := map[string]string{ // input -> canonical String
		"conv:8:3":       "conv:8:3:1:0",
		"conv:8:3:2":     "conv:8:3:2:0",
		"conv:8:5:2:2":   "conv:8:5:2:2",
		"fc:10":          "fc:10",
		"linear:7":       "fc:7",
		"dw:3":           "dw:3:1:0",
		"dw:3:2:1":       "dw:3:2:1",
		"dwconv:5:1:2":   "dw:5:1:2",
		"pool:2":         "pool:2:2",
		"maxpool:3:2":    "pool:3:2",
		"avgpool:2":      "avgpool:2:2",
		"avgpool:3:1":    "avgpool:3:1",
		"gap":            "gap",
		"comp":           "comp",
		"bn":             "bn",
		"relu":           "relu",
		"flatten":        "flatten",
		"res:16":         "res:16:1",
		"res:32:2":       "res:32:2",
		"conv:4:3,relu":  "conv:4:3:1:0,relu",
		" fc:3 , comp  ": "fc:3,comp",
	}
	for in, want := range toks {
		ls, err := ParseLayers(in)
		if err != nil {
			t.Errorf("ParseLayers(%q): %v", in, err)
			continue
		}
		if got := (ModelSpec{Layers: ls}).String(); got != want {
			t.Errorf("ParseLayers(%q) prints %q, want %q", in, got, want)
		}
		for _, l := range ls {
			again, err := ParseLayers(l.String())
			if err != nil || len(again) != 1 || !equalSpec(again[0], l) {
				t.Errorf("%q: LayerSpec %+v prints %q, which parses to %+v (%v)", in, l, l.String(), again, err)
			}
		}
	}
	if kindOf("add") == nil || kindOf("nope") != nil {
		t.Error("kindOf")
	}
	for _, k := range layerKinds {
		if !strings.Contains(LayerSyntax(), k.syntax) {
			t.Errorf("LayerSyntax lacks %s", k.syntax)
		}
	}
	// Whole models, unbuilt (blocks unexpanded) and built (expanded,
	// named, with inputs; ablated): String parses back to the same graph.
	specs := []string{DefaultSpec, "res8", "mobile", "conv:8:3:1:1,res:8,res:8:1,res:16:2,avgpool:2,flatten,fc:10"}
	for _, s := range specs {
		ls := mustLayers(t, s)
		if got := mustLayers(t, (ModelSpec{Layers: ls}).String()); !slices.EqualFunc(got, ls, equalSpec) {
			t.Errorf("%s: unbuilt spec does not round-trip", s)
		}
		for _, opts := range []Options{{}, {NoNorm: true}, {NoCompensation: true}} {
			m, err := Build([]int{16, 16, 3}, ls, 10, opts)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			str := m.Spec.String()
			m2, err := Build(m.Spec.Input, mustLayers(t, str), 10, Options{})
			if err != nil {
				t.Fatalf("%s %+v: String %s: %v", s, opts, str, err)
			}
			if !slices.EqualFunc(m.Spec.Layers, m2.Spec.Layers, equalSpec) {
				t.Errorf("%s %+v: String %s rebuilds\n%v, want\n%v", s, opts, str, m2.Spec.Layers, m.Spec.Layers)
			}
			if opts == (Options{}) && strings.HasPrefix(str, "[") {
				t.Errorf("%s: printed as JSON, want the compact form: %s", s, str)
			}
		}
	}
	// The residual model prints compactly: the res blocks are recognised.
	m, err := Build([]int{28, 28, 1}, mustLayers(t, "res8"), 10, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Spec.String(); got != Res8Spec {
		t.Errorf("res8 prints %s, want %s", got, Res8Spec)
	}
	// A hand-made DAG prints as JSON and reads back the same.
	dag := `[{"type":"conv","out":4,"kernel":3,"pad":1,"name":"stem"},{"type":"relu"},` +
		`{"type":"conv","out":4,"kernel":3,"pad":1,"inputs":["stem"]},{"type":"add","inputs":["relu1","conv1"]},` +
		`{"type":"gap"},{"type":"fc","out":3}]`
	m, err = Build([]int{8, 8, 2}, mustLayers(t, dag), 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	str := m.Spec.String()
	if !strings.HasPrefix(str, "[") {
		t.Errorf("DAG printed as %s, want JSON", str)
	}
	m2, err := Build(m.Spec.Input, mustLayers(t, str), 3, Options{})
	if err != nil || !slices.EqualFunc(m.Spec.Layers, m2.Spec.Layers, equalSpec) {
		t.Errorf("DAG %s does not round-trip: %v", str, err)
	}
	// A projection block whose projection the shapes do not call for is
	// not printed as res (which would rebuild without it).
	fake := `[{"type":"conv","out":4,"kernel":3,"pad":1},` + strings.TrimPrefix(mustJSON(t, expandRes(LayerSpec{Name: "b", Out: 4, Stride: 1}, "conv1", []int{5})), "[")
	m, err = Build([]int{8, 8, 1}, append(mustLayers(t, fake), LayerSpec{Type: "gap"}, LayerSpec{Type: "fc", Out: 2}), 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if str := m.Spec.String(); strings.Contains(str, "res:") {
		t.Errorf("projection block with equal shapes printed as %s", str)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGraphValidationErrors: bad graphs are refused with errors that
// name the problem.
func TestGraphValidationErrors(t *testing.T) {
	parse := map[string]string{
		`[{"type":"relu","inputs":["nope"]},{"type":"fc","out":2}]`:                                     `reads "nope": no layer before it has that name`,
		`[{"type":"relu","inputs":["b"]},{"type":"relu","name":"b"},{"type":"fc","out":2}]`:             "not listed before it: layers must come in topological order",
		`[{"type":"relu","name":"a","inputs":["a"]},{"type":"fc","out":2}]`:                             "not listed before it",
		`[{"type":"relu","name":"a"},{"type":"relu","name":"a"}]`:                                       `duplicate layer name "a"`,
		`[{"type":"relu","name":"input"}]`:                                                              "reserved for the model input",
		`[{"type":"relu","name":"a b"}]`:                                                                "use letters, digits",
		`[{"type":"relu","name":"x"},{"type":"add","inputs":["x","x","x"]}]`:                            "add takes 2",
		`[{"type":"relu","inputs":["input","input"]}]`:                                                  "relu takes 1",
		`[{"type":"conv","out":4,"kernel":3},{"type":"relu"},{"type":"fc","out":2,"inputs":["conv1"]}]`: "output of layer relu1 is never read",
		`[{"type":"relu","kernel":3}]`:                                                                  "relu does not take kernel",
		`[{"type":"fc","out":2,"input":["x"]}]`:                                                         `unknown field "input"`,
		`[{"type":"conv","out":99999999,"kernel":3}]`:                                                   "implausibly large",
		`[{"type":"bad"}]`: "unknown type",
		`[]`:               "no layers",
		"res:0":            "out must be positive",
		"res:8:1:1":        "want res:OUT[:STRIDE]",
		"dw:3:1:1:1":       "want dw:KERNEL",
		"gap:2":            "takes no arguments",
		"nope":             "or a named model: patent, res8, mobile",
	}
	for spec, want := range parse {
		if _, err := ParseLayers(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLayers(%s) = %v, want an error containing %q", spec, err, want)
		}
	}
	build := map[string]string{
		// The shortcut of a block is checked at Build: here conv2 has 4
		// channels, the input 3.
		`[{"type":"conv","out":4,"kernel":3,"pad":1},{"type":"add","inputs":["input"]},{"type":"gap"},{"type":"fc","out":2}]`:    "add1: add: inputs conv1 [8 8 4] and input [8 8 3] differ in shape",
		`[{"type":"conv","out":4,"kernel":3,"stride":2},{"type":"add","inputs":["input"]},{"type":"gap"},{"type":"fc","out":2}]`: "differ in shape",
		"gap,gap,fc:2":      "gap needs an image input",
		"fc:4,dw:3,fc:2":    "dw needs an image input",
		"res:4,fc:3":        "output shape [1 3] per batch, want [N 2]",
		"avgpool:9,fc:2":    "window 9 larger than the input side 8",
		"conv:2:3:1:9,fc:2": "",
	}
	for spec, want := range build {
		ls := mustLayers(t, spec)
		_, err := Build([]int{8, 8, 3}, ls, 2, Options{})
		if want == "" {
			if err != nil {
				t.Errorf("Build(%s): %v", spec, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build(%s) = %v, want an error containing %q", spec, err, want)
		}
	}
	// A name taken by a block's layers is refused.
	ls := append(mustLayers(t, "conv:4:3:1:1,res:4"), LayerSpec{Type: "relu", Name: "res1.add"}, LayerSpec{Type: "gap"}, LayerSpec{Type: "fc", Out: 2})
	if _, err := Build([]int{8, 8, 3}, ls, 2, Options{}); err == nil || !strings.Contains(err.Error(), `duplicate layer name "res1.add"`) {
		t.Errorf("block name clash: %v", err)
	}
}

// TestNamedModels: the named models build with the documented shapes and
// parameter counts (trainable elements, quantizer scales included).
func TestNamedModels(t *testing.T) {
	cases := []struct {
		name   string
		in     []int
		layers int
		params int
		shapes map[string][]int
	}{
		{"patent", []int{28, 28, 1}, 10, 694542, map[string][]int{"pool1": {13, 13, 32}}},
		{"res8", []int{28, 28, 1}, 31, 78476, map[string][]int{"res1": {28, 28, 16}, "res2": {14, 14, 32}, "res3": {7, 7, 64}, "gap1": {64}, "comp1": {10}}},
		{"res8", []int{32, 32, 3}, 31, 78764, map[string][]int{"res2": {16, 16, 32}, "res3": {8, 8, 64}, "res3.proj": {8, 8, 64}}},
		{"mobile", []int{28, 28, 1}, 24, 9656, map[string][]int{"dw1": {28, 28, 16}, "conv2": {28, 28, 32}, "dw2": {14, 14, 32}, "conv4": {7, 7, 64}, "gap1": {64}}},
		{"mobile", []int{32, 32, 3}, 24, 9944, map[string][]int{"dw3": {8, 8, 64}}},
	}
	for _, tc := range cases {
		m, err := Build(tc.in, mustLayers(t, tc.name), 10, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(m.Layers) != tc.layers || m.NumParams() != tc.params {
			t.Errorf("%s %v: %d layers, %d parameters; want %d, %d\n%s", tc.name, tc.in, len(m.Layers), m.NumParams(), tc.layers, tc.params, m.Describe())
		}
		for i, l := range m.Layers {
			if want, ok := tc.shapes[l.Name()]; ok && !slices.Equal(m.shapes[i], want) {
				t.Errorf("%s: %s gives %v, want %v", tc.name, l.Name(), m.shapes[i], want)
			}
		}
		// Compensation only after the final fc (before a bn it learns nothing).
		for i, ls := range m.Spec.Layers {
			if ls.Type == "comp" && tc.name != "patent" && i != len(m.Spec.Layers)-1 {
				t.Errorf("%s: comp at %d", tc.name, i)
			}
		}
	}
	// res1 keeps its shape (identity shortcut); res2 and res3 project.
	m, _ := Build([]int{28, 28, 1}, mustLayers(t, "res8"), 10, Options{})
	var names []string
	for _, l := range m.Layers {
		names = append(names, l.Name())
	}
	if slices.Contains(names, "res1.proj") || !slices.Contains(names, "res2.proj") || !slices.Contains(names, "res3.projbn") {
		t.Errorf("projections: %v", names)
	}
	if _, ok := m.Layers[8].(*Add); !ok || m.Spec.Layers[8].Inputs[1] != "relu1" {
		t.Errorf("res1.add: %T reading %v", m.Layers[8], m.Spec.Layers[8].Inputs)
	}
	for _, nm := range NamedModels() {
		if _, err := ParseLayers(nm.Name); err != nil {
			t.Errorf("%s: %v", nm.Name, err)
		}
	}
}

// graphGradModel is a small float model whose graph has a node read three
// times (stem: by conv a, add1 and add2), a block with an identity and one
// with a projection shortcut, and batch norm and compensation.
const graphGradModel = `[{"type":"conv","name":"stem","out":3,"kernel":3,"pad":1},` +
	`{"type":"conv","name":"a","out":3,"kernel":3,"pad":1},{"type":"relu"},` +
	`{"type":"add","name":"add1","inputs":["relu1","stem"]},` +
	`{"type":"add","name":"add2","inputs":["stem"]},` +
	`{"type":"res","out":3},{"type":"res","out":4,"stride":2},` +
	`{"type":"avgpool","size":2},{"type":"flatten"},{"type":"fc","out":5},{"type":"comp"}]`

// TestGraphGradient checks the gradients of every parameter of a residual
// graph (float mode, training statistics) against central finite
// differences of L = Σ r·logits.
// graphEps is smaller than fdEps: through a whole network a step of 1e-2
// moves many ReLU inputs across the kink.
const graphEps = 1e-4

func TestGraphGradient(t *testing.T) { gradCheckModel(t, graphGradModel) }

func gradCheckModel(t *testing.T, spec string) {
	m, err := Build([]int{6, 6, 2}, mustLayers(t, spec), 5, Options{Quant: floatCfg(), Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	b := ref.New()
	defer b.Close()
	if err := m.Bind(b); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	n := 3
	xv := randSlice(rng, n*6*6*2)
	r := randSlice(rng, n*5)
	for _, p := range m.Params() {
		if p.Kind == KindCompGamma || p.Kind == KindCompBeta || p.Kind == KindNormBeta {
			for i := range p.Data {
				p.Data[i] = float32(rng.NormFloat64() * 0.3)
			}
		}
	}
	if err := m.UploadParams(); err != nil {
		t.Fatal(err)
	}
	x, _ := b.New(backend.F32, n, 6, 6, 2)
	dy, _ := b.New(backend.F32, n, 5)
	_ = b.WriteF32(x, xv)
	_ = b.WriteF32(dy, r)
	c := &Context{B: b, Train: true}
	loss := func() float64 {
		y, err := m.Forward(c, x)
		if err != nil {
			t.Fatal(err)
		}
		yv := make([]float32, y.Len())
		if err := b.ReadF32(y, yv); err != nil {
			t.Fatal(err)
		}
		var l float64
		for i, v := range yv {
			l += float64(v) * float64(r[i])
		}
		return l
	}
	loss()
	if err := m.Backward(c, dy); err != nil {
		t.Fatal(err)
	}
	grads := map[*Param][]float32{}
	for _, p := range m.Params() {
		if p.GradT != nil {
			g := make([]float32, len(p.Data))
			if err := b.ReadF32(p.GradT, g); err != nil {
				t.Fatal(err)
			}
			grads[p] = g
		}
	}
	if len(grads) < 4 {
		t.Fatalf("only %d parameters have gradients", len(grads))
	}
	bad := 0
	for _, p := range m.Params() {
		g, ok := grads[p]
		if !ok {
			continue
		}
		for k := 0; k < 4; k++ {
			i := rng.IntN(len(p.Data))
			old := p.Data[i]
			p.Data[i] = old + graphEps
			_ = p.upload(b)
			lp := loss()
			p.Data[i] = old - graphEps
			_ = p.upload(b)
			lm := loss()
			p.Data[i] = old
			_ = p.upload(b)
			fd := (lp - lm) / (2 * graphEps)
			if d := math.Abs(fd - float64(g[i])); d > fdTol*math.Max(1, math.Abs(float64(g[i]))) {
				bad++
				t.Errorf("d%s[%d] = %.5f, finite differences give %.5f", p.Name, i, g[i], fd)
			}
		}
	}
	// The stem is read three times: its gradient is the sum of three.
	if g := grads[m.Layers[0].Params()[0]]; g == nil || maxAbs(g) == 0 {
		t.Error("no gradient reached the stem")
	}
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

// graphOps is the reference backend with the ops of ReLU and Add made
// no-ops: allocations measured through it are the model's own.
type graphOps struct{ *ref.Backend }

func (graphOps) ReLU(y, x backend.Tensor)          {}
func (graphOps) ReLUGrad(dx, dy, y backend.Tensor) {}
func (graphOps) Add(y, a, b backend.Tensor)        {}
func (graphOps) Copy(dst, src backend.Tensor)      {}

// TestGraphStepAllocatesNothing: in steady state a training step of a
// graph whose outputs are read several times (so gradients are summed)
// allocates nothing in the graph's code. The model has only ReLU and Add
// layers (which allocate nothing themselves) and no classifier, so it is
// assembled from compile's nodes directly.
func TestGraphStepAllocatesNothing(t *testing.T) {
	spec := `[{"type":"relu","name":"r"},{"type":"relu","name":"s"},{"type":"add","name":"a","inputs":["s","r"]},` +
		`{"type":"add","inputs":["a","r"]},{"type":"relu","name":"out"}]`
	input := []int{4, 4, 2}
	nodes, err := compile(input, mustLayers(t, spec), Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Spec: ModelSpec{Input: input, Layers: normalSpecs(nodes)}}
	for _, n := range nodes {
		l, err := n.kind.build(n.spec, [][]int{input, input}, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.Layers = append(m.Layers, l)
	}
	if m.g, err = newGraph(nodes, m.Layers); err != nil {
		t.Fatal(err)
	}
	if m.g.uses[0] != 3 || !m.g.shared {
		t.Fatalf("uses %v", m.g.uses)
	}
	b := graphOps{ref.New()}
	defer b.Close()
	if err := m.Bind(b); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3} { // two batch sizes, alternating
		x, _ := b.New(backend.F32, n, 4, 4, 2)
		dy, _ := b.New(backend.F32, n, 4, 4, 2)
		c := &Context{B: b, Train: true}
		var stepErr error
		step := func() {
			if _, err := m.Forward(c, x); err != nil {
				stepErr = err
			} else if err := m.Backward(c, dy); err != nil {
				stepErr = err
			}
		}
		step()
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Errorf("batch %d: %v allocations per step", n, a)
		}
		if stepErr != nil {
			t.Fatal(stepErr)
		}
	}
	if len(m.g.acc.m) != 2 {
		t.Errorf("%d sets of gradient sums, want one per batch size", len(m.g.acc.m))
	}
	m.Release()
	if m.g.acc.m != nil {
		t.Error("Release kept the gradient sums")
	}
}

// TestResidualTrainsMini trains a tiny residual network a few steps on the
// mini MNIST subset (int8, reference backend): the loss falls.
func TestResidualTrainsMini(t *testing.T) {
	train, _, norm := loadMini(t)
	m, err := Build([]int{28, 28, 1}, mustLayers(t, "conv:8:3:2:1,bn,relu,res:8,res:16:2,gap,fc:10,comp"), 10, Options{Quant: QuantConfig{Bits: 8}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, ref.New(), TrainConfig{LR: 0.05, Momentum: 0.9, Threshold: 1, CompL2: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Model.Backend().Close()
	order := data.NewOrder(train.N, 1).Epoch(0)[:60*32]
	var losses []float64
	_, err = tr.Epoch(setBatcher{train, norm}, order, 32, func(done, total int, s StepStats) { losses = append(losses, s.Loss) })
	if err != nil {
		t.Fatal(err)
	}
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	first, lastL := mean(losses[:10]), mean(losses[len(losses)-10:])
	t.Logf("mean loss of the first 10 steps %.3f, of the last 10 %.3f", first, lastL)
	if !(lastL < first-0.1) {
		t.Errorf("loss did not fall: %.3f -> %.3f (%v)", first, lastL, losses)
	}
}

// TestCheckpointGraphRoundTrip saves a trained res8 and loads it: the same
// graph (names, inputs), the same parameters and quantizer state, the same
// logits.
func TestCheckpointGraphRoundTrip(t *testing.T) {
	m, err := Build([]int{12, 12, 1}, mustLayers(t, "res8"), 10, Options{Quant: QuantConfig{Bits: 8}, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, ref.New(), TrainConfig{LR: 0.05, Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Model.Backend().Close()
	rng := rand.New(rand.NewPCG(3, 3))
	lab := []int32{1, 2, 3, 4}
	x := randSlice(rng, 4*144)
	for s := 0; s < 2; s++ {
		if _, err := tr.TrainStep(x, lab); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.SyncBuffers(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "res8.safetensors")
	if err := SaveCheckpoint(path, m, nil); err != nil {
		t.Fatal(err)
	}
	meta, err := ReadMetadata(path)
	if err != nil || meta["format"] != CheckpointFormat || !strings.Contains(meta["model"], `"name":"res2.add","inputs":["res2.bn2","res2.projbn"]`) {
		t.Fatalf("metadata %v (%v)", meta["model"], err)
	}
	m2, _, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(m.Spec.Layers, m2.Spec.Layers, equalSpec) || m2.Spec.String() != Res8Spec {
		t.Fatalf("graph changed: %s", m2.Spec)
	}
	tr2, err := NewTrainer(m2, ref.New(), TrainConfig{LR: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Model.Backend().Close()
	a, b := make([]float32, 40), make([]float32, 40)
	if err := tr.Predict(x, 4, a); err != nil {
		t.Fatal(err)
	}
	if err := tr2.Predict(x, 4, b); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Fatalf("logits differ after reload:\n%v\n%v", a, b)
	}
}

// v1Logits are the inference logits of testdata/v1-chain.safetensors (a
// "vktrain/1" checkpoint written by the vktrain before graphs) for the
// batch v1Batch, as that vktrain computed them.
var v1Logits = []float32{-0.15925173, 0.18666384, 0.04108741, -0.9337763, 0.18666294, 0.2667675, -0.014346153, 0.18666387, 0.029657204, -0.5822461, 0.186663, -0.1465806}

func v1Batch() []float32 {
	x := make([]float32, 4*36)
	for i := range x {
		x[i] = float32(i%13)/6 - 1
	}
	return x
}

// TestLoadV1Checkpoint: a chain checkpoint of format 1 still loads and
// computes what it did; a newer format is refused naming both versions.
func TestLoadV1Checkpoint(t *testing.T) {
	path := filepath.Join("testdata", "v1-chain.safetensors")
	meta, err := ReadMetadata(path)
	if err != nil || meta["format"] != "vktrain/1" {
		t.Fatalf("%v %v", meta["format"], err)
	}
	m, _, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Spec.String(); got != "conv:4:3:1:1,comp,bn,relu,pool:2:2,fc:6,comp,relu,fc:3,comp" {
		t.Errorf("spec %s", got)
	}
	tr, err := NewTrainer(m, ref.New(), TrainConfig{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Model.Backend().Close()
	logits := make([]float32, 12)
	if err := tr.Predict(v1Batch(), 4, logits); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(logits, v1Logits) {
		t.Errorf("logits %v, the format-1 vktrain gave %v", logits, v1Logits)
	}
	// Saving writes the current format with the graph's names; it loads the same.
	p2 := filepath.Join(t.TempDir(), "v2.safetensors")
	if err := SaveCheckpoint(p2, m, nil); err != nil {
		t.Fatal(err)
	}
	if m2, meta2, err := LoadCheckpoint(p2); err != nil || meta2["format"] != CheckpointFormat || !strings.Contains(meta2["model"], `"name":"conv1"`) || !slices.EqualFunc(m.Spec.Layers, m2.Spec.Layers, equalSpec) {
		t.Errorf("re-saved: %v %v", meta2["model"], err)
	}
	// A newer format is refused by both readers, naming both versions.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(t.TempDir(), "v4.safetensors")
	if err := os.WriteFile(newer, []byte(strings.Replace(string(raw), `"format":"vktrain/1"`, `"format":"vktrain/4"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, errLoad := LoadCheckpoint(newer)
	_, errMeta := ReadMetadata(newer)
	for _, err := range []error{errLoad, errMeta} {
		if err == nil || !strings.Contains(err.Error(), `"vktrain/4" is newer`) || !strings.Contains(err.Error(), `"`+CheckpointFormat+`"`) {
			t.Errorf("format 4: %v", err)
		}
	}
}

// TestCheckSpecSizeGraph: the size check counts the parameters of every
// kind, through blocks.
func TestCheckSpecSizeGraph(t *testing.T) {
	spec := ModelSpec{Input: []int{32, 32, 3}, Layers: mustLayers(t, "res8")}
	m, err := Build(spec.Input, spec.Layers, 10, Options{Quant: floatCfg()})
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, p := range m.Params() {
		total += int64(len(p.Data))
	}
	if err := checkSpecSize(spec, total); err != nil {
		t.Errorf("res8 with all its %d values: %v", total, err)
	}
	if err := checkSpecSize(spec, total/2); err == nil || !strings.Contains(err.Error(), "the file holds") {
		t.Errorf("res8 with half its values: %v", err)
	}
	huge := ModelSpec{Input: []int{1 << 20, 1 << 20, 3}, Layers: mustLayers(t, "dw:3,fc:100000")}
	if err := checkSpecSize(huge, 1000); err == nil {
		t.Error("huge dw+fc accepted")
	}
}

// TestCompileRandomSpecs feeds random graphs (kinds, fields, names and
// inputs, some nonsensical) to compile, checkSpecSize and Build: none may
// panic, and what compile accepts with shapes Build builds.
func TestCompileRandomSpecs(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	types := []string{"conv", "conv", "fc", "dw", "dw", "pool", "avgpool", "gap", "add", "comp", "bn", "relu", "flatten", "res", "res", "linear", "bogus"}
	vals := []int{0, 1, 2, 3, 5, -1, 1 << 30}
	built := 0
	for it := 0; it < 3000; it++ {
		n := 1 + rng.IntN(6)
		ls := make([]LayerSpec, n)
		for i := range ls {
			l := LayerSpec{Type: types[rng.IntN(len(types))]}
			if rng.IntN(3) == 0 {
				l.Name = []string{"a", "b", "input", "res1", "x.y"}[rng.IntN(5)]
			}
			for j := rng.IntN(3); j > 0 && rng.IntN(3) == 0; j-- {
				l.Inputs = append(l.Inputs, []string{"a", "b", "input", "res1", "relu1", "conv1"}[rng.IntN(6)])
			}
			if k := kindOf(l.Type); k != nil && rng.IntN(8) != 0 {
				good := map[specField]int{fieldOut: 1 + rng.IntN(4), fieldKernel: 1 + rng.IntN(3), fieldStride: 1 + rng.IntN(2), fieldPad: rng.IntN(2), fieldSize: 1 + rng.IntN(2)}
				for f, v := range good {
					if k.fields&f != 0 {
						l.set(f, v)
					}
				}
			} else {
				l.Out, l.Kernel, l.Stride, l.Pad, l.Size = vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))]
			}
			ls[i] = l
		}
		if rng.IntN(2) == 0 {
			ls = append(ls, LayerSpec{Type: "fc", Out: 3})
		}
		in := []int{1 + rng.IntN(8), 1 + rng.IntN(8), 1 + rng.IntN(3)}
		_ = validateLayers(ls)
		_ = checkSpecSize(ModelSpec{Input: in, Layers: ls}, 1<<20)
		_ = ModelSpec{Input: in, Layers: ls}.String()
		nodes, err := compile(in, ls, Options{})
		if err != nil {
			continue
		}
		out := nodes[len(nodes)-1].shape
		m, err := Build(in, ls, out[len(out)-1], Options{Quant: floatCfg()})
		if len(out) == 1 && err != nil {
			t.Fatalf("compile accepted %+v, Build: %v", ls, err)
		}
		if err == nil {
			built++
			m2, err := Build(in, mustLayers(t, m.Spec.String()), m.Classes, Options{Quant: floatCfg()})
			if err != nil || !slices.EqualFunc(m.Spec.Layers, m2.Spec.Layers, equalSpec) {
				t.Fatalf("%+v prints %s, which rebuilds differently: %v", ls, m.Spec, err)
			}
		}
	}
	t.Logf("%d of 3000 random specs built", built)
}
