package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn"
)

func evalCmd() *command {
	return &command{
		name:  "eval",
		usage: "eval [flags] CHECKPOINT",
		short: "evaluate a checkpoint on a test set",
		long: `Eval loads a checkpoint written by "vktrain train" and runs the integer model over
the test split of a data set, printing accuracy, loss and the confusion matrix.

A checkpoint is verified before it is used: its tensors' checksums (format
vktrain/3; older formats have none and are used unverified, with a warning)
and its values (a NaN or infinite parameter is refused, naming the tensor).

--predictions FILE writes one row per test image, in test-set order: its
index, true label, predicted class (the first largest logit) and the logits.
FILE is CSV with a header line (index,label,predicted,logit0,logit1,...)
unless its name ends in .jsonl, which gives one JSON object per line:
{"index": 0, "label": 7, "predicted": 7, "logits": [...]}. Logits are
printed as the shortest decimals that read back to the same float32.

Examples:

	vktrain eval runs/mnist-int8/model.safetensors
	vktrain eval --data fashion-mnist --device cpu --json model.safetensors
	vktrain eval --predictions preds.csv runs/mnist-int8/model.safetensors`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			dataSpec := fs.String("data", "", "data set whose test split is evaluated (see vktrain help train; default: the one the checkpoint was trained on, else mnist)")
			dev := fs.String("device", "auto", "device: auto, vulkan, vulkan:N or cpu; /packed, /int8 or /dot after a Vulkan device forces its integer GEMM")
			batch := fs.Int("batch", 256, "batch size")
			jsonOut := fs.Bool("json", false, "print one JSON object")
			validation := fs.Bool("validation", false, "enable the Khronos validation layer")
			predictions := fs.String("predictions", "", "write each test image's index, label, predicted class and logits to `FILE` (CSV, or JSON lines if FILE ends in .jsonl)")
			return func(e *env, args []string) error {
				if len(args) != 1 {
					return usagef("want exactly one checkpoint path, got %d arguments", len(args))
				}
				if *batch <= 0 {
					return usagef("--batch must be positive")
				}
				if err := checkDeviceSpec(*dev); err != nil {
					return err
				}
				m, meta, err := nn.LoadCheckpoint(args[0])
				if err != nil {
					return err
				}
				warnUnverified(e.stderr, args[0], meta)
				norm, names, err := checkpointInputs(args[0], meta, m.Classes)
				if err != nil {
					return err
				}
				if *dataSpec == "" {
					*dataSpec = meta["data"]
					if *dataSpec == "" {
						*dataSpec = "mnist"
					}
				}
				_, test, err := data.Resolve(*dataSpec)
				if err != nil {
					return dataError(err)
				}
				if in := m.Spec.Input; test.H != in[0] || test.W != in[1] || test.C != in[2] {
					return fmt.Errorf("data %s has %dx%dx%d images, the checkpoint's model takes %v", *dataSpec, test.H, test.W, test.C, in)
				}
				d, err := openDevice(*dev, *validation)
				if err != nil {
					return err
				}
				defer d.backend.Close()
				tr, err := nn.NewTrainer(m, d.backend, nn.TrainConfig{LR: 1})
				if err != nil {
					return err
				}
				defer tr.Close()
				var pw *predictionWriter
				var each func(index, label, predicted int, logits []float32) error
				if *predictions != "" {
					if a, errA := os.Stat(*predictions); errA == nil {
						if b, errB := os.Stat(args[0]); errB == nil && os.SameFile(a, b) {
							return usagef("--predictions %s is the checkpoint itself", *predictions)
						}
					}
					if pw, err = newPredictionWriter(*predictions, m.Classes); err != nil {
						return err
					}
					defer pw.abort()
					each = pw.row
				}
				r, err := tr.EvaluateEach(setBatcher{s: test, norm: norm}, *batch, each)
				if err != nil {
					return err
				}
				if err := pw.close(); err != nil {
					return err
				}
				if *jsonOut {
					return json.NewEncoder(e.stdout).Encode(map[string]any{
						"test_accuracy": r.Accuracy, "test_loss": r.Loss, "n": r.N, "device": d.backend.Name(),
						"images_per_second": float64(r.N) / r.Wall.Seconds(), "confusion": r.Confusion})
				}
				fmt.Fprintf(e.stdout, "device %s (%s)\n%s: %d test images, accuracy %.2f%%, loss %.4f, %.0f img/s\n",
					d.backend.Name(), d.reason, *dataSpec, r.N, 100*r.Accuracy, r.Loss, float64(r.N)/r.Wall.Seconds())
				fmt.Fprintln(e.stdout, "confusion matrix (rows: true class, columns: predicted):")
				for i, row := range r.Confusion {
					label := fmt.Sprint(i)
					if len(names) == len(r.Confusion) {
						label = fmt.Sprintf("%d %s", i, names[i])
					}
					fmt.Fprintf(e.stdout, "%12.12s |", label)
					for _, v := range row {
						fmt.Fprintf(e.stdout, " %5d", v)
					}
					fmt.Fprintln(e.stdout)
				}
				return nil
			}
		},
	}
}

