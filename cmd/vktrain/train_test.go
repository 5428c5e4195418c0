package main

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn"
)

// TestResumeWithAugmentation interrupts a run with --crop-pad and --flip
// inside epoch 1 and inside epoch 2, resumes it without repeating the
// flags, and checks that it ends bit-identical to an uninterrupted
// augmented run, that the flags were saved and restored, and that the
// augmentation did change the training.
func TestResumeWithAugmentation(t *testing.T) {
	base := t.TempDir()
	aug := []string{"--crop-pad", "3", "--flip"}
	want := filepath.Join(base, "straight")
	r := runCLI(t, trainArgs(want, aug...)...).must(t, 0)
	if !strings.Contains(r.stdout, "augment: random crop after zero padding by 3 + random horizontal flip") {
		t.Errorf("the run header does not mention the augmentation:\n%s", r.stdout)
	}

	dir := filepath.Join(base, "resumed")
	ckpt := filepath.Join(dir, "model.safetensors")
	runWith(t, interruptAt(4), trainArgs(dir, aug...)...).must(t, 130)
	meta, _ := tensors(t, ckpt)
	st, err := nn.GetTrainState(meta)
	if err != nil {
		t.Fatal(err)
	}
	if st.Flags["crop-pad"] != "3" || st.Flags["flip"] != "true" {
		t.Errorf("saved flags crop-pad=%q flip=%q, want 3 and true", st.Flags["crop-pad"], st.Flags["flip"])
	}
	runWith(t, interruptAt(9), "train", "--resume", ckpt).must(t, 130)
	r = runCLI(t, "train", "--resume", ckpt).must(t, 0)
	if !strings.Contains(r.stdout, "augment: random crop") {
		t.Errorf("the resumed run lost the augmentation:\n%s", r.stdout)
	}
	sameTensors(t, filepath.Join(want, "model.safetensors"), ckpt)

	// Without augmentation the same run ends elsewhere.
	plain := filepath.Join(base, "plain")
	r = runCLI(t, trainArgs(plain)...).must(t, 0)
	if strings.Contains(r.stdout, "augment") {
		t.Errorf("a run without augmentation mentions it:\n%s", r.stdout)
	}
	_, ta := tensors(t, filepath.Join(want, "model.safetensors"))
	_, tp := tensors(t, filepath.Join(plain, "model.safetensors"))
	if slices.EqualFunc(ta["fc1.weight"], tp["fc1.weight"], func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
		t.Error("--crop-pad 3 --flip trained exactly as no augmentation")
	}

	// A resumed run keeps its augmentation unless forced.
	runCLI(t, "train", "--resume", ckpt, "--epochs", "3", "--flip=false").must(t, 2).oneLine(t, "--flip false differs", "--force")
}

// TestAugRand: the augmentation stream is a pure function of (seed, epoch,
// batch) and differs when any of them does.
func TestAugRand(t *testing.T) {
	draw := func(seed uint64, epoch, batch int) []uint64 {
		r := augRand(seed, epoch, batch)
		v := make([]uint64, 4)
		for i := range v {
			v[i] = r.Uint64()
		}
		return v
	}
	a := draw(1, 2, 3)
	if !slices.Equal(a, draw(1, 2, 3)) {
		t.Fatal("augRand is not reproducible")
	}
	for _, o := range [][]uint64{draw(2, 2, 3), draw(1, 3, 3), draw(1, 2, 4), draw(1, 3, 2)} {
		if slices.Equal(a, o) {
			t.Errorf("augRand(1, 2, 3) repeats another position's stream %v", o)
		}
	}
}

// TestAugBatcherPosition: a batch's augmentation depends on its place in
// the epoch, not on the batches drawn before it, so a run resumed at
// batch k draws batch k as an uninterrupted one does.
func TestAugBatcherPosition(t *testing.T) {
	train, _, err := data.Resolve("mini")
	if err != nil {
		t.Fatal(err)
	}
	train = train.Subset([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	order := data.NewOrder(train.N, 5).Epoch(1)
	sb := setBatcher{s: train, norm: data.ComputeNorm(train)}
	aug := data.Augment{Pad: 4, Flip: true}
	per := train.ImageSize()
	batch := func(b *augBatcher, k int) []float32 {
		idx := order[k*4 : min(k*4+4, len(order))]
		dst := make([]float32, len(idx)*per)
		if err := b.Batch(dst, make([]int32, len(idx)), idx); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	straight := newAugBatcher(sb, aug, 5, 1, 4, order)
	b0, b1, b2 := batch(straight, 0), batch(straight, 1), batch(straight, 2)
	resumed := newAugBatcher(sb, aug, 5, 1, 4, order)
	if !slices.Equal(batch(resumed, 2), b2) || !slices.Equal(batch(resumed, 1), b1) {
		t.Error("a batch drawn out of order differs")
	}
	plain := make([]float32, 4*per)
	if err := sb.Batch(plain, nil, order[:4]); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(plain, b0) {
		t.Error("the augmented batch equals the plain one")
	}
	other := newAugBatcher(sb, aug, 5, 2, 4, order)
	if slices.Equal(batch(other, 0), b0) {
		t.Error("epochs 1 and 2 augment batch 0 alike")
	}
}

func TestAugmentFlagErrors(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, "train", "--crop-pad", "-1").must(t, 2).oneLine(t, "--crop-pad -1")
	runCLI(t, trainArgs(dir, "--crop-pad", "28")...).must(t, 2).oneLine(t, "--crop-pad 28", "28x28")
}
