package view

import (
	"time"
)

// Point is one value of a curve; X is in epochs (2.5 is half-way through
// the third epoch).
type Point struct{ X, Y float64 }

// Filters are the weights of a convolution, [Out][K][K][In] as package nn
// stores them.
type Filters struct {
	Name       string
	Out, K, In int
	W          []float32
}

// Sample is one test image with the model's prediction.
type Sample struct {
	Pix        []uint8 // H*W*C bytes, row-major HWC
	H, W, C    int
	True, Pred int
}

// Snapshot is what the dashboard shows at one moment. Snapshots are
// immutable once published: the Recorder shares their slices between
// snapshots only where it never writes again.
type Snapshot struct {
	Run, Device string
	// Epoch is the epoch in progress (1-based) of Epochs; Done and Total
	// count its training images.
	Epoch, Epochs, Done, Total int
	Step                       int
	ImagesPerSec               float64
	// ETA is the training time left at ImagesPerSec (evaluations not
	// included); negative when unknown.
	ETA time.Duration
	// TrainLoss and TrainAcc are averages over a few steps each;
	// TestLoss and TestAcc one point per evaluation. Accuracies are in %.
	TrainLoss, TrainAcc, TestLoss, TestAcc []Point
	Filters                                *Filters
	Samples                                []Sample
	ClassNames                             []string
	Classes                                int
	// Confusion is the last evaluation's [true][predicted] counts, taken
	// after epoch ConfusionEpoch.
	Confusion      [][]int
	ConfusionEpoch int
	// Status is a short line: "training", "evaluating", "done", ...
	Status string
}

// RecorderConfig describes the run a Recorder follows.
type RecorderConfig struct {
	Run, Device   string
	Epochs        int
	StepsPerEpoch int // mini-batches per epoch; decides how many steps make a point
	Classes       int
	ClassNames    []string
	// Every is the least time between two published snapshots (default 200 ms).
	Every time.Duration
}

// Recorder gathers a run's progress on the training goroutine and publishes
// snapshots to a Hub at most every RecorderConfig.Every. Its methods cost a
// few additions per step; it is not safe for concurrent use.
type Recorder struct {
	hub *Hub
	cfg RecorderConfig
	s   Snapshot // the state being built; published as copies

	per              int // steps per point
	lossSum          float64
	correct, n, inPt int

	last  time.Time // last publication
	rateT time.Time // start of the current rate window
	rateN int       // images since rateT
	rate  float64   // smoothed images per second
}

// NewRecorder returns a Recorder publishing to hub (which may be nil: then
// it records and publishes nothing).
func NewRecorder(hub *Hub, cfg RecorderConfig) *Recorder {
	if cfg.Every <= 0 {
		cfg.Every = 200 * time.Millisecond
	}
	per := cfg.StepsPerEpoch / 100
	per = max(1, min(per, 50))
	r := &Recorder{hub: hub, cfg: cfg, per: per}
	r.s = Snapshot{Run: cfg.Run, Device: cfg.Device, Epochs: cfg.Epochs, Classes: cfg.Classes, ClassNames: cfg.ClassNames,
		ETA: -1, Status: "starting"}
	return r
}

// Step records one training step of epoch (1-based): done of total images
// of the epoch are done, the step's mean loss and its correct of n examples.
func (r *Recorder) Step(epoch, step, done, total int, loss float64, correct, n int) {
	if r == nil || r.hub == nil {
		return
	}
	now := time.Now()
	if r.rateT.IsZero() || epoch != r.s.Epoch {
		r.rateT, r.rateN = now, 0
	} else {
		r.rateN += n
		if dt := now.Sub(r.rateT).Seconds(); dt >= 1 {
			cur := float64(r.rateN) / dt
			if r.rate == 0 {
				r.rate = cur
			} else {
				r.rate = 0.5*r.rate + 0.5*cur
			}
			r.rateT, r.rateN = now, 0
		}
	}
	r.s.Epoch, r.s.Step, r.s.Done, r.s.Total, r.s.Status = epoch, step, done, total, "training"
	r.lossSum += loss * float64(n)
	r.correct += correct
	r.n += n
	r.inPt++
	if r.inPt >= r.per || done >= total {
		x := float64(epoch-1) + float64(done)/float64(max(total, 1))
		r.s.TrainLoss = append(r.s.TrainLoss, Point{x, r.lossSum / float64(max(r.n, 1))})
		r.s.TrainAcc = append(r.s.TrainAcc, Point{x, 100 * float64(r.correct) / float64(max(r.n, 1))})
		r.lossSum, r.correct, r.n, r.inPt = 0, 0, 0, 0
	}
	if r.rate > 0 {
		r.s.ImagesPerSec = r.rate
		left := (total - done) + (r.cfg.Epochs-epoch)*total
		r.s.ETA = time.Duration(float64(left) / r.rate * float64(time.Second))
	}
	if now.Sub(r.last) >= r.cfg.Every {
		r.last = now
		r.publish()
	}
}

// Evaluated records the evaluation after epoch: test loss, accuracy (0..1)
// and the confusion matrix, with a few test images and their predictions.
func (r *Recorder) Evaluated(epoch int, loss, accuracy float64, confusion [][]int, samples []Sample) {
	if r == nil || r.hub == nil {
		return
	}
	r.s.TestLoss = append(r.s.TestLoss, Point{float64(epoch), loss})
	r.s.TestAcc = append(r.s.TestAcc, Point{float64(epoch), 100 * accuracy})
	r.s.Confusion, r.s.ConfusionEpoch = confusion, epoch
	if samples != nil {
		r.s.Samples = samples
	}
	r.s.Status = "evaluated"
	r.publish()
}

// SetFilters records the current weights of the first convolution (copied).
func (r *Recorder) SetFilters(name string, out, k, in int, w []float32) {
	if r == nil || r.hub == nil || len(w) != out*k*k*in {
		return
	}
	r.s.Filters = &Filters{Name: name, Out: out, K: k, In: in, W: append([]float32(nil), w...)}
}

// Status sets the status line and publishes at once.
func (r *Recorder) Status(s string) {
	if r == nil || r.hub == nil {
		return
	}
	r.s.Status = s
	r.publish()
}

// Due reports whether the next Step will publish (time to refresh what
// SetFilters records).
func (r *Recorder) Due() bool {
	return r != nil && r.hub != nil && time.Since(r.last) >= r.cfg.Every
}

// Final publishes the last snapshot and waits until every sink has drawn it
// (the PNG is written), then stops the hub.
func (r *Recorder) Final(status string) {
	if r == nil || r.hub == nil {
		return
	}
	r.s.Status = status
	r.hub.close(r.snapshot())
}

func (r *Recorder) snapshot() *Snapshot {
	c := r.s
	// Cap the shared slices: appends after this reallocate or write past
	// what this snapshot sees, never into it.
	c.TrainLoss = c.TrainLoss[:len(c.TrainLoss):len(c.TrainLoss)]
	c.TrainAcc = c.TrainAcc[:len(c.TrainAcc):len(c.TrainAcc)]
	c.TestLoss = c.TestLoss[:len(c.TestLoss):len(c.TestLoss)]
	c.TestAcc = c.TestAcc[:len(c.TestAcc):len(c.TestAcc)]
	return &c
}

func (r *Recorder) publish() { r.hub.Publish(r.snapshot()) }
