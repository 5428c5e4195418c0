package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// runHistory is the per-epoch record of one run, as the metrics log holds it.
type runHistory struct {
	name string
	recs []epochRecord
}

// readMetrics reads a JSON-lines metrics log (the objects of train --json).
func readMetrics(path string) ([]epochRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var recs []epochRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<26)
	for line := 1; sc.Scan(); line++ {
		t := bytes.TrimSpace(sc.Bytes())
		if len(t) == 0 {
			continue
		}
		var r epochRecord
		if err := json.Unmarshal(t, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: not a metrics record: %v", path, line, err)
		}
		if r.Epoch <= 0 {
			return nil, fmt.Errorf("%s:%d: record without an epoch number", path, line)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

// runColors are the colours of the runs in a comparison chart.
var runColors = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{214, 39, 40, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{255, 127, 14, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
}

// drawCurves writes a PNG with two panels side by side: loss and accuracy
// per epoch, test (solid) and train (dashed), one colour per run.
func drawCurves(path string, runs []runHistory) error {
	loss, acc := plot.New(), plot.New()
	loss.Title.Text, acc.Title.Text = "Loss per epoch", "Accuracy per epoch (%)"
	for _, p := range []*plot.Plot{loss, acc} {
		p.X.Label.Text = "epoch"
		p.Add(plotter.NewGrid())
		p.Legend.Top = p == loss
	}
	loss.Y.Label.Text, acc.Y.Label.Text = "cross-entropy", "accuracy %"
	maxEpoch := 1
	for i, r := range runs {
		c := runColors[i%len(runColors)]
		prefix := ""
		if len(runs) > 1 {
			prefix = r.name + " "
		}
		var trL, teL, trA, teA plotter.XYs
		for _, rec := range r.recs {
			x := float64(rec.Epoch)
			maxEpoch = max(maxEpoch, rec.Epoch)
			trL = append(trL, plotter.XY{X: x, Y: finite(rec.TrainLoss)})
			trA = append(trA, plotter.XY{X: x, Y: 100 * rec.TrainAccuracy})
			if !rec.NoTest {
				teL = append(teL, plotter.XY{X: x, Y: finite(rec.TestLoss)})
				teA = append(teA, plotter.XY{X: x, Y: 100 * rec.TestAccuracy})
			}
		}
		for _, s := range []struct {
			p      *plot.Plot
			xy     plotter.XYs
			label  string
			dashed bool
		}{{loss, teL, "test", false}, {loss, trL, "train", true}, {acc, teA, "test", false}, {acc, trA, "train", true}} {
			if len(s.xy) == 0 {
				continue // no test images
			}
			l, pts, err := plotter.NewLinePoints(s.xy)
			if err != nil {
				return err
			}
			l.Color, pts.Color = c, c
			l.Width = vg.Points(1.5)
			if s.dashed {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				pts.Shape = draw.BoxGlyph{}
			} else {
				pts.Shape = draw.CircleGlyph{}
			}
			pts.Radius = vg.Points(2.5)
			s.p.Add(l, pts)
			s.p.Legend.Add(prefix+s.label, l, pts)
		}
	}
	for _, p := range []*plot.Plot{loss, acc} {
		p.X.Min, p.X.Max = 0.8, float64(maxEpoch)+0.2
		p.X.Tick.Marker = epochTicks(maxEpoch)
	}
	acc.Y.Max = 100
	if acc.Y.Min > 0 {
		acc.Y.Min = math.Max(0, math.Floor(acc.Y.Min/10)*10-10)
	}
	loss.Y.Min = 0
	acc.Legend.Top, acc.Legend.Left = false, false
	return savePanels(path, []*plot.Plot{loss, acc}, 12*vg.Inch, 4.5*vg.Inch)
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// epochTicks labels whole epochs (at most about 12 labels).
func epochTicks(n int) plot.Ticker {
	step := max(1, (n+11)/12)
	var ts plot.ConstantTicks
	for e := 1; e <= n; e++ {
		label := ""
		if (e-1)%step == 0 {
			label = fmt.Sprint(e)
		}
		ts = append(ts, plot.Tick{Value: float64(e), Label: label})
	}
	return ts
}

// savePanels draws plots in one row into a PNG at path, atomically.
func savePanels(path string, ps []*plot.Plot, w, h vg.Length) error {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(ps), PadX: vg.Millimeter * 8, PadTop: vg.Millimeter * 3,
		PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	canvases := plot.Align([][]*plot.Plot{ps}, tiles, dc)
	for i, p := range ps {
		p.Draw(canvases[0][i])
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// writeFileAtomic writes b to path through a temporary file and a rename.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// confusionGrid adapts a confusion matrix to plotter.GridXYZ: column =
// predicted class, row = true class with class 0 at the top; Z is the
// fraction of the true class's examples (row-normalised).
type confusionGrid struct{ m [][]int }

func (g confusionGrid) Dims() (c, r int) { return len(g.m), len(g.m) }
func (g confusionGrid) X(c int) float64  { return float64(c) }
func (g confusionGrid) Y(r int) float64  { return float64(len(g.m) - 1 - r) }
func (g confusionGrid) Z(c, r int) float64 {
	n := 0
	for _, v := range g.m[r] {
		n += v
	}
	if n == 0 {
		return 0
	}
	return float64(g.m[r][c]) / float64(n)
}

// drawConfusion writes a heat map of a confusion matrix [true][predicted]
// with the counts in the cells.
func drawConfusion(path string, conf [][]int, names []string, title string) error {
	k := len(conf)
	if k == 0 {
		return errors.New("empty confusion matrix")
	}
	for _, row := range conf {
		if len(row) != k {
			return errors.New("confusion matrix is not square")
		}
	}
	if len(names) != k {
		names = make([]string, k)
		for i := range names {
			names[i] = fmt.Sprint(i)
		}
	}
	p := plot.New()
	p.Title.Text = "Confusion matrix\n" + title
	p.X.Label.Text, p.Y.Label.Text = "predicted class", "true class (colour: share of the row)"
	hm := plotter.NewHeatMap(confusionGrid{conf}, blues(256))
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	g := confusionGrid{conf}
	var lab plotter.XYLabels
	total, correct := 0, 0
	for r := range k {
		for c := range k {
			lab.XYs = append(lab.XYs, plotter.XY{X: g.X(c), Y: g.Y(r)})
			lab.Labels = append(lab.Labels, fmt.Sprint(conf[r][c]))
			total += conf[r][c]
			if r == c {
				correct += conf[r][c]
			}
		}
	}
	labels, err := plotter.NewLabels(lab)
	if err != nil {
		return err
	}
	for i := range labels.TextStyle {
		r, c := i/k, i%k
		labels.TextStyle[i].XAlign, labels.TextStyle[i].YAlign = -0.5, -0.5
		if g.Z(c, r) > 0.5 {
			labels.TextStyle[i].Color = color.White
		} else {
			labels.TextStyle[i].Color = color.Black
		}
		if k > 12 {
			labels.TextStyle[i].Font.Size = vg.Points(6)
		}
	}
	p.Add(labels)
	var xt, yt plot.ConstantTicks
	for i, n := range names {
		xt = append(xt, plot.Tick{Value: float64(i), Label: n})
		yt = append(yt, plot.Tick{Value: float64(k - 1 - i), Label: n})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = xt, yt
	p.X.Min, p.X.Max = -0.5, float64(k)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(k)-0.5
	if total > 0 {
		p.X.Label.Text += fmt.Sprintf("   (accuracy %.2f%% of %d)", 100*float64(correct)/float64(total), total)
	}
	side := vg.Length(math.Max(5, math.Min(14, 0.55*float64(k)+3))) * vg.Inch
	return savePanels(path, []*plot.Plot{p}, side+vg.Inch, side)
}

func plotCmd() *command {
	return &command{
		name:  "plot",
		usage: "plot [flags] METRICS.jsonl...",
		short: "chart loss and accuracy of one or more runs",
		long: `Plot reads metrics logs written by "vktrain train" (runs/NAME/metrics.jsonl, or
the output of train --json) and draws loss and accuracy per epoch of every run
into one PNG, side by side, so that runs can be compared (an int8 run against
a float run, say). Each run is named by its records' "name", else its folder.

Examples:

	vktrain plot runs/mnist-int8/metrics.jsonl runs/mnist-float/metrics.jsonl
	vktrain plot -o compare.png -confusion last-confusion.png runs/*/metrics.jsonl`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			out := fs.String("o", "compare.png", "PNG file to write")
			conf := fs.String("confusion", "", "also draw the last epoch's confusion matrix of the first run to this PNG")
			return func(e *env, args []string) error {
				if len(args) == 0 {
					return usagef("want at least one metrics file")
				}
				var runs []runHistory
				for _, a := range args {
					recs, err := readMetrics(a)
					if err != nil {
						return err
					}
					if len(recs) == 0 {
						return fmt.Errorf("%s: no epochs recorded", a)
					}
					name := recs[0].Name
					if name == "" {
						name = filepath.Base(filepath.Dir(a))
						if name == "." || name == string(filepath.Separator) {
							name = strings.TrimSuffix(filepath.Base(a), filepath.Ext(a))
						}
					}
					runs = append(runs, runHistory{name: name, recs: recs})
				}
				if err := drawCurves(*out, runs); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "wrote %s (%d runs)\n", *out, len(runs))
				if *conf != "" {
					lr := runs[0].recs[len(runs[0].recs)-1]
					if lr.Confusion == nil {
						return fmt.Errorf("%s: the last record has no confusion matrix", args[0])
					}
					if err := drawConfusion(*conf, lr.Confusion, lr.ClassNames, fmt.Sprintf("%s, epoch %d", runs[0].name, lr.Epoch)); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "wrote %s\n", *conf)
				}
				return nil
			}
		},
	}
}

// rampPalette is a palette of colours from light to dark.
type rampPalette []color.Color

// Colors returns the colours.
func (p rampPalette) Colors() []color.Color { return p }

// blues returns n colours from near-white to dark blue.
func blues(n int) palette.Palette {
	lo, hi := [3]float64{247, 251, 255}, [3]float64{8, 48, 107}
	p := make(rampPalette, n)
	for i := range p {
		t := float64(i) / float64(max(n-1, 1))
		var c [3]uint8
		for j := range c {
			c[j] = uint8(math.Round(lo[j] + t*(hi[j]-lo[j])))
		}
		p[i] = color.RGBA{c[0], c[1], c[2], 255}
	}
	return p
}
