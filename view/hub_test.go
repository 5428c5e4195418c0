package view_test

import (
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vktrain/vktrain/view"
)

// TestPublishNeverBlocks: a sink that is busy (here: never reads) does not
// hold up Publish, and when it reads it finds the newest snapshot.
func TestPublishNeverBlocks(t *testing.T) {
	h := view.NewHub()
	release := make(chan struct{})
	got := make(chan *view.Snapshot, 1)
	h.Add(func(in <-chan *view.Snapshot, stop <-chan struct{}) {
		<-release // busy drawing
		got <- <-in
		<-stop
	})
	start := time.Now()
	var last *view.Snapshot
	for i := 0; i < 10000; i++ {
		last = &view.Snapshot{Step: i}
		h.Publish(last)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("10000 publishes to a busy sink took %v", d)
	}
	close(release)
	if s := <-got; s != last {
		t.Errorf("the sink got step %d, want the newest, %d", s.Step, last.Step)
	}
	h.Close()
}

// TestPacerShare: a frame that took t is followed by at least t/Share of
// rest, and never sooner than Period.
func TestPacerShare(t *testing.T) {
	p := view.Pacer{Period: 250 * time.Millisecond, Share: 0.04}
	t0 := time.Unix(1000, 0)
	p.Drew(t0, 100*time.Millisecond) // a 100 ms frame: 2.5 s until the next
	if p.Ready(t0.Add(2400*time.Millisecond)) || !p.Ready(t0.Add(2500*time.Millisecond)) {
		t.Errorf("after a 100 ms frame the next came at the wrong time (want 2.5 s after its start)")
	}
	p.Drew(t0, time.Millisecond) // a quick frame: Period
	if p.Ready(t0.Add(200*time.Millisecond)) || !p.Ready(t0.Add(250*time.Millisecond)) {
		t.Errorf("after a 1 ms frame the next should wait the 250 ms period")
	}
	p.QueueShare = 0.02
	p.Held(t0, 30*time.Millisecond) // held the queue 30 ms: 1.5 s until the next
	if p.Ready(t0.Add(1400*time.Millisecond)) || !p.Ready(t0.Add(1500*time.Millisecond)) {
		t.Errorf("after holding the queue 30 ms the next frame should wait 1.5 s")
	}
}

// TestPNGSinkFinal: the PNG sink writes the final snapshot when the
// recorder ends, even if that is sooner than its period.
func TestPNGSinkFinal(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.png")
	h := view.NewHub()
	h.Add(view.PNGSink(p, image.Pt(640, 400), time.Hour, os.Stderr))
	r := view.NewRecorder(h, view.RecorderConfig{Run: "r", Epochs: 1, StepsPerEpoch: 4, Classes: 10})
	for i := 1; i <= 4; i++ {
		r.Step(1, i, 16*i, 64, 2.0/float64(i), i, 16)
	}
	r.Final("done")
	st, err := os.Stat(p)
	if err != nil || st.Size() == 0 {
		t.Fatalf("no PNG after Final: %v", err)
	}
}

// BenchmarkRender measures one dashboard frame at --view-png's size (the
// drawing goroutine's cost per frame; the Pacer bounds frames per second).
func BenchmarkRender(b *testing.B) {
	s := testSnapshot(32, 32)
	img := image.NewRGBA(image.Rectangle{Max: view.Size()})
	r := view.NewRenderer()
	for b.Loop() {
		r.Render(img, s)
	}
}
