package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for image.DecodeConfig
	_ "image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn"
)

// prediction is one image's result (the --json object).
type prediction struct {
	File        string     `json:"file"`
	Class       string     `json:"class"`
	Index       int        `json:"index"`
	Probability float64    `json:"probability"`
	Top         []topEntry `json:"top"`
	// ResizedFrom is the image's own [height, width] when it differs
	// from the model's input.
	ResizedFrom *[2]int `json:"resized_from,omitempty"`
}

// topEntry is one of the k most probable classes.
type topEntry struct {
	Class       string  `json:"class"`
	Index       int     `json:"index"`
	Probability float64 `json:"probability"`
}

func predictCmd() *command {
	return &command{
		name:  "predict",
		usage: "predict [flags] CHECKPOINT FILE|DIR...",
		short: "classify PNG/JPEG images with a checkpoint",
		long: `Predict classifies images with a checkpoint written by "vktrain train". Each
PNG or JPEG file (folders are searched recursively) is converted to the
model's channel count (gray or RGB) and resized to its input size, normalised
as in training, and run through the integer model. It prints the most
probable class (its name from the checkpoint, else its index), its
probability and the --top most probable classes.

An image that cannot be read (not PNG or JPEG, truncated, unreadable) is
named with the reason on stderr and skipped; the others are classified,
and the command then exits with status 1.

Examples:

	vktrain predict runs/mnist-int8/model.safetensors digit.png
	vktrain predict --top 3 --json runs/shapes/model.safetensors testdata/shapes/circle`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			top := fs.Int("top", 3, "how many of the most probable classes to list")
			jsonOut := fs.Bool("json", false, "print one JSON object per image")
			dev := fs.String("device", "auto", "device: auto, vulkan, vulkan:N or cpu; /packed, /int8 or /dot after a Vulkan device forces its integer GEMM")
			batch := fs.Int("batch", 64, "images per inference batch")
			validation := fs.Bool("validation", false, "enable the Khronos validation layer")
			return func(e *env, args []string) error {
				if len(args) < 2 {
					return usagef("want a checkpoint and at least one image file or folder, got %d arguments", len(args))
				}
				if *top <= 0 || *batch <= 0 {
					return usagef("--top and --batch must be positive")
				}
				return runPredict(e, args[0], args[1:], *top, *batch, *jsonOut, *dev, *validation)
			}
		},
	}
}

// imageFiles expands the arguments into image files: files as given,
// folders searched recursively for .png, .jpg and .jpeg (sorted).
func imageFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && p != a {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".png", ".jpg", ".jpeg":
				if !d.IsDir() {
					found = append(found, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no .png, .jpg or .jpeg files", a)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

func runPredict(e *env, ckpt string, args []string, top, batch int, jsonOut bool, devSpec string, validation bool) error {
	m, meta, err := nn.LoadCheckpoint(ckpt)
	if err != nil {
		return err
	}
	norm, names, err := checkpointInputs(ckpt, meta, m.Classes)
	if err != nil {
		return err
	}
	className := func(i int) string {
		if names != nil {
			return names[i]
		}
		return fmt.Sprint(i)
	}
	files, err := imageFiles(args)
	if err != nil {
		return err
	}
	in := m.Spec.Input
	h, w, c := in[0], in[1], in[2]
	if c != 1 && c != 3 {
		return fmt.Errorf("%s: the model takes %d channels; predict reads gray (1) or RGB (3) images", ckpt, c)
	}
	// Decode everything first. An image that cannot be read is reported
	// (name and reason, on stderr) and skipped; the others are classified
	// and the command fails at the end.
	set := &data.Set{Name: "predict", H: h, W: w, C: c, Classes: m.Classes}
	var resized []*[2]int
	var good []string
	var bad []error
	for _, p := range files {
		pix, err := decodeFile(p, h, w, c)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		var rs *[2]int
		if sz, err := imageSize(p); err == nil && sz != [2]int{h, w} {
			rs = &sz
		}
		resized = append(resized, rs)
		good = append(good, p)
		set.Pix = append(set.Pix, pix...)
		set.Labels = append(set.Labels, 0)
		set.N++
	}
	files = good
	if set.N == 0 && len(bad) == 1 {
		return bad[0]
	}
	for _, err := range bad {
		fmt.Fprintf(e.stderr, "vktrain predict: skipping %v\n", err)
	}
	if set.N == 0 {
		return fmt.Errorf("none of the %d images could be read (named above)", len(bad))
	}
	d, err := openDevice(devSpec, validation)
	if err != nil {
		return err
	}
	defer d.backend.Close()
	tr, err := nn.NewTrainer(m, d.backend, nn.TrainConfig{LR: 1})
	if err != nil {
		return err
	}
	defer tr.Close()
	k := m.Classes
	top = min(top, k)
	per := h * w * c
	x := make([]float32, batch*per)
	logits := make([]float32, batch*k)
	idx := make([]int, 0, batch)
	enc := json.NewEncoder(e.stdout)
	for s := 0; s < set.N; s += batch {
		idx = idx[:0]
		for j := s; j < min(s+batch, set.N); j++ {
			idx = append(idx, j)
		}
		n := len(idx)
		if err := set.Batch(x[:n*per], nil, idx, norm); err != nil {
			return err
		}
		if err := tr.Predict(x[:n*per], n, logits[:n*k]); err != nil {
			return err
		}
		for j := 0; j < n; j++ {
			prob := softmax(logits[j*k : (j+1)*k])
			order := make([]int, k)
			for i := range order {
				order[i] = i
			}
			sort.SliceStable(order, func(a, b int) bool { return prob[order[a]] > prob[order[b]] })
			pr := prediction{File: files[s+j], Index: order[0], Class: className(order[0]), Probability: prob[order[0]], ResizedFrom: resized[s+j]}
			for _, i := range order[:top] {
				pr.Top = append(pr.Top, topEntry{Class: className(i), Index: i, Probability: prob[i]})
			}
			if jsonOut {
				if err := enc.Encode(pr); err != nil {
					return err
				}
				continue
			}
			var parts []string
			for _, t := range pr.Top {
				parts = append(parts, fmt.Sprintf("%s %.3f", t.Class, t.Probability))
			}
			note := ""
			if pr.ResizedFrom != nil {
				note = fmt.Sprintf("  [resized from %dx%d]", pr.ResizedFrom[0], pr.ResizedFrom[1])
			}
			fmt.Fprintf(e.stdout, "%s: %s (p=%.3f)  top %d: %s%s\n", pr.File, pr.Class, pr.Probability, top, strings.Join(parts, ", "), note)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d images could not be read (named above); the other %d were classified", len(bad), len(bad)+set.N, set.N)
	}
	return nil
}

// decodeFile reads one image as h×w×c bytes.
func decodeFile(path string, h, w, c int) ([]uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pix, _, _, _, err := data.DecodeImage(f, h, w, c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pix, nil
}

// imageSize returns the stored height and width of an image (header only).
func imageSize(path string) ([2]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return [2]int{}, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	return [2]int{cfg.Height, cfg.Width}, err
}

// softmax returns the probabilities of logits, computed in float64.
func softmax(logits []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	p := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		p[i] = math.Exp(float64(v) - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}
