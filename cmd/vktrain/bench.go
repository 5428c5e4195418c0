package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/quant"
)

// benchResult is one device's figures (one JSON line with --json).
type benchResult struct {
	Device         string               `json:"device"`
	Reason         string               `json:"reason"`
	TrainImgPerS   float64              `json:"train_images_per_second"`
	InferImgPerS   float64              `json:"infer_images_per_second"`
	StepMillis     float64              `json:"train_step_ms"`
	RoundStepMS    []float64            `json:"round_step_ms"`
	Steps          int                  `json:"steps"`
	Rounds         int                  `json:"rounds"`
	Batch          int                  `json:"batch"`
	Bits           int                  `json:"bits"`
	Float          bool                 `json:"float"`
	FinalLoss      float64              `json:"final_loss"`
	KernelProfile  []backend.KernelStat `json:"kernels,omitempty"`
	ProfiledSteps  int                  `json:"profiled_steps,omitempty"`
	ProfileStepMS  float64              `json:"profiled_step_ms,omitempty"`
	ProfileComment string               `json:"profile_note,omitempty"`

	// Work per training step, counted over CountedSteps steps after the
	// timed rounds (see countWork).
	CountedSteps       int     `json:"counted_steps"`
	OpsPerStep         float64 `json:"ops_per_step"`
	DispatchesPerStep  float64 `json:"dispatches_per_step"`
	BarriersPerStep    float64 `json:"barriers_per_step"`
	SubmitsPerStep     float64 `json:"submits_per_step"`
	HostWaitsPerStep   float64 `json:"host_waits_per_step"`
	KernelBytesPerStep float64 `json:"kernel_bytes_per_step"`
	AllocsPerStep      float64 `json:"allocs_per_step"`
	DeviceQueue        bool    `json:"device_queue"` // false: dispatches..host waits do not apply
	WorkCounted        bool    `json:"work_counted"` // false: only allocs_per_step is measured
	WorkComment        string  `json:"work_note,omitempty"`
}

