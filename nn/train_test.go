package nn

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn/ref"
)

type setBatcher struct {
	s    *data.Set
	norm data.Norm
}

func (b setBatcher) Len() int { return b.s.N }
func (b setBatcher) Batch(dst []float32, lab []int32, idx []int) error {
	return b.s.Batch(dst, lab, idx, b.norm)
}

func loadMini(t *testing.T) (train, test *data.Set, norm data.Norm) {
	t.Helper()
	train, test, err := data.Resolve("mini")
	if err != nil {
		t.Fatal(err)
	}
	return train, test, data.ComputeNorm(train)
}

func trainMini(t *testing.T, opts Options, epochs int) (*Trainer, EvalResult, []float64) {
	t.Helper()
	train, test, norm := loadMini(t)
	layers, err := ParseLayers("conv:16:3,comp,bn,relu,pool:2,fc:64,comp,relu,fc:10,comp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build([]int{28, 28, 1}, layers, 10, opts)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, ref.New(), TrainConfig{LR: 0.01, Momentum: 0.9, Threshold: 1, CompL2: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	order := data.NewOrder(train.N, 1)
	var losses []float64
	for e := 0; e < epochs; e++ {
		es, err := tr.Epoch(setBatcher{train, norm}, order.Epoch(e), 32, nil)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, es.Loss)
	}
	ev, err := tr.Evaluate(setBatcher{test, norm}, 128)
	if err != nil {
		t.Fatal(err)
	}
	return tr, ev, losses
}

