package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn"
	"github.com/vktrain/vktrain/onnx"
)

func exportCmd() *command {
	return &command{
		name:  "export",
		usage: "export [flags] CHECKPOINT OUT.onnx",
		short: "write a checkpoint as an ONNX model (QDQ, opset 13) for ONNX Runtime and other runtimes",
		long: `Export writes the checkpoint's model as an ONNX file in QDQ form at opset 13:
each quantized layer's input goes through QuantizeLinear/DequantizeLinear with
its learned per-tensor scale and zero point (a Clip first below 8 bits, so the
codes keep their narrow range), its weights are stored as int8 codes with a
per-channel DequantizeLinear of the learned scales and zero points, and the
float operators follow (Conv, Gemm, BatchNormalization with the running
statistics, Relu, MaxPool, AveragePool, GlobalAveragePool, Add, Flatten).
Compensation is folded into the preceding layer's bias. Every model that
--model accepts exports (patent, res8, mobile, layer specs, JSON graphs).

The model's input is float32 [N, C, H, W] and its output the logits [N, classes].
By default the input is normalised as in training, (pixel/255 - mean)/std per
channel; mean, std and the class names are in the model's metadata
(vktrain.norm_mean, vktrain.norm_std, vktrain.class_names).
--include-normalization puts the normalisation into the graph instead, so the
model takes pixel values in [0, 1].

--check runs onnx.checker (full check; Debian's python3-onnx) on the written
file. --bench runs the exported model with ONNX Runtime (onnxruntime-node,
installed by tools/setup.sh into .cache/onnxrt) and vktrain's own inference on
the --devices over the test images, and reports images per second for each,
how many predicted classes differ and the largest logit difference.

Examples:

	vktrain export runs/mnist-int8/model.safetensors mnist.onnx
	vktrain export --include-normalization --check model.safetensors model.onnx
	vktrain export --bench --devices cpu,vulkan model.safetensors model.onnx`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			inGraph := fs.Bool("include-normalization", false, "put the input normalisation into the graph: the model takes float32 [N, C, H, W] pixel values in [0, 1]")
			check := fs.Bool("check", false, "run onnx.checker.check_model(full_check=True) on the written file (needs python3-onnx)")
			bench := fs.Bool("bench", false, "run the exported model with ONNX Runtime and vktrain on the test images: speed and agreement")
			dataSpec := fs.String("data", "", "--bench: data set whose test split is used (default: the checkpoint's)")
			devs := fs.String("devices", "cpu,vulkan", "--bench: comma-separated devices for vktrain's own inference (cpu, vulkan, vulkan:N, ...)")
			limit := fs.Int("limit", 0, "--bench: use only the first N test images (0 = all)")
			batch := fs.Int("batch", 256, "--bench: inference batch size (both runtimes)")
			repeat := fs.Int("repeat", 1, "--bench: timed passes over the images after one untimed pass")
			jsonOut := fs.Bool("json", false, "--bench: print one JSON object")
			return func(e *env, args []string) error {
				if len(args) != 2 {
					return usagef("want a checkpoint and an output .onnx path, got %d arguments", len(args))
				}
				if *limit < 0 || *batch <= 0 || *repeat <= 0 {
					return usagef("--limit must not be negative, --batch and --repeat must be positive")
				}
				var devList []string
				if *bench {
					for _, d := range strings.Split(*devs, ",") {
						d = strings.TrimSpace(d)
						if err := checkDeviceSpec(d); err != nil {
							return err
						}
						devList = append(devList, d)
					}
				}
				ckpt, out := args[0], args[1]
				m, meta, err := nn.LoadCheckpoint(ckpt)
				if err != nil {
					return err
				}
				norm, names, err := checkpointInputs(ckpt, meta, m.Classes)
				if err != nil {
					return err
				}
				o := onnx.Options{Mean: norm.Mean, Std: norm.Std, IncludeNormalization: *inGraph, ClassNames: names,
					Metadata: map[string]string{"vktrain.checkpoint": ckpt, "vktrain.data": meta["data"]}}
				if err := onnx.Write(out, m, o); err != nil {
					return err
				}
				if !*jsonOut {
					fmt.Fprintf(e.stdout, "wrote %s: %s, opset %d, input float32 [N, %d, %d, %d] (%s), output logits [N, %d]\n",
						out, m.Spec.String(), onnx.Opset, m.Spec.Input[2], m.Spec.Input[0], m.Spec.Input[1], normWords(*inGraph), m.Classes)
				}
				if *check {
					ck, err := onnx.FindChecker()
					if err != nil {
						return err
					}
					if err := ck.Check(out); err != nil {
						return err
					}
					if !*jsonOut {
						fmt.Fprintf(e.stdout, "onnx.checker (onnx %s, full check): ok\n", ck.Version)
					}
				}
				if !*bench {
					return nil
				}
				if *dataSpec == "" {
					if *dataSpec = meta["data"]; *dataSpec == "" {
						*dataSpec = "mnist"
					}
				}
				return exportBench(e, ckpt, out, *dataSpec, devList, norm, *inGraph, *limit, *batch, *repeat, *jsonOut)
			}
		},
	}
}

func normWords(inGraph bool) string {
	if inGraph {
		return "pixel values in [0, 1], normalised in the graph"
	}
	return "normalised as in training, see the metadata"
}

