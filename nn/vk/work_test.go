package vk_test

import (
	"testing"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
	"github.com/vktrain/vktrain/nn/vk"
)

// workBackends returns a reference and a Vulkan backend, both
// backend.WorkCounters, closed at the end of the test.
func workBackends(t *testing.T) []backend.Backend {
	t.Helper()
	vb, err := vk.New(gputest.Open(t), vk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vb.Close() })
	rb := ref.New()
	t.Cleanup(func() { rb.Close() })
	return []backend.Backend{rb, vb}
}

// TestWorkOfOneOp runs one ReLU on [4 5] f32: its declared traffic is 20
// elements read and 20 written, 4 bytes each, 160 bytes.
func TestWorkOfOneOp(t *testing.T) {
	for _, b := range workBackends(t) {
		wc, ok := b.(backend.WorkCounter)
		if !ok {
			t.Fatalf("%s is not a backend.WorkCounter", b.Name())
		}
		x, err := b.New(backend.F32, 4, 5)
		if err != nil {
			t.Fatal(err)
		}
		y, err := b.New(backend.F32, 4, 5)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.WriteF32(x, make([]float32, 20)); err != nil {
			t.Fatal(err)
		}
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		wc.ResetWork()
		b.ReLU(y, x)
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		w := wc.ReadWork()
		if w.Ops != 1 || w.KernelBytes != 160 {
			t.Errorf("%s: %d ops, %d kernel bytes; want 1 op, 160 bytes", b.Name(), w.Ops, w.KernelBytes)
		}
		if !w.Queue {
			if w.Dispatches != 0 || w.Barriers != 0 || w.Submits != 0 || w.HostWaits != 0 {
				t.Errorf("%s without a queue: %+v", b.Name(), w)
			}
			continue
		}
		// One dispatch (or a few), between a barrier at the start and
		// one to the host at the end, in one submission waited for once.
		if w.Dispatches < 1 || w.Dispatches > 4 || w.Barriers < w.Dispatches+1 || w.Submits != 1 || w.HostWaits != 1 {
			t.Errorf("%s: %+v, want 1-4 dispatches, more barriers, 1 submission, 1 host wait", b.Name(), w)
		}
		wc.ResetWork()
		if w := wc.ReadWork(); w != (backend.Work{Queue: true}) {
			t.Errorf("%s after ResetWork: %+v, want nothing", b.Name(), w)
		}
	}
}

// TestWorkOfATrainingStep counts one training step of a small network
// after warm-up: Vulkan runs no more op calls and declared traffic than
// the reference, and at most a few fewer (as a backend.Recomputer it runs
// CompBNGradFromX, which moves less than CompBNGrad and also sums the
// conv's bias gradient, and CompBNPoolQuant for CompBNTrain and
// MaxPoolQuant); its command counts are non-zero and consistent with them.
func TestWorkOfATrainingStep(t *testing.T) {
	train, _, err := data.Resolve("mini")
	if err != nil {
		t.Fatal(err)
	}
	norm := data.ComputeNorm(train)
	layers, err := nn.ParseLayers("conv:4:3,comp,bn,relu,pool:2,fc:16,comp,relu,fc:10,comp")
	if err != nil {
		t.Fatal(err)
	}
	const batch = 8
	x := make([]float32, batch*28*28)
	lab := make([]int32, batch)
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i
	}
	if err := train.Batch(x, lab, idx, norm); err != nil {
		t.Fatal(err)
	}
	var works []backend.Work
	for _, b := range workBackends(t) {
		m, err := nn.Build([]int{28, 28, 1}, layers, 10, nn.Options{Quant: nn.QuantConfig{Bits: 8}, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := nn.NewTrainer(m, b, nn.TrainConfig{LR: 0.01, Momentum: 0.9, Threshold: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		for range 3 {
			if _, err := tr.TrainStep(x, lab); err != nil {
				t.Fatal(err)
			}
		}
		wc := b.(backend.WorkCounter)
		wc.ResetWork()
		if _, err := tr.TrainStep(x, lab); err != nil {
			t.Fatal(err)
		}
		w := wc.ReadWork()
		t.Logf("%s: %+v", b.Name(), w)
		// The network's layers each run several ops forward and backward;
		// the input alone (8 images of 784 floats) is 25 kB.
		if w.Ops < 20 || w.KernelBytes < 8*784*4 {
			t.Errorf("%s: %d ops, %d kernel bytes in a step; want at least 20 ops and %d bytes", b.Name(), w.Ops, w.KernelBytes, 8*784*4)
		}
		if w.Queue {
			if w.Dispatches < w.Ops/2 || w.Dispatches > 8*w.Ops || w.Barriers < w.Dispatches ||
				w.Submits < 1 || w.Submits > w.Dispatches || w.HostWaits < 1 || w.HostWaits > w.Submits+2 {
				t.Errorf("%s: %+v: implausible for %d ops", b.Name(), w, w.Ops)
			}
		} else if w.Dispatches != 0 || w.Barriers != 0 || w.Submits != 0 || w.HostWaits != 0 {
			t.Errorf("%s without a queue: %+v", b.Name(), w)
		}
		works = append(works, w)
	}
	c, v := works[0], works[1]
	if v.Ops > c.Ops || v.Ops < c.Ops-4 || v.KernelBytes > c.KernelBytes || v.KernelBytes < c.KernelBytes/2 {
		t.Errorf("the backends ran work too different: %d ops, %d bytes (cpu) and %d ops, %d bytes (vulkan)",
			c.Ops, c.KernelBytes, v.Ops, v.KernelBytes)
	}
}