func benchCmd() *command {
	return &command{
		name:  "bench",
		usage: "bench [flags]",
		short: "measure training and inference speed on several devices side by side",
		long: `Bench trains the same model from the same seed on each listed device in one
process and reports training and inference images per second, the ratio to
the first device, and, on Vulkan devices, the device time of each kernel over
a few profiled training steps (timestamp queries; these steps are timed
separately because timestamps slow CPU drivers down).

After the timed rounds, as many steps again are counted: per training step,
the op calls, the bytes their kernels read and write by each op's declared
traffic (the op contract's rule: the same ops move the same bytes on every
device; a device that recomputes rather than stores, Vulkan, runs a few
fused ops of its own that move fewer), the Go heap
allocations (as testing.AllocsPerRun counts them), and on Vulkan devices the
compute dispatches, pipeline barriers, queue submissions and host waits
(n/a on cpu, which has no device queue; 0 in --json, with a note).

The timed steps run in rounds that alternate between the devices (round 1:
steps on each device in turn, round 2: again, ...), so a change in the
machine's load during the run falls on all devices alike; the figures are the
median round, and the spread over rounds is printed beside them.

Examples:

	vktrain bench                                  # cpu and vulkan, reference network, int8
	vktrain bench --devices cpu,vulkan --steps 50 --batch 64 --data mnist
	vktrain bench --devices cpu,vulkan/storage,vulkan/texel --rounds 5
	vktrain bench --float --json`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			devs := fs.String("devices", "cpu,vulkan", "comma-separated devices to compare (cpu, vulkan, vulkan:N, vulkan/dot, vulkan/storage, ...); the first is the baseline")
			dataSpec := fs.String("data", "mini", "data set whose training images feed the steps")
			model := fs.String("model", nn.DefaultSpec, "model: "+modelFlagHelp)
			steps := fs.Int("steps", 20, "timed training steps per device and round (after 3 warm-up steps)")
			rounds := fs.Int("rounds", 3, "rounds of timed steps, alternating between the devices")
			batch := fs.Int("batch", 64, "training batch size")
			evalBatch := fs.Int("eval-batch", 256, "inference batch size")
			bits := fs.Int("bits", 8, "code width")
			inputBits := fs.Int("input-bits", 8, "code width of the image input (0: --bits)")
			inputQMode := fs.String("input-qmode", "stats", "scale/zero of the image input: stats (its running min/max) or qmode (learned)")
			outputBits := fs.Int("output-bits", 8, "code width of the last quantized layer (0: --bits)")
			initName := fs.String("init", "uniform", "initial weights: uniform or he")
			float := fs.Bool("float", false, "float mode")
			profSteps := fs.Int("profile-steps", 3, "training steps profiled per kernel on devices that support it (0 = none)")
			jsonOut := fs.Bool("json", false, "one JSON object per device")
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *steps <= 0 || *rounds <= 0 || *batch <= 0 || *evalBatch <= 0 || *profSteps < 0 {
					return usagef("--steps, --rounds, --batch and --eval-batch must be positive")
				}
				if *bits < 2 || *bits > 8 {
					return usagef("--bits %d: want 2..8", *bits)
				}
				if *inputBits != 0 && (*inputBits < 2 || *inputBits > 8) {
					return usagef("--input-bits %d: want 2..8, or 0 for --bits", *inputBits)
				}
				if *outputBits != 0 && (*outputBits < 2 || *outputBits > 8) {
					return usagef("--output-bits %d: want 2..8, or 0 for --bits", *outputBits)
				}
				layers, err := nn.ParseLayers(*model)
				if err != nil {
					return usageError{err}
				}
				train, _, err := data.Resolve(*dataSpec)
				if err != nil {
					return err
				}
				norm := data.ComputeNorm(train)
				init, err := nn.ParseInit(*initName)
				if err != nil {
					return usageError{err}
				}
				inputStats, err := parseInputQMode(*inputQMode)
				if err != nil {
					return err
				}
				opts := nn.Options{Quant: nn.QuantConfig{Float: *float, Bits: *bits, InputBits: *inputBits, OutputBits: *outputBits, InputStats: inputStats, Method: quant.MethodMinMax}, Seed: 1, Init: init}
				var runs []*benchRun
				defer func() {
					for _, r := range runs {
						r.close()
					}
				}()
				for _, spec := range strings.Split(*devs, ",") {
					r, err := newBenchRun(strings.TrimSpace(spec), train, norm, layers, opts, *batch)
					if err != nil {
						return fmt.Errorf("%s: %w", spec, err)
					}
					runs = append(runs, r)
				}
				for round := 0; round < *rounds; round++ {
					for _, r := range runs {
						if err := r.timeSteps(*steps); err != nil {
							return fmt.Errorf("%s: %w", r.spec, err)
						}
					}
				}
				var results []benchResult
				for _, r := range runs {
					res, err := r.finish(*steps, *evalBatch, *profSteps)
					if err != nil {
						return fmt.Errorf("%s: %w", r.spec, err)
					}
					res.Bits, res.Float = *bits, *float
					results = append(results, res)
					if *jsonOut {
						if err := json.NewEncoder(e.stdout).Encode(res); err != nil {
							return err
						}
					}
				}
				if !*jsonOut {
					printBench(e, results, *dataSpec, *model)
				}
				return nil
			}
		},
	}
}

// benchRun is one device's trainer and batches during a bench.
type benchRun struct {
	spec  string
	dev   *device
	model *nn.Model
	tr    *nn.Trainer
	train *data.Set
	norm  data.Norm
	x     []float32
	lab   []int32
	idx   []int
	order []int
	next  int
	batch int
	res   benchResult
	last  nn.StepStats
}

// newBenchRun opens the device, builds the model and trainer and runs the
// warm-up steps (pipelines, calibration, allocations).
func newBenchRun(spec string, train *data.Set, norm data.Norm, layers []nn.LayerSpec, opts nn.Options, batch int) (*benchRun, error) {
	dev, err := openDevice(spec, false)
	if err != nil {
		return nil, err
	}
	r := &benchRun{spec: spec, dev: dev, train: train, norm: norm, batch: batch}
	if r.model, err = nn.Build([]int{train.H, train.W, train.C}, layers, train.Classes, opts); err != nil {
		r.close()
		return nil, err
	}
	if r.tr, err = nn.NewTrainer(r.model, dev.backend, nn.TrainConfig{LR: 0.01, Momentum: 0.9, Threshold: 1, CompL2: 1e-4}); err != nil {
		r.close()
		return nil, err
	}
	r.x = make([]float32, batch*train.ImageSize())
	r.lab = make([]int32, batch)
	r.idx = make([]int, batch)
	r.order = data.NewOrder(train.N, 1).Epoch(0)
	for i := 0; i < 3; i++ {
		if _, err := r.step(); err != nil {
			r.close()
			return nil, err
		}
	}
	name := dev.backend.Name()
	if v, ok := dev.backend.(interface{ Variant() string }); ok {
		name += " gemm=" + v.Variant()
	}
	if v, ok := dev.backend.(interface{ Reads() string }); ok {
		name += " reads=" + v.Reads()
	}
	r.res = benchResult{Device: name, Reason: dev.reason, Batch: batch}
	return r, nil
}

