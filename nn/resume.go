package nn

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Resuming a run. A checkpoint that should be resumable carries a
// TrainState under TrainStateKey in its metadata: how far the run got
// (completed epochs, batches of the current epoch, steps), its seed, its
// TrainConfig and the command-line settings that made it. Everything else
// a step depends on is already in the checkpoint: parameters, buffers
// (running statistics), optimizer momentum and quantizer state. Epoch
// orders are a pure function of (seed, epoch) (data.Order), so a resumed
// run skips the batches already done and ends with exactly the parameters
// of an uninterrupted one.

// TrainStateKey is the checkpoint metadata key holding a TrainState as JSON.
const TrainStateKey = "train_state"

// ErrNoTrainState reports a checkpoint without a training position (one
// written for inference only, or by an older vktrain).
var ErrNoTrainState = errors.New("checkpoint has no training state")

// TrainState is the position of a training run.
type TrainState struct {
	// RunID identifies the run; checkpoints of other runs are not
	// overwritten silently.
	RunID string `json:"run_id"`
	// Seed seeds the weights and the epoch orders.
	Seed uint64 `json:"seed"`
	// Epoch is the number of completed epochs; Batch the number of
	// mini-batches of the next epoch (zero-based index Epoch) already done.
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
	// BatchSize is the mini-batch size the batches were cut with.
	BatchSize int `json:"batch_size"`
	// Step is the number of completed training steps (Trainer.Step).
	Step int `json:"step"`
	// Epochs is the number of epochs the run was asked for.
	Epochs int `json:"epochs"`
	// Config is the optimisation setting.
	Config TrainConfig `json:"config"`
	// Flags records the settings of the command that started the run,
	// flag name to value.
	Flags map[string]string `json:"flags,omitempty"`
	// Partial accumulates the statistics of the unfinished epoch, so that
	// a resumed epoch reports the same figures as an uninterrupted one.
	Partial EpochProgress `json:"partial"`
}

// EpochProgress accumulates the training statistics of an epoch.
type EpochProgress struct {
	LossSum float64 `json:"loss_sum"` // sum over examples of the step loss
	Correct int     `json:"correct"`
	Images  int     `json:"images"`
	Steps   int     `json:"steps"`
	Clipped int     `json:"clipped"`
	// Wall is the training time spent in the epoch so far.
	Wall time.Duration `json:"wall_ns"`
}

// Stats converts the accumulators into EpochStats.
func (p EpochProgress) Stats() EpochStats {
	es := EpochStats{Images: p.Images, Steps: p.Steps, Clipped: p.Clipped, Wall: p.Wall}
	if p.Images > 0 {
		es.Loss = p.LossSum / float64(p.Images)
		es.Accuracy = float64(p.Correct) / float64(p.Images)
	}
	return es
}

// Put stores s in meta under TrainStateKey.
func (s *TrainState) Put(meta map[string]string) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("training state: %w", err)
	}
	meta[TrainStateKey] = string(b)
	return nil
}

// GetTrainState reads the TrainState from checkpoint metadata. It returns
// ErrNoTrainState when there is none and an error naming the problem when
// it does not parse or is inconsistent.
func GetTrainState(meta map[string]string) (*TrainState, error) {
	v, ok := meta[TrainStateKey]
	if !ok || v == "" {
		return nil, ErrNoTrainState
	}
	var s TrainState
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return nil, fmt.Errorf("training state: %w", err)
	}
	if s.Epoch < 0 || s.Batch < 0 || s.Step < 0 || s.BatchSize <= 0 {
		return nil, fmt.Errorf("training state: position epoch %d, batch %d, step %d, batch size %d is impossible", s.Epoch, s.Batch, s.Step, s.BatchSize)
	}
	return &s, nil
}

// CheckFinite returns an error naming the first parameter (or momentum
// buffer) of m that holds a NaN or infinity, so that bad state is never
// saved over a good checkpoint.
func CheckFinite(m *Model) error {
	for _, p := range m.Params() {
		for i, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("parameter %s[%d] is %v", p.Name, i, v)
			}
		}
		for i, v := range p.Mom {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("momentum of %s[%d] is %v", p.Name, i, v)
			}
		}
	}
	return nil
}

// EpochRange trains the mini-batches of one epoch's order (cut into
// batches of batch examples, the last one possibly shorter) starting with
// batch number from, adding to p. After each step it calls progress (when
// not nil) and then stop (when not nil); if stop returns true it returns
// early. It returns the number of the epoch's batches done, from plus
// those it ran. On a step error the parameters are those before that step
// and the count excludes it.
func (t *Trainer) EpochRange(ds Batcher, order []int, batch, from int, p *EpochProgress, progress func(done, total int, s StepStats), stop func() bool) (int, error) {
	if batch <= 0 {
		return from, fmt.Errorf("batch size %d must be positive", batch)
	}
	nb := (len(order) + batch - 1) / batch
	if from < 0 || from > nb {
		return from, fmt.Errorf("batch %d outside the epoch's %d batches", from, nb)
	}
	shape := t.Model.Spec.Input
	per := shape[0] * shape[1] * shape[2]
	buf := make([]float32, batch*per)
	lab := make([]int32, batch)
	done := from
	for done < nb {
		start := time.Now()
		idx := order[done*batch : min((done+1)*batch, len(order))]
		n := len(idx)
		if err := ds.Batch(buf[:n*per], lab[:n], idx); err != nil {
			return done, err
		}
		s, err := t.TrainStep(buf[:n*per], lab[:n])
		if err != nil {
			return done, err
		}
		done++
		p.LossSum += s.Loss * float64(n)
		p.Correct += s.Correct
		p.Images += n
		p.Steps++
		p.Clipped += s.Clipped
		p.Wall += time.Since(start)
		if progress != nil {
			progress(min(done*batch, len(order)), len(order), s)
		}
		if stop != nil && stop() {
			break
		}
	}
	return done, nil
}
