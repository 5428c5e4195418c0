package view

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The dashboard's colours (tests look for some of them).
var (
	background = color.RGBA{236, 238, 242, 255}
	panelColor = color.RGBA{255, 255, 255, 255}
	headerBG   = color.RGBA{38, 42, 51, 255}
	textColor  = color.RGBA{20, 20, 20, 255}
	headerFG   = color.RGBA{245, 245, 245, 255}
	trainColor = color.RGBA{31, 119, 180, 255} // training curves
	testColor  = color.RGBA{255, 127, 14, 255} // test curves
	frameColor = color.RGBA{90, 90, 90, 255}   // filter cells' frames
	rightColor = color.RGBA{40, 160, 60, 255}  // a sample predicted right
	wrongColor = color.RGBA{220, 30, 30, 255}  // a sample predicted wrong
)

// MaxSamples is how many test images the dashboard shows at most.
const MaxSamples = 32

// Layout is where the dashboard's panels are in an image of a given size.
type Layout struct {
	Header, Loss, Accuracy, Filters, Samples, Confusion, Details image.Rectangle
}

// titleH is the height of a panel's title line.
const titleH = 18

// LayoutFor places the panels in an image of size.
func LayoutFor(size image.Point) Layout {
	w, h := size.X, size.Y
	const hdr, gap = 30, 6
	left := w * 42 / 100
	midY := hdr + (h-hdr)/2
	rightW := w - left
	fw := rightW * 44 / 100
	cw := rightW * 55 / 100
	inset := func(x0, y0, x1, y1 int) image.Rectangle {
		return image.Rect(x0+gap/2, y0+gap/2, x1-gap/2, y1-gap/2)
	}
	return Layout{
		Header:    image.Rect(0, 0, w, hdr),
		Loss:      inset(0, hdr, left, midY),
		Accuracy:  inset(0, midY, left, h),
		Filters:   inset(left, hdr, left+fw, midY),
		Samples:   inset(left+fw, hdr, w, midY),
		Confusion: inset(left, midY, left+cw, h),
		Details:   inset(left+cw, midY, w, h),
	}
}

// Renderer draws snapshots. It keeps scratch images between frames, so
// one Renderer serves one goroutine.
type Renderer struct {
	plotImg *image.RGBA
}

// NewRenderer returns a Renderer.
func NewRenderer() *Renderer { return &Renderer{} }

// Render draws the dashboard of s (nil: an empty one) into dst.
func (r *Renderer) Render(dst *image.RGBA, s *Snapshot) {
	if s == nil {
		s = &Snapshot{Status: "waiting for the first step", ETA: -1}
	}
	b := dst.Bounds()
	draw.Draw(dst, b, image.NewUniform(background), image.Point{}, draw.Src)
	l := LayoutFor(b.Size())
	off := b.Min
	at := func(rc image.Rectangle) image.Rectangle { return rc.Add(off) }

	hdr := at(l.Header)
	fill(dst, hdr, headerBG)
	text(dst, hdr.Min.X+10, hdr.Min.Y+20, headerFG, headerLine(s))

	r.curves(dst, at(l.Loss), "Loss", "cross-entropy", s.TrainLoss, s.TestLoss, s.Epochs)
	r.curves(dst, at(l.Accuracy), "Accuracy (%)", "accuracy %", s.TrainAcc, s.TestAcc, s.Epochs)
	drawFilters(dst, at(l.Filters), s.Filters)
	drawSamples(dst, at(l.Samples), s.Samples, s.ClassNames)
	drawConfusion(dst, at(l.Confusion), s.Confusion, s.ConfusionEpoch, s.ClassNames)
	drawDetails(dst, at(l.Details), s)
}

func headerLine(s *Snapshot) string {
	parts := []string{"vktrain"}
	if s.Run != "" {
		parts = append(parts, s.Run)
	}
	if s.Epochs > 0 {
		parts = append(parts, fmt.Sprintf("epoch %d/%d", max(s.Epoch, 1), s.Epochs))
	}
	parts = append(parts, fmt.Sprintf("step %d", s.Step))
	if s.ImagesPerSec > 0 {
		parts = append(parts, fmt.Sprintf("%.0f img/s", s.ImagesPerSec))
	}
	if s.ETA >= 0 {
		parts = append(parts, "ETA "+s.ETA.Round(time.Second).String())
	}
	if s.Status != "" {
		parts = append(parts, s.Status)
	}
	return strings.Join(parts, "  |  ")
}