func (r *benchRun) close() {
	if r.tr != nil {
		r.tr.Close()
	}
	r.dev.backend.Close()
}

// step trains on the next batch of the seeded order.
func (r *benchRun) step() (nn.StepStats, error) {
	for i := range r.idx {
		r.idx[i] = r.order[r.next%len(r.order)]
		r.next++
	}
	if err := r.train.Batch(r.x, r.lab, r.idx, r.norm); err != nil {
		return nn.StepStats{}, err
	}
	return r.tr.TrainStep(r.x, r.lab)
}

// timeSteps runs one round of steps timed training steps.
func (r *benchRun) timeSteps(steps int) error {
	start := time.Now()
	for i := 0; i < steps; i++ {
		var err error
		if r.last, err = r.step(); err != nil {
			return err
		}
	}
	r.res.RoundStepMS = append(r.res.RoundStepMS, time.Since(start).Seconds()*1000/float64(steps))
	return nil
}

// finish computes the training figures from the rounds, then times
// inference and profiles kernels.
func (r *benchRun) finish(steps, evalBatch, profSteps int) (benchResult, error) {
	res := r.res
	res.Steps, res.Rounds = steps, len(res.RoundStepMS)
	res.StepMillis = median(res.RoundStepMS)
	res.TrainImgPerS = float64(r.batch) * 1000 / res.StepMillis
	res.FinalLoss = r.last.Loss

	if err := r.countWork(&res, steps); err != nil {
		return res, err
	}

	// Inference: the same number of images in eval batches.
	per := r.train.ImageSize()
	ex := make([]float32, evalBatch*per)
	logits := make([]float32, evalBatch*r.model.Classes)
	eidx := make([]int, evalBatch)
	for i := range eidx {
		eidx[i] = r.order[i%len(r.order)]
	}
	if err := r.train.Batch(ex, nil, eidx, r.norm); err != nil {
		return res, err
	}
	if err := r.tr.Predict(ex, evalBatch, logits); err != nil { // warm-up
		return res, err
	}
	reps := max(1, steps*r.batch/evalBatch)
	start := time.Now()
	for i := 0; i < reps; i++ {
		if err := r.tr.Predict(ex, evalBatch, logits); err != nil {
			return res, err
		}
	}
	res.InferImgPerS = float64(reps*evalBatch) / time.Since(start).Seconds()

	if p, ok := r.dev.backend.(backend.Profiler); ok && profSteps > 0 {
		p.StartProfile()
		start = time.Now()
		for i := 0; i < profSteps; i++ {
			if _, err := r.step(); err != nil {
				return res, err
			}
		}
		res.ProfileStepMS = time.Since(start).Seconds() * 1000 / float64(profSteps)
		res.KernelProfile = p.StopProfile()
		res.ProfiledSteps = profSteps
		res.ProfileComment = "device time per kernel summed over the profiled steps; timestamps serialise CPU drivers, so these steps are slower than the timed ones"
	}
	return res, nil
}

// countWork counts the work of steps more training steps (after the
// timed rounds, so in steady state) and sets res's per-step figures: Go
// heap allocations as testing.AllocsPerRun counts them (the Mallocs of
// runtime.MemStats), around the training steps only (not the loading of
// their batches), and the backend's work counts where it is a
// backend.WorkCounter.
func (r *benchRun) countWork(res *benchResult, steps int) error {
	wc, counted := r.dev.backend.(backend.WorkCounter)
	if counted {
		wc.ResetWork()
	}
	var before, after runtime.MemStats
	var mallocs uint64
	for i := 0; i < steps; i++ {
		for j := range r.idx {
			r.idx[j] = r.order[r.next%len(r.order)]
			r.next++
		}
		if err := r.train.Batch(r.x, r.lab, r.idx, r.norm); err != nil {
			return err
		}
		runtime.ReadMemStats(&before)
		if _, err := r.tr.TrainStep(r.x, r.lab); err != nil {
			return err
		}
		runtime.ReadMemStats(&after)
		mallocs += after.Mallocs - before.Mallocs
	}
	n := float64(steps)
	res.CountedSteps = steps
	res.AllocsPerStep = float64(mallocs) / n
	res.WorkCounted = counted
	if !counted {
		res.WorkComment = "the backend does not count its work (no backend.WorkCounter); only allocs_per_step is measured"
		return nil
	}
	w := wc.ReadWork()
	res.OpsPerStep = float64(w.Ops) / n
	res.KernelBytesPerStep = float64(w.KernelBytes) / n
	res.DispatchesPerStep = float64(w.Dispatches) / n
	res.BarriersPerStep = float64(w.Barriers) / n
	res.SubmitsPerStep = float64(w.Submits) / n
	res.HostWaitsPerStep = float64(w.HostWaits) / n
	res.DeviceQueue = w.Queue
	res.WorkComment = "kernel bytes: the op contract's declared traffic (each operand read or written once, in-place updates twice), not measured memory traffic"
	if !w.Queue {
		res.WorkComment += "; no device queue, so dispatches, barriers, submits and host waits do not apply (0)"
	}
	return nil
}

