package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/nn"
	"github.com/vktrain/vktrain/nn/vk"
	"github.com/vktrain/vktrain/view"
)

// pngEvery is how often --view-png rewrites its file.
const pngEvery = 5 * time.Second

// dashboard is a training run's live view: the window of --view and the
// file of --view-png (package view). All its methods are no-ops on a nil
// dashboard, which is what a run without either flag has.
type dashboard struct {
	log    io.Writer
	prep   *view.WindowPrep
	win    *view.Window
	hub    *view.Hub
	rec    *view.Recorder
	conv   *nn.Param // the first convolution's weights, nil if none
	began  time.Time
	cpu0   time.Duration // the process's CPU time at start
	closed bool
}

// newDashboard prepares the view the flags ask for, before the device is
// opened (the window needs GLFW's instance extensions on it). A window
// that cannot open (no display, a build without the view tag) is reported
// in one line and the run goes on without it.
func newDashboard(f *trainFlags, log io.Writer) *dashboard {
	if !f.view && f.viewPNG == "" {
		return nil
	}
	d := &dashboard{log: log}
	if f.view {
		p, err := view.PrepareWindow()
		if err != nil {
			fmt.Fprintf(log, "view     --view: %v; training goes on without the window\n", err)
		} else {
			d.prep = p
		}
	}
	return d
}

// extensions returns the Vulkan extensions the training device needs for
// the window to present on it (nil without a window).
func (d *dashboard) extensions() *vulkanExts {
	if d == nil || d.prep == nil {
		return nil
	}
	return &vulkanExts{instance: d.prep.InstanceExtensions(), device: []string{gpu.SwapchainExtension}}
}

// start opens the window on the training device (or on a presenting device
// of its own) and the PNG writer, and begins recording the run.
func (d *dashboard) start(r *trainRun, dev *device) {
	if d == nil {
		return
	}
	d.hub = view.NewHub()
	d.began, d.cpu0 = time.Now(), processCPU()
	if d.prep != nil {
		var gd *gpu.Device
		if vb, ok := dev.backend.(*vk.Backend); ok {
			gd = vb.Device()
		}
		w, err := d.prep.Open(view.WindowConfig{Title: "vktrain: " + r.name, Device: gd, Log: d.log})
		if err != nil {
			fmt.Fprintf(d.log, "view     --view: cannot open the window: %v; training goes on without it\n", err)
			d.prep.Close()
			d.prep = nil
		} else {
			d.win = w
			d.hub.Add(w.Sink())
			fmt.Fprintf(d.log, "view     window %s; q in it stops the run like Ctrl-C, closing it leaves training running\n", w.How())
		}
	}
	if r.f.viewPNG != "" {
		d.hub.Add(view.PNGSink(r.f.viewPNG, view.Size(), pngEvery, d.log))
		fmt.Fprintf(d.log, "view     dashboard written to %s every %v\n", r.f.viewPNG, pngEvery)
	}
	d.rec = view.NewRecorder(d.hub, view.RecorderConfig{Run: r.name, Device: dev.backend.Name(), Epochs: r.f.epochs,
		StepsPerEpoch: r.batches, Classes: r.train.Classes, ClassNames: r.train.ClassNames})
	for _, p := range r.model.Params() {
		if p.Kind == nn.KindWeight && len(p.Shape) == 4 {
			d.conv = p
			break
		}
	}
	d.filters()
	d.rec.Status("starting")
}

// quit is closed when q is pressed in the window (nil: never).
func (d *dashboard) quit() <-chan struct{} {
	if d == nil || d.win == nil {
		return nil
	}
	return d.win.Quit()
}

// filters records the first convolution's current weights.
func (d *dashboard) filters() {
	if d.conv == nil {
		return
	}
	s := d.conv.Shape
	d.rec.SetFilters(strings.TrimSuffix(d.conv.Name, ".weight"), s[0], s[1], s[3], d.conv.Data)
}

// step records a training step of epoch ep (the progress callback's view).
func (d *dashboard) step(ep, step, done, total int, s nn.StepStats) {
	if d == nil || d.rec == nil {
		return
	}
	if d.rec.Due() {
		d.filters()
	}
	d.rec.Step(ep, step, done, total, s.Loss, s.Correct, s.N)
}

// evaluated records the evaluation after epoch ep, with the predictions
// for the first test images (one small inference batch).
func (d *dashboard) evaluated(r *trainRun, tr *nn.Trainer, eb nn.Batcher, ep int, ev nn.EvalResult) {
	if d == nil || d.rec == nil {
		return
	}
	d.filters()
	var samples []view.Sample
	if n := min(view.MaxSamples, r.test.N); n > 0 {
		per := r.test.ImageSize()
		k := r.model.Classes
		x, lab, logits := make([]float32, n*per), make([]int32, n), make([]float32, n*k)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		if eb.Batch(x, lab, idx) == nil && tr.Predict(x, n, logits) == nil {
			for i := 0; i < n; i++ {
				pred := 0
				for j, v := range logits[i*k : (i+1)*k] {
					if v > logits[i*k+pred] {
						pred = j
					}
				}
				samples = append(samples, view.Sample{Pix: append([]uint8(nil), r.test.Image(i)...), H: r.test.H, W: r.test.W, C: r.test.C,
					True: int(lab[i]), Pred: pred})
			}
		}
	}
	d.rec.Evaluated(ep, ev.Loss, ev.Accuracy, ev.Confusion, samples)
}

// close draws the final state (the PNG's last write), closes the window and
// reports validation messages of a presenting device of the window's own.
// It is safe to call twice.
func (d *dashboard) close(status string) {
	if d == nil || d.closed {
		return
	}
	d.closed = true
	if d.rec != nil {
		d.rec.Final(status)
	} else if d.hub != nil {
		d.hub.Close()
	}
	if d.win != nil {
		if n, busy, queue := d.win.Stats(); n > 0 {
			wall, cpu := time.Since(d.began), processCPU()-d.cpu0
			fmt.Fprintf(d.log, "view     window: %d frames in %v, %.2fs of CPU drawing and presenting them (%.1f%% of one core, %.1f%% of the process's %.0fs of CPU), queue held %.2fs\n",
				n, wall.Round(time.Second), busy.Seconds(), 100*busy.Seconds()/max(wall.Seconds(), 1e-9),
				100*busy.Seconds()/max(cpu.Seconds(), 1e-9), cpu.Seconds(), queue.Seconds())
		}
		if msgs := d.win.ValidationMessages(); len(msgs) > 0 {
			fmt.Fprintf(d.log, "view     %d validation message(s) on the presenting device:\n%s\n", len(msgs), strings.Join(msgs, "\n"))
		}
	}
	if d.prep != nil {
		d.prep.Close()
	}
}
