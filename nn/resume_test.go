package nn

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn/ref"
)

// resumeSetup is a small run: 160 mini images, batch 32 (5 batches per
// epoch), the reference network shape with few channels.
func resumeSetup(t *testing.T, opts Options) (*Model, setBatcher, *data.Order) {
	t.Helper()
	train, _, norm := loadMini(t)
	idx := make([]int, 160)
	for i := range idx {
		idx[i] = i
	}
	train = train.Subset(idx)
	layers, err := ParseLayers("conv:4:3,comp,bn,relu,pool:2,fc:16,comp,relu,fc:10,comp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build([]int{28, 28, 1}, layers, 10, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, setBatcher{train, norm}, data.NewOrder(train.N, opts.Seed)
}

var resumeCfg = TrainConfig{LR: 0.01, Momentum: 0.9, WeightDecay: 1e-4, Threshold: 1, CompL2: 1e-4}

// checkpointBytes saves m and returns the file's bytes (parameters,
// buffers, momentum and quantizer state in one comparable blob).
func checkpointBytes(t *testing.T, m *Model, meta map[string]string) []byte {
	t.Helper()
	if err := m.SyncBuffers(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "c.safetensors")
	if err := SaveCheckpoint(p, m, meta); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResumeBitIdentical trains 3 epochs straight through, and again with
// an interruption in the middle of epoch 2 (save, load into a fresh model
// on a fresh backend, continue from the saved position). Both runs must end
// with bit-identical parameters, momentum, buffers and quantizer state, and
// report the same statistics for the interrupted epoch.
func TestResumeBitIdentical(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"int8-learned", Options{Quant: QuantConfig{Bits: 8}, Seed: 3}},
		{"int4-stats", Options{Quant: QuantConfig{Bits: 4, Mode: QuantStats}, Seed: 5}},
		{"float", Options{Quant: QuantConfig{Float: true}, Seed: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const epochs, batch = 3, 32
			// Uninterrupted.
			m, ds, order := resumeSetup(t, tc.opts)
			tr, err := NewTrainer(m, ref.New(), resumeCfg)
			if err != nil {
				t.Fatal(err)
			}
			var want []EpochStats
			for e := 0; e < epochs; e++ {
				var p EpochProgress
				if _, err := tr.EpochRange(ds, order.Epoch(e), batch, 0, &p, nil, nil); err != nil {
					t.Fatal(err)
				}
				want = append(want, p.Stats())
			}
			wantBytes := checkpointBytes(t, m, map[string]string{"step": "x"})

			// Interrupted after 2 batches of epoch 2 (index 1).
			m2, ds, order := resumeSetup(t, tc.opts)
			tr2, err := NewTrainer(m2, ref.New(), resumeCfg)
			if err != nil {
				t.Fatal(err)
			}
			var p EpochProgress
			if _, err := tr2.EpochRange(ds, order.Epoch(0), batch, 0, &p, nil, nil); err != nil {
				t.Fatal(err)
			}
			p = EpochProgress{}
			steps := 0
			done, err := tr2.EpochRange(ds, order.Epoch(1), batch, 0, &p, nil, func() bool { steps++; return steps == 2 })
			if err != nil {
				t.Fatal(err)
			}
			if done != 2 {
				t.Fatalf("stopped after %d batches, want 2", done)
			}
			st := TrainState{RunID: "r", Seed: tc.opts.Seed, Epoch: 1, Batch: done, BatchSize: batch, Step: tr2.Step, Epochs: epochs, Config: resumeCfg, Partial: p}
			meta := map[string]string{}
			if err := st.Put(meta); err != nil {
				t.Fatal(err)
			}
			if err := m2.SyncBuffers(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "mid.safetensors")
			if err := SaveCheckpoint(path, m2, meta); err != nil {
				t.Fatal(err)
			}
			tr2.Close()

			// Resume in a fresh model and backend.
			m3, meta3, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			st3, err := GetTrainState(meta3)
			if err != nil {
				t.Fatal(err)
			}
			tr3, err := NewTrainer(m3, ref.New(), st3.Config)
			if err != nil {
				t.Fatal(err)
			}
			tr3.Step = st3.Step
			p3 := st3.Partial
			if _, err := tr3.EpochRange(ds, order.Epoch(st3.Epoch), st3.BatchSize, st3.Batch, &p3, nil, nil); err != nil {
				t.Fatal(err)
			}
			got := p3.Stats()
			if got.Loss != want[1].Loss || got.Accuracy != want[1].Accuracy || got.Steps != want[1].Steps || got.Images != want[1].Images {
				t.Errorf("resumed epoch 2 stats %+v, uninterrupted %+v", got, want[1])
			}
			p3 = EpochProgress{}
			if _, err := tr3.EpochRange(ds, order.Epoch(2), batch, 0, &p3, nil, nil); err != nil {
				t.Fatal(err)
			}
			if tr3.Step != tr.Step {
				t.Errorf("resumed run ends at step %d, uninterrupted at %d", tr3.Step, tr.Step)
			}
			gotBytes := checkpointBytes(t, m3, map[string]string{"step": "x"})
			if !bytes.Equal(gotBytes, wantBytes) {
				diffParams(t, m, m3)
				t.Fatal("resumed run's checkpoint differs from the uninterrupted run's")
			}
		})
	}
}

