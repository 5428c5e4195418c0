//go:build view

package view_test

import (
	"image"
	"strings"
	"testing"
	"time"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/view"
	"github.com/vktrain/vktrain/view/xvfb"
)

// TestWindowShowsDashboard opens the window under Xvfb on a validated
// device (as training would: the device opened with GLFW's instance
// extensions), publishes a snapshot, and checks that a screenshot of the
// window is, pixel for pixel, the dashboard the renderer draws for it; then
// presses q and checks the window reports it. The device's validation layer
// must stay silent (gputest fails the test otherwise).
func TestWindowShowsDashboard(t *testing.T) {
	display := xvfb.Start(t)
	t.Setenv("DISPLAY", display)
	prep, err := view.PrepareWindow()
	if err != nil {
		t.Fatalf("PrepareWindow: %v", err)
	}
	defer prep.Close()
	dev := gputest.OpenWith(t, gpu.Options{DeviceIndex: -1, InstanceExtensions: prep.InstanceExtensions(),
		DeviceExtensions: []string{gpu.SwapchainExtension}})
	size := image.Pt(800, 500)
	win, err := prep.Open(view.WindowConfig{Title: "vktrain test", Size: size, Device: dev})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Logf("window: %s; GLFW's instance extensions: %v", win.How(), prep.InstanceExtensions())
	hub := view.NewHub()
	hub.Add(win.Sink())
	s := testSnapshot(7, 5)
	hub.Publish(s)

	want := image.NewRGBA(image.Rectangle{Max: size})
	view.NewRenderer().Render(want, s)
	var got *image.RGBA
	diff := -1
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		got, err = xvfb.Screenshot(display, win.X11Window())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if diff = differing(got, want); diff == 0 {
			break
		}
	}
	if diff != 0 {
		savePNG(t, "window.png", got)
		t.Fatalf("the window's screenshot differs from the rendered dashboard in %d pixels", diff)
	}
	checkDashboard(t, got, s)

	if err := xvfb.PressKey(display, win.X11Window(), 'q'); err != nil {
		t.Fatalf("pressing q: %v", err)
	}
	select {
	case <-win.Quit():
	case <-time.After(10 * time.Second):
		t.Fatal("q pressed in the window, but Quit did not fire within 10 s")
	}
	hub.Close()
	if msgs := win.ValidationMessages(); len(msgs) > 0 {
		t.Errorf("validation: %v", msgs)
	}
}

// TestWindowOwnDevice opens the window without a training device (CPU
// training): it presents on a Vulkan device of its own.
func TestWindowOwnDevice(t *testing.T) {
	display := xvfb.Start(t)
	t.Setenv("DISPLAY", display)
	t.Setenv("VKTRAIN_VALIDATION", "1")
	prep, err := view.PrepareWindow()
	if err != nil {
		t.Fatalf("PrepareWindow: %v", err)
	}
	defer prep.Close()
	size := image.Pt(640, 400)
	win, err := prep.Open(view.WindowConfig{Title: "vktrain own device", Size: size})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	hub := view.NewHub()
	hub.Add(win.Sink())
	s := testSnapshot(4, 3)
	hub.Publish(s)
	want := image.NewRGBA(image.Rectangle{Max: size})
	view.NewRenderer().Render(want, s)
	diff := -1
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && diff != 0; time.Sleep(300 * time.Millisecond) {
		got, err := xvfb.Screenshot(display, win.X11Window())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		diff = differing(got, want)
	}
	if diff != 0 {
		t.Fatalf("the window's screenshot differs from the rendered dashboard in %d pixels", diff)
	}
	hub.Close()
	if msgs := win.ValidationMessages(); len(msgs) > 0 {
		t.Errorf("validation: %v", msgs)
	}
	if !strings.Contains(win.How(), "of its own") {
		t.Errorf("without a training device the window should present on a device of its own; it says %q", win.How())
	}
}

func differing(a, b *image.RGBA) int {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx() * a.Bounds().Dy()
	}
	n := 0
	for i := 0; i+3 < len(a.Pix); i += 4 {
		if a.Pix[i] != b.Pix[i] || a.Pix[i+1] != b.Pix[i+1] || a.Pix[i+2] != b.Pix[i+2] {
			n++
		}
	}
	return n
}
