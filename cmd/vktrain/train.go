package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/nn"
	"github.com/vktrain/vktrain/quant"
)

// setBatcher adapts a data.Set and its normalisation to nn.Batcher.
type setBatcher struct {
	s    *data.Set
	norm data.Norm
}

func (b setBatcher) Len() int { return b.s.N }

func (b setBatcher) Batch(dst []float32, lab []int32, idx []int) error {
	return b.s.Batch(dst, lab, idx, b.norm)
}

// augBatcher is a setBatcher for the training batches of one epoch with
// random augmentation. Each mini-batch draws from its own generator,
// seeded from (seed, epoch, batch index) alone (augRand), so a resumed
// run augments the batches it has left exactly as an uninterrupted run
// would.
type augBatcher struct {
	setBatcher
	aug   data.Augment
	seed  uint64
	epoch int
	batch int   // mini-batch size the epoch is cut with
	pos   []int // pos[i] is the place of example i in the epoch's order
}

// newAugBatcher prepares the batches of epoch (zero-based), whose
// order is the epoch's permutation cut into batches of batch examples.
func newAugBatcher(sb setBatcher, aug data.Augment, seed uint64, epoch, batch int, order []int) *augBatcher {
	pos := make([]int, len(order))
	for p, i := range order {
		pos[i] = p
	}
	return &augBatcher{setBatcher: sb, aug: aug, seed: seed, epoch: epoch, batch: batch, pos: pos}
}

// Batch writes the augmented mini-batch idx, which must be one of the
// epoch's batches (nn.Trainer.EpochRange passes exactly those).
func (b *augBatcher) Batch(dst []float32, lab []int32, idx []int) error {
	if len(idx) == 0 {
		return b.setBatcher.Batch(dst, lab, idx)
	}
	if idx[0] < 0 || idx[0] >= len(b.pos) {
		return fmt.Errorf("augmentation: example %d outside the epoch's %d", idx[0], len(b.pos))
	}
	rng := augRand(b.seed, b.epoch, b.pos[idx[0]]/b.batch)
	return b.s.BatchAug(dst, lab, idx, b.norm, b.aug, rng)
}

// augRand returns the random source of the augmentations of mini-batch
// number batch of epoch (both zero-based) in a run seeded with seed: a
// PCG whose seed is a pure function of the three. The constant keeps it
// apart from the epoch-order streams, PCG(seed, epoch).
func augRand(seed uint64, epoch, batch int) *mrand.Rand {
	return mrand.New(mrand.NewPCG(seed^0x6175676d656e74, uint64(epoch)<<32|uint64(uint32(batch))))
}

// augment returns the augmentation the flags ask for.
func (f *trainFlags) augment() data.Augment { return data.Augment{Pad: f.cropPad, Flip: f.flip} }

// augmentText describes the augmentation for the run header, "" if none.
func augmentText(a data.Augment) string {
	var parts []string
	if a.Pad > 0 {
		parts = append(parts, fmt.Sprintf("random crop after zero padding by %d", a.Pad))
	}
	if a.Flip {
		parts = append(parts, "random horizontal flip")
	}
	if len(parts) == 0 {
		return ""
	}
	return ", augment: " + strings.Join(parts, " + ")
}

// trainFlags are the settings of a training run.
type trainFlags struct {
	data, model, device, out, qmode, calib, thrMode string
	inputQMode                                      string
	cpuProfile, resume, name, metrics, config       string
	size, lrSchedule                                string
	init                                            string
	epochs, batch, evalBatch, bits, limit, cropPad  int
	inputBits, outputBits                           int
	lr, momentum, wd, threshold, l2                 float64
	comp, norm, float, jsonOut, validation          bool
	force, plots, flip                              bool
	seed                                            uint64
	view                                            bool   // --view: the dashboard window
	viewPNG                                         string // --view-png: the dashboard as a PNG file
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "mnist", "data set: mnist, fashion-mnist, mini, shapes, cifar10:DIR, or a directory (IDX, CIFAR-10 batches or one folder per class)")
	fs.StringVar(&f.model, "model", nn.DefaultSpec, "model: "+modelFlagHelp)
	fs.StringVar(&f.size, "size", "", "image folders: resize every image to WxH pixels, or NxN for N (default: the images' own size, which all must share)")
	fs.StringVar(&f.device, "device", "auto", "device: auto, vulkan, vulkan:N or cpu; /packed, /int8 or /dot after a Vulkan device forces its integer GEMM")
	fs.StringVar(&f.name, "name", "", "run name: the checkpoint goes to runs/NAME/model.safetensors (default DATA-MODE-TIME)")
	fs.StringVar(&f.out, "out", "", "checkpoint written after every epoch and on interruption, atomically (default runs/NAME/model.safetensors)")
	fs.StringVar(&f.metrics, "metrics", "", "JSON-lines log of the epochs, the objects of --json (default: beside the checkpoint, metrics.jsonl)")
	fs.BoolVar(&f.plots, "plots", true, "draw PNG charts (loss and accuracy per epoch, confusion matrix) beside the checkpoint at the end")
	fs.StringVar(&f.resume, "resume", "", "continue the run saved in this checkpoint (its settings are kept; --epochs may extend it)")
	fs.BoolVar(&f.force, "force", false, "overwrite a checkpoint of another run at --out; with --resume, allow changed settings")
	fs.StringVar(&f.config, "config", "", "JSON file of flag names to values (explicit flags win)")
	fs.IntVar(&f.epochs, "epochs", 3, "passes over the training data")
	fs.IntVar(&f.batch, "batch", 64, "mini-batch size")
	fs.IntVar(&f.evalBatch, "eval-batch", 256, "batch size for evaluation")
	fs.IntVar(&f.bits, "bits", 8, "integer code width of inputs and weights (2..8)")
	fs.StringVar(&f.init, "init", "uniform", "initial conv and fc weights: uniform (U(±1/√fan_in) weights and biases, PyTorch's default) or he (He-normal weights, zero biases)")
	fs.IntVar(&f.inputBits, "input-bits", 8, "code width (2..8) of the image where a layer reads it (the first layer's input): the image is 8-bit data, so 8 keeps it whole at any --bits; 0 means --bits")
	fs.IntVar(&f.outputBits, "output-bits", 8, "code width (2..8) of the last quantized layer's weights and input (the layer that computes the logits), as low-bit networks usually keep it; 0 means --bits")
	fs.IntVar(&f.limit, "limit", 0, "use only the first N training examples (0 = all)")
	fs.Float64Var(&f.lr, "lr", 0.01, "learning rate (the patent's example: 0.01)")
	fs.StringVar(&f.lrSchedule, "lr-schedule", "cosine", "learning-rate schedule: cosine (from --lr down to 0 over the run's --epochs) or constant")
	fs.Float64Var(&f.momentum, "momentum", 0.9, "SGD momentum (0 = plain SGD as in the patent)")
	fs.Float64Var(&f.wd, "wd", 0, "weight decay on conv/fc weights")
	fs.Float64Var(&f.threshold, "threshold", 1.0, "gradient threshold τ (0 = off)")
	fs.StringVar(&f.thrMode, "threshold-mode", "element", "how τ applies: element (clip each gradient element), global-norm or none")
	fs.Float64Var(&f.l2, "l2", 1e-4, "λ, weight of the L2 term on compensation parameters")
	fs.BoolVar(&f.comp, "comp", true, "use the error-compensation layers")
	fs.BoolVar(&f.norm, "norm", true, "use batch normalisation")
	fs.BoolVar(&f.float, "float", false, "float mode: the same network without quantization")
	fs.StringVar(&f.qmode, "qmode", "learned", "quantization parameters: learned (LSQ+, initialised from statistics) or stats (recomputed each step)")
	fs.StringVar(&f.inputQMode, "input-qmode", "stats", "scale/zero of the image where a layer reads it: stats (from the image's running min/max: its range is the data's, and the first layer's input gradient is then never computed) or qmode (as --qmode)")
	fs.StringVar(&f.calib, "calib", "minmax", "range calibration: minmax, percentile or mse")
	fs.IntVar(&f.cropPad, "crop-pad", 0, "augmentation: pad training images with N zero pixels on every side and crop at a random offset (0 = off)")
	fs.BoolVar(&f.flip, "flip", false, "augmentation: mirror each training image left-right with probability 1/2")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for weights, shuffling and augmentation")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object per epoch on stdout (text goes to stderr)")
	fs.BoolVar(&f.validation, "validation", false, "enable the Khronos validation layer (Vulkan devices)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to this file")
	fs.BoolVar(&f.view, "view", false, "watch the run in a window (curves, filters, test images, confusion matrix); q stops like Ctrl-C; needs a build with -tags view and a display, else says so and trains on")
	fs.StringVar(&f.viewPNG, "view-png", "", "write the --view dashboard to this PNG file every few seconds and at the end (any build, no display needed)")
}

