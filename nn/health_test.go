package nn

import (
	"math"
	"testing"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn/ref"
	"github.com/vktrain/vktrain/quant"
)

// TestNoScaleCollapse trains the reference network at 8 bits on the mini
// MNIST subset for the steps in which the linear LSQ update used to drive
// weight scales to ScaleFloor (conv1 lost 2 of 32 channels by step 50):
// no learned scale may sit at the floor and no weight channel may have
// every code saturated.
func TestNoScaleCollapse(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 60 steps")
	}
	train, _, err := data.Resolve("mini")
	if err != nil {
		t.Fatal(err)
	}
	norm := data.ComputeNorm(train)
	layers, err := ParseLayers(DefaultSpec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build([]int{train.H, train.W, train.C}, layers, train.Classes, Options{Quant: QuantConfig{Bits: 8}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := ref.New()
	defer b.Close()
	tr, err := NewTrainer(m, b, TrainConfig{LR: 0.01, Momentum: 0.9, Threshold: 1, CompL2: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	const batch, steps = 64, 60
	x := make([]float32, batch*train.ImageSize())
	lab := make([]int32, batch)
	idx := make([]int, batch)
	order := data.NewOrder(train.N, 1)
	done := 0
	for ep := 0; done < steps; ep++ {
		o := order.Epoch(ep)
		for i := 0; i+batch <= len(o) && done < steps; i += batch {
			copy(idx, o[i:i+batch])
			if err := train.Batch(x, lab, idx, norm); err != nil {
				t.Fatal(err)
			}
			if _, err := tr.TrainStep(x, lab); err != nil {
				t.Fatal(err)
			}
			done++
		}
	}
	h := m.QuantHealth()
	if h.Scales == 0 {
		t.Fatalf("no scales inspected: %+v", h)
	}
	if h.Channels != 32+128+10 {
		t.Fatalf("inspected %d weight channels, want 170", h.Channels)
	}
	if h.Collapsed() != 0 {
		t.Fatalf("after %d steps: %s", steps, h)
	}
}

// TestQuantHealthReports checks the detector itself on planted faults: a
// scale at the floor, and a scale so small that every code of its channel
// saturates.
func TestQuantHealthReports(t *testing.T) {
	layers, err := ParseLayers("conv:4:3,relu,fc:3")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build([]int{6, 6, 1}, layers, 3, Options{Quant: QuantConfig{Bits: 8}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	conv := m.Layers[0].(quantLayer).core()
	if err := conv.wq.calibrateWeights(conv.W.Data, conv.wq.method); err != nil {
		t.Fatal(err)
	}
	fc := m.Layers[len(m.Layers)-1].(quantLayer).core()
	if err := fc.wq.calibrateWeights(fc.W.Data, fc.wq.method); err != nil {
		t.Fatal(err)
	}
	if h := m.QuantHealth(); h.Collapsed() != 0 || h.Channels != 7 {
		t.Fatalf("healthy model: %s (channels %d)", h, h.Channels)
	}
	conv.wq.Scale.Data[1] = ScaleFloor
	fc.wq.Scale.Data[2] = 1e-6
	h := m.QuantHealth()
	if h.Collapsed() != 2 || len(h.AtFloor) != 1 || len(h.Saturated) != 2 {
		t.Fatalf("planted 2 collapsed scales, got %s", h)
	}
	if h.AtFloor[0] != "conv1.wq.scale[1]" || h.Saturated[1] != "fc1.wq.scale[2]" {
		t.Fatalf("names: %q %q", h.AtFloor, h.Saturated)
	}
}

// TestSGDScaleLogDomain checks that scales move multiplicatively and with
// momentum in log space, and never reach zero however large the step.
func TestSGDScaleLogDomain(t *testing.T) {
	s := newParam("s", KindQuantScale, 2)
	s.Data[0], s.Data[1] = 0.01, 0.01
	s.Grad[0], s.Grad[1] = 1, 1e6
	SGD{LR: 0.5, Momentum: 0.9}.Step([]*Param{s})
	if want := 0.01 * math.Exp(-0.5); math.Abs(float64(s.Data[0])-want) > 1e-9 {
		t.Fatalf("s = %v, want %v", s.Data[0], want)
	}
	if s.Data[1] != ScaleFloor {
		t.Fatalf("huge step: s = %v, want the floor %v", s.Data[1], ScaleFloor)
	}
	s.Grad[0] = 0
	SGD{LR: 0.5, Momentum: 0.9}.Step([]*Param{s})
	if want := 0.01 * math.Exp(-0.5-0.45); math.Abs(float64(s.Data[0])-want) > 1e-9 {
		t.Fatalf("with momentum: s = %v, want %v", s.Data[0], want)
	}
}

// TestScaleLowerBound checks that after a step no weight scale is below
// its channel's mean |w| / qmax, and that momentum pushing it down is
// dropped there.
func TestScaleLowerBound(t *testing.T) {
	q := newQuantizer("w", quant.Weights(8), QuantLearned, quant.MethodMinMax, 2, true, 0.9)
	w := []float32{0.5, -0.5, 1, -1, 0.01, 0.02, -0.03, 0.04}
	q.weightRefScales(w)
	q.Scale.Data[0], q.Scale.Data[1] = 1e-6, 1e-3
	q.Scale.Mom = []float32{5, 5}
	q.applyFloor()
	if want := float32(0.75 / 127); q.Scale.Data[0] != want || q.Scale.Mom[0] != 0 {
		t.Fatalf("channel 0: s %v mom %v, want %v and 0", q.Scale.Data[0], q.Scale.Mom[0], want)
	}
	if q.Scale.Data[1] != 1e-3 || q.Scale.Mom[1] != 5 {
		t.Fatalf("channel 1 above its bound was changed: s %v mom %v", q.Scale.Data[1], q.Scale.Mom[1])
	}
	if channelSaturated(w[:4], q.Scale.Data[0], 0, -127, 127) {
		t.Fatal("a channel at its lower bound is saturated")
	}
	if !channelSaturated(w[:4], 0.5/200, 0, -127, 127) {
		t.Fatal("a channel with every weight beyond the range is not reported")
	}
}