// exportRun is one runtime's figures in export --bench.
type exportRun struct {
	Runtime  string  `json:"runtime"`
	ImgPerS  float64 `json:"images_per_second"`
	Accuracy float64 `json:"test_accuracy"`
	// Differ and MaxDiff compare with the ONNX Runtime logits (vktrain
	// devices only).
	Differ  *int     `json:"classes_differing_from_onnxruntime,omitempty"`
	MaxDiff *float64 `json:"max_abs_logit_difference,omitempty"`
	logits  []float32
}

func exportBench(e *env, ckpt, model, dataSpec string, devs []string, norm data.Norm, inGraph bool, limit, batch, repeat int, jsonOut bool) error {
	rt, err := onnx.FindRuntime()
	if err != nil {
		return err
	}
	_, test, err := data.Resolve(dataSpec)
	if err != nil {
		return dataError(err)
	}
	n := test.N
	if limit > 0 {
		n = min(n, limit)
	}
	h, w, c, k := test.H, test.W, test.C, test.Classes
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x := make([]float32, n*test.ImageSize())
	lab := make([]int32, n)
	if err := test.Batch(x, lab, idx, norm); err != nil {
		return err
	}
	accuracy := func(logits []float32) float64 {
		ok := 0
		for i := range n {
			if nn.Argmax(logits[i*k:(i+1)*k]) == int(lab[i]) {
				ok++
			}
		}
		return float64(ok) / float64(n)
	}

	// ONNX Runtime first: it runs in its own process, so the devices'
	// memory is not held meanwhile.
	in := x
	if inGraph {
		in = make([]float32, len(x))
		if err := test.Batch(in, nil, idx, data.Identity(c)); err != nil {
			return err
		}
	}
	res, err := rt.Run(model, onnx.NCHW(in, n, h, w, c), n, c, h, w, batch, repeat)
	if err != nil {
		return err
	}
	if res.Classes != k {
		return fmt.Errorf("%s: ONNX Runtime gives %d outputs per image, the data set has %d classes", model, res.Classes, k)
	}
	runs := []exportRun{{Runtime: "onnxruntime " + res.Version + " (cpu)", ImgPerS: float64(res.Images) / res.Seconds, Accuracy: accuracy(res.Logits), logits: res.Logits}}

	for _, spec := range devs {
		r, err := vktrainInference(ckpt, spec, x, n, batch, repeat)
		if err != nil {
			return fmt.Errorf("%s: %w", spec, err)
		}
		r.Accuracy = accuracy(r.logits)
		d, worst := 0, 0.0
		for i := range n {
			a, b := r.logits[i*k:(i+1)*k], res.Logits[i*k:(i+1)*k]
			if nn.Argmax(a) != nn.Argmax(b) {
				d++
			}
			for j := range k {
				worst = math.Max(worst, math.Abs(float64(a[j]-b[j])))
			}
		}
		r.Differ, r.MaxDiff = &d, &worst
		runs = append(runs, r)
	}
	if jsonOut {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"model": model, "data": dataSpec, "images": n, "batch": batch, "repeat": repeat, "runs": runs})
	}
	fmt.Fprintf(e.stdout, "\n%s on %d %s test images, batch %d, %d timed pass(es) after one untimed:\n\n", model, n, dataSpec, batch, repeat)
	fmt.Fprintf(e.stdout, "%-62s %12s %9s %16s %14s\n", "runtime", "infer img/s", "accuracy", "classes ≠ ORT", "max |Δ logit|")
	for _, r := range runs {
		differ, diff := "-", "-"
		if r.Differ != nil {
			differ = fmt.Sprintf("%d (%.3f%%)", *r.Differ, 100*float64(*r.Differ)/float64(n))
			diff = fmt.Sprintf("%.3g", *r.MaxDiff)
		}
		fmt.Fprintf(e.stdout, "%-62.62s %12.0f %8.2f%% %16s %14s\n", r.Runtime, r.ImgPerS, 100*r.Accuracy, differ, diff)
	}
	return nil
}

// vktrainInference loads the checkpoint onto the device and runs vktrain's
// inference over x (n normalised NHWC images): one pass for the logits,
// then repeat timed passes.
func vktrainInference(ckpt, spec string, x []float32, n, batch, repeat int) (exportRun, error) {
	m, _, err := nn.LoadCheckpoint(ckpt)
	if err != nil {
		return exportRun{}, err
	}
	d, err := openDevice(spec, false)
	if err != nil {
		return exportRun{}, err
	}
	defer d.backend.Close()
	tr, err := nn.NewTrainer(m, d.backend, nn.TrainConfig{LR: 1})
	if err != nil {
		return exportRun{}, err
	}
	defer tr.Close()
	per := len(x) / n
	k := m.Classes
	logits := make([]float32, n*k)
	pass := func() error {
		for i := 0; i < n; i += batch {
			j := min(n, i+batch)
			if err := tr.Predict(x[i*per:j*per], j-i, logits[i*k:j*k]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := pass(); err != nil {
		return exportRun{}, err
	}
	out := exportRun{Runtime: "vktrain " + d.backend.Name(), logits: append([]float32(nil), logits...)}
	start := time.Now()
	for range repeat {
		if err := pass(); err != nil {
			return exportRun{}, err
		}
	}
	out.ImgPerS = float64(n*repeat) / time.Since(start).Seconds()
	return out, nil
}