// runFlags are the flags that decide a run's numbers: a resumed run must
// keep them (or --force) to end as an uninterrupted run would.
var runFlags = map[string]bool{
	"data": true, "model": true, "batch": true, "bits": true, "limit": true, "lr": true, "momentum": true,
	"wd": true, "threshold": true, "threshold-mode": true, "l2": true, "comp": true, "norm": true,
	"float": true, "qmode": true, "calib": true, "seed": true, "crop-pad": true, "flip": true,
	"size": true, "lr-schedule": true, "input-bits": true, "init": true,
	"output-bits": true, "input-qmode": true,
}

// notRestored are flags a resumed run does not take from the saved run.
var notRestored = map[string]bool{
	"resume": true, "force": true, "config": true, "out": true, "metrics": true, "cpuprofile": true,
	"json": true, "validation": true, "view": true, "view-png": true,
}

func (f *trainFlags) options() (nn.Options, nn.TrainConfig, error) {
	inputStats, err := parseInputQMode(f.inputQMode)
	if err != nil {
		return nn.Options{}, nn.TrainConfig{}, err
	}
	mode, err := nn.ParseQuantMode(f.qmode)
	if err != nil {
		return nn.Options{}, nn.TrainConfig{}, usageError{fmt.Errorf("--qmode: %w", err)}
	}
	method, err := quant.ParseMethod(f.calib)
	if err != nil {
		return nn.Options{}, nn.TrainConfig{}, usageError{fmt.Errorf("--calib: %w", err)}
	}
	tm, err := nn.ParseThresholdMode(f.thrMode)
	if err != nil {
		return nn.Options{}, nn.TrainConfig{}, usageError{fmt.Errorf("--threshold-mode: %w", err)}
	}
	switch {
	case f.bits < 2 || f.bits > 8:
		return nn.Options{}, nn.TrainConfig{}, usagef("--bits %d: want 2..8", f.bits)
	case f.inputBits != 0 && (f.inputBits < 2 || f.inputBits > 8):
		return nn.Options{}, nn.TrainConfig{}, usagef("--input-bits %d: want 2..8, or 0 for --bits", f.inputBits)
	case f.outputBits != 0 && (f.outputBits < 2 || f.outputBits > 8):
		return nn.Options{}, nn.TrainConfig{}, usagef("--output-bits %d: want 2..8, or 0 for --bits", f.outputBits)
	case f.epochs < 0:
		return nn.Options{}, nn.TrainConfig{}, usagef("--epochs %d: want 0 or more", f.epochs)
	case f.batch <= 0 || f.evalBatch <= 0:
		return nn.Options{}, nn.TrainConfig{}, usagef("--batch %d, --eval-batch %d: both must be positive", f.batch, f.evalBatch)
	case f.limit < 0:
		return nn.Options{}, nn.TrainConfig{}, usagef("--limit %d: want 0 (all) or a positive count", f.limit)
	case f.cropPad < 0:
		return nn.Options{}, nn.TrainConfig{}, usagef("--crop-pad %d: want 0 (off) or a positive padding", f.cropPad)
	case !(f.lr > 0):
		return nn.Options{}, nn.TrainConfig{}, usagef("--lr %v: must be positive", f.lr)
	case f.momentum < 0 || f.momentum >= 1:
		return nn.Options{}, nn.TrainConfig{}, usagef("--momentum %v: want [0, 1)", f.momentum)
	case f.wd < 0 || f.threshold < 0 || f.l2 < 0:
		return nn.Options{}, nn.TrainConfig{}, usagef("--wd, --threshold and --l2 must not be negative")
	case f.size != "" && !validSize(f.size):
		return nn.Options{}, nn.TrainConfig{}, usagef("--size %q: want WxH (width x height in pixels, e.g. 32x24) or N for NxN", f.size)
	case strings.ContainsAny(f.name, `/\`) || f.name == "." || f.name == "..":
		return nn.Options{}, nn.TrainConfig{}, usagef("--name %q: want a plain name, not a path (use --out for paths)", f.name)
	}
	init, err := nn.ParseInit(f.init)
	if err != nil {
		return nn.Options{}, nn.TrainConfig{}, usagef("--init %q: want uniform or he", f.init)
	}
	o := nn.Options{
		Quant:          nn.QuantConfig{Float: f.float, Bits: f.bits, InputBits: f.inputBits, OutputBits: f.outputBits, InputStats: inputStats, Mode: mode, Method: method},
		NoCompensation: !f.comp, NoNorm: !f.norm, Seed: f.seed, Init: init,
	}
	sched, err := nn.ParseLRSchedule(f.lrSchedule)
	if err != nil {
		return nn.Options{}, nn.TrainConfig{}, usageError{err}
	}
	tc := nn.TrainConfig{LR: float32(f.lr), Momentum: float32(f.momentum), WeightDecay: float32(f.wd),
		Threshold: float32(f.threshold), ThresholdMode: tm, CompL2: float32(f.l2), Schedule: sched}
	return o, tc, nil
}

// epochRecord is one line of --json output and of the metrics log.
type epochRecord struct {
	Name            string  `json:"name"`
	Epoch           int     `json:"epoch"`
	Step            int     `json:"step"`
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
	// CollapsedScales counts learned quantization scales at nn.ScaleFloor
	// or with every code of their channel saturated (dead channels).
	CollapsedScales int      `json:"collapsed_scales"`
	ClassNames      []string `json:"class_names,omitempty"`
	Confusion       [][]int  `json:"confusion,omitempty"`
	// NoTest is true when the data set has no test images: the test
	// fields are then zero and mean nothing.
	NoTest bool `json:"no_test,omitempty"`
}

func trainCmd() *command {
	return &command{
		name:  "train",
		usage: "train [flags]",
		short: "train a model and save checkpoints",
		long: `Train trains a classifier with integer forward passes (S100–S300 of the method)
and evaluates it on the test split after every epoch.

Each run has a name and a folder, runs/NAME/, holding the checkpoint
(model.safetensors, written atomically after every epoch), the metrics log
(metrics.jsonl) and, at the end, the charts curves.png and confusion.png.
With --out the other files go beside the checkpoint.

Ctrl-C (SIGINT) or SIGTERM finishes the current step, saves the checkpoint
with the run's exact position and exits with status 130; "vktrain train
--resume CHECKPOINT" then continues, ending with exactly the parameters an
uninterrupted run would have (augmentation with --crop-pad and --flip
draws from a generator seeded by seed, epoch and batch number, so it
resumes exactly too). A failing step (NaN/Inf) never overwrites the
last good checkpoint. An existing checkpoint of another run is not
overwritten without --force. A run locks its checkpoint for its whole
life: a second "vktrain train" on the same --name, --out or --resume is
refused (exit 1) while the first runs. A start that fails before its first
checkpoint removes the folder it created.

Data that cannot be scored is named: a training split of one class is an
error; an empty test split, or a --batch larger than the training split,
is a warning. Image folders must hold images of one size unless --size
resizes them all.

Examples:

	vktrain train                                  # MNIST, reference network, 8-bit, 3 epochs
	vktrain train --device cpu --epochs 3 --batch 64 --name mnist-int8
	vktrain train --float --name mnist-float       # the same network in float, for comparison
	vktrain train --bits 4 --qmode stats --calib mse
	vktrain train --lr 0.01 --momentum 0 --threshold 0.01   # the patent's plain SGD
	vktrain train --data fashion-mnist --model conv:32:3,comp,bn,relu,pool:2,fc:128,comp,relu,fc:10,comp
	vktrain train --data ./my-images --json > metrics.jsonl
	vktrain train --data cifar10:DIR --crop-pad 4 --flip   # random crops and flips
	vktrain train --config long-run.json --epochs 20     # flags from a JSON file, explicit ones win
	vktrain train --resume runs/mnist-int8/model.safetensors
	vktrain train --resume runs/mnist-int8/model.safetensors --epochs 10   # train further
	vktrain train --data cifar10:DIR --model res8 --crop-pad 4 --flip   # a residual network
	vktrain train --view                           # watch it in a window (a build with -tags view)
	vktrain train --view-png dash.png              # the same dashboard as a PNG, rewritten every 5 s

` + modelHelp(),
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			f := &trainFlags{}
			f.register(fs)
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q (flags go before them; see vktrain help train)", args)
				}
				return runTrain(e, f, fs)
			}
		},
	}
}

// modelFlagHelp describes the --model flag in one line.
const modelFlagHelp = "a named model (patent, res8, mobile), a layer spec such as conv:16:3:1:1,bn,relu,res:32:2,gap,fc:10,comp, or a JSON graph (file or inline); see vktrain help train"

// graphExample is the JSON graph of the help (a test builds it).
const graphExample = `	[{"type": "conv", "name": "stem", "out": 16, "kernel": 3, "pad": 1},
	 {"type": "conv", "out": 16, "kernel": 3, "pad": 1}, {"type": "bn"},
	 {"type": "add", "inputs": ["bn1", "stem"]}, {"type": "relu"},
	 {"type": "gap"}, {"type": "fc", "out": 10}, {"type": "comp"}]`

// modelHelp describes the models --model accepts: the named models, the
// short syntax of every layer kind and the JSON form of graphs.
func modelHelp() string {
	var sb strings.Builder
	sb.WriteString("Models (--model): a named model, a layer spec in the short syntax (comma-\n" +
		"separated layers, each reading the one before it) or a JSON graph.\n\nNamed models:\n\n")
	for _, nm := range nn.NamedModels() {
		fmt.Fprintf(&sb, "\t%-7s %s\n\t        %s\n", nm.Name, nm.Doc, nm.Spec)
	}
	sb.WriteString("\nLayers of the short syntax:\n\n")
	for _, k := range nn.LayerKinds() {
		fmt.Fprintf(&sb, "\t%s\n\t        %s\n", k.Syntax, k.Doc)
	}
	sb.WriteString(`
Graphs: a JSON file (name ending in .json) or inline JSON, either
{"input": [H, W, C], "layers": [...]} or just the layer list. Each layer is
{"type": KIND, "name": ..., "inputs": [...], "out", "kernel", "stride",
"pad", "size"}; a layer reads the previous one unless "inputs" names
others ("input" is the image); layers must be listed so that each reads
only earlier ones; add takes two inputs of one shape. Unnamed layers are
called KIND1, KIND2, ... For example a residual connection:

` + graphExample + `

Checkpoints store the resolved graph, so eval, predict, --resume and
bench take any model.`)
	return sb.String()
}

// newRunID returns a random identifier for a run.
func newRunID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("t%x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// defaultName names a run after its data set, mode and start time.
func defaultName(f *trainFlags, now time.Time) string {
	d := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, filepath.Base(strings.TrimRight(f.data, `/\`)))
	mode := fmt.Sprintf("int%d", f.bits)
	if f.float {
		mode = "float"
	}
	return fmt.Sprintf("%s-%s-%s", d, mode, now.Format("20060102-150405"))
}

// runFiles are the paths of a run's files.
type runFiles struct {
	ckpt, metrics, curves, confusion string
}

// filesFor places the metrics log and charts beside the checkpoint: in its
// folder when it is called model.safetensors, else with its stem as prefix.
func filesFor(ckpt, metrics string) runFiles {
	dir, base := filepath.Split(ckpt)
	prefix := dir
	if base != "model.safetensors" {
		prefix = filepath.Join(dir, strings.TrimSuffix(base, filepath.Ext(base))+".")
	}
	r := runFiles{ckpt: ckpt, metrics: prefix + "metrics.jsonl", curves: prefix + "curves.png", confusion: prefix + "confusion.png"}
	if metrics != "" {
		r.metrics = metrics
	}
	return r
}

// restoreFlags takes the settings of a saved run for every flag not given
// on the command line (or in --config). Run-defining flags that were given
// with another value are an error unless force.
func restoreFlags(fs *flag.FlagSet, st *nn.TrainState, given map[string]bool, force bool, log io.Writer) error {
	names := make([]string, 0, len(st.Flags))
	for k := range st.Flags {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := st.Flags[k]
		fl := fs.Lookup(k)
		if fl == nil || notRestored[k] {
			continue
		}
		if given[k] {
			if runFlags[k] && fl.Value.String() != v {
				if !force {
					return usagef("--%s %s differs from the resumed run's %s; a resumed run keeps its settings (pass --force to change them anyway)", k, fl.Value.String(), v)
				}
				fmt.Fprintf(log, "warning  --%s changed from %s to %s: the run will not match an uninterrupted one\n", k, v, fl.Value.String())
			}
			continue
		}
		if err := fs.Set(k, v); err != nil {
			return fmt.Errorf("resumed run's flag --%s=%s: %w", k, v, err)
		}
	}
	return nil
}

// checkOverwrite refuses to replace a file at path that is not a
// checkpoint of run runID, unless force.
func checkOverwrite(path, runID string, force bool) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if force {
		return nil
	}
	meta, err := nn.ReadMetadata(path)
	if err != nil {
		return fmt.Errorf("%s exists and is not a vktrain checkpoint (%v); choose another --out or --name, or pass --force to overwrite it", path, err)
	}
	st, err := nn.GetTrainState(meta)
	if err == nil && st.RunID == runID {
		return nil
	}
	what := "a checkpoint of another run"
	if err == nil {
		what = fmt.Sprintf("another run (%s, id %s, %d of %d epochs, step %d)", meta["name"], st.RunID, st.Epoch, st.Epochs, st.Step)
	}
	return fmt.Errorf("%s holds %s; continue it with --resume %s, choose another --name or --out, or pass --force to overwrite it", path, what, path)
}

// interruptWatch reports whether SIGINT/SIGTERM arrived. The first signal
// is caught (the run saves and stops); after it the handler is removed, so
// a second Ctrl-C ends the process at once.
type interruptWatch struct {
	ch      <-chan os.Signal
	stop    func()
	caught  bool
	log     io.Writer
	trainer *nn.Trainer
	quit    <-chan struct{} // closed by q in the --view window
}

func newInterruptWatch(e *env, log io.Writer) *interruptWatch {
	w := &interruptWatch{ch: e.interrupt, stop: func() {}, log: log}
	if w.ch == nil && e.notify {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		w.ch = ch
		w.stop = func() { signal.Stop(ch) }
	}
	return w
}

// poll returns true once a signal has arrived.
func (w *interruptWatch) poll() bool {
	if w.caught {
		return true
	}
	select {
	case s := <-w.ch:
		w.caught = true
		w.stop()
		fmt.Fprintf(w.log, "\n%v: stopping after step %d to save (press Ctrl-C again to quit without saving)\n", s, w.trainer.Step)
		return true
	case <-w.quit:
		w.caught = true
		w.stop()
		fmt.Fprintf(w.log, "\nq pressed in the view window: stopping after step %d to save\n", w.trainer.Step)
		return true
	default:
		return false
	}
}

// trainRun is a training run being set up and run.
type trainRun struct {
	f    *trainFlags
	log  io.Writer // the resolved settings and messages (stderr with --json)
	opts nn.Options
	tc   nn.TrainConfig
	// st is the run's position; resumed says it came from --resume.
	st      *nn.TrainState
	resumed bool

	train, test *data.Set
	norm        data.Norm
	model       *nn.Model

	name    string
	files   runFiles
	batches int    // mini-batches per epoch
	savedAt string // the last good checkpoint, for messages; "" if none

	warnings []string // said with the settings
	lock     *runLock // held on the checkpoint path for the run's life
	made     []string // folders this run created, outermost first
	saved    bool     // this run wrote a checkpoint
}

func runTrain(e *env, f *trainFlags, fs *flag.FlagSet) error {
	r := &trainRun{f: f, log: e.stdout}
	if f.jsonOut {
		r.log = e.stderr
	}
	watch := newInterruptWatch(e, r.log)
	defer watch.stop()
	if err := r.settings(fs); err != nil {
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
	if err := r.loadData(); err != nil {
		return err
	}
	if err := r.loadModel(); err != nil {
		return err
	}
	err := r.placeFiles(fs)
	if err == nil {
		err = r.run(e, watch)
	}
	r.release(err != nil)
	return err
}

// release ends the run's hold on its files. A start that failed before a
// checkpoint was written leaves nothing behind: its empty metrics log and
// the folders it created are removed.
func (r *trainRun) release(failed bool) {
	if failed && !r.saved && !r.resumed && r.files.metrics != "" {
		if st, err := os.Stat(r.files.metrics); err == nil && st.Size() == 0 {
			os.Remove(r.files.metrics)
		}
	}
	if r.lock != nil {
		r.lock.release()
		r.lock = nil
	}
	if failed && !r.saved {
		for i := len(r.made) - 1; i >= 0; i-- {
			os.Remove(r.made[i]) // only if empty
		}
	}
}

// settings applies --config and, with --resume, the saved run's settings
// and position, then validates the flags.
func (r *trainRun) settings(fs *flag.FlagSet) error {
	f := r.f
	given := explicitFlags(fs)
	if f.config != "" {
		if err := applyConfig(fs, f.config, given); err != nil {
			return err
		}
	}
	if f.resume != "" {
		meta, err := nn.ReadMetadata(f.resume)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		r.st, err = nn.GetTrainState(meta)
		if errors.Is(err, nn.ErrNoTrainState) {
			return fmt.Errorf("--resume %s: the checkpoint has no training state (not written by vktrain train, or by an older version); it can be evaluated but not resumed", f.resume)
		}
		if err != nil {
			return fmt.Errorf("--resume %s: %w", f.resume, err)
		}
		r.resumed = true
		if err := restoreFlags(fs, r.st, given, f.force, r.log); err != nil {
			return err
		}
		// Runs saved before --lr-schedule existed trained at a constant rate,
		// before --input-bits with the image at --bits, and before
		// --output-bits with the last layer at --bits.
		if _, ok := r.st.Flags["lr-schedule"]; !ok && !given["lr-schedule"] {
			f.lrSchedule = "constant"
		}
		if _, ok := r.st.Flags["input-bits"]; !ok && !given["input-bits"] {
			f.inputBits = 0
		}
		if _, ok := r.st.Flags["output-bits"]; !ok && !given["output-bits"] {
			f.outputBits = 0
		}
		if _, ok := r.st.Flags["input-qmode"]; !ok && !given["input-qmode"] {
			f.inputQMode = "qmode" // and before --input-qmode with the image's scale as --qmode
		}
		if _, ok := r.st.Flags["init"]; !ok && !given["init"] {
			f.init = "he" // runs saved before --init started from He-normal weights
		}
	}
	var err error
	if r.opts, r.tc, err = f.options(); err != nil {
		return err
	}
	if err := checkDeviceSpec(f.device); err != nil {
		return err
	}
	if r.resumed && r.st.BatchSize != f.batch && r.st.Batch > 0 {
		return usagef("--batch %d: the resumed run stopped inside an epoch cut into batches of %d", f.batch, r.st.BatchSize)
	}
	if r.resumed && f.epochs < r.st.Epoch {
		return usagef("--epochs %d: the resumed run has already done %d epochs", f.epochs, r.st.Epoch)
	}
	return nil
}

// loadData resolves --data (with --size for image folders), applies
// --limit and refuses data that cannot train a classifier.
func (r *trainRun) loadData() error {
	f := r.f
	o := data.DefaultOptions()
	if f.size != "" {
		o.W, o.H, _ = parseSize(f.size)
	}
	train, test, err := data.ResolveWith(f.data, o)
	if err != nil {
		return dataError(err)
	}
	if f.size != "" && (train.W != o.W || train.H != o.H) {
		return usagef("--size %s: --data %s holds images of one fixed size, %dx%d; --size applies to image folders", f.size, f.data, train.W, train.H)
	}
	if f.limit > 0 && f.limit < train.N {
		idx := make([]int, f.limit)
		for i := range idx {
			idx[i] = i
		}
		train = train.Subset(idx)
	}
	if train.N == 0 {
		return fmt.Errorf("--data %s: the training split is empty", f.data)
	}
	if present := presentClasses(train); len(present) < 2 {
		what := "--data " + f.data
		if f.limit > 0 {
			what += fmt.Sprintf(" with --limit %d", f.limit)
		}
		return fmt.Errorf("%s: every training image is of class %s; a classifier needs images of at least two classes", what, className(train, present[0]))
	}
	if f.cropPad >= train.H || f.cropPad >= train.W {
		return usagef("--crop-pad %d: want less than the %dx%d images' sides", f.cropPad, train.H, train.W)
	}
	if f.batch > train.N {
		r.warnings = append(r.warnings, fmt.Sprintf("--batch %d is larger than the %d training images: each epoch is one step on all of them", f.batch, train.N))
	}
	if test.N == 0 {
		r.warnings = append(r.warnings, fmt.Sprintf("--data %s has no test images: epochs report training figures only", f.data))
	}
	r.train, r.test = train, test
	r.batches = (train.N + f.batch - 1) / f.batch
	r.tc.TotalSteps = f.epochs * r.batches
	return nil
}

// presentClasses returns the labels that occur in s, in increasing order.
func presentClasses(s *data.Set) []int {
	seen := make([]bool, 256)
	for _, l := range s.Labels {
		seen[l] = true
	}
	var out []int
	for l, ok := range seen {
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// className names class l of s: "NAME (label l)", or "l" without names.
func className(s *data.Set, l int) string {
	if l < len(s.ClassNames) && s.ClassNames[l] != fmt.Sprint(l) {
		return fmt.Sprintf("%q (label %d)", s.ClassNames[l], l)
	}
	return fmt.Sprint(l)
}

// parseSize reads a --size value: WxH or N (NxN), both positive.
func parseSize(v string) (w, h int, ok bool) {
	ws, hs, two := strings.Cut(v, "x")
	if !two {
		hs = ws
	}
	var err1, err2 error
	w, err1 = strconv.Atoi(ws)
	h, err2 = strconv.Atoi(hs)
	if err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 {
		return 0, 0, false
	}
	return w, h, true
}

// validSize reports whether v is a --size value parseSize accepts.
func validSize(v string) bool {
	_, _, ok := parseSize(v)
	return ok
}

// loadModel builds a fresh model, or loads the resumed one with its data
// normalisation.
func (r *trainRun) loadModel() error {
	f, train := r.f, r.train
	layers, err := nn.ParseLayers(f.model)
	if err != nil {
		return usageError{fmt.Errorf("--model: %w", err)}
	}
	if !r.resumed {
		r.norm = data.ComputeNorm(train)
		r.model, err = nn.Build([]int{train.H, train.W, train.C}, layers, train.Classes, r.opts)
		if err != nil {
			return usageError{fmt.Errorf("--model %s does not fit %dx%dx%d images in %d classes: %w", f.model, train.H, train.W, train.C, train.Classes, err)}
		}
		return nil
	}
	m, meta, err := nn.LoadCheckpoint(f.resume)
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	if err := json.Unmarshal([]byte(meta["norm"]), &r.norm); err != nil {
		return fmt.Errorf("--resume %s: data normalisation metadata: %w", f.resume, err)
	}
	if in := m.Spec.Input; in[0] != train.H || in[1] != train.W || in[2] != train.C || m.Classes != train.Classes {
		return fmt.Errorf("--resume %s: the model takes %v images in %d classes, data %s has %dx%dx%d in %d", f.resume, in, m.Classes, f.data, train.H, train.W, train.C, train.Classes)
	}
	r.model = m
	return nil
}

// placeFiles names the run, decides where its files go, locks them
// against other runs, refuses to overwrite another run's checkpoint and
// records the settings.
func (r *trainRun) placeFiles(fs *flag.FlagSet) error {
	f := r.f
	if f.name == "" && !r.resumed {
		f.name = defaultName(f, time.Now())
		if f.out == "" {
			// Automatic names never collide with an existing run: the
			// folder is claimed with Mkdir, which fails if it exists.
			made, err := mkdirAll("runs")
			if err != nil {
				return err
			}
			r.made = append(r.made, made...)
			base := f.name
			for i := 2; ; i++ {
				err := os.Mkdir(filepath.Join("runs", f.name), 0o755)
				if err == nil {
					r.made = append(r.made, filepath.Join("runs", f.name))
					break
				}
				if !errors.Is(err, os.ErrExist) {
					return err
				}
				f.name = fmt.Sprintf("%s-%d", base, i)
			}
		}
	}
	if f.out == "" {
		if r.resumed {
			f.out = f.resume
		} else {
			f.out = filepath.Join("runs", f.name, "model.safetensors")
		}
	}
	if !r.resumed {
		r.st = &nn.TrainState{RunID: newRunID(), Seed: f.seed}
	}
	made, err := mkdirAll(filepath.Dir(f.out))
	if err != nil {
		return err
	}
	r.made = append(r.made, made...)
	if r.lock, err = lockRun(f.out); err != nil {
		return err
	}
	if err := checkOverwrite(f.out, r.st.RunID, f.force); err != nil {
		return err
	}
	r.files = filesFor(f.out, f.metrics)
	r.name = f.name
	if r.name == "" {
		r.name = filepath.Base(filepath.Dir(f.out))
	}
	r.st.Config, r.st.Epochs, r.st.BatchSize = r.tc, f.epochs, f.batch
	r.st.Flags = map[string]string{}
	fs.VisitAll(func(fl *flag.Flag) {
		if !notRestored[fl.Name] {
			r.st.Flags[fl.Name] = fl.Value.String()
		}
	})
	if r.resumed {
		r.savedAt = fmt.Sprintf("%s (%s)", f.resume, position(r.st, r.batches))
	}
	return nil
}

// mkdirAll is os.MkdirAll that returns the folders it created, outermost
// first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	slices.Reverse(missing)
	return missing, nil
}

// lastGood says where the last good checkpoint is, for messages.
func (r *trainRun) lastGood() string {
	if r.savedAt == "" {
		return "no checkpoint was written by this run"
	}
	return "the last good checkpoint is " + r.savedAt
}

// save writes the checkpoint at the current position, unless a parameter
// is not finite.
func (r *trainRun) save(tr *nn.Trainer) error {
	if err := r.model.SyncBuffers(); err != nil {
		return err
	}
	if err := nn.CheckFinite(r.model); err != nil {
		return fmt.Errorf("step %d: %v; not saving; %s", tr.Step, err, r.lastGood())
	}
	meta := map[string]string{
		"epoch":       fmt.Sprint(r.st.Epoch),
		"step":        fmt.Sprint(tr.Step),
		"saved":       time.Now().UTC().Format(time.RFC3339),
		"class_names": mustJSON(r.train.ClassNames),
		"norm":        mustJSON(r.norm),
		"data":        r.f.data,
		"name":        r.name,
	}
	r.st.Step = tr.Step
	if err := r.st.Put(meta); err != nil {
		return err
	}
	if err := nn.SaveCheckpoint(r.f.out, r.model, meta); err != nil {
		return err
	}
	r.savedAt = fmt.Sprintf("%s (%s)", r.f.out, position(r.st, r.batches))
	r.saved = true
	return nil
}

// printSettings says what the run resolved.
func (r *trainRun) printSettings(dev *device) {
	f, train, log := r.f, r.train, r.log
	widths := fmt.Sprintf("int%d", f.bits)
	if ib := r.opts.Quant.InputBits; ib != 0 && ib != f.bits {
		widths += fmt.Sprintf(", image input int%d", ib)
	}
	if ob := r.opts.Quant.OutputBits; ob != 0 && ob != f.bits {
		widths += fmt.Sprintf(", last layer int%d", ob)
	}
	qm := r.opts.Quant.Mode.String()
	if r.opts.Quant.InputStats && r.opts.Quant.Mode != nn.QuantStats {
		qm += ", image stats"
	}
	mode := fmt.Sprintf("%s (%s scale/zero, %s calibration)", widths, qm, r.opts.Quant.Method)
	if f.float {
		mode = "float32 (no quantization)"
	}
	fmt.Fprintf(log, "device   %s (%s)\n", dev.backend.Name(), dev.reason)
	fmt.Fprintf(log, "data     %s: %d train, %d test, %dx%dx%d, %d classes\n", f.data, train.N, r.test.N, train.H, train.W, train.C, train.Classes)
	fmt.Fprintf(log, "model    %s, %s, %d parameters\n", r.model.Spec, mode, r.model.NumParams())
	fmt.Fprintf(log, "train    %d epochs, batch %d, lr %g (%s), momentum %g, wd %g, threshold %g (%s), λ %g, seed %d, init %s%s\n",
		f.epochs, f.batch, f.lr, r.tc.Schedule, f.momentum, f.wd, f.threshold, r.tc.ThresholdMode, f.l2, f.seed, r.opts.Init, augmentText(f.augment()))
	fmt.Fprintf(log, "run      %s (id %s): checkpoint %s, metrics %s\n", r.name, r.st.RunID, r.files.ckpt, r.files.metrics)
	if r.resumed {
		fmt.Fprintf(log, "resume   from %s: %s\n", f.resume, position(r.st, r.batches))
	}
	for _, w := range r.warnings {
		fmt.Fprintf(log, "warning  %s\n", w)
	}
}

// progressEvery is how often a run that is not on a terminal prints a
// progress line.
const progressEvery = time.Minute

// newBar returns a progress bar over n items on a terminal, else nil. The
// bar shows no time estimate of its own (an average since its start, which
// the first step's one-time costs throw off): the description carries the
// etaEstimator's.
func (r *trainRun) newBar(e *env, desc string, n, done int) *progressbar.ProgressBar {
	if !e.terminal {
		return nil
	}
	bar := progressbar.NewOptions(n, progressbar.OptionSetWriter(e.stderr),
		progressbar.OptionSetDescription(desc), progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(false), progressbar.OptionSetElapsedTime(false),
		progressbar.OptionSetWidth(25), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	_ = bar.Set(min(done, n))
	return bar
}

// evalProgress is the test set as a Batcher that reports, before each
// evaluation batch, how many images are done: Trainer.Evaluate asks for
// its batches in order, so the first index of a batch is that count.
type evalProgress struct {
	nn.Batcher
	report func(done int)
}

// Batch reports progress, then delegates.
func (p evalProgress) Batch(dst []float32, lab []int32, idx []int) error {
	if len(idx) > 0 {
		p.report(idx[0])
	}
	return p.Batcher.Batch(dst, lab, idx)
}

// evaluate runs the test set after epoch ep, keeping a bar (terminal) or
// an occasional line (log) moving meanwhile.
func (r *trainRun) evaluate(e *env, tr *nn.Trainer, eb nn.Batcher, ep int) (nn.EvalResult, error) {
	f, n := r.f, eb.Len()
	batches := (n + f.evalBatch - 1) / f.evalBatch
	bar := r.newBar(e, fmt.Sprintf("epoch %d/%d  eval 0/%d", ep, f.epochs, batches), n, 0)
	eta := newETA(0.2)
	eta.start(0, time.Now())
	lastLine := time.Now()
	report := func(done int) {
		eta.step(done, time.Now())
		desc := fmt.Sprintf("epoch %d/%d  eval %d/%d  %s", ep, f.epochs, (done+f.evalBatch-1)/f.evalBatch, batches, eta.etaText(n))
		if bar != nil {
			bar.Describe(desc)
			_ = bar.Set(done)
		} else if time.Since(lastLine) >= progressEvery {
			lastLine = time.Now()
			fmt.Fprintf(r.log, "%s (%d/%d images)\n", desc, done, n)
		}
	}
	ev, err := tr.Evaluate(evalProgress{Batcher: eb, report: report}, f.evalBatch)
	if bar != nil {
		_ = bar.Clear()
	}
	return ev, err
}

// run trains from the run's position to --epochs, evaluating, logging
// and saving after every epoch, and draws the charts at the end.
func (r *trainRun) run(e *env, watch *interruptWatch) error {
	f, st := r.f, r.st
	history, err := openMetrics(r.files.metrics, r.resumed, st.Epoch)
	if err != nil {
		return err
	}
	metricsFile, err := os.OpenFile(r.files.metrics, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("--metrics: %w", err)
	}
	defer metricsFile.Close()
	dash := newDashboard(f, r.log)
	dev, err := openDeviceWith(f.device, f.validation, dash.extensions())
	if err != nil {
		dash.close("")
		return err
	}
	defer dev.backend.Close()
	dashStatus := "stopped"
	defer func() { dash.close(dashStatus) }()
	tr, err := nn.NewTrainer(r.model, dev.backend, r.tc)
	if err != nil {
		return err
	}
	defer tr.Close()
	tr.Step = st.Step
	r.printSettings(dev)
	dash.start(r, dev)

	watch.trainer, watch.quit = tr, dash.quit()
	if watch.poll() {
		return exitError{130, errors.New("interrupted before training started; nothing was saved")}
	}
	switch {
	case r.resumed && st.Epoch >= f.epochs:
		fmt.Fprintf(r.log, "done     the run has already finished its %d epochs; give --epochs N to train further\n", st.Epoch)
	case f.epochs == 0:
		fmt.Fprintf(r.log, "done     --epochs 0: nothing to train, no checkpoint written\n")
	}
	order := data.NewOrder(r.train.N, f.seed)
	tb := setBatcher{s: r.train, norm: r.norm}
	eb := setBatcher{s: r.test, norm: r.norm}
	enc := json.NewEncoder(e.stdout)
	menc := json.NewEncoder(metricsFile)
	var last *nn.EvalResult
	for st.Epoch < f.epochs {
		ep := st.Epoch + 1
		epOrder := order.Epoch(st.Epoch)
		startAt := min(st.Batch*f.batch, len(epOrder))
		bar := r.newBar(e, fmt.Sprintf("epoch %d/%d", ep, f.epochs), len(epOrder), startAt)
		eta := newETA(0.1)
		eta.start(startAt, time.Now())
		lastLine := time.Now()
		progress := func(done, total int, s nn.StepStats) {
			dash.step(ep, tr.Step, done, total, s)
			if e.afterStep != nil {
				e.afterStep(tr.Step)
			}
			eta.step(done, time.Now())
			if bar == nil && time.Since(lastLine) >= progressEvery {
				// Not a terminal (a log file, nohup, CI): a line now and
				// then, so that a long run shows it is alive.
				lastLine = time.Now()
				es := st.Partial.Stats()
				left := "epoch end not yet estimated"
				if d, ok := eta.remaining(len(epOrder)); ok {
					left = fmt.Sprintf("epoch ends in %v", d)
				}
				fmt.Fprintf(r.log, "epoch %d/%d  %d/%d images  loss %.4f  acc %.2f%%  %.0f img/s  %s\n",
					ep, f.epochs, done, len(epOrder), es.Loss, 100*es.Accuracy, eta.itemsPerSecond(), left)
			}
			if bar != nil {
				es := st.Partial.Stats()
				bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.4f  acc %5.2f%%  %5.0f img/s  %s", ep, f.epochs, es.Loss, 100*es.Accuracy, eta.itemsPerSecond(), eta.etaText(len(epOrder))))
				_ = bar.Set(done)
			}
		}
		var batcher nn.Batcher = tb
		if aug := f.augment(); aug != (data.Augment{}) {
			batcher = newAugBatcher(tb, aug, f.seed, st.Epoch, f.batch, epOrder)
		}
		done, err := tr.EpochRange(batcher, epOrder, f.batch, st.Batch, &st.Partial, progress, watch.poll)
		if bar != nil {
			_ = bar.Clear()
		}
		if err != nil {
			return fmt.Errorf("epoch %d: %w%s; %s", ep, err, lowerAdvice(err, "--batch", f.batch), r.lastGood())
		}
		st.Batch = done
		if done < r.batches { // interrupted inside the epoch
			if err := r.save(tr); err != nil {
				return err
			}
			return interrupted(e, r.savedAt, f.out)
		}
		es := st.Partial.Stats()
		var ev nn.EvalResult
		if r.test.N > 0 {
			ev, err = r.evaluate(e, tr, eb, ep)
			if err != nil {
				return fmt.Errorf("epoch %d: evaluation: %w%s; %s", ep, err, lowerAdvice(err, "--eval-batch", f.evalBatch), r.lastGood())
			}
			dash.evaluated(r, tr, eb, ep, ev)
		}
		last = &ev
		rec := epochRecord{Name: r.name, Epoch: ep, Step: tr.Step, TrainLoss: es.Loss, TrainAccuracy: es.Accuracy, TestLoss: ev.Loss, TestAccuracy: ev.Accuracy,
			ImagesPerSecond: float64(es.Images) / es.Wall.Seconds(), EvalImagesPerS: float64(ev.N) / max(ev.Wall.Seconds(), 1e-9),
			WallSeconds: es.Wall.Seconds(), Device: dev.backend.Name(), Bits: f.bits, Float: f.float, Clipped: es.Clipped, Steps: es.Steps,
			ClassNames: r.train.ClassNames, Confusion: ev.Confusion, NoTest: r.test.N == 0}
		if f.float {
			rec.Bits = 32
		}
		health := r.model.QuantHealth()
		rec.CollapsedScales = health.Collapsed()
		if rec.CollapsedScales > 0 {
			fmt.Fprintf(r.log, "warning  epoch %d: %d collapsed quantization scales, their channels carry no signal: %s\n", ep, rec.CollapsedScales, health)
		}
		if f.jsonOut {
			if err := enc.Encode(rec); err != nil {
				return err
			}
		} else {
			test := fmt.Sprintf("test loss %.4f acc %.2f%%", ev.Loss, 100*ev.Accuracy)
			if rec.NoTest {
				test = "test: no test images"
			}
			fmt.Fprintf(e.stdout, "epoch %d  train loss %.4f acc %.2f%%  %s  %.0f img/s  %.1fs\n",
				ep, es.Loss, 100*es.Accuracy, test, rec.ImagesPerSecond, es.Wall.Seconds())
		}
		st.Epoch, st.Batch, st.Partial = ep, 0, nn.EpochProgress{}
		if err := r.save(tr); err != nil {
			return err
		}
		if err := menc.Encode(rec); err != nil {
			return fmt.Errorf("metrics %s: %w", r.files.metrics, err)
		}
		history = append(history, rec)
		if watch.poll() {
			return interrupted(e, r.savedAt, f.out)
		}
	}
	dashStatus = "done"
	if last != nil {
		if h := r.model.QuantHealth(); h.Scales > 0 {
			fmt.Fprintf(r.log, "quant    %d collapsed scales: %s\n", h.Collapsed(), h)
		}
		fmt.Fprintf(r.log, "saved    %s\n", r.savedAt)
	}
	if f.plots && len(history) > 0 {
		return r.drawPlots(history)
	}
	return nil
}

// drawPlots draws the loss and accuracy curves and the last confusion
// matrix beside the checkpoint.
func (r *trainRun) drawPlots(history []epochRecord) error {
	if err := drawCurves(r.files.curves, []runHistory{{name: r.name, recs: history}}); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	wrote := r.files.curves
	if lr := history[len(history)-1]; lr.Confusion != nil {
		if err := drawConfusion(r.files.confusion, lr.Confusion, lr.ClassNames, fmt.Sprintf("%s, epoch %d", r.name, lr.Epoch)); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		wrote += ", " + r.files.confusion
	}
	fmt.Fprintf(r.log, "plots    %s\n", wrote)
	return nil
}

// position describes where a run stands.
func position(st *nn.TrainState, batches int) string {
	if st.Batch == 0 {
		return fmt.Sprintf("after epoch %d, step %d", st.Epoch, st.Step)
	}
	return fmt.Sprintf("epoch %d after batch %d of %d, step %d", st.Epoch+1, st.Batch, batches, st.Step)
}

// interrupted is the error of a run stopped by a signal after saving; it
// says how to resume with the command that started the run.
func interrupted(e *env, savedAt, path string) error {
	cmd := e.trainCommand
	if cmd == "" {
		cmd = "vktrain train"
	}
	return exitError{130, fmt.Errorf("interrupted; saved %s\nresume with: %s --resume %s", savedAt, cmd, shellQuote(path))}
}

// lowerAdvice returns, for an error of a Vulkan buffer over the device's
// limit, which flag to lower (flag, now value); else "".
func lowerAdvice(err error, flag string, value int) string {
	if !errors.Is(err, gpu.ErrTooLarge) {
		return ""
	}
	return fmt.Sprintf(" (the device cannot hold a buffer this large: lower %s, now %d, or use a smaller --model)", flag, value)
}

// openMetrics prepares the metrics log: a fresh run truncates it; a
// resumed run keeps the records of the epochs the checkpoint has done (a
// record written after the checkpoint it belongs to is dropped) and
// returns them.
func openMetrics(path string, resume bool, epochsDone int) ([]epochRecord, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if !resume {
		return nil, os.WriteFile(path, nil, 0o644)
	}
	recs, err := readMetrics(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keep []epochRecord
	var b strings.Builder
	for _, r := range recs {
		if r.Epoch <= epochsDone {
			keep = append(keep, r)
			j, _ := json.Marshal(r)
			b.Write(j)
			b.WriteByte('\n')
		}
	}
	return keep, os.WriteFile(path, []byte(b.String()), 0o644)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// dataError keeps the first line of a data set error (the data package
// appends the list of accepted specs, which "vktrain help train" shows).
func dataError(err error) error {
	msg, rest, multi := strings.Cut(err.Error(), "\n")
	if !multi || strings.TrimSpace(rest) == "" {
		return fmt.Errorf("--data: %w", err)
	}
	return fmt.Errorf("--data: %s (see vktrain help train for the accepted data sets)", strings.TrimRight(msg, ": "))
}

// parseInputQMode parses --input-qmode: whether the quantizers reading the
// image take their scale and zero point from its statistics.
func parseInputQMode(s string) (bool, error) {
	switch s {
	case "stats":
		return true, nil
	case "qmode":
		return false, nil
	}
	return false, usagef("--input-qmode %q: want stats or qmode", s)
}
