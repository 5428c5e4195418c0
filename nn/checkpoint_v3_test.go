package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/nn/ref"
)

// v2Logits are the inference logits of testdata/v2-graph.safetensors (a
// graph with a residual block, trained 5 steps and saved by the format-2
// vktrain) on v1Batch, computed by that vktrain.
var v2Logits = []float32{1.3309616, 0.26799247, -0.44393206, 0.013442812, 0.3742042, -0.44393408, 0.52680093, 0.3670759, -0.4439323, 0.013442812, 0.3742042, -0.44393408}

// v3Model is a small quantized model with every kind of setting a
// checkpoint must describe: batch norm, compensation, per-channel weight
// and per-tensor input quantizers.
func v3Model(t *testing.T) *Model {
	t.Helper()
	m, err := Build([]int{6, 6, 1}, mustLayers(t, "conv:4:3:1:1,comp,bn,relu,pool:2,fc:3,comp"), 3, Options{Seed: 5, Quant: QuantConfig{Bits: 4}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stFile is a checkpoint split into its header and data section.
type stFile struct {
	meta    map[string]string
	entries map[string]json.RawMessage
	data    []byte
}

func readST(t *testing.T, path string) stFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	meta, raw, hlen, err := readHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return stFile{meta, raw, b[8+hlen:]}
}

// offsets returns the byte range of tensor name in the data section.
func (f stFile) offsets(t *testing.T, name string) [2]int64 {
	t.Helper()
	var e stEntry
	if err := json.Unmarshal(f.entries[name], &e); err != nil {
		t.Fatalf("tensor %s: %v", name, err)
	}
	return e.Offsets
}

func (f stFile) write(t *testing.T, path string) {
	t.Helper()
	h := map[string]any{"__metadata__": f.meta}
	for k, v := range f.entries {
		h[k] = v
	}
	hj, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(hj)))
	b.Write(hj)
	b.Write(f.data)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckpointDescribesItself: a format-3 checkpoint records the
// batch-norm epsilon and momentum, the compensation momentum, every
// quantizer's code range and the rounding rule; loading applies the
// recorded settings and refuses code ranges or a rule the model does not
// have.
func TestCheckpointDescribesItself(t *testing.T) {
	m := v3Model(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := SaveCheckpoint(path, m, nil); err != nil {
		t.Fatal(err)
	}
	f := readST(t, path)
	if f.meta["format"] != "vktrain/3" {
		t.Fatalf("format %q", f.meta["format"])
	}
	var ls map[string]LayerSettings
	if err := json.Unmarshal([]byte(f.meta[LayerSettingsKey]), &ls); err != nil {
		t.Fatalf("%s: %v", LayerSettingsKey, err)
	}
	if s := ls["bn1"]; s.Eps == nil || *s.Eps != 1e-5 || s.Momentum != 0.1 {
		t.Errorf("bn1 settings %+v", s)
	}
	if s := ls["comp1"]; s.Eps != nil || s.Momentum != 0.1 {
		t.Errorf("comp1 settings %+v", s)
	}
	var qc QuantCodes
	if err := json.Unmarshal([]byte(f.meta[QuantCodesKey]), &qc); err != nil {
		t.Fatalf("%s: %v", QuantCodesKey, err)
	}
	if qc.Rule != QuantRule || !strings.Contains(qc.Rule, "x*fl32(1/scale)") || !strings.Contains(qc.Rule, "half_away_from_zero") {
		t.Errorf("rule %q", qc.Rule)
	}
	want := map[string]QuantRange{
		"conv1.wq": {Of: "conv1.weight", Bits: 4, Signed: true, QMin: -7, QMax: 7, Granularity: "per_channel", Channels: 4, Symmetric: true},
		"conv1.xq": {Of: "input of conv1", Bits: 4, QMin: 0, QMax: 15, Granularity: "per_tensor", Channels: 1},
		"fc1.wq":   {Of: "fc1.weight", Bits: 4, Signed: true, QMin: -7, QMax: 7, Granularity: "per_channel", Channels: 3, Symmetric: true},
		"fc1.xq":   {Of: "input of fc1", Bits: 4, QMin: 0, QMax: 15, Granularity: "per_tensor", Channels: 1},
	}
	if len(qc.Quantizers) != len(want) {
		t.Errorf("quantizers %+v", qc.Quantizers)
	}
	for k, w := range want {
		if qc.Quantizers[k] != w {
			t.Errorf("%s: %+v, want %+v", k, qc.Quantizers[k], w)
		}
	}

	// The recorded settings are the ones the loaded model uses.
	ls["bn1"] = LayerSettings{Eps: ptr(float32(1e-3)), Momentum: 0.25}
	ls["comp1"] = LayerSettings{Momentum: 0.5}
	lj, _ := json.Marshal(ls)
	f.meta[LayerSettingsKey] = string(lj)
	changed := filepath.Join(dir, "changed.safetensors")
	f.write(t, changed)
	m2, _, err := LoadCheckpoint(changed)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m2.Layers {
		switch l := l.(type) {
		case *BatchNorm:
			if l.Eps != 1e-3 || l.Momentum != 0.25 {
				t.Errorf("%s: eps %v momentum %v, the file says 1e-3 and 0.25", l.Name(), l.Eps, l.Momentum)
			}
		case *Compensation:
			if want := map[string]float32{"comp1": 0.5, "comp2": 0.1}[l.Name()]; l.Momentum != want {
				t.Errorf("%s: momentum %v, the file says %v", l.Name(), l.Momentum, want)
			}
		}
	}

	// Settings that contradict the model, or are missing, are refused.
	for _, tc := range []struct {
		name, want string
		edit       func(meta map[string]string)
	}{
		{"other-range", "conv1.wq", func(meta map[string]string) {
			meta[QuantCodesKey] = strings.Replace(meta[QuantCodesKey], `"qmin":-7`, `"qmin":-8`, 1)
		}},
		{"other-rule", "quantization rule", func(meta map[string]string) {
			meta[QuantCodesKey] = strings.Replace(meta[QuantCodesKey], "x*fl32(1/scale)", "x/scale", 1)
		}},
		{"no-codes", QuantCodesKey, func(meta map[string]string) { delete(meta, QuantCodesKey) }},
		{"no-settings", LayerSettingsKey, func(meta map[string]string) { delete(meta, LayerSettingsKey) }},
		{"bad-eps", "epsilon", func(meta map[string]string) {
			meta[LayerSettingsKey] = strings.Replace(meta[LayerSettingsKey], `"eps":0.001`, `"eps":0`, 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := readST(t, changed)
			tc.edit(g.meta)
			p := filepath.Join(t.TempDir(), "c.safetensors")
			g.write(t, p)
			if _, _, err := LoadCheckpoint(p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadCheckpoint = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestLoadV2Checkpoint: a graph checkpoint of format 2 (no checksums, no
// settings) still loads and computes what the format-2 vktrain computed;
// saved again it is format 3 and computes the same.
func TestLoadV2Checkpoint(t *testing.T) {
	path := filepath.Join("testdata", "v2-graph.safetensors")
	predict := func(m *Model) []float32 {
		t.Helper()
		tr, err := NewTrainer(m, ref.New(), TrainConfig{LR: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Model.Backend().Close()
		logits := make([]float32, 12)
		if err := tr.Predict(v1Batch(), 4, logits); err != nil {
			t.Fatal(err)
		}
		return logits
	}
	m, meta, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "vktrain/2" || meta[ChecksumKey] != "" {
		t.Fatalf("fixture: format %q, checksums %q", meta["format"], meta[ChecksumKey])
	}
	if got := predict(m); !slices.Equal(got, v2Logits) {
		t.Errorf("logits %v, the format-2 vktrain gave %v", got, v2Logits)
	}
	p3 := filepath.Join(t.TempDir(), "v3.safetensors")
	if err := SaveCheckpoint(p3, m, meta); err != nil {
		t.Fatal(err)
	}
	m3, meta3, err := LoadCheckpoint(p3)
	if err != nil || meta3["format"] != CheckpointFormat || meta3[ChecksumKey] == "" {
		t.Fatalf("re-saved: format %q, %v", meta3["format"], err)
	}
	if got := predict(m3); !slices.Equal(got, v2Logits) {
		t.Errorf("re-saved logits %v, want %v", got, v2Logits)
	}
}

// TestCheckpointChecksums: a flipped data byte is refused by LoadCheckpoint
// and ReadCheckpoint with ErrDamaged naming the tensor; a format-3 file
// whose checksums were removed or do not cover a tensor is refused too.
func TestCheckpointChecksums(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := SaveCheckpoint(path, v3Model(t), nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"conv1.weight", "fc1.bias", "bn1.running_var"} {
		t.Run(name, func(t *testing.T) {
			f := readST(t, path)
			off := f.offsets(t, name)
			f.data = slices.Clone(f.data)
			f.data[off[0]+1] ^= 0x10 // a low mantissa bit: still finite
			p := filepath.Join(t.TempDir(), "flipped.safetensors")
			f.write(t, p)
			_, _, err := LoadCheckpoint(p)
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), `"`+name+`"`) {
				t.Errorf("LoadCheckpoint = %v, want ErrDamaged naming %s", err, name)
			}
			b, _ := os.ReadFile(p)
			if _, _, _, err := ReadCheckpoint(bytes.NewReader(b)); !errors.Is(err, ErrDamaged) {
				t.Errorf("ReadCheckpoint = %v, want ErrDamaged", err)
			}
		})
	}
	for _, tc := range []struct {
		name string
		edit func(meta map[string]string)
	}{
		{"no-checksums", func(meta map[string]string) { delete(meta, ChecksumKey) }},
		{"tensor-not-covered", func(meta map[string]string) {
			var sums map[string]string
			json.Unmarshal([]byte(meta[ChecksumKey]), &sums)
			delete(sums, "fc1.weight")
			b, _ := json.Marshal(sums)
			meta[ChecksumKey] = string(b)
		}},
		{"not-json", func(meta map[string]string) { meta[ChecksumKey] = "{" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := readST(t, path)
			tc.edit(f.meta)
			p := filepath.Join(t.TempDir(), "c.safetensors")
			f.write(t, p)
			if _, _, err := LoadCheckpoint(p); !errors.Is(err, ErrDamaged) {
				t.Errorf("LoadCheckpoint = %v, want ErrDamaged", err)
			}
		})
	}
}

// TestCheckpointNonFinite: NaN or infinite parameters are refused on load
// with the tensor's name and the count, whether the file's checksums match
// (saved that way) or it has none (format 2).
func TestCheckpointNonFinite(t *testing.T) {
	m := v3Model(t)
	var w *Param
	for _, p := range m.Params() {
		if p.Name == "conv1.weight" {
			w = p
		}
	}
	for i := 0; i < 16; i++ {
		w.Data[i*2] = float32(math.NaN())
	}
	w.Data[1] = float32(math.Inf(-1))
	path := filepath.Join(t.TempDir(), "nan.safetensors")
	if err := SaveCheckpoint(path, m, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadCheckpoint(path)
	want := "conv1.weight: 17 of 36 values are NaN/Inf"
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadCheckpoint = %v, want ErrNonFinite with %q", err, want)
	}

	// A format-2 file (no checksums) with NaN bytes written into it.
	f := readST(t, filepath.Join("testdata", "v2-graph.safetensors"))
	off := f.offsets(t, "fc2.bias")
	f.data = slices.Clone(f.data)
	binary.LittleEndian.PutUint32(f.data[off[0]+4:], math.Float32bits(float32(math.Inf(1))))
	off = f.offsets(t, "optim.conv1.weight.momentum")
	binary.LittleEndian.PutUint32(f.data[off[0]:], 0x7fc00001) // a NaN
	p := filepath.Join(t.TempDir(), "v2-inf.safetensors")
	f.write(t, p)
	_, _, err = LoadCheckpoint(p)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "optim.conv1.weight.momentum: 1 of 36 values are NaN/Inf (and 1 more tensors)") {
		t.Errorf("LoadCheckpoint = %v, want the momentum named first and one more tensor", err)
	}
}
