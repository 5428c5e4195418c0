package main

import (
	"encoding/json"
	"flag"
	"fmt"
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
	Steps          int                  `json:"steps"`
	Batch          int                  `json:"batch"`
	Bits           int                  `json:"bits"`
	Float          bool                 `json:"float"`
	FinalLoss      float64              `json:"final_loss"`
	KernelProfile  []backend.KernelStat `json:"kernels,omitempty"`
	ProfiledSteps  int                  `json:"profiled_steps,omitempty"`
	ProfileStepMS  float64              `json:"profiled_step_ms,omitempty"`
	ProfileComment string               `json:"profile_note,omitempty"`
}

func benchCmd() *command {
	return &command{
		name:  "bench",
		usage: "bench [flags]",
		short: "measure training and inference speed on several devices side by side",
		long: `Bench trains the same model from the same seed on each listed device, one
after the other in one process, and reports training and inference images per
second, the ratio to the first device, and, on Vulkan devices, the device time
of each kernel over a few profiled training steps (timestamp queries; these
steps are timed separately because timestamps slow CPU drivers down).

Examples:

	vktrain bench                                  # cpu and vulkan, reference network, int8
	vktrain bench --devices cpu,vulkan --steps 50 --batch 64 --data mnist
	vktrain bench --float --json`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			devs := fs.String("devices", "cpu,vulkan", "comma-separated devices to compare (cpu, vulkan, vulkan:N, vulkan/dot, ...); the first is the baseline")
			dataSpec := fs.String("data", "mini", "data set whose training images feed the steps")
			model := fs.String("model", nn.DefaultSpec, "model spec")
			steps := fs.Int("steps", 20, "timed training steps per device (after 3 warm-up steps)")
			batch := fs.Int("batch", 64, "training batch size")
			evalBatch := fs.Int("eval-batch", 256, "inference batch size")
			bits := fs.Int("bits", 8, "code width")
			float := fs.Bool("float", false, "float mode")
			profSteps := fs.Int("profile-steps", 3, "training steps profiled per kernel on devices that support it (0 = none)")
			jsonOut := fs.Bool("json", false, "one JSON object per device")
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *steps <= 0 || *batch <= 0 || *evalBatch <= 0 || *profSteps < 0 {
					return usagef("--steps, --batch and --eval-batch must be positive")
				}
				if *bits < 2 || *bits > 8 {
					return usagef("--bits %d: want 2..8", *bits)
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
				opts := nn.Options{Quant: nn.QuantConfig{Float: *float, Bits: *bits, Method: quant.MethodMinMax}, Seed: 1}
				var results []benchResult
				for _, spec := range strings.Split(*devs, ",") {
					r, err := benchDevice(strings.TrimSpace(spec), train, norm, layers, opts, *steps, *batch, *evalBatch, *profSteps)
					if err != nil {
						return fmt.Errorf("%s: %w", spec, err)
					}
					r.Bits, r.Float = *bits, *float
					results = append(results, r)
					if *jsonOut {
						if err := json.NewEncoder(e.stdout).Encode(r); err != nil {
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

func benchDevice(spec string, train *data.Set, norm data.Norm, layers []nn.LayerSpec, opts nn.Options, steps, batch, evalBatch, profSteps int) (benchResult, error) {
	dev, err := openDevice(spec, false)
	if err != nil {
		return benchResult{}, err
	}
	defer dev.backend.Close()
	m, err := nn.Build([]int{train.H, train.W, train.C}, layers, train.Classes, opts)
	if err != nil {
		return benchResult{}, err
	}
	tr, err := nn.NewTrainer(m, dev.backend, nn.TrainConfig{LR: 0.01, Momentum: 0.9, Threshold: 1, CompL2: 1e-4})
	if err != nil {
		return benchResult{}, err
	}
	defer tr.Close()
	per := train.ImageSize()
	x := make([]float32, batch*per)
	lab := make([]int32, batch)
	order := data.NewOrder(train.N, 1).Epoch(0)
	next := 0
	idx := make([]int, batch)
	batchAt := func() error {
		for i := range idx {
			idx[i] = order[next%len(order)]
			next++
		}
		return train.Batch(x, lab, idx, norm)
	}
	step := func() (nn.StepStats, error) {
		if err := batchAt(); err != nil {
			return nn.StepStats{}, err
		}
		return tr.TrainStep(x, lab)
	}
	for i := 0; i < 3; i++ { // warm-up: pipelines, calibration, allocations
		if _, err := step(); err != nil {
			return benchResult{}, err
		}
	}
	name := dev.backend.Name()
	if v, ok := dev.backend.(interface{ Variant() string }); ok {
		name += " gemm=" + v.Variant()
	}
	if v, ok := dev.backend.(interface{ Reads() string }); ok {
		name += " reads=" + v.Reads()
	}
	r := benchResult{Device: name, Reason: dev.reason, Steps: steps, Batch: batch}
	start := time.Now()
	var last nn.StepStats
	for i := 0; i < steps; i++ {
		if last, err = step(); err != nil {
			return r, err
		}
	}
	wall := time.Since(start)
	r.TrainImgPerS = float64(steps*batch) / wall.Seconds()
	r.StepMillis = wall.Seconds() * 1000 / float64(steps)
	r.FinalLoss = last.Loss

	// Inference: the same number of images in eval batches.
	ex := make([]float32, evalBatch*per)
	logits := make([]float32, evalBatch*m.Classes)
	eidx := make([]int, evalBatch)
	for i := range eidx {
		eidx[i] = order[i%len(order)]
	}
	if err := train.Batch(ex, nil, eidx, norm); err != nil {
		return r, err
	}
	if err := tr.Predict(ex, evalBatch, logits); err != nil { // warm-up
		return r, err
	}
	reps := max(1, steps*batch/evalBatch)
	start = time.Now()
	for i := 0; i < reps; i++ {
		if err := tr.Predict(ex, evalBatch, logits); err != nil {
			return r, err
		}
	}
	r.InferImgPerS = float64(reps*evalBatch) / time.Since(start).Seconds()

	if p, ok := dev.backend.(backend.Profiler); ok && profSteps > 0 {
		p.StartProfile()
		start = time.Now()
		for i := 0; i < profSteps; i++ {
			if _, err := step(); err != nil {
				return r, err
			}
		}
		r.ProfileStepMS = time.Since(start).Seconds() * 1000 / float64(profSteps)
		r.KernelProfile = p.StopProfile()
		r.ProfiledSteps = profSteps
		r.ProfileComment = "device time per kernel summed over the profiled steps; timestamps serialise CPU drivers, so these steps are slower than the timed ones"
	}
	return r, nil
}

func printBench(e *env, rs []benchResult, dataSpec, model string) {
	w := e.stdout
	fmt.Fprintf(w, "bench: data %s, model %s, batch %d, %d timed steps after 3 warm-up steps\n\n", dataSpec, model, rs[0].Batch, rs[0].Steps)
	fmt.Fprintf(w, "%-58s %12s %12s %10s %9s\n", "device", "train img/s", "infer img/s", "step ms", "vs first")
	for _, r := range rs {
		fmt.Fprintf(w, "%-58s %12.0f %12.0f %10.1f %8.2fx\n", r.Device, r.TrainImgPerS, r.InferImgPerS, r.StepMillis, r.TrainImgPerS/rs[0].TrainImgPerS)
	}
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
