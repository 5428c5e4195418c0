package nn

import (
	"fmt"
	"github.com/vktrain/vktrain/internal/qsimd"
	"math"
	"time"

	"github.com/vktrain/vktrain/nn/backend"
)

// TrainConfig holds the optimisation settings of S300 and the loss.
type TrainConfig struct {
	// SGD settings: learning rate (the patent's example: 0.01), momentum
	// and weight decay (0 = plain SGD).
	LR, Momentum, WeightDecay float32
	// Threshold τ and how it is applied (element-wise by default).
	Threshold     float32
	ThresholdMode ThresholdMode
	// CompL2 is λ, the weight of the L2 term on compensation parameters.
	CompL2 float32
	// Schedule is how the learning rate changes over the run (constant by
	// default); TotalSteps is the run's length in steps, which the cosine
	// schedule spans.
	Schedule   LRSchedule
	TotalSteps int
}

// LRSchedule says how the learning rate changes over a run.
type LRSchedule uint8

const (
	// LRConstant keeps the learning rate at TrainConfig.LR.
	LRConstant LRSchedule = iota
	// LRCosine anneals it from LR at the first step towards 0 at the last
	// one: lr·(1+cos(π·(step-1)/TotalSteps))/2.
	LRCosine
)

// String names the schedule as the CLI spells it.
func (s LRSchedule) String() string {
	if s == LRCosine {
		return "cosine"
	}
	return "constant"
}

// ParseLRSchedule parses "constant" or "cosine".
func ParseLRSchedule(s string) (LRSchedule, error) {
	switch s {
	case "constant", "none":
		return LRConstant, nil
	case "cosine", "cos":
		return LRCosine, nil
	}
	return 0, fmt.Errorf("learning-rate schedule %q: want constant or cosine", s)
}

// LRAt returns the learning rate of step (1 for the first step). A cosine
// schedule without TotalSteps, or past its end, gives the end's value.
func (c TrainConfig) LRAt(step int) float32 {
	if c.Schedule != LRCosine || c.TotalSteps <= 0 {
		return c.LR
	}
	p := min(max(float64(step-1)/float64(c.TotalSteps), 0), 1)
	return float32(float64(c.LR) * 0.5 * (1 + math.Cos(math.Pi*p)))
}

// Batcher supplies examples: Batch writes the examples idx as float32
// (the model's input layout, NHWC) into dst and their labels into labels.
type Batcher interface {
	Len() int
	Batch(dst []float32, labels []int32, idx []int) error
}

// StepStats reports one training step.
type StepStats struct {
	Loss    float64 // cross-entropy + L2 term
	Correct int     // correct predictions in the batch (before the update)
	N       int     // batch size
	Clipped int     // gradient elements limited by the threshold
}

// Trainer runs the patent's three modules on a model bound to a backend:
// forwardModule (S100 quantization and integer products, through the
// layer stack), the compensation module (S200: dequantization,
// compensation, normalisation inside the layers, and the loss with its L2
// term) and backwardModule (S300: gradients, threshold, update).
type Trainer struct {
	Model *Model
	Cfg   TrainConfig
	// Step counts completed training steps.
	Step int

	b       backend.Backend
	ab      *abilities // b's, resolved once (abilities)
	inputs  map[int]backend.Tensor
	dlogits map[int]backend.Tensor
	logits  []float32
	dlog    []float32
	params  []*Param
	quant   []quantLayer
	// version changes with every update of the parameters (Context.Params).
	version *ParamsVersion
	ctx     Context // the running step's or prediction's, kept so that they allocate nothing
	stats   [3]float32
}