func devicesCmd() *command {
	return &command{
		name:  "devices",
		usage: "devices",
		short: "list Vulkan devices and their capabilities",
		long:  `Devices lists the Vulkan devices the loader finds, with the limits and features vktrain uses.`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error { return listDevices(e) }
		},
	}
}

// warnUnverified warns that a checkpoint of a format before vktrain/3 has
// no checksums, so its data cannot be verified.
func warnUnverified(w io.Writer, path string, meta map[string]string) {
	if meta[nn.ChecksumKey] == "" {
		fmt.Fprintf(w, "warning  %s: format %s has no checksums; its data cannot be verified (save it again with this vktrain to add them)\n", path, meta["format"])
	}
}

// predictionWriter writes eval --predictions: CSV with a header, or JSON
// lines when the file name ends in .jsonl. It writes a temporary file
// beside path and renames it on close, so a failed evaluation leaves no
// partial file (and an older file at path stays as it was).
type predictionWriter struct {
	path  string
	f     *os.File // the temporary file
	w     *bufio.Writer
	jsonl bool
	buf   []byte
	err   error
}

func newPredictionWriter(path string, classes int) (*predictionWriter, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("--predictions %s: %w", path, err)
	}
	p := &predictionWriter{path: path, f: f, w: bufio.NewWriter(f), jsonl: strings.HasSuffix(path, ".jsonl")}
	if !p.jsonl {
		p.buf = append(p.buf, "index,label,predicted"...)
		for c := range classes {
			p.buf = append(p.buf, ",logit"...)
			p.buf = strconv.AppendInt(p.buf, int64(c), 10)
		}
		p.buf = append(p.buf, '\n')
		_, p.err = p.w.Write(p.buf)
	}
	return p, nil
}

// row writes one test image.
func (p *predictionWriter) row(index, label, predicted int, logits []float32) error {
	if p.err != nil {
		return p.err
	}
	b := p.buf[:0]
	if p.jsonl {
		b = fmt.Appendf(b, `{"index":%d,"label":%d,"predicted":%d,"logits":[`, index, label, predicted)
	} else {
		b = fmt.Appendf(b, "%d,%d,%d", index, label, predicted)
	}
	for i, v := range logits {
		if i > 0 || !p.jsonl {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
	}
	if p.jsonl {
		b = append(b, "]}"...)
	}
	b = append(b, '\n')
	p.buf = b
	if _, err := p.w.Write(b); err != nil {
		p.err = fmt.Errorf("--predictions %s: %w", p.path, err)
	}
	return p.err
}

// close finishes the file; on a nil writer it does nothing.
func (p *predictionWriter) close() error {
	if p == nil || p.f == nil {
		return nil
	}
	tmp := p.f.Name()
	err := errors.Join(p.err, p.w.Flush(), p.f.Chmod(0o644), p.f.Close())
	p.f = nil
	if err == nil {
		err = os.Rename(tmp, p.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("--predictions %s: %w", p.path, err)
	}
	return nil
}

// abort removes an unfinished file (after an error); after close it does
// nothing.
func (p *predictionWriter) abort() {
	if p == nil || p.f == nil {
		return
	}
	p.f.Close()
	os.Remove(p.f.Name())
	p.f = nil
}
