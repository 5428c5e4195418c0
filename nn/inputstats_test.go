package nn

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// TestInputStats checks QuantConfig.InputStats: the quantizers of the
// layers that read the model input (only they) take their scale and zero
// point from statistics (not trainable), a checkpoint keeps the setting,
// the first layer's input gradient is no longer computed (fewer ops per
// step, for a conv and for an fc stem), and on 8-bit image data, where a
// min/max scale represents every pixel exactly and the learned scale's
// gradient is zero, training goes as with the learned quantizer.
func TestInputStats(t *testing.T) {
	for _, spec := range []string{
		"conv:4:3,comp,bn,relu,pool:2,fc:16,comp,relu,fc:10,comp",
		"fc:16,comp,relu,fc:10,comp",
	} {
		layers, err := ParseLayers(spec)
		if err != nil {
			t.Fatal(err)
		}
		build := func(stats bool) *Model {
			m, err := Build([]int{12, 12, 1}, layers, 10, Options{Quant: QuantConfig{Bits: 8, InputStats: stats}, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		ms, ml := build(true), build(false)
		stem := ms.Layers[0].Name()
		for _, q := range quantLayersOf(ms) {
			w, x := q.quantizers()
			if w.mode != QuantLearned {
				t.Errorf("%s: %s.wq mode %v, want learned", spec, q.Name(), w.mode)
			}
			want := QuantLearned
			if q.Name() == stem {
				want = QuantStats
			}
			if x.mode != want || x.Scale.Trainable() != (want == QuantLearned) {
				t.Errorf("%s: %s.xq mode %v (scale trainable %v), want %v", spec, q.Name(), x.mode, x.Scale.Trainable(), want)
			}
		}
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := SaveCheckpoint(path, ms, nil); err != nil {
			t.Fatal(err)
		}
		m2, _, err := LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, x := quantLayersOf(m2)[0].quantizers(); x.mode != QuantStats {
			t.Errorf("%s: after a checkpoint round trip the stem's input quantizer is %v", spec, x.mode)
		}

		// Pixels on the 8-bit grid, k/255.
		x := make([]float32, 16*144)
		lab := make([]int32, 16)
		for i := range x {
			x[i] = float32((i*37)%256) / 255
		}
		for i := range lab {
			lab[i] = int32(i % 10)
		}
		train := func(m *Model) ([]float64, int64) {
			b := ref.New()
			t.Cleanup(func() { b.Close() })
			tr, err := NewTrainer(m, b, TrainConfig{LR: 0.05, Momentum: 0.9, Threshold: 1})
			if err != nil {
				t.Fatal(err)
			}
			var losses []float64
			var ops int64
			for i := range 3 {
				b.ResetWork()
				st, err := tr.TrainStep(x, lab)
				if err != nil {
					t.Fatal(err)
				}
				if i == 2 {
					ops = backend.WorkCounter(b).ReadWork().Ops
				}
				losses = append(losses, st.Loss)
			}
			if err := m.SyncBuffers(); err != nil {
				t.Fatal(err)
			}
			return losses, ops
		}
		ls, opsS := train(ms)
		ll, opsL := train(ml)
		if opsS >= opsL {
			t.Errorf("%s: %d ops per step with the image's scale from statistics, %d learned: want fewer", spec, opsS, opsL)
		}
		for i := range ls {
			if d := math.Abs(ls[i] - ll[i]); !(d <= 1e-4*math.Abs(ll[i])) {
				t.Errorf("%s: step %d: loss %v with the image's scale from statistics, %v learned", spec, i+1, ls[i], ll[i])
			}
		}
	}
}

// quantLayersOf returns m's quantized layers in order.
func quantLayersOf(m *Model) []quantLayer {
	var qs []quantLayer
	for _, l := range m.Layers {
		if q, ok := l.(quantLayer); ok && q.core().wq != nil {
			qs = append(qs, q)
		}
	}
	return qs
}
