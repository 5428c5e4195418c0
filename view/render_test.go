package view_test

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vktrain/vktrain/view"
)

// testSnapshot is a dashboard state with nf 3x3 filters and ns samples, of
// which every fifth is predicted wrong, after one evaluation of 10 classes.
func testSnapshot(nf, ns int) *view.Snapshot {
	s := &view.Snapshot{Run: "test-run", Device: "test device", Epoch: 2, Epochs: 3, Done: 300, Total: 600, Step: 30,
		ImagesPerSec: 123, ETA: 42 * time.Second, Classes: 10, Status: "training", ConfusionEpoch: 1}
	for i := 0; i < 150; i++ {
		x := float64(i) / 100
		s.TrainLoss = append(s.TrainLoss, view.Point{X: x, Y: 2*math.Exp(-2*x) + 0.1})
		s.TrainAcc = append(s.TrainAcc, view.Point{X: x, Y: 100 - 80*math.Exp(-3*x)})
	}
	s.TestLoss = []view.Point{{X: 1, Y: 0.4}}
	s.TestAcc = []view.Point{{X: 1, Y: 90}}
	f := &view.Filters{Name: "conv1", Out: nf, K: 3, In: 1}
	for i := 0; i < nf*9; i++ {
		f.W = append(f.W, float32(math.Sin(float64(i))))
	}
	s.Filters = f
	for i := 0; i < ns; i++ {
		pix := make([]uint8, 28*28)
		for j := range pix {
			pix[j] = uint8(j * (i + 1))
		}
		pred := i % 10
		if i%5 == 4 {
			pred = (pred + 1) % 10
		}
		s.Samples = append(s.Samples, view.Sample{Pix: pix, H: 28, W: 28, C: 1, True: i % 10, Pred: pred})
	}
	s.Confusion = make([][]int, 10)
	for i := range s.Confusion {
		s.Confusion[i] = make([]int, 10)
		s.Confusion[i][i] = 90
		s.Confusion[i][(i+3)%10] = 10
	}
	return s
}

// checkDashboard checks, from the pixels, that every panel of s is drawn.
func checkDashboard(t *testing.T, img *image.RGBA, s *view.Snapshot) {
	t.Helper()
	in := view.Inspect(img)
	l := view.LayoutFor(img.Bounds().Size())
	// The training curve spans 1.5 of 3 epochs: about half the plot width.
	if min := l.Loss.Dx() / 5; in.LossColumns < min || in.AccColumns < min {
		t.Errorf("training curves cover %d (loss) and %d (accuracy) pixel columns; want at least %d", in.LossColumns, in.AccColumns, min)
	}
	if !in.TestMarks {
		t.Error("no test-curve marks in the plots")
	}
	if in.FilterCells != s.Filters.Out {
		t.Errorf("filter grid has %d cells, want %d", in.FilterCells, s.Filters.Out)
	}
	wrong := 0
	for _, x := range s.Samples {
		if x.Pred != x.True {
			wrong++
		}
	}
	if in.SamplesWrong != wrong || in.SamplesRight != len(s.Samples)-wrong || in.SamplesLabelled != len(s.Samples) {
		t.Errorf("samples: %d framed right, %d wrong, %d labelled; want %d, %d, %d", in.SamplesRight, in.SamplesWrong,
			in.SamplesLabelled, len(s.Samples)-wrong, wrong, len(s.Samples))
	}
	if in.ConfusionCells != len(s.Confusion) {
		t.Errorf("confusion matrix: %d cells shaded as holding most of their row, want %d (the diagonal)", in.ConfusionCells, len(s.Confusion))
	}
	if !in.HeaderText {
		t.Error("header has no text")
	}
	if t.Failed() {
		savePNG(t, "dashboard.png", img)
	}
}

// savePNG keeps a failing image for a person to look at.
func savePNG(t *testing.T, name string, img image.Image) {
	dir := os.Getenv("VKTRAIN_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		return
	}
	defer f.Close()
	if png.Encode(f, img) == nil {
		t.Logf("image saved at %s", p)
	}
}

// TestRenderPanels draws dashboards of several sizes and filter and sample
// counts and reads each panel back from the pixels.
func TestRenderPanels(t *testing.T) {
	for _, tc := range []struct {
		size   image.Point
		nf, ns int
	}{{image.Pt(1280, 800), 32, 24}, {image.Pt(800, 500), 7, 5}, {image.Pt(1280, 800), 16, 32}} {
		img := image.NewRGBA(image.Rectangle{Max: tc.size})
		s := testSnapshot(tc.nf, tc.ns)
		view.NewRenderer().Render(img, s)
		checkDashboard(t, img, s)
	}
}

// TestRenderEmpty draws the dashboard before any data: no curves, cells or
// samples, and no panic.
func TestRenderEmpty(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 1280, 800))
	view.NewRenderer().Render(img, nil)
	in := view.Inspect(img)
	if in.LossColumns != 0 || in.SamplesRight+in.SamplesWrong != 0 || in.ConfusionCells != 0 {
		t.Errorf("empty dashboard shows data: %+v", in)
	}
	if !in.HeaderText {
		t.Error("header has no text")
	}
}
