//go:build view

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vktrain/vktrain/view"
	"github.com/vktrain/vktrain/view/xvfb"
)

// TestViewWindow trains on the Vulkan device (lavapipe here) with --view
// under Xvfb and the validation layer on. After the first epoch's
// evaluation it takes a screenshot of the window and checks what is on it
// (curves, one cell per filter, the test images framed and labelled), then
// presses q in the window: the run must stop as Ctrl-C does (checkpoint,
// exit 130) and no validation message may appear.
func TestViewWindow(t *testing.T) {
	display := xvfb.Start(t)
	t.Setenv("DISPLAY", display)
	dir := t.TempDir()
	const perEpoch = 6 // trainArgs: 96 images in batches of 16
	shot := filepath.Join(dir, "window.png")
	var checked bool
	e := &env{afterStep: func(step int) {
		if step != perEpoch+3 || checked {
			return
		}
		checked = true
		id, err := xvfb.FindWindow(display, "vktrain", 20*time.Second)
		if err != nil {
			t.Errorf("finding the window: %v", err)
			return
		}
		// Training waits here while the window draws the evaluation.
		var in view.Inspection
		shown := false
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			img, err := xvfb.Screenshot(display, id)
			if err != nil {
				t.Errorf("screenshot: %v", err)
				return
			}
			in = view.Inspect(img)
			// Wait for a frame that shows the evaluation and the steps
			// after it: the window redraws when it gets to it, so a
			// screenshot may still show the frame drawn at the epoch's end.
			l := view.LayoutFor(img.Bounds().Size())
			curves := in.LossColumns >= l.Loss.Dx()/3 && in.AccColumns >= l.Accuracy.Dx()/3
			if in.TestMarks && in.FilterCells == 4 && in.SamplesLabelled == view.MaxSamples && curves {
				if err := writePNGFile(shot, img); err != nil {
					t.Error(err)
				}
				checkTrainDashboard(t, img)
				shown = true
				break
			}
		}
		if !in.TestMarks || in.FilterCells != 4 || in.SamplesLabelled != view.MaxSamples {
			t.Errorf("the window never showed the evaluation: %+v", in)
		} else if !shown {
			t.Errorf("the window never showed the steps after the evaluation (curves over %d and %d pixel columns): %+v", in.LossColumns, in.AccColumns, in)
		}
		if err := xvfb.PressKey(display, id, 'q'); err != nil {
			t.Errorf("pressing q: %v", err)
		}
		time.Sleep(500 * time.Millisecond) // the window thread sees the key
	}}
	r := runWith(t, e, trainArgs(dir, "--device", "vulkan", "--validation", "--epochs", "3", "--view")...)
	if !checked {
		t.Fatalf("the run never reached step %d (exit %d)\n%s%s", perEpoch+3, r.code, r.stdout, r.stderr)
	}
	out := r.stdout + r.stderr
	if r.code != 130 || !strings.Contains(out, "q pressed in the view window") {
		t.Fatalf("q in the window: exit %d, want 130 with a note\n%s", r.code, out)
	}
	if !strings.Contains(out, "window on the training device") {
		t.Errorf("the window did not present on the training device:\n%s", out)
	}
	if strings.Contains(out, "validation message") {
		t.Errorf("validation messages:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Errorf("no checkpoint after q: %v", err)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// TestViewWindowCPU trains on the CPU with --view: the window presents on
// a Vulkan device of its own and the run ends normally.
func TestViewWindowCPU(t *testing.T) {
	display := xvfb.Start(t)
	t.Setenv("DISPLAY", display)
	t.Setenv("VKTRAIN_VALIDATION", "1")
	dir := t.TempDir()
	r := runCLI(t, trainArgs(dir, "--view")...).must(t, 0)
	out := r.stdout + r.stderr
	if !strings.Contains(out, "on a Vulkan device of its own for presenting") {
		t.Errorf("the window did not say it presents on its own device:\n%s", out)
	}
	if strings.Contains(out, "validation message") {
		t.Errorf("validation messages:\n%s", out)
	}
}
