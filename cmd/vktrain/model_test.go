package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/nn"
)

// TestModelHelp: "vktrain help train" lists the named models and the
// syntax of every layer kind, and its JSON graph example builds.
func TestModelHelp(t *testing.T) {
	r := runCLI(t, "help", "train").must(t, 0)
	for _, nm := range nn.NamedModels() {
		if !strings.Contains(r.stdout, "\t"+nm.Name+" ") || !strings.Contains(r.stdout, nm.Spec) {
			t.Errorf("help lacks the named model %s", nm.Name)
		}
	}
	for _, k := range nn.LayerKinds() {
		if !strings.Contains(r.stdout, k.Syntax) {
			t.Errorf("help lacks %s", k.Syntax)
		}
	}
	if !strings.Contains(r.stdout, graphExample) {
		t.Error("help lacks the graph example")
	}
	ls, err := nn.ParseLayers(strings.TrimSpace(graphExample))
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build([]int{8, 8, 1}, ls, 10, nn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if add := m.Spec.Layers[3]; add.Type != "add" || strings.Join(add.Inputs, ",") != "bn1,stem" {
		t.Errorf("example graph: %+v", m.Spec.Layers)
	}
}

// TestNamedModelsCLI: --model takes the named models (shown resolved in
// the settings; --epochs 0 trains nothing).
func TestNamedModelsCLI(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, want string }{
		{"res8", "model    conv:16:3:1:1,bn,relu,res:16:1,res:32:2,res:64:2,gap,fc:10,comp, int8"},
		{"mobile", "model    conv:16:3:1:1,bn,relu,dw:3:1:1,"},
		{"patent", "model    conv:32:3:1:0,comp,bn,relu,pool:2:2,fc:128,comp,relu,fc:10,comp, int8"},
	} {
		r := runCLI(t, "train", "--data", "mini", "--model", tc.name, "--epochs", "0", "--device", "cpu",
			"--out", filepath.Join(dir, tc.name+".safetensors")).must(t, 0)
		if !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("--model %s: settings do not show %q:\n%s%s", tc.name, tc.want, r.stdout, r.stderr)
		}
	}
	runCLI(t, "train", "--data", "mini", "--model", "res9", "--epochs", "0").must(t, 2).oneLine(t, "--model", "named model: patent, res8, mobile")
	runCLI(t, "train", "--data", "mini", "--model", `[{"type":"relu","inputs":["x"]},{"type":"fc","out":10}]`, "--epochs", "0").must(t, 2).oneLine(t, "--model", `reads "x"`)
}

// graphCLIModel is a small residual network for 16×16 RGB shapes.
const graphCLIModel = "conv:4:3:1:1,bn,relu,res:4,res:8:2,gap,fc:3,comp"

// TestGraphModelCLI trains residual models (short syntax and a JSON graph
// file), resumes one, and runs eval, predict and bench on them.
func TestGraphModelCLI(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "res.safetensors")
	runCLI(t, "train", "--data", "shapes", "--epochs", "1", "--batch", "8", "--device", "cpu", "--plots=false",
		"--model", graphCLIModel, "--out", ckpt).must(t, 0)
	meta, err := nn.ReadMetadata(ckpt)
	if err != nil || meta["format"] != nn.CheckpointFormat || !strings.Contains(meta["model"], `"inputs":["res2.bn2","res2.projbn"]`) {
		t.Fatalf("checkpoint metadata: %v %v", meta["model"], err)
	}
	r := runCLI(t, "train", "--resume", ckpt, "--epochs", "2").must(t, 0)
	if !strings.Contains(r.stdout, "epoch 2 ") {
		t.Errorf("resumed run:\n%s", r.stdout)
	}
	r = runCLI(t, "eval", "--device", "cpu", "--json", ckpt).must(t, 0)
	var ev map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, r.stdout)
	}
	circles := filepath.Join("..", "..", "testdata", "shapes", "circle")
	r = runCLI(t, "predict", "--device", "cpu", ckpt, circles).must(t, 0)
	if n := strings.Count(r.stdout, "\n"); n < 10 {
		t.Errorf("predict printed %d lines", n)
	}
	r = runCLI(t, "bench", "--devices", "cpu", "--data", "shapes", "--model", graphCLIModel, "--steps", "1", "--rounds", "1", "--batch", "8", "--eval-batch", "8", "--json").must(t, 0)
	var res benchResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.StepMillis <= 0 {
		t.Errorf("bench --json: %v %+v", err, res)
	}

	// The same kind of graph written out as a JSON file, with a shortcut
	// around two layers.
	graph := `{"input": [16, 16, 3], "layers": [
		{"type": "conv", "name": "stem", "out": 4, "kernel": 3, "pad": 1},
		{"type": "conv", "out": 4, "kernel": 3, "pad": 1}, {"type": "bn"}, {"type": "relu"},
		{"type": "add", "inputs": ["stem"]},
		{"type": "avgpool", "size": 2}, {"type": "dw", "kernel": 3, "pad": 1}, {"type": "gap"},
		{"type": "fc", "out": 3}, {"type": "comp"}]}`
	spec := filepath.Join(dir, "graph.json")
	if err := os.WriteFile(spec, []byte(graph), 0o644); err != nil {
		t.Fatal(err)
	}
	g := filepath.Join(dir, "graph.safetensors")
	runCLI(t, "train", "--data", "shapes", "--epochs", "1", "--batch", "8", "--device", "cpu", "--plots=false",
		"--model", spec, "--out", g).must(t, 0)
	m, _, err := nn.LoadCheckpoint(g)
	if err != nil {
		t.Fatal(err)
	}
	if add := m.Spec.Layers[4]; add.Name != "add1" || strings.Join(add.Inputs, ",") != "relu1,stem" {
		t.Errorf("loaded graph: %+v", m.Spec.Layers)
	}
	runCLI(t, "eval", "--device", "cpu", g).must(t, 0)
}