// panel fills rc as a panel with a title and returns the area below it.
func panel(dst *image.RGBA, rc image.Rectangle, title string) image.Rectangle {
	fill(dst, rc, panelColor)
	if n := max((rc.Dx()-12)/7, 1); len([]rune(title)) > n {
		title = string([]rune(title)[:n])
	}
	text(dst, rc.Min.X+6, rc.Min.Y+14, textColor, title)
	return image.Rect(rc.Min.X+4, rc.Min.Y+titleH, rc.Max.X-4, rc.Max.Y-4)
}

func fill(dst *image.RGBA, rc image.Rectangle, c color.Color) {
	draw.Draw(dst, rc, image.NewUniform(c), image.Point{}, draw.Src)
}

// frame draws a border of width t inside rc.
func frame(dst *image.RGBA, rc image.Rectangle, t int, c color.Color) {
	fill(dst, image.Rect(rc.Min.X, rc.Min.Y, rc.Max.X, rc.Min.Y+t), c)
	fill(dst, image.Rect(rc.Min.X, rc.Max.Y-t, rc.Max.X, rc.Max.Y), c)
	fill(dst, image.Rect(rc.Min.X, rc.Min.Y, rc.Min.X+t, rc.Max.Y), c)
	fill(dst, image.Rect(rc.Max.X-t, rc.Min.Y, rc.Max.X, rc.Max.Y), c)
}

// text draws s with its baseline at y in a 7x13 bitmap font.
func text(dst *image.RGBA, x, y int, c color.Color, s string) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// textWidth is the width of s in pixels.
func textWidth(s string) int { return 7 * len([]rune(s)) }