// median returns the median of v (the mean of the middle two for even len).
func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func printBench(e *env, rs []benchResult, dataSpec, model string) {
	w := e.stdout
	fmt.Fprintf(w, "bench: data %s, model %s, batch %d, %d rounds of %d timed steps per device (alternating) after 3 warm-up steps\n\n",
		dataSpec, model, rs[0].Batch, rs[0].Rounds, rs[0].Steps)
	fmt.Fprintf(w, "%-58s %12s %12s %10s %15s %9s\n", "device", "train img/s", "infer img/s", "step ms", "rounds min-max", "vs first")
	for _, r := range rs {
		lo, hi := slices.Min(r.RoundStepMS), slices.Max(r.RoundStepMS)
		fmt.Fprintf(w, "%-58s %12.0f %12.0f %10.1f %15s %8.2fx\n", r.Device, r.TrainImgPerS, r.InferImgPerS, r.StepMillis,
			fmt.Sprintf("%.1f-%.1f", lo, hi), r.TrainImgPerS/rs[0].TrainImgPerS)
	}
	printWork(e, rs)
	for _, r := range rs {
		if len(r.KernelProfile) == 0 {
			continue
		}
		var total time.Duration
		for _, k := range r.KernelProfile {
			total += k.Total
		}
		fmt.Fprintf(w, "\nkernels on %s, %d profiled steps (%.1f ms per step with timestamps; device time %.1f ms per step):\n",
			r.Device, r.ProfiledSteps, r.ProfileStepMS, total.Seconds()*1000/float64(r.ProfiledSteps))
		fmt.Fprintf(w, "  %-22s %7s %12s %8s\n", "kernel", "calls", "ms per step", "share")
		ks := append([]backend.KernelStat(nil), r.KernelProfile...)
		sort.Slice(ks, func(i, j int) bool { return ks[i].Total > ks[j].Total })
		for _, k := range ks {
			fmt.Fprintf(w, "  %-22s %7d %12.2f %7.1f%%\n", k.Name, k.Calls/r.ProfiledSteps, k.Total.Seconds()*1000/float64(r.ProfiledSteps), 100*k.Total.Seconds()/total.Seconds())
		}
	}
}

// printWork prints the work per training step of each device: "n/a" where
// the device has no queue (or does not count its work).
func printWork(e *env, rs []benchResult) {
	w := e.stdout
	fmt.Fprintf(w, "\nwork per training step (%d steps counted after the timed rounds; kernel bytes = declared traffic of the ops run):\n", rs[0].CountedSteps)
	fmt.Fprintf(w, "%-58s %8s %11s %9s %8s %11s %13s %12s\n", "device", "ops", "dispatches", "barriers", "submits", "host waits", "kernel MB", "Go allocs")
	for _, r := range rs {
		cnt := func(v float64) string {
			if !r.DeviceQueue {
				return "n/a"
			}
			return fmt.Sprintf("%.1f", v)
		}
		ops, mb := "n/a", "n/a"
		if r.WorkCounted {
			ops, mb = fmt.Sprintf("%.1f", r.OpsPerStep), fmt.Sprintf("%.2f", r.KernelBytesPerStep/1e6)
		}
		fmt.Fprintf(w, "%-58s %8s %11s %9s %8s %11s %13s %12.1f\n", r.Device, ops, cnt(r.DispatchesPerStep), cnt(r.BarriersPerStep),
			cnt(r.SubmitsPerStep), cnt(r.HostWaitsPerStep), mb, r.AllocsPerStep)
	}
}
