package view

import (
	"image"
	"image/color"
)

// Inspection is what Inspect reads back from a dashboard image: enough for
// tests (and a person's eye) to tell that each panel is drawn.
type Inspection struct {
	// LossColumns and AccColumns count the pixel columns of the loss and
	// accuracy plots in which the training curve's colour appears.
	LossColumns, AccColumns int
	// TestMarks reports whether the test curve's colour appears in both plots.
	TestMarks bool
	// FilterCells counts the framed cells of the filter grid.
	FilterCells int
	// SamplesRight and SamplesWrong count the test images framed green and
	// red; SamplesLabelled those with a label line under them.
	SamplesRight, SamplesWrong, SamplesLabelled int
	// ConfusionCells counts the shaded cells of the confusion matrix that
	// hold most of their row (the diagonal of a model that has learned).
	ConfusionCells int
	// HeaderText reports whether the header bar has text on it.
	HeaderText bool
}

// Inspect reads a dashboard drawn by Render (or a screenshot of the window)
// back into counts, locating the panels with LayoutFor.
func Inspect(img *image.RGBA) Inspection {
	b := img.Bounds()
	l := LayoutFor(b.Size())
	at := func(r image.Rectangle) image.Rectangle { return r.Add(b.Min).Intersect(b) }
	body := func(r image.Rectangle) image.Rectangle {
		r = at(r)
		return image.Rect(r.Min.X+1, r.Min.Y+titleH, r.Max.X-1, r.Max.Y-1)
	}
	var in Inspection
	in.LossColumns = columnsWith(img, at(l.Loss), trainColor)
	in.AccColumns = columnsWith(img, at(l.Accuracy), trainColor)
	in.TestMarks = columnsWith(img, at(l.Loss), testColor) > 0 && columnsWith(img, at(l.Accuracy), testColor) > 0
	for _, c := range components(img, body(l.Filters), func(c color.RGBA) bool { return c != panelColor }) {
		if c.Dx() >= 3 && c.Dy() >= 3 {
			in.FilterCells++
		}
	}
	sr := body(l.Samples)
	for _, want := range []color.RGBA{rightColor, wrongColor} {
		for _, c := range components(img, sr, func(c color.RGBA) bool { return c == want }) {
			if c.Dx() < 10 || c.Dy() < 10 {
				continue // a letter of a label, not a frame
			}
			if want == rightColor {
				in.SamplesRight++
			} else {
				in.SamplesWrong++
			}
			strip := image.Rect(c.Min.X, c.Max.Y+1, c.Max.X, c.Max.Y+14).Intersect(sr)
			if columnsWith(img, strip, textColor)+columnsWith(img, strip, wrongColor) > 0 {
				in.SamplesLabelled++
			}
		}
	}
	for _, c := range components(img, body(l.Confusion), func(c color.RGBA) bool {
		return c.B == 255 && c.R < 155 && c.G < 205 // more than half of the row
	}) {
		if c.Dx() >= 6 && c.Dy() >= 6 { // not the inside of a digit drawn on a cell
			in.ConfusionCells++
		}
	}
	in.HeaderText = columnsWith(img, at(l.Header), headerFG) > 0
	return in
}

// near reports whether two colours are within a small distance (curves are
// anti-aliased at their edges, exact at their centres).
func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R)+d(a.G, b.G)+d(a.B, b.B) <= 24
}

func columnsWith(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	for x := r.Min.X; x < r.Max.X; x++ {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			if near(img.RGBAAt(x, y), c) {
				n++
				break
			}
		}
	}
	return n
}

// components returns the bounding boxes of the 4-connected regions of r
// whose pixels satisfy in.
func components(img *image.RGBA, r image.Rectangle, in func(color.RGBA) bool) []image.Rectangle {
	w, h := r.Dx(), r.Dy()
	if w <= 0 || h <= 0 {
		return nil
	}
	seen := make([]bool, w*h)
	var out []image.Rectangle
	var stack []image.Point
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if seen[y*w+x] || !in(img.RGBAAt(r.Min.X+x, r.Min.Y+y)) {
				continue
			}
			box := image.Rect(x, y, x+1, y+1)
			seen[y*w+x] = true
			stack = append(stack[:0], image.Pt(x, y))
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				box = box.Union(image.Rect(p.X, p.Y, p.X+1, p.Y+1))
				for _, q := range [4]image.Point{{p.X + 1, p.Y}, {p.X - 1, p.Y}, {p.X, p.Y + 1}, {p.X, p.Y - 1}} {
					if q.X < 0 || q.Y < 0 || q.X >= w || q.Y >= h || seen[q.Y*w+q.X] {
						continue
					}
					if in(img.RGBAAt(r.Min.X+q.X, r.Min.Y+q.Y)) {
						seen[q.Y*w+q.X] = true
						stack = append(stack, q)
					}
				}
			}
			out = append(out, box.Add(r.Min))
		}
	}
	return out
}
