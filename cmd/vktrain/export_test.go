package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/onnx"
)

// needONNXTools skips the test when the ONNX checker or ONNX Runtime is not
// installed (tools/setup.sh installs both).
func needONNXTools(t *testing.T) {
	t.Helper()
	for _, find := range []func() error{
		func() error { _, err := onnx.FindChecker(); return err },
		func() error { _, err := onnx.FindRuntime(); return err },
	} {
		if err := find(); errors.Is(err, onnx.ErrToolMissing) {
			t.Skipf("skipping: %v", err)
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// TestExportCommand trains small models (the patent net's shape and a
// residual net, int8 and int4), exports each with --check and --bench and
// requires ONNX Runtime to predict every test image's class as vktrain
// does, with and without the normalisation in the graph.
func TestExportCommand(t *testing.T) {
	needONNXTools(t)
	cases := []struct {
		name  string
		extra []string
		flags []string
	}{
		{"patent-int8", nil, nil},
		{"res-int4-normin", []string{"--model", "conv:4:3:1:1,bn,relu,res:4:1,res:6:2,gap,fc:10,comp", "--bits", "4", "--epochs", "1"}, []string{"--include-normalization"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			runCLI(t, trainArgs(dir, c.extra...)...).must(t, 0)
			out := filepath.Join(dir, "model.onnx")
			args := append([]string{"export", "--check", "--bench", "--devices", "cpu", "--limit", "100", "--batch", "32", "--json"}, c.flags...)
			r := runCLI(t, append(args, filepath.Join(dir, "model.safetensors"), out)...).must(t, 0)
			var rep struct {
				Images int `json:"images"`
				Runs   []struct {
					Runtime  string   `json:"runtime"`
					ImgPerS  float64  `json:"images_per_second"`
					Accuracy float64  `json:"test_accuracy"`
					Differ   *int     `json:"classes_differing_from_onnxruntime"`
					MaxDiff  *float64 `json:"max_abs_logit_difference"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("export --json output %q: %v", r.stdout, err)
			}
			if rep.Images != 100 || len(rep.Runs) != 2 || !strings.HasPrefix(rep.Runs[0].Runtime, "onnxruntime 1.30") {
				t.Fatalf("report %+v: want 100 images, ONNX Runtime 1.30 and one vktrain device", rep)
			}
			v := rep.Runs[1]
			if v.Differ == nil || v.MaxDiff == nil || *v.Differ != 0 || *v.MaxDiff > 0.5 || v.Accuracy != rep.Runs[0].Accuracy {
				t.Errorf("vktrain %s against ONNX Runtime: %+v", v.Runtime, v)
			}
			for _, run := range rep.Runs {
				if !(run.ImgPerS > 0) {
					t.Errorf("%s: %v images per second", run.Runtime, run.ImgPerS)
				}
			}
			t.Logf("%s: max |Δ logit| %.3g, accuracy %.2f", c.name, *v.MaxDiff, v.Accuracy)
			if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
				t.Errorf("%s not written: %v", out, err)
			}
		})
	}
}

func TestExportUsage(t *testing.T) {
	r := runCLI(t, "help", "export").must(t, 0)
	for _, w := range []string{"--include-normalization", "QDQ", "opset 13", "vktrain export runs/", "--bench"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("help export does not mention %q:\n%s", w, r.stdout)
		}
	}
	runCLI(t, "export", "only-one-arg").must(t, 2).oneLine(t, "want a checkpoint and an output .onnx path")
	runCLI(t, "export", "--bench", "--devices", "gpu", "a", "b").must(t, 2).oneLine(t, "gpu")
	runCLI(t, "export", filepath.Join(t.TempDir(), "missing.safetensors"), filepath.Join(t.TempDir(), "x.onnx")).must(t, 1).oneLine(t, "missing.safetensors")
}