// NewTrainer binds m to b and returns a trainer.
func NewTrainer(m *Model, b backend.Backend, cfg TrainConfig) (*Trainer, error) {
	if !(cfg.LR > 0) {
		return nil, fmt.Errorf("trainer: learning rate %v must be positive", cfg.LR)
	}
	if cfg.Momentum < 0 || cfg.Momentum >= 1 {
		return nil, fmt.Errorf("trainer: momentum %v outside [0, 1)", cfg.Momentum)
	}
	if cfg.Threshold < 0 || cfg.CompL2 < 0 || cfg.WeightDecay < 0 {
		return nil, fmt.Errorf("trainer: threshold, L2 weight and weight decay must not be negative")
	}
	if m.Backend() != b {
		if err := m.Bind(b); err != nil {
			return nil, err
		}
	}
	t := &Trainer{Model: m, Cfg: cfg, b: b, inputs: map[int]backend.Tensor{}, dlogits: map[int]backend.Tensor{}, params: m.Params(), version: new(ParamsVersion)}
	for _, l := range m.Layers {
		if q, ok := l.(quantLayer); ok {
			if w, _ := q.quantizers(); w != nil {
				t.quant = append(t.quant, q)
			}
		}
	}
	return t, nil
}

// Close frees the trainer's tensors (the model stays bound).
func (t *Trainer) Close() {
	for _, m := range []map[int]backend.Tensor{t.inputs, t.dlogits} {
		for k, v := range m {
			t.b.Free(v)
			delete(m, k)
		}
	}
}

func (t *Trainer) input(n int) (backend.Tensor, error) {
	if x, ok := t.inputs[n]; ok {
		return x, nil
	}
	x, err := t.b.New(backend.F32, append([]int{n}, t.Model.Spec.Input...)...)
	if err != nil {
		return nil, err
	}
	t.inputs[n] = x
	return x, nil
}

// forwardModule uploads a batch and runs S100/S200 through the layers.
func (t *Trainer) forwardModule(c *Context, x []float32, n int) (backend.Tensor, error) {
	in, err := t.input(n)
	if err != nil {
		return nil, err
	}
	if len(x) != in.Len() {
		return nil, fmt.Errorf("batch has %d values, want %d for %d examples of %v", len(x), in.Len(), n, t.Model.Spec.Input)
	}
	if err := t.b.WriteF32(in, x); err != nil {
		return nil, err
	}
	return t.Model.Forward(c, in)
}

// lossModule reads the logits and computes the loss and its gradient on
// the host (S200.5; the L2 term is added with the gradients).
func (t *Trainer) lossModule(logits backend.Tensor, labels []int32) (float64, int, backend.Tensor, error) {
	n := len(labels)
	k := t.Model.Classes
	if cap(t.logits) < n*k {
		t.logits = make([]float32, n*k)
		t.dlog = make([]float32, n*k)
	}
	lg, dl := t.logits[:n*k], t.dlog[:n*k]
	if err := t.b.ReadF32(logits, lg); err != nil {
		return 0, 0, nil, err
	}
	loss, correct, err := SoftmaxCrossEntropy(lg, labels, k, dl)
	if err != nil {
		return 0, 0, nil, err
	}
	d, ok := t.dlogits[n]
	if !ok {
		if d, err = t.b.New(backend.F32, n, k); err != nil {
			return 0, 0, nil, err
		}
		t.dlogits[n] = d
	}
	return loss, correct, d, t.b.WriteF32(d, dl)
}

// backwardModule is S300: backpropagate, gather gradients, add the L2
// term, check them, threshold them and update the parameters. Nothing is
// changed when a non-finite value is found.
func (t *Trainer) backwardModule(c *Context, dlogits backend.Tensor) (float64, int, error) {
	if err := t.Model.Backward(c, dlogits); err != nil {
		return 0, 0, err
	}
	if err := t.b.Sync(); err != nil {
		return 0, 0, err
	}
	for _, p := range t.params {
		if p.Trainable() {
			if err := p.readGrad(t.b); err != nil {
				return 0, 0, fmt.Errorf("%s: %w", p.Name, err)
			}
		}
	}
	for _, q := range t.quant {
		if err := t.checkStats(q); err != nil {
			return 0, 0, err
		}
		q.scaleQuantGrads(q.inputLen())
	}
	l2 := compensationL2(t.params, t.Cfg.CompL2)
	for _, p := range t.params {
		if !p.Trainable() {
			continue
		}
		if i := firstNonFinite(p.Grad); i >= 0 {
			return 0, 0, fmt.Errorf("step %d: non-finite gradient in %s[%d]", t.Step+1, p.Name, i)
		}
	}
	clipped := Threshold(t.params, t.Cfg.ThresholdMode, t.Cfg.Threshold)
	SGD{LR: t.Cfg.LRAt(t.Step + 1), Momentum: t.Cfg.Momentum, WeightDecay: t.Cfg.WeightDecay}.Step(t.params)
	for _, q := range t.quant {
		q.core().wq.applyFloor()
	}
	t.ParamsChanged()
	for _, p := range t.params {
		if p.Trainable() {
			if err := p.upload(t.b); err != nil {
				return 0, 0, fmt.Errorf("%s: %w", p.Name, err)
			}
		}
	}
	return l2, clipped, nil
}

