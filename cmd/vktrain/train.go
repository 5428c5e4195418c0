package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn"
	"github.com/vktrain/vktrain/quant"
)

// setBatcher adapts a data.Set and its normalisation to nn.Batcher.
type setBatcher struct {
	s    *data.Set
	norm data.Norm
	aug  data.Augment
	rng  *rand.Rand
}

func (b setBatcher) Len() int { return b.s.N }

func (b setBatcher) Batch(dst []float32, lab []int32, idx []int) error {
	if b.rng != nil {
		return b.s.BatchAug(dst, lab, idx, b.norm, b.aug, b.rng)
	}
	return b.s.Batch(dst, lab, idx, b.norm)
}

// trainFlags are the settings of a training run.
type trainFlags struct {
	data, model, device, out, qmode, calib, thrMode string
	cpuProfile                                      string
	epochs, batch, evalBatch, bits, limit           int
	lr, momentum, wd, threshold, l2                 float64
	comp, norm, float, jsonOut, validation          bool
	seed                                            uint64
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "mnist", "data set: mnist, fashion-mnist, mini, shapes, cifar10:DIR, or a directory (IDX, CIFAR-10 batches or one folder per class)")
	fs.StringVar(&f.model, "model", nn.DefaultSpec, "model: layer spec (conv:OUT:K[:S[:P]], fc:OUT, pool:S, comp, bn, relu, flatten) or a JSON file")
	fs.StringVar(&f.device, "device", "auto", "device: auto, vulkan, vulkan:N or cpu")
	fs.StringVar(&f.out, "out", "runs/latest.safetensors", "checkpoint written after every epoch (atomically)")
	fs.IntVar(&f.epochs, "epochs", 3, "passes over the training data")
	fs.IntVar(&f.batch, "batch", 64, "mini-batch size")
	fs.IntVar(&f.evalBatch, "eval-batch", 256, "batch size for evaluation")
	fs.IntVar(&f.bits, "bits", 8, "integer code width of inputs and weights (2..8)")
	fs.IntVar(&f.limit, "limit", 0, "use only the first N training examples (0 = all)")
	fs.Float64Var(&f.lr, "lr", 0.01, "learning rate (the patent's example: 0.01)")
	fs.Float64Var(&f.momentum, "momentum", 0.9, "SGD momentum (0 = plain SGD as in the patent)")
	fs.Float64Var(&f.wd, "wd", 0, "weight decay on conv/fc weights")
	fs.Float64Var(&f.threshold, "threshold", 1.0, "gradient threshold τ (0 = off)")
	fs.StringVar(&f.thrMode, "threshold-mode", "element", "how τ applies: element (clip each gradient element), global-norm or none")
	fs.Float64Var(&f.l2, "l2", 1e-4, "λ, weight of the L2 term on compensation parameters")
	fs.BoolVar(&f.comp, "comp", true, "use the error-compensation layers")
	fs.BoolVar(&f.norm, "norm", true, "use batch normalisation")
	fs.BoolVar(&f.float, "float", false, "float mode: the same network without quantization")
	fs.StringVar(&f.qmode, "qmode", "learned", "quantization parameters: learned (LSQ+, initialised from statistics) or stats (recomputed each step)")
	fs.StringVar(&f.calib, "calib", "minmax", "range calibration: minmax, percentile or mse")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for weights and shuffling")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object per epoch instead of text")
	fs.BoolVar(&f.validation, "validation", false, "enable the Khronos validation layer (Vulkan devices)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to this file")
}

func (f *trainFlags) options() (nn.Options, nn.TrainConfig, error) {
	mode, err := nn.ParseQuantMode(f.qmode)
	if err != nil {
		return nn.Options{}, nn.TrainConfig{}, usageError{err}
	}
	method, err := quant.ParseMethod(f.calib)
	if err != nil {
		return nn.Options{}, nn.TrainConfig{}, usageError{err}
	}
	tm, err := nn.ParseThresholdMode(f.thrMode)
	if err != nil {
		return nn.Options{}, nn.TrainConfig{}, usageError{err}
	}
	if f.bits < 2 || f.bits > 8 {
		return nn.Options{}, nn.TrainConfig{}, usagef("--bits %d: want 2..8", f.bits)
	}
	if f.epochs < 0 || f.batch <= 0 || f.evalBatch <= 0 {
		return nn.Options{}, nn.TrainConfig{}, usagef("--epochs must be >= 0 and --batch, --eval-batch positive")
	}
	o := nn.Options{
		Quant:          nn.QuantConfig{Float: f.float, Bits: f.bits, Mode: mode, Method: method},
		NoCompensation: !f.comp, NoNorm: !f.norm, Seed: f.seed,
	}
	tc := nn.TrainConfig{LR: float32(f.lr), Momentum: float32(f.momentum), WeightDecay: float32(f.wd),
		Threshold: float32(f.threshold), ThresholdMode: tm, CompL2: float32(f.l2)}
	return o, tc, nil
}

// epochRecord is one line of --json output.
type epochRecord struct {
	Epoch           int     `json:"epoch"`
	TrainLoss       float64 `json:"train_loss"`
	TrainAccuracy   float64 `json:"train_accuracy"`
	TestLoss        float64 `json:"test_loss"`
	TestAccuracy    float64 `json:"test_accuracy"`
	ImagesPerSecond float64 `json:"images_per_second"`
	EvalImagesPerS  float64 `json:"eval_images_per_second"`
	WallSeconds     float64 `json:"wall_seconds"`
	Device          string  `json:"device"`
	Bits            int     `json:"bits"`
	Float           bool    `json:"float"`
	Clipped         int     `json:"clipped"`
	Steps           int     `json:"steps"`
}