// TestTrainMini trains the reference network shape on the 2000-image MNIST
// subset. A wrong gradient or a wrong dequantization leaves the test
// accuracy far below the bar (chance is 10%); correct code reaches about
// 90% on 500 test images after two epochs.
func TestTrainMini(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	for _, tc := range []struct {
		name string
		opts Options
		bar  float64
	}{
		{"int8", Options{Quant: QuantConfig{Bits: 8}, Seed: 1}, 0.85},
		{"int8-stats", Options{Quant: QuantConfig{Bits: 8, Mode: QuantStats}, Seed: 1}, 0.85},
		{"float", Options{Quant: QuantConfig{Float: true}, Seed: 1}, 0.85},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, ev, losses := trainMini(t, tc.opts, 2)
			defer tr.Model.Backend().Close()
			if !(losses[1] < losses[0]) {
				t.Errorf("training loss did not fall: %v", losses)
			}
			if ev.Accuracy < tc.bar {
				t.Errorf("test accuracy %.3f below %.2f", ev.Accuracy, tc.bar)
			}
			t.Logf("losses %v, test accuracy %.3f", losses, ev.Accuracy)
		})
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	tr, ev, _ := trainMini(t, Options{Quant: QuantConfig{Bits: 8}, Seed: 3}, 1)
	if err := tr.Model.SyncBuffers(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveCheckpoint(path, tr.Model, map[string]string{"epoch": "1"}); err != nil {
		t.Fatal(err)
	}
	m2, meta, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["epoch"] != "1" || meta["format"] != CheckpointFormat {
		t.Fatalf("metadata %v", meta)
	}
	tr2, err := NewTrainer(m2, ref.New(), TrainConfig{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	_, test, norm := loadMini(t)
	ev2, err := tr2.Evaluate(setBatcher{test, norm}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if ev2.Accuracy != ev.Accuracy || math.Abs(ev2.Loss-ev.Loss) > 1e-9 {
		t.Fatalf("reloaded model: accuracy %v loss %v, original %v %v", ev2.Accuracy, ev2.Loss, ev.Accuracy, ev.Loss)
	}
}

func TestNonFiniteInputStopsTraining(t *testing.T) {
	m, err := Build([]int{4, 4, 1}, mustLayers(t, "conv:2:3,comp,bn,relu,fc:3"), 3, Options{Quant: QuantConfig{Bits: 8}})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, ref.New(), TrainConfig{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 2*16)
	for i := range x {
		x[i] = float32(i) / 10
	}
	if _, err := tr.TrainStep(x, []int32{0, 1}); err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), m.Layers[0].Params()[0].Data...)
	x[5] = float32(math.NaN())
	_, err = tr.TrainStep(x, []int32{0, 1})
	if err == nil || !strings.Contains(err.Error(), "step 2") || !strings.Contains(err.Error(), "conv1") {
		t.Fatalf("NaN input: error %v, want one naming step 2 and conv1", err)
	}
	for i, v := range m.Layers[0].Params()[0].Data {
		if v != before[i] {
			t.Fatal("parameters changed by the failed step")
		}
	}
}

func mustLayers(t *testing.T, s string) []LayerSpec {
	t.Helper()
	l, err := ParseLayers(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestParseAndBuildErrors(t *testing.T) {
	bad := map[string]string{
		"conv:32":          "want conv:OUT:KERNEL",
		"fc:x":             "not a non-negative integer",
		"dense:3":          "unknown layer type",
		"conv:0:3,fc:10":   "must be positive",
		"pool:2:1:1":       "want pool:SIZE",
		"relu:3":           "takes no arguments",
		"":                 "unknown layer type",
		`[{"type":"bad"}]`: "unknown type",
	}
	for spec, want := range bad {
		if _, err := ParseLayers(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLayers(%q) = %v, want an error containing %q", spec, err, want)
		}
	}
	ls := mustLayers(t, DefaultSpec)
	if _, err := Build([]int{28, 28, 1}, ls, 10, Options{}); err != nil {
		t.Fatalf("default spec: %v", err)
	}
	if _, err := Build([]int{28, 28, 1}, ls, 7, Options{}); err == nil || !strings.Contains(err.Error(), "7 classes") {
		t.Errorf("class mismatch: %v", err)
	}
	if _, err := Build([]int{2, 2, 1}, ls, 10, Options{}); err == nil || !strings.Contains(err.Error(), "conv1") {
		t.Errorf("input too small: %v", err)
	}
	if _, err := Build([]int{28, 28, 1}, ls, 10, Options{Quant: QuantConfig{Bits: 9}}); err == nil {
		t.Error("9 bits accepted")
	}
	js, err := ParseLayers(`{"input":[28,28,1],"layers":[{"type":"fc","out":10}]}`)
	if err != nil || len(js) != 1 || js[0].Out != 10 {
		t.Errorf("JSON model: %v %v", js, err)
	}
	m, err := Build([]int{28, 28, 1}, ls, 10, Options{NoCompensation: true, NoNorm: true})
	if err != nil || strings.Contains(m.Spec.String(), "comp") || strings.Contains(m.Spec.String(), "bn") {
		t.Errorf("ablation build: %v %v", m.Spec, err)
	}
}

func TestThresholdAndSGD(t *testing.T) {
	p := newParam("w", KindWeight, 4)
	copy(p.Grad, []float32{-3, -0.5, 0.5, 3})
	copy(p.Data, []float32{1, 1, 1, 1})
	if n := Threshold([]*Param{p}, ThresholdElement, 1); n != 2 {
		t.Fatalf("clipped %d, want 2", n)
	}
	want := []float32{-1, -0.5, 0.5, 1}
	for i := range want {
		if p.Grad[i] != want[i] {
			t.Fatalf("grad %v, want %v", p.Grad, want)
		}
	}
	SGD{LR: 0.1}.Step([]*Param{p})
	if p.Data[0] != 1.1 || p.Data[3] != 0.9 {
		t.Fatalf("SGD: %v", p.Data)
	}
	copy(p.Grad, []float32{3, 4, 0, 0})
	Threshold([]*Param{p}, ThresholdGlobalNorm, 1)
	if math.Abs(float64(p.Grad[0])-0.6) > 1e-6 || math.Abs(float64(p.Grad[1])-0.8) > 1e-6 {
		t.Fatalf("global norm: %v", p.Grad)
	}
	s := newParam("s", KindQuantScale, 1)
	s.Data[0], s.Grad[0] = 0.01, 1
	SGD{LR: 1}.Step([]*Param{s})
	if !(s.Data[0] > 0) {
		t.Fatalf("scale went non-positive: %v", s.Data[0])
	}
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	logits := []float32{1, 2, 3, 0, 0, 0}
	d := make([]float32, 6)
	loss, correct, err := SoftmaxCrossEntropy(logits, []int32{2, 0}, 3, d)
	if err != nil {
		t.Fatal(err)
	}
	want := (-math.Log(math.Exp(3)/(math.Exp(1)+math.Exp(2)+math.Exp(3))) + math.Log(3)) / 2
	if math.Abs(loss-want) > 1e-9 || correct != 2 && correct != 1 {
		t.Fatalf("loss %v want %v, correct %d", loss, want, correct)
	}
	var sum float32
	for _, v := range d[:3] {
		sum += v
	}
	if math.Abs(float64(sum)) > 1e-6 {
		t.Fatalf("gradient row sums to %v", sum)
	}
	if _, _, err := SoftmaxCrossEntropy(logits, []int32{5, 0}, 3, d); err == nil {
		t.Fatal("label out of range accepted")
	}
}

// TestNonFiniteLayerIsNamed: in float mode (no quantizer statistics) an
// Inf input makes the logits non-finite; the error names the layer whose
// output first went bad.
func TestNonFiniteLayerIsNamed(t *testing.T) {
	m, err := Build([]int{4, 4, 1}, mustLayers(t, "conv:2:3,relu,fc:3"), 3, Options{Quant: QuantConfig{Float: true}})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, ref.New(), TrainConfig{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 2*16)
	for i := range x {
		x[i] = 1
	}
	x[5] = float32(math.Inf(1))
	_, err = tr.TrainStep(x, []int32{0, 1})
	if err == nil || !strings.Contains(err.Error(), "layer conv1") {
		t.Fatalf("error %v, want one naming conv1", err)
	}
}

// TestHostVisibleParamsAreShared: on a backend with HostAccess the
// parameters are the backend's memory (no upload per step); releasing the
// model keeps the values on the host.
func TestHostVisibleParamsAreShared(t *testing.T) {
	m, err := Build([]int{4, 4, 1}, mustLayers(t, "fc:3"), 3, Options{Quant: QuantConfig{Float: true}})
	if err != nil {
		t.Fatal(err)
	}
	b := ref.New()
	if err := m.Bind(b); err != nil {
		t.Fatal(err)
	}
	w := m.Layers[0].Params()[0]
	if !w.aliased || !w.gradAliased {
		t.Fatal("parameters not shared with a host-visible backend")
	}
	w.Data[0] = 42
	got := make([]float32, len(w.Data))
	if err := b.ReadF32(w.Value, got); err != nil || got[0] != 42 {
		t.Fatalf("device copy %v (%v), want the host's write", got[0], err)
	}
	m.Release()
	if w.aliased || w.Data[0] != 42 {
		t.Fatalf("after Release: aliased %v, value %v", w.aliased, w.Data[0])
	}
}

// TestPredictReusesWeightCodesUntilParamsChange: inference reuses the
// quantized weights while the parameters are unchanged and redoes them
// after a training step or ParamsChanged.
func TestPredictReusesWeightCodesUntilParamsChange(t *testing.T) {
	m, err := Build([]int{4, 4, 1}, mustLayers(t, "fc:3"), 3, Options{Quant: QuantConfig{Bits: 8}, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, ref.New(), TrainConfig{LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 2*16)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	predict := func() []float32 {
		out := make([]float32, 2*3)
		if err := tr.Predict(x, 2, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	same := func(a, b []float32) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	p1 := predict()
	if p2 := predict(); !same(p1, p2) {
		t.Fatalf("two predictions of the same model differ: %v %v", p1, p2)
	}
	if _, err := tr.TrainStep(x, []int32{0, 1}); err != nil {
		t.Fatal(err)
	}
	p3 := predict()
	if same(p1, p3) {
		t.Fatal("prediction unchanged by a training step")
	}
	w := m.Layers[0].Params()[0]
	for i := range w.Data {
		w.Data[i] *= 2
	}
	tr.ParamsChanged()
	if p4 := predict(); same(p3, p4) {
		t.Fatal("prediction unchanged after ParamsChanged")
	}
}

func TestLRSchedule(t *testing.T) {
	c := TrainConfig{LR: 0.1, Schedule: LRCosine, TotalSteps: 4}
	want := []float64{0.1, 0.1 * (1 + math.Cos(math.Pi/4)) / 2, 0.05, 0.1 * (1 + math.Cos(3*math.Pi/4)) / 2, 0}
	for i, w := range want {
		if got := c.LRAt(i + 1); math.Abs(float64(got)-w) > 1e-7 {
			t.Errorf("cosine step %d: lr %v, want %v", i+1, got, w)
		}
	}
	c.Schedule = LRConstant
	if got := c.LRAt(3); got != 0.1 {
		t.Errorf("constant: lr %v", got)
	}
	for _, s := range []string{"constant", "cosine"} {
		if p, err := ParseLRSchedule(s); err != nil || p.String() != s {
			t.Errorf("ParseLRSchedule(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParseLRSchedule("step"); err == nil {
		t.Error("unknown schedule accepted")
	}
}