// firstNonFinite returns the index of the first NaN or infinite value of
// g, or -1: counted by qsimd.MinMax (vector code where the CPU has it),
// located by a scan only when there is one.
func firstNonFinite(g []float32) int {
	if _, _, _, bad := qsimd.MinMax(g); bad == 0 {
		return -1
	}
	for i, v := range g {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

// checkStats reads a quantized layer's input statistics: non-finite inputs
// stop training; the range feeds the moving average.
func (t *Trainer) checkStats(q quantLayer) error {
	st := q.statsTensor()
	if st == nil {
		return nil
	}
	if err := t.b.ReadF32(st, t.stats[:]); err != nil {
		return err
	}
	if t.stats[2] > 0 {
		return fmt.Errorf("step %d: layer %s: %d non-finite input values (NaN/Inf)", t.Step+1, q.Name(), int(t.stats[2]))
	}
	_, x := q.quantizers()
	x.observe(t.stats[0], t.stats[1])
	return nil
}

// locateNonFinite reruns the forward pass of the last batch layer by layer
// (in graph order) and returns the first layer whose output holds NaN or Inf, with the count
// (a diagnosis run only after a step failed; it updates running statistics
// again, but the failed step is not applied anyway).
func (t *Trainer) locateNonFinite(c *Context, n int) (string, int) {
	x, ok := t.inputs[n]
	if !ok {
		return "", 0
	}
	st, err := t.b.New(backend.F32, 3)
	if err != nil {
		return "", 0
	}
	defer t.b.Free(st)
	var v [3]float32
	name, count := "", 0
	_, _ = t.Model.forward(c, x, func(i int, y backend.Tensor) bool {
		t.b.MinMax(st, y)
		if err := t.b.ReadF32(st, v[:]); err != nil {
			return false
		}
		if v[2] > 0 {
			name, count = t.Model.Layers[i].Name(), int(v[2])
			return false
		}
		return true
	})
	return name, count
}

// abilities returns the trainer's backend's abilities, resolved once.
func (t *Trainer) abilities() *abilities {
	if t.ab == nil || t.ab.b != t.b {
		t.ab = abilitiesOf(t.b)
	}
	return t.ab
}

// ParamsChanged tells the trainer that the parameters were changed
// outside TrainStep (e.g. by writing Param.Data directly), so that work
// derived from them is redone.
func (t *Trainer) ParamsChanged() { t.version.advance() }

// TrainStep runs one step on a batch (x in NHWC, one label per example).
// On error the parameters are those before the step.
func (t *Trainer) TrainStep(x []float32, labels []int32) (StepStats, error) {
	t.ctx = Context{B: t.b, Train: true, Step: t.Step + 1, ab: t.abilities()}
	c := &t.ctx
	n := len(labels)
	logits, err := t.forwardModule(c, x, n)
	if err != nil {
		return StepStats{}, fmt.Errorf("step %d: forward: %w", c.Step, err)
	}
	loss, correct, dl, err := t.lossModule(logits, labels)
	if err != nil {
		if name, count := t.locateNonFinite(c, n); name != "" {
			return StepStats{}, fmt.Errorf("step %d: layer %s produced %d non-finite values (NaN/Inf): %w", c.Step, name, count, err)
		}
		return StepStats{}, fmt.Errorf("step %d: %w", c.Step, err)
	}
	l2, clipped, err := t.backwardModule(c, dl)
	if err != nil {
		return StepStats{}, fmt.Errorf("step %d: backward: %w", c.Step, err)
	}
	t.Step++
	return StepStats{Loss: loss + l2, Correct: correct, N: n, Clipped: clipped}, nil
}

// Predict runs the model in inference mode on a batch of n examples and
// writes the logits [n, Classes] into logits.
func (t *Trainer) Predict(x []float32, n int, logits []float32) error {
	t.ctx = Context{B: t.b, Train: false, Step: t.Step, Params: t.version, ab: t.abilities()}
	c := &t.ctx
	out, err := t.forwardModule(c, x, n)
	if err != nil {
		return err
	}
	return t.b.ReadF32(out, logits)
}

// EpochStats summarises one pass over the training data.
type EpochStats struct {
	Loss     float64 // mean training loss
	Accuracy float64 // training accuracy during the epoch
	Images   int
	Steps    int
	Clipped  int
	Wall     time.Duration
}

// Epoch trains on the examples in order (a permutation of ds), in batches
// of batch (the last one may be smaller). progress, when not nil, is called
// after every step. It is EpochRange over the whole epoch.
func (t *Trainer) Epoch(ds Batcher, order []int, batch int, progress func(done, total int, s StepStats)) (EpochStats, error) {
	var p EpochProgress
	_, err := t.EpochRange(ds, order, batch, 0, &p, progress, nil)
	return p.Stats(), err
}

// EvalResult is the outcome of an evaluation.
type EvalResult struct {
	Loss      float64
	Accuracy  float64
	N         int
	Confusion [][]int // [true][predicted]
	Wall      time.Duration
}

// Evaluate runs inference over every example of ds in batches.
func (t *Trainer) Evaluate(ds Batcher, batch int) (EvalResult, error) {
	return t.EvaluateEach(ds, batch, nil)
}

// EvaluateEach is Evaluate that also calls each (when not nil) for every
// example in index order with its label, its predicted class (the index
// of the first largest logit, as counted in Confusion) and its logits
// (valid during the call only); an error from each ends the evaluation.
func (t *Trainer) EvaluateEach(ds Batcher, batch int, each func(index, label, predicted int, logits []float32) error) (EvalResult, error) {
	if batch <= 0 {
		return EvalResult{}, fmt.Errorf("batch size %d must be positive", batch)
	}
	start := time.Now()
	shape := t.Model.Spec.Input
	per := shape[0] * shape[1] * shape[2]
	k := t.Model.Classes
	buf := make([]float32, batch*per)
	lab := make([]int32, batch)
	logits := make([]float32, batch*k)
	idx := make([]int, 0, batch)
	r := EvalResult{Confusion: make([][]int, k)}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, k)
	}
	var lossSum float64
	correct := 0
	for i := 0; i < ds.Len(); i += batch {
		idx = idx[:0]
		for j := i; j < min(i+batch, ds.Len()); j++ {
			idx = append(idx, j)
		}
		n := len(idx)
		if err := ds.Batch(buf[:n*per], lab[:n], idx); err != nil {
			return r, err
		}
		if err := t.Predict(buf[:n*per], n, logits[:n*k]); err != nil {
			return r, err
		}
		loss, c, err := SoftmaxCrossEntropy(logits[:n*k], lab[:n], k, nil)
		if err != nil {
			return r, err
		}
		lossSum += loss * float64(n)
		correct += c
		for j := 0; j < n; j++ {
			pred := Argmax(logits[j*k : (j+1)*k])
			r.Confusion[lab[j]][pred]++
			if each != nil {
				if err := each(i+j, int(lab[j]), pred, logits[j*k:(j+1)*k]); err != nil {
					return r, err
				}
			}
		}
		r.N += n
	}
	if r.N > 0 {
		r.Loss = lossSum / float64(r.N)
		r.Accuracy = float64(correct) / float64(r.N)
	}
	r.Wall = time.Since(start)
	return r, nil
}

// Argmax returns the index of the largest value of v (the first of equal
// ones), the predicted class of a row of logits.
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