// curves draws one plot: the training curve and the per-epoch test points.
func (r *Renderer) curves(dst *image.RGBA, rc image.Rectangle, title, ylabel string, train, test []Point, epochs int) {
	fill(dst, rc, panelColor)
	sz := rc.Size()
	if sz.X < 40 || sz.Y < 40 {
		return
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.X.Min, p.X.Max = 0, float64(max(epochs, 1))
	have := false
	if len(train) > 0 {
		l, err := plotter.NewLine(xys(train))
		if err == nil {
			l.Color = trainColor
			l.Width = vg.Points(1.5)
			p.Add(l)
			p.Legend.Add("train (every few steps)", l)
			have = true
		}
	}
	if len(test) > 0 {
		lp, sp, err := plotter.NewLinePoints(xys(test))
		if err == nil {
			lp.Color = testColor
			lp.Width = vg.Points(2)
			sp.Color = testColor
			sp.Shape = vgdraw.CircleGlyph{} // filled
			sp.Radius = vg.Points(4)
			p.Add(lp, sp)
			p.Legend.Add("test (per epoch)", lp, sp)
			have = true
		}
	}
	if !have {
		p.Y.Min, p.Y.Max = 0, 1
	}
	p.Legend.Top = strings.HasPrefix(title, "Loss")
	p.Legend.Left = false
	if r.plotImg == nil || r.plotImg.Bounds().Size() != sz {
		r.plotImg = image.NewRGBA(image.Rectangle{Max: sz})
	}
	c := vgimg.NewWith(vgimg.UseImage(r.plotImg), vgimg.UseDPI(96))
	p.Draw(vgdraw.New(c))
	draw.Draw(dst, rc, c.Image(), image.Point{}, draw.Src)
}

func xys(ps []Point) plotter.XYs {
	out := make(plotter.XYs, 0, len(ps))
	for _, p := range ps {
		if !math.IsNaN(p.Y) && !math.IsInf(p.Y, 0) {
			out = append(out, plotter.XY{X: p.X, Y: p.Y})
		}
	}
	return out
}

// FilterGrid returns the columns and rows of the grid of n filters that fit
// area best, and the side of a cell (frame included) for k×k filters.
func FilterGrid(n, k int, area image.Point) (cols, rows, cell int) {
	if n <= 0 || k <= 0 {
		return 0, 0, 0
	}
	const gap = 4
	best := -1
	for c := 1; c <= n; c++ {
		rw := (n + c - 1) / c
		side := min((area.X-gap*(c-1))/c, (area.Y-gap*(rw-1))/rw)
		if side > best {
			best, cols, rows = side, c, rw
		}
	}
	// Whole pixels per weight, plus the 1-pixel frame.
	scale := max((best-2)/k, 1)
	return cols, rows, scale*k + 2
}

// drawFilters shows the first convolution's filters, each scaled to its own
// largest magnitude (grey 128 is zero), in framed cells.
func drawFilters(dst *image.RGBA, rc image.Rectangle, f *Filters) {
	title := "First convolution's filters"
	if f != nil {
		title = fmt.Sprintf("First conv (%s): %d filters %dx%dx%d", f.Name, f.Out, f.K, f.K, f.In)
	}
	in := panel(dst, rc, title)
	if f == nil {
		text(dst, in.Min.X+4, in.Min.Y+16, textColor, "(the model has no convolution)")
		return
	}
	cols, _, cell := FilterGrid(f.Out, f.K, in.Size())
	const gap = 4
	scale := (cell - 2) / f.K
	for o := 0; o < f.Out; o++ {
		x0 := in.Min.X + (o%cols)*(cell+gap)
		y0 := in.Min.Y + (o/cols)*(cell+gap)
		frame(dst, image.Rect(x0, y0, x0+cell, y0+cell), 1, frameColor)
		w := f.W[o*f.K*f.K*f.In : (o+1)*f.K*f.K*f.In]
		m := float32(1e-12)
		for _, v := range w {
			m = max(m, float32(math.Abs(float64(v))))
		}
		for ky := 0; ky < f.K; ky++ {
			for kx := 0; kx < f.K; kx++ {
				px := w[(ky*f.K+kx)*f.In:][:f.In]
				var c color.RGBA
				if f.In == 3 {
					c = color.RGBA{gray(px[0], m), gray(px[1], m), gray(px[2], m), 255}
				} else {
					var sum float32
					for _, v := range px {
						sum += v
					}
					g := gray(sum/float32(f.In), m)
					c = color.RGBA{g, g, g, 255}
				}
				fill(dst, image.Rect(x0+1+kx*scale, y0+1+ky*scale, x0+1+(kx+1)*scale, y0+1+(ky+1)*scale), c)
			}
		}
	}
}

func gray(v, m float32) uint8 {
	g := 128 + 127*float64(v/m)
	return uint8(math.Max(0, math.Min(255, math.Round(g))))
}

// SampleGrid returns the columns of the sample grid and the size of a cell
// (image plus label line) for n images in area.
func SampleGrid(n int, area image.Point) (cols, cellW, cellH int) {
	if n <= 0 {
		return 0, 0, 0
	}
	const gap, label = 6, 14
	best := -1
	for c := 1; c <= n; c++ {
		rw := (n + c - 1) / c
		side := min((area.X-gap*(c-1))/c, (area.Y-gap*(rw-1))/rw-label)
		if side > best {
			best, cols = side, c
		}
	}
	best = max(best, 8)
	return cols, best, best + label
}

// drawSamples shows test images in frames, green when predicted right and
// red when wrong, each with "predicted/true" under it (red when wrong).
func drawSamples(dst *image.RGBA, rc image.Rectangle, ss []Sample, names []string) {
	wrong := 0
	for _, s := range ss {
		if s.Pred != s.True {
			wrong++
		}
	}
	title := "Test images, predicted/true"
	if len(ss) > 0 {
		title += fmt.Sprintf(": %d of %d wrong (red)", wrong, len(ss))
	}
	in := panel(dst, rc, title)
	if len(ss) == 0 {
		text(dst, in.Min.X+4, in.Min.Y+16, textColor, "(after the first evaluation)")
		return
	}
	cols, cw, ch := SampleGrid(len(ss), in.Size())
	const gap = 6
	for i, s := range ss {
		x0 := in.Min.X + (i%cols)*(cw+gap)
		y0 := in.Min.Y + (i/cols)*(ch+gap)
		c := rightColor
		if s.Pred != s.True {
			c = wrongColor
		}
		box := image.Rect(x0, y0, x0+cw, y0+cw)
		frame(dst, box, 2, c)
		drawImage(dst, box.Inset(2), s)
		lbl := className(names, s.Pred) + "/" + className(names, s.True)
		for len(lbl) > 1 && textWidth(lbl) > cw+gap {
			lbl = lbl[:len(lbl)-1]
		}
		tc := textColor
		if s.Pred != s.True {
			tc = wrongColor
		}
		text(dst, x0, y0+cw+12, tc, lbl)
	}
}

func className(names []string, i int) string {
	if i >= 0 && i < len(names) && names[i] != "" {
		return names[i]
	}
	return fmt.Sprint(i)
}

// drawImage scales an image (nearest neighbour) into rc.
func drawImage(dst *image.RGBA, rc image.Rectangle, s Sample) {
	if s.H <= 0 || s.W <= 0 || s.C <= 0 || len(s.Pix) < s.H*s.W*s.C || rc.Empty() {
		return
	}
	for y := rc.Min.Y; y < rc.Max.Y; y++ {
		sy := (y - rc.Min.Y) * s.H / rc.Dy()
		for x := rc.Min.X; x < rc.Max.X; x++ {
			sx := (x - rc.Min.X) * s.W / rc.Dx()
			p := s.Pix[(sy*s.W+sx)*s.C:]
			i := dst.PixOffset(x, y)
			if s.C >= 3 {
				dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2] = p[0], p[1], p[2]
			} else {
				dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2] = p[0], p[0], p[0]
			}
			dst.Pix[i+3] = 255
		}
	}
}