func diffParams(t *testing.T, a, b *Model) {
	t.Helper()
	pa, pb := a.Params(), b.Params()
	for i := range pa {
		for j := range pa[i].Data {
			if math.Float32bits(pa[i].Data[j]) != math.Float32bits(pb[i].Data[j]) {
				t.Errorf("%s[%d]: %v vs %v", pa[i].Name, j, pa[i].Data[j], pb[i].Data[j])
				break
			}
		}
	}
}

// TestResumeDiffersWithoutState guards the test above: resuming without
// skipping the batches already done (or with the wrong step count) must
// give different parameters, or the comparison proves nothing.
func TestResumeDiffersWithoutState(t *testing.T) {
	opts := Options{Quant: QuantConfig{Bits: 8}, Seed: 3}
	m, ds, order := resumeSetup(t, opts)
	tr, _ := NewTrainer(m, ref.New(), resumeCfg)
	var p EpochProgress
	if _, err := tr.EpochRange(ds, order.Epoch(0), 32, 0, &p, nil, nil); err != nil {
		t.Fatal(err)
	}
	want := checkpointBytes(t, m, nil)

	m2, ds, order := resumeSetup(t, opts)
	tr2, _ := NewTrainer(m2, ref.New(), resumeCfg)
	if _, err := tr2.EpochRange(ds, order.Epoch(0), 32, 0, &p, nil, func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	// Restart the epoch from batch 0 instead of 1: one batch twice.
	if _, err := tr2.EpochRange(ds, order.Epoch(0), 32, 0, &p, nil, nil); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(checkpointBytes(t, m2, nil), want) {
		t.Fatal("training a batch twice left the same parameters; the resume test cannot detect a wrong position")
	}
}

func TestTrainStateErrors(t *testing.T) {
	if _, err := GetTrainState(map[string]string{}); !errors.Is(err, ErrNoTrainState) {
		t.Errorf("missing state: %v, want ErrNoTrainState", err)
	}
	if _, err := GetTrainState(map[string]string{TrainStateKey: "{"}); err == nil {
		t.Error("bad JSON accepted")
	}
	if _, err := GetTrainState(map[string]string{TrainStateKey: `{"epoch":-1,"batch_size":4}`}); err == nil {
		t.Error("negative epoch accepted")
	}
	st := &TrainState{RunID: "x", Seed: 9, Epoch: 2, Batch: 3, BatchSize: 8, Step: 40, Config: resumeCfg, Flags: map[string]string{"lr": "0.01"}, Partial: EpochProgress{LossSum: 0.1 + 0.2, Images: 24}}
	meta := map[string]string{}
	if err := st.Put(meta); err != nil {
		t.Fatal(err)
	}
	got, err := GetTrainState(meta)
	if err != nil {
		t.Fatal(err)
	}
	if got.Partial.LossSum != st.Partial.LossSum || got.Config != st.Config || got.Step != 40 || got.Flags["lr"] != "0.01" {
		t.Errorf("round trip: %+v, want %+v", got, st)
	}
}

func TestCheckFiniteAndReadMetadata(t *testing.T) {
	m, _, _ := resumeSetup(t, Options{Quant: QuantConfig{Bits: 8}, Seed: 1})
	if err := CheckFinite(m); err != nil {
		t.Fatal(err)
	}
	p := m.Params()[0]
	p.Data[3] = float32(math.NaN())
	if err := CheckFinite(m); err == nil || !bytes.Contains([]byte(err.Error()), []byte(p.Name+"[3]")) {
		t.Errorf("CheckFinite = %v, want an error naming %s[3]", err, p.Name)
	}
	p.Data[3] = 0
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveCheckpoint(path, m, map[string]string{"hello": "world"}); err != nil {
		t.Fatal(err)
	}
	meta, err := ReadMetadata(path)
	if err != nil || meta["hello"] != "world" || meta["format"] != CheckpointFormat {
		t.Fatalf("ReadMetadata = %v, %v", meta, err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("not a checkpoint at all"), 0o644)
	if _, err := ReadMetadata(bad); !errors.Is(err, ErrNotCheckpoint) {
		t.Errorf("ReadMetadata(garbage) = %v, want ErrNotCheckpoint", err)
	}
}
