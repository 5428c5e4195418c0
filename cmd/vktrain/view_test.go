package main

import (
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/view"
)

// readPNG decodes a PNG into RGBA.
func readPNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	return rgba
}

// checkTrainDashboard checks a dashboard of a trainArgs run (smallModel: 4
// filters; mini: 500 test images) from its pixels.
func checkTrainDashboard(t *testing.T, img *image.RGBA) {
	t.Helper()
	in := view.Inspect(img)
	l := view.LayoutFor(img.Bounds().Size())
	if in.LossColumns < l.Loss.Dx()/3 || in.AccColumns < l.Accuracy.Dx()/3 {
		t.Errorf("training curves cover %d (loss) and %d (accuracy) pixel columns of %d", in.LossColumns, in.AccColumns, l.Loss.Dx())
	}
	if !in.TestMarks {
		t.Error("no test-curve marks in the plots")
	}
	if in.FilterCells != 4 {
		t.Errorf("filter grid has %d cells; the model's first convolution has 4 filters", in.FilterCells)
	}
	if n := in.SamplesRight + in.SamplesWrong; n != view.MaxSamples || in.SamplesLabelled != n {
		t.Errorf("%d test images framed (%d right, %d wrong), %d labelled; want %d, all labelled", n, in.SamplesRight, in.SamplesWrong, in.SamplesLabelled, view.MaxSamples)
	}
	if !in.HeaderText {
		t.Error("header has no text")
	}
}

// TestViewPNG trains with --view-png and checks the dashboard it wrote at
// the end: curves drawn, one cell per filter of the first convolution, the
// test images framed and labelled.
func TestViewPNG(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "dash.png")
	r := runCLI(t, trainArgs(dir, "--epochs", "3", "--view-png", p)...).must(t, 0)
	if !strings.Contains(r.stdout, "dashboard written to "+p) {
		t.Errorf("the run does not say where the dashboard goes:\n%s", r.stdout)
	}
	img := readPNG(t, p)
	if img.Bounds().Size() != view.Size() {
		t.Fatalf("dashboard is %v, want %v", img.Bounds().Size(), view.Size())
	}
	checkTrainDashboard(t, img)
	if t.Failed() {
		t.Logf("dashboard kept at %s", p)
	}
}

// TestViewWithoutWindow: --view where no window can open (a build without
// the view tag, or no display) says so in one line and trains anyway.
func TestViewWithoutWindow(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	dir := t.TempDir()
	r := runCLI(t, trainArgs(dir, "--view")...).must(t, 0)
	var lines []string
	for _, l := range strings.Split(r.stdout+r.stderr, "\n") {
		if strings.Contains(l, "--view") {
			lines = append(lines, l)
		}
	}
	want := "no display"
	if !view.WindowBuilt {
		want = "rebuild with -tags view"
	}
	if len(lines) != 1 || !strings.Contains(lines[0], want) || !strings.Contains(lines[0], "training goes on") {
		t.Errorf("want one line about --view saying %q and that training goes on; got %q", want, lines)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Errorf("the run did not train on: %v", err)
	}
}

// writePNGFile writes img to path.
func writePNGFile(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