// drawConfusion draws the confusion matrix: rows true classes, columns
// predictions, each cell shaded by its share of the row, with its count.
func drawConfusion(dst *image.RGBA, rc image.Rectangle, m [][]int, epoch int, names []string) {
	title := "Confusion matrix (rows true, columns predicted)"
	if m != nil {
		title = fmt.Sprintf("Confusion, epoch %d (rows true, columns predicted)", epoch)
	}
	in := panel(dst, rc, title)
	k := len(m)
	if k == 0 {
		text(dst, in.Min.X+4, in.Min.Y+16, textColor, "(after the first evaluation)")
		return
	}
	const lab = 24 // room for the class labels
	side := min(in.Dx()-lab, in.Dy()-lab) / k
	if side < 1 {
		return
	}
	x0, y0 := in.Min.X+lab, in.Min.Y+lab
	for i := 0; i < k; i++ {
		row := 0
		for _, v := range m[i] {
			row += v
		}
		for j := 0; j < k && j < len(m[i]); j++ {
			share := 0.0
			if row > 0 {
				share = float64(m[i][j]) / float64(row)
			}
			c := color.RGBA{uint8(255 - 200*share), uint8(255 - 150*share), 255, 255}
			if i != j && m[i][j] > 0 {
				c = color.RGBA{255, uint8(255 - 200*math.Sqrt(share)), uint8(255 - 200*math.Sqrt(share)), 255}
			}
			cell := image.Rect(x0+j*side, y0+i*side, x0+(j+1)*side, y0+(i+1)*side)
			fill(dst, cell, c)
			frame(dst, cell, 1, color.RGBA{220, 220, 220, 255})
			if s := fmt.Sprint(m[i][j]); side >= textWidth(s)+4 && side >= 16 {
				text(dst, cell.Min.X+(side-textWidth(s))/2, cell.Min.Y+side/2+5, textColor, s)
			}
		}
		if l := shortName(names, i, side); l != "" {
			text(dst, in.Min.X, y0+i*side+side/2+5, textColor, l)
			text(dst, x0+i*side+(side-textWidth(l))/2, in.Min.Y+14, textColor, l)
		}
	}
}

// shortName is class i's label, cut to fit side pixels (at most 3 letters).
func shortName(names []string, i, side int) string {
	s := className(names, i)
	n := min(3, max(side/7, 1))
	if r := []rune(s); len(r) > n {
		s = string(r[:n])
	}
	return s
}

// drawDetails lists the run's figures as text.
func drawDetails(dst *image.RGBA, rc image.Rectangle, s *Snapshot) {
	in := panel(dst, rc, "Run")
	lines := []string{}
	add := func(format string, a ...any) { lines = append(lines, fmt.Sprintf(format, a...)) }
	if s.Run != "" {
		add("run      %s", s.Run)
	}
	if s.Device != "" {
		add("device   %s", s.Device)
	}
	if s.Epochs > 0 {
		add("epoch    %d of %d", max(s.Epoch, 1), s.Epochs)
	}
	if s.Total > 0 {
		add("images   %d of %d (%.0f%%)", s.Done, s.Total, 100*float64(s.Done)/float64(s.Total))
	}
	add("step     %d", s.Step)
	if s.ImagesPerSec > 0 {
		add("speed    %.1f images/s", s.ImagesPerSec)
	} else {
		add("speed    measuring")
	}
	if s.ETA >= 0 {
		add("ETA      %s (training)", s.ETA.Round(time.Second))
	}
	if n := len(s.TrainLoss); n > 0 {
		add("train    loss %.4f  acc %.2f%%", s.TrainLoss[n-1].Y, s.TrainAcc[n-1].Y)
	}
	if n := len(s.TestLoss); n > 0 {
		add("test     loss %.4f  acc %.2f%% (epoch %d)", s.TestLoss[n-1].Y, s.TestAcc[n-1].Y, int(s.TestLoss[n-1].X))
	}
	if s.Status != "" {
		add("status   %s", s.Status)
	}
	maxChars := max((in.Dx()-8)/7, 4)
	for i, l := range lines {
		if r := []rune(l); len(r) > maxChars {
			l = string(r[:maxChars-1]) + "~"
		}
		y := in.Min.Y + 14 + 17*i
		if y > in.Max.Y {
			break
		}
		text(dst, in.Min.X+4, y, textColor, l)
	}
}