func trainCmd() *command {
	return &command{
		name:  "train",
		usage: "train [flags]",
		short: "train a model and save checkpoints",
		long: `Train trains a classifier with integer forward passes (S100–S300 of the method)
and evaluates it on the test split after every epoch.

Examples:

	vktrain train                                  # MNIST, reference network, 8-bit, 3 epochs
	vktrain train --device cpu --epochs 3 --batch 64
	vktrain train --float                          # the same network in float, for comparison
	vktrain train --bits 4 --qmode stats --calib mse
	vktrain train --lr 0.01 --momentum 0 --threshold 0.01   # the patent's plain SGD
	vktrain train --data fashion-mnist --model conv:32:3,comp,bn,relu,pool:2,fc:128,comp,relu,fc:10,comp
	vktrain train --data ./my-images --json > metrics.jsonl`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			f := &trainFlags{}
			f.register(fs)
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				return runTrain(e, f)
			}
		},
	}
}

func runTrain(e *env, f *trainFlags) error {
	opts, tc, err := f.options()
	if err != nil {
		return err
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	layers, err := nn.ParseLayers(f.model)
	if err != nil {
		return usageError{err}
	}
	train, test, err := data.Resolve(f.data)
	if err != nil {
		return err
	}
	if f.limit > 0 && f.limit < train.N {
		idx := make([]int, f.limit)
		for i := range idx {
			idx[i] = i
		}
		train = train.Subset(idx)
	}
	norm := data.ComputeNorm(train)
	model, err := nn.Build([]int{train.H, train.W, train.C}, layers, train.Classes, opts)
	if err != nil {
		return err
	}
	dev, err := openDevice(f.device, f.validation)
	if err != nil {
		return err
	}
	defer dev.backend.Close()
	tr, err := nn.NewTrainer(model, dev.backend, tc)
	if err != nil {
		return err
	}
	defer tr.Close()

	log := e.stderr
	if !f.jsonOut {
		log = e.stdout
	}
	mode := fmt.Sprintf("int%d (%s scale/zero, %s calibration)", f.bits, opts.Quant.Mode, opts.Quant.Method)
	if f.float {
		mode = "float32 (no quantization)"
	}
	fmt.Fprintf(log, "device   %s (%s)\n", dev.backend.Name(), dev.reason)
	fmt.Fprintf(log, "data     %s: %d train, %d test, %dx%dx%d, %d classes\n", f.data, train.N, test.N, train.H, train.W, train.C, train.Classes)
	fmt.Fprintf(log, "model    %s, %s, %d parameters\n", model.Spec, mode, model.NumParams())
	fmt.Fprintf(log, "train    %d epochs, batch %d, lr %g, momentum %g, wd %g, threshold %g (%s), λ %g, seed %d\n",
		f.epochs, f.batch, f.lr, f.momentum, f.wd, f.threshold, tc.ThresholdMode, f.l2, f.seed)

	order := data.NewOrder(train.N, f.seed)
	tb := setBatcher{s: train, norm: norm}
	eb := setBatcher{s: test, norm: norm}
	enc := json.NewEncoder(e.stdout)
	for ep := 1; ep <= f.epochs; ep++ {
		es, err := tr.Epoch(tb, order.Epoch(ep-1), f.batch, nil)
		if err != nil {
			return fmt.Errorf("epoch %d: %w (the last good checkpoint is %s)", ep, err, f.out)
		}
		ev, err := tr.Evaluate(eb, f.evalBatch)
		if err != nil {
			return fmt.Errorf("epoch %d: evaluation: %w", ep, err)
		}
		rec := epochRecord{Epoch: ep, TrainLoss: es.Loss, TrainAccuracy: es.Accuracy, TestLoss: ev.Loss, TestAccuracy: ev.Accuracy,
			ImagesPerSecond: float64(es.Images) / es.Wall.Seconds(), EvalImagesPerS: float64(ev.N) / ev.Wall.Seconds(),
			WallSeconds: es.Wall.Seconds(), Device: dev.backend.Name(), Bits: f.bits, Float: f.float, Clipped: es.Clipped, Steps: es.Steps}
		if f.float {
			rec.Bits = 32
		}
		if f.jsonOut {
			if err := enc.Encode(rec); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(e.stdout, "epoch %d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  %.0f img/s  %.1fs\n",
				ep, es.Loss, 100*es.Accuracy, ev.Loss, 100*ev.Accuracy, rec.ImagesPerSecond, es.Wall.Seconds())
		}
		if f.out != "" {
			if err := saveCheckpoint(f.out, model, tr, norm, ep, train); err != nil {
				return err
			}
		}
	}
	return nil
}

func saveCheckpoint(path string, m *nn.Model, tr *nn.Trainer, norm data.Norm, epoch int, train *data.Set) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := m.SyncBuffers(); err != nil {
		return err
	}
	meta := map[string]string{
		"epoch":       fmt.Sprint(epoch),
		"step":        fmt.Sprint(tr.Step),
		"saved":       time.Now().UTC().Format(time.RFC3339),
		"class_names": mustJSON(train.ClassNames),
		"norm":        mustJSON(norm),
	}
	return nn.SaveCheckpoint(path, m, meta)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

var _ io.Writer = os.Stdout
