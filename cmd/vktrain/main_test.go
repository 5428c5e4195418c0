package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vktrain/vktrain/nn"
)

// TestMain lets a test run this binary as the vktrain command (for the
// signal test): with VKTRAIN_TEST_MAIN=1 it is vktrain.
func TestMain(m *testing.M) {
	if os.Getenv("VKTRAIN_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// smallModel trains in a fraction of a second on a few dozen mini images.
const smallModel = "conv:4:3,comp,bn,relu,pool:2,fc:16,comp,relu,fc:10,comp"

// result is the outcome of one command.
type result struct {
	code           int
	stdout, stderr string
}

func runWith(t *testing.T, e *env, args ...string) result {
	t.Helper()
	var o, s bytes.Buffer
	if e == nil {
		e = &env{}
	}
	e.stdout, e.stderr = &o, &s
	code := runEnv(e, args)
	return result{code, o.String(), s.String()}
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runWith(t, nil, args...)
}

func (r result) must(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

// oneLine checks that a failed command said why in one line naming want.
func (r result) oneLine(t *testing.T, want ...string) {
	t.Helper()
	msg := strings.TrimRight(r.stderr, "\n")
	if strings.Count(msg, "\n") != 0 {
		t.Errorf("error is not one line:\n%s", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
}

// trainArgs is a fast mini run writing to dir/model.safetensors.
func trainArgs(dir string, extra ...string) []string {
	a := []string{"train", "--data", "mini", "--limit", "96", "--batch", "16", "--epochs", "2", "--device", "cpu",
		"--model", smallModel, "--out", filepath.Join(dir, "model.safetensors"), "--plots=false"}
	return append(a, extra...)
}

// tensors reads a checkpoint's tensors.
func tensors(t *testing.T, path string) (map[string]string, map[string][]float32) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	meta, ts, _, err := nn.ReadCheckpoint(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	return meta, ts
}

func sameTensors(t *testing.T, a, b string) {
	t.Helper()
	_, ta := tensors(t, a)
	_, tb := tensors(t, b)
	if len(ta) != len(tb) {
		t.Fatalf("%d tensors vs %d", len(ta), len(tb))
	}
	for name, va := range ta {
		vb, ok := tb[name]
		if !ok || len(va) != len(vb) {
			t.Fatalf("tensor %s missing or resized", name)
		}
		for i := range va {
			if math.Float32bits(va[i]) != math.Float32bits(vb[i]) {
				t.Fatalf("%s[%d]: %v (uninterrupted) vs %v (resumed)", name, i, va[i], vb[i])
			}
		}
	}
}

// interruptAt returns an env whose run is interrupted after the given
// training steps, as if SIGINT arrived during them.
func interruptAt(steps ...int) *env {
	ch := make(chan os.Signal, 1)
	return &env{interrupt: ch, afterStep: func(s int) {
		for _, x := range steps {
			if s == x {
				ch <- os.Interrupt
			}
		}
	}}
}

// TestResumeMatchesUninterrupted interrupts a 2-epoch run (6 batches per
// epoch) inside epoch 1, at the end of epoch 1 and inside epoch 2, resumes
// it each time, and checks that it ends with bit-identical tensors
// (parameters, buffers, momentum) and the same metrics as a run that was
// never interrupted.
func TestResumeMatchesUninterrupted(t *testing.T) {
	base := t.TempDir()
	want := filepath.Join(base, "straight")
	runCLI(t, trainArgs(want)...).must(t, 0)
	wantRecs, err := readMetrics(filepath.Join(want, "metrics.jsonl"))
	if err != nil || len(wantRecs) != 2 {
		t.Fatalf("metrics: %v, %d records", err, len(wantRecs))
	}

	for _, tc := range []struct {
		name  string
		stops []int // steps after which the run is interrupted, one per attempt
	}{
		{"inside-epoch-1", []int{4}},
		{"end-of-epoch-1", []int{6}},
		{"twice", []int{2, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, tc.name)
			ckpt := filepath.Join(dir, "model.safetensors")
			r := runWith(t, interruptAt(tc.stops[0]), trainArgs(dir)...).must(t, 130)
			if !strings.Contains(r.stderr, "resume with: vktrain train --resume "+ckpt) {
				t.Errorf("no resume hint:\n%s", r.stderr)
			}
			for i, stop := range tc.stops[1:] {
				meta, _ := tensors(t, ckpt)
				st, err := nn.GetTrainState(meta)
				if err != nil {
					t.Fatal(err)
				}
				if st.Step != tc.stops[i] {
					t.Errorf("saved at step %d, want %d", st.Step, tc.stops[i])
				}
				runWith(t, interruptAt(stop), "train", "--resume", ckpt).must(t, 130)
			}
			r = runCLI(t, "train", "--resume", ckpt).must(t, 0)
			if !strings.Contains(r.stdout, "resume   from "+ckpt) {
				t.Errorf("resumed run does not say where it resumed:\n%s", r.stdout)
			}
			sameTensors(t, filepath.Join(want, "model.safetensors"), ckpt)
			recs, err := readMetrics(filepath.Join(dir, "metrics.jsonl"))
			if err != nil || len(recs) != len(wantRecs) {
				t.Fatalf("metrics: %v, %d records, want %d", err, len(recs), len(wantRecs))
			}
			for i := range recs {
				w, g := wantRecs[i], recs[i]
				if g.Epoch != w.Epoch || g.Step != w.Step || g.TrainLoss != w.TrainLoss || g.TrainAccuracy != w.TrainAccuracy || g.TestLoss != w.TestLoss {
					t.Errorf("record %d: %+v, uninterrupted %+v", i, g, w)
				}
			}
		})
	}

	// Training further: --epochs extends a finished run; the first epochs
	// stay as they were. (At a constant learning rate: a cosine schedule
	// spans the run's --epochs, so extending the run changes it.)
	wantConst := filepath.Join(base, "straight-constant")
	runCLI(t, trainArgs(wantConst, "--lr-schedule", "constant")...).must(t, 0)
	ext := filepath.Join(base, "extend")
	runCLI(t, trainArgs(ext, "--epochs", "1", "--lr-schedule", "constant")...).must(t, 0)
	runCLI(t, "train", "--resume", filepath.Join(ext, "model.safetensors"), "--epochs", "2").must(t, 0)
	sameTensors(t, filepath.Join(wantConst, "model.safetensors"), filepath.Join(ext, "model.safetensors"))
	r := runCLI(t, "train", "--resume", filepath.Join(ext, "model.safetensors")).must(t, 0)
	if !strings.Contains(r.stdout, "already finished") {
		t.Errorf("resuming a finished run:\n%s", r.stdout)
	}
}

// TestSignal runs the command as a process, sends it SIGINT during
// training and checks that it saves, prints how to resume and exits 130.
func TestSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a subprocess")
	}
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "model.safetensors")
	args := trainArgs(dir)
	for i, a := range args {
		if a == "--epochs" {
			args[i+1] = "1000" // longer than the test waits
		}
	}
	cmd := exec.Command(os.Args[0], args...)
	// The test binary was built by go test; as vktrain it says how to
	// resume with the installed command.
	cmd.Env = append(os.Environ(), "VKTRAIN_TEST_MAIN=1", trainCommandEnv+"=vktrain train")
	wd, _ := os.Getwd()
	cmd.Dir = wd
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "epoch 1 ") {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for sc.Scan() {
		}
		done <- cmd.Wait()
	}()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the process did not stop within 30 s of SIGINT")
	}
	if cmd.ProcessState.ExitCode() != 130 {
		t.Fatalf("exit %d (%v), want 130\n%s", cmd.ProcessState.ExitCode(), err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "resume with: vktrain train --resume "+ckpt) {
		t.Errorf("stderr lacks the resume hint:\n%s", stderr.String())
	}
	meta, _ := tensors(t, ckpt)
	st, err := nn.GetTrainState(meta)
	if err != nil || st.Epoch < 1 || st.Epochs != 1000 {
		t.Fatalf("saved state %+v, %v", st, err)
	}
}

func TestOverwriteProtection(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "model.safetensors")
	runCLI(t, trainArgs(dir, "--epochs", "1")...).must(t, 0)
	before, _ := os.ReadFile(ckpt)
	r := runCLI(t, trainArgs(dir, "--epochs", "1", "--seed", "2")...).must(t, 1)
	r.oneLine(t, ckpt, "another run", "--resume", "--force")
	if after, _ := os.ReadFile(ckpt); !bytes.Equal(before, after) {
		t.Error("the other run's checkpoint was changed")
	}
	runCLI(t, trainArgs(dir, "--epochs", "1", "--seed", "2", "--force")...).must(t, 0)
	if after, _ := os.ReadFile(ckpt); bytes.Equal(before, after) {
		t.Error("--force did not overwrite")
	}
	// A file that is not a checkpoint is not overwritten either.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "model.safetensors"), []byte("precious"), 0o644)
	runCLI(t, trainArgs(other, "--epochs", "1")...).must(t, 1).oneLine(t, "not a vktrain checkpoint")
}

func TestResumeErrors(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "model.safetensors")
	runCLI(t, trainArgs(dir, "--epochs", "1")...).must(t, 0)
	good, _ := os.ReadFile(ckpt)

	trunc := filepath.Join(dir, "trunc.safetensors")
	os.WriteFile(trunc, good[:len(good)-100], 0o644)
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, []byte("GIF89a this is not a checkpoint"), 0o644)
	foreign := filepath.Join(dir, "foreign.safetensors")
	writeForeign(t, foreign)
	noState := filepath.Join(dir, "nostate.safetensors")
	m, meta, err := nn.LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	delete(meta, nn.TrainStateKey)
	if err := nn.SaveCheckpoint(noState, m, meta); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"missing", []string{"--resume", filepath.Join(dir, "nope.safetensors")}, 1, []string{"nope.safetensors", "no such file"}},
		{"garbage", []string{"--resume", garbage}, 1, []string{"garbage.safetensors", "not a vktrain checkpoint"}},
		{"foreign", []string{"--resume", foreign}, 1, []string{"foreign.safetensors", "not a vktrain checkpoint"}},
		{"truncated", []string{"--resume", trunc, "--out", filepath.Join(dir, "t2.safetensors")}, 1, []string{"trunc.safetensors", "truncated"}},
		{"no-state", []string{"--resume", noState}, 1, []string{"no training state"}},
		{"changed-lr", []string{"--resume", ckpt, "--lr", "0.5"}, 2, []string{"--lr 0.5 differs", "--force"}},
		{"fewer-epochs", []string{"--resume", ckpt, "--epochs", "0"}, 2, []string{"--epochs 0"}},
		{"other-data", []string{"--resume", ckpt, "--data", "shapes", "--force"}, 1, []string{"shapes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"train"}, tc.args...)...).must(t, tc.code)
			r.oneLine(t, tc.want...)
		})
	}
	if now, _ := os.ReadFile(ckpt); !bytes.Equal(now, good) {
		t.Error("a failed resume changed the checkpoint")
	}
}

// writeForeign writes a valid safetensors file that is not vktrain's.
func writeForeign(t *testing.T, path string) {
	t.Helper()
	h := []byte(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}`)
	var b bytes.Buffer
	n := uint64(len(h))
	for i := 0; i < 8; i++ {
		b.WriteByte(byte(n >> (8 * i)))
	}
	b.Write(h)
	b.Write(make([]byte, 8))
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNaNKeepsLastGoodCheckpoint makes training diverge in epoch 2 (a
// huge learning rate, no threshold) and checks that the error names the
// step and where, and that the epoch-1 checkpoint is left as it was.
func TestNaNKeepsLastGoodCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "model.safetensors")
	runCLI(t, trainArgs(dir, "--epochs", "1", "--threshold", "0")...).must(t, 0)
	good, _ := os.ReadFile(ckpt)
	r := runCLI(t, "train", "--resume", ckpt, "--epochs", "3", "--lr", "1e30", "--force").must(t, 1)
	r.oneLine(t, "step", "last good checkpoint is "+ckpt+" (after epoch 1, step 6)")
	if !strings.Contains(r.stderr, "non-finite") && !strings.Contains(r.stderr, "NaN") && !strings.Contains(r.stderr, "is +Inf") && !strings.Contains(r.stderr, "is -Inf") {
		t.Errorf("error does not say what was not finite: %s", r.stderr)
	}
	if now, _ := os.ReadFile(ckpt); !bytes.Equal(now, good) {
		t.Error("the last good checkpoint was overwritten")
	}
}

func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--bits", "9"}, "--bits 9"},
		{[]string{"train", "--bits", "4", "--input-bits", "1"}, "--input-bits 1"},
		{[]string{"bench", "--input-bits", "12"}, "--input-bits 12"},
		{[]string{"train", "--bits", "4", "--output-bits", "9"}, "--output-bits 9"},
		{[]string{"bench", "--output-bits", "1"}, "--output-bits 1"},
		{[]string{"train", "--input-qmode", "learn"}, `--input-qmode "learn"`},
		{[]string{"bench", "--input-qmode", "x"}, `--input-qmode "x"`},
		{[]string{"train", "--init", "zeros"}, "--init"},
		{[]string{"train", "--batch", "0"}, "--batch 0"},
		{[]string{"train", "--lr", "-1"}, "--lr -1"},
		{[]string{"train", "--momentum", "1"}, "--momentum 1"},
		{[]string{"train", "--epochs", "-2"}, "--epochs -2"},
		{[]string{"train", "--limit", "-5"}, "--limit -5"},
		{[]string{"train", "--qmode", "fancy"}, "--qmode"},
		{[]string{"train", "--calib", "guess"}, "--calib"},
		{[]string{"train", "--threshold-mode", "soft"}, "--threshold-mode"},
		{[]string{"train", "--name", "a/b"}, "--name"},
		{[]string{"train", "--model", "conv:x:3"}, "--model"},
		{[]string{"train", "--model", "wobble:3"}, "unknown layer type"},
		{[]string{"train", "--data", "shapes", "--model", "conv:8:40,fc:3", "--out", filepath.Join(dir, "a.safetensors")}, "does not fit"},
		{[]string{"train", "--data", "mini", "--model", "conv:8:3,fc:7", "--out", filepath.Join(dir, "b.safetensors")}, "does not fit"},
		{[]string{"train", "--device", "tpu", "--data", "shapes", "--out", filepath.Join(dir, "c.safetensors")}, "--device"},
		{[]string{"train", "extra"}, "unexpected arguments"},
		{[]string{"eval"}, "want exactly one checkpoint"},
		{[]string{"eval", "--batch", "0", "x"}, "--batch"},
		{[]string{"predict", "only-a-checkpoint"}, "at least one image"},
		{[]string{"predict", "--top", "0", "a", "b"}, "--top"},
		{[]string{"plot"}, "at least one metrics file"},
	} {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			runCLI(t, tc.args...).must(t, 2).oneLine(t, tc.want)
		})
	}
	// The flag package reports unknown flags with the usage text.
	if r := runCLI(t, "train", "--no-such-flag"); r.code != 2 || !strings.Contains(r.stderr, "no-such-flag") {
		t.Errorf("unknown flag: exit %d, %s", r.code, r.stderr)
	}
	if r := runCLI(t, "frobnicate"); r.code != 2 {
		t.Errorf("unknown command: exit %d", r.code)
	}
}

func TestMissingData(t *testing.T) {
	dir := t.TempDir()
	r := runCLI(t, "train", "--data", filepath.Join(dir, "no-such-set"), "--out", filepath.Join(dir, "m.safetensors")).must(t, 1)
	r.oneLine(t, "--data", "no-such-set")
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	runCLI(t, "train", "--data", empty, "--out", filepath.Join(dir, "m.safetensors")).must(t, 1).oneLine(t, "empty")
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "run.json")
	os.WriteFile(cfg, []byte(`{"data": "mini", "limit": 48, "batch": 8, "epochs": 1, "device": "cpu", "model": "`+smallModel+`", "plots": false, "lr": 0.02}`), 0o644)
	r := runCLI(t, "train", "--config", cfg, "--batch", "16", "--out", filepath.Join(dir, "model.safetensors")).must(t, 0)
	if !strings.Contains(r.stdout, "batch 16, lr 0.02") || !strings.Contains(r.stdout, "48 train") {
		t.Errorf("explicit --batch should win over the config, the config's lr and limit apply:\n%s", r.stdout)
	}
	meta, _ := tensors(t, filepath.Join(dir, "model.safetensors"))
	st, _ := nn.GetTrainState(meta)
	if st.Flags["lr"] != "0.02" || st.Flags["batch"] != "16" {
		t.Errorf("recorded flags %v", st.Flags)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"epochz": 3}`), 0o644)
	runCLI(t, "train", "--config", bad).must(t, 2).oneLine(t, `unknown flag "epochz"`)
	os.WriteFile(bad, []byte(`{"epochs": "many"}`), 0o644)
	runCLI(t, "train", "--config", bad).must(t, 2).oneLine(t, `"epochs"`)
	os.WriteFile(bad, []byte(`[1, 2]`), 0o644)
	runCLI(t, "train", "--config", bad).must(t, 2).oneLine(t, "JSON object")
	runCLI(t, "train", "--config", filepath.Join(dir, "none.json")).must(t, 2).oneLine(t, "--config")
}

// trainShapes trains a small model on testdata/shapes once per test.
func trainShapes(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	runCLI(t, "train", "--data", "shapes", "--epochs", "8", "--batch", "8", "--device", "cpu",
		"--model", "conv:8:3,comp,bn,relu,pool:2,fc:3,comp", "--out", filepath.Join(dir, "model.safetensors")).must(t, 0)
	return dir
}

func TestPlotsAndMetrics(t *testing.T) {
	dir := trainShapes(t)
	recs, err := readMetrics(filepath.Join(dir, "metrics.jsonl"))
	if err != nil || len(recs) != 8 {
		t.Fatalf("metrics: %v, %d records", err, len(recs))
	}
	if recs[7].Name == "" || len(recs[7].Confusion) != 3 || len(recs[7].ClassNames) != 3 || recs[7].Step != 48 {
		t.Errorf("last record %+v", recs[7])
	}
	for _, p := range []string{"curves.png", "confusion.png"} {
		checkPNG(t, filepath.Join(dir, p))
	}
	// Two runs side by side.
	dir2 := t.TempDir()
	runCLI(t, trainArgs(dir2, "--float")...).must(t, 0)
	out := filepath.Join(t.TempDir(), "cmp.png")
	r := runCLI(t, "plot", "-o", out, "-confusion", out+".conf.png", filepath.Join(dir, "metrics.jsonl"), filepath.Join(dir2, "metrics.jsonl")).must(t, 0)
	if !strings.Contains(r.stdout, "2 runs") {
		t.Errorf("plot said %q", r.stdout)
	}
	checkPNG(t, out)
	checkPNG(t, out+".conf.png")
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte("{\"epoch\":1}\nnot json\n"), 0o644)
	runCLI(t, "plot", "-o", out, bad).must(t, 1).oneLine(t, "bad.jsonl:2")
}

func checkPNG(t *testing.T, path string) {
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
	if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 200 {
		t.Errorf("%s is only %v", path, b)
	}
	// Not blank: some pixels are dark (axes, text, lines).
	dark := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			if r+g+b < 3*0x4000 {
				dark++
			}
		}
	}
	if dark < 100 {
		t.Errorf("%s looks blank (%d dark pixels)", path, dark)
	}
}

func TestPredict(t *testing.T) {
	dir := trainShapes(t)
	ckpt := filepath.Join(dir, "model.safetensors")
	circles := filepath.Join("..", "..", "testdata", "shapes", "circle")
	files, err := imageFiles([]string{circles})
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "predict", "--device", "cpu", ckpt, circles).must(t, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(files) {
		t.Fatalf("%d lines for %d images:\n%s", len(lines), len(files), r.stdout)
	}
	circleVotes := 0
	for _, l := range lines {
		if strings.Contains(l, ": circle (p=") {
			circleVotes++
		}
		if !strings.Contains(l, "top 3: ") {
			t.Errorf("line without top-3: %s", l)
		}
	}
	if circleVotes < len(lines)/2 {
		t.Errorf("only %d of %d circles classified as circles:\n%s", circleVotes, len(lines), r.stdout)
	}

	// A gray image of another size: converted to RGB and resized.
	img := image.NewGray(image.Rect(0, 0, 40, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			img.SetGray(x, y, color.Gray{uint8(x * 6)})
		}
	}
	odd := filepath.Join(t.TempDir(), "odd.png")
	f, _ := os.Create(odd)
	png.Encode(f, img)
	f.Close()
	r = runCLI(t, "predict", "--device", "cpu", "--json", "--top", "2", ckpt, odd, files[0]).must(t, 0)
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var ps []prediction
	for dec.More() {
		var p prediction
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if len(ps) != 2 {
		t.Fatalf("%d predictions", len(ps))
	}
	if ps[0].ResizedFrom == nil || *ps[0].ResizedFrom != [2]int{30, 40} || ps[1].ResizedFrom != nil {
		t.Errorf("resized_from: %v, %v", ps[0].ResizedFrom, ps[1].ResizedFrom)
	}
	for _, p := range ps {
		sum := 0.0
		if len(p.Top) != 2 || p.Top[0].Class != p.Class || p.Top[0].Probability < p.Top[1].Probability {
			t.Errorf("top-2 %+v for class %s", p.Top, p.Class)
		}
		for _, e := range p.Top {
			sum += e.Probability
		}
		if sum > 1+1e-9 || p.Probability <= 1.0/3 {
			t.Errorf("probabilities %+v", p)
		}
	}

	// Errors: one line, non-zero.
	corrupt := filepath.Join("..", "..", "testdata", "corrupt")
	runCLI(t, "predict", "--device", "cpu", ckpt, filepath.Join(corrupt, "undecodable.png")).must(t, 1).oneLine(t, "undecodable.png")
	runCLI(t, "predict", "--device", "cpu", ckpt, filepath.Join(dir, "nothing.png")).must(t, 1).oneLine(t, "nothing.png")
	runCLI(t, "predict", "--device", "cpu", ckpt, t.TempDir()).must(t, 1).oneLine(t, "no .png")
	runCLI(t, "predict", "--device", "cpu", filepath.Join(dir, "metrics.jsonl"), files[0]).must(t, 1).oneLine(t, "not a vktrain checkpoint")
	good, _ := os.ReadFile(ckpt)
	trunc := filepath.Join(dir, "trunc.safetensors")
	os.WriteFile(trunc, good[:len(good)-7], 0o644)
	runCLI(t, "predict", "--device", "cpu", trunc, files[0]).must(t, 1).oneLine(t, "trunc.safetensors", "truncated")
	foreign := filepath.Join(dir, "foreign.safetensors")
	writeForeign(t, foreign)
	runCLI(t, "predict", "--device", "cpu", foreign, files[0]).must(t, 1).oneLine(t, "foreign.safetensors", "not a vktrain checkpoint")
}

func TestEvalErrors(t *testing.T) {
	dir := trainShapes(t)
	ckpt := filepath.Join(dir, "model.safetensors")
	r := runCLI(t, "eval", "--device", "cpu", "--data", "shapes", ckpt).must(t, 0)
	if !strings.Contains(r.stdout, "accuracy") {
		t.Errorf("eval output:\n%s", r.stdout)
	}
	good, _ := os.ReadFile(ckpt)
	trunc := filepath.Join(dir, "trunc.safetensors")
	os.WriteFile(trunc, good[:len(good)/2], 0o644)
	foreign := filepath.Join(dir, "foreign.safetensors")
	writeForeign(t, foreign)
	unreadable := filepath.Join(dir, "dir.safetensors")
	os.Mkdir(unreadable, 0o755)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{trunc}, []string{"trunc.safetensors", "truncated"}},
		{[]string{foreign}, []string{"foreign.safetensors", "not a vktrain checkpoint"}},
		{[]string{unreadable}, []string{"dir.safetensors"}},
		{[]string{"--data", "mini", ckpt}, []string{"28x28x1", "[16 16 3]"}},
	} {
		args := append([]string{"eval", "--device", "cpu", "--data", "shapes"}, tc.args...)
		runCLI(t, args...).must(t, 1).oneLine(t, tc.want...)
	}
}

// TestProgressBar checks the terminal path draws a bar with the live
// figures on stderr and keeps stdout to the epoch lines.
func TestProgressBar(t *testing.T) {
	dir := t.TempDir()
	r := runWith(t, &env{terminal: true}, trainArgs(dir, "--epochs", "1")...).must(t, 0)
	if !strings.Contains(r.stderr, "epoch 1/1") || !strings.Contains(r.stderr, "\r") {
		t.Errorf("no progress bar on stderr:\n%q", r.stderr)
	}
	if strings.Contains(r.stdout, "img/s  ") && strings.Contains(r.stdout, "\r") {
		t.Errorf("progress bar on stdout:\n%q", r.stdout)
	}
}

func TestPythonReader(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	dir := t.TempDir()
	runCLI(t, trainArgs(dir, "--epochs", "1")...).must(t, 0)
	ckpt := filepath.Join(dir, "model.safetensors")
	out, err := exec.Command(py, "../../scripts/read_checkpoint.py", "--json", "--values", "4", ckpt).Output()
	if err != nil {
		t.Fatalf("read_checkpoint.py: %v", err)
	}
	var got struct {
		Metadata map[string]any `json:"metadata"`
		Tensors  map[string]struct {
			Shape  []int     `json:"shape"`
			Values []float64 `json:"values"`
		} `json:"tensors"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	meta, ts := tensors(t, ckpt)
	if len(got.Tensors) != len(ts) {
		t.Errorf("python sees %d tensors, Go %d", len(got.Tensors), len(ts))
	}
	for name, v := range ts {
		g := got.Tensors[name]
		for i, x := range g.Values {
			if float32(x) != v[i] {
				t.Errorf("%s[%d]: python %v, Go %v", name, i, x, v[i])
			}
		}
		if len(g.Values) != min(4, len(v)) {
			t.Errorf("%s: %d values", name, len(g.Values))
		}
	}
	if got.Metadata["format"] != meta["format"] {
		t.Errorf("format %v", got.Metadata["format"])
	}
	st, ok := got.Metadata["train_state"].(map[string]any)
	if !ok || st["step"] != float64(6) {
		t.Errorf("train_state %v", got.Metadata["train_state"])
	}
	// The text form and an error.
	txt, err := exec.Command(py, "../../scripts/read_checkpoint.py", ckpt).Output()
	if err != nil || !bytes.Contains(txt, []byte("conv1.weight")) || !bytes.Contains(txt, []byte("[4, 3, 3, 1]")) {
		t.Errorf("text output (%v):\n%s", err, txt)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("xx"), 0o644)
	if err := exec.Command(py, "../../scripts/read_checkpoint.py", bad).Run(); err == nil {
		t.Error("garbage accepted")
	}
}

// TestJSONIsMetrics checks that --json prints exactly the metrics log's
// objects.
func TestJSONIsMetrics(t *testing.T) {
	dir := t.TempDir()
	r := runCLI(t, trainArgs(dir, "--json")...).must(t, 0)
	b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if r.stdout != string(b) || strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("--json output:\n%s\nmetrics.jsonl:\n%s", r.stdout, b)
	}
	if !strings.Contains(r.stderr, "run      ") {
		t.Errorf("the resolved settings should go to stderr with --json:\n%s", r.stderr)
	}
}

// TestDefaultLayout runs without --out: the files go to runs/NAME/, and a
// second run started in the same second gets its own folder.
func TestDefaultLayout(t *testing.T) {
	mini, err := filepath.Abs(filepath.Join("..", "..", "testdata", "mnist-mini"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	args := []string{"train", "--data", "idx:" + mini, "--limit", "32", "--batch", "16", "--epochs", "1", "--device", "cpu", "--model", smallModel}
	runCLI(t, args...).must(t, 0)
	runCLI(t, args...).must(t, 0)
	runCLI(t, append(args, "--name", "mine")...).must(t, 0)
	dirs, _ := filepath.Glob(filepath.Join("runs", "*"))
	if len(dirs) != 3 {
		t.Fatalf("run folders %v, want 3", dirs)
	}
	for _, d := range dirs {
		for _, f := range []string{"model.safetensors", "metrics.jsonl", "curves.png", "confusion.png"} {
			if _, err := os.Stat(filepath.Join(d, f)); err != nil {
				t.Error(err)
			}
		}
	}
	runCLI(t, append(args, "--name", "mine")...).must(t, 1).oneLine(t, "another run (mine")
}

func TestFilesFor(t *testing.T) {
	for _, tc := range []struct {
		ckpt, metrics string
		want          runFiles
	}{
		{"runs/a/model.safetensors", "", runFiles{"runs/a/model.safetensors", "runs/a/metrics.jsonl", "runs/a/curves.png", "runs/a/confusion.png"}},
		{"out/b.safetensors", "", runFiles{"out/b.safetensors", "out/b.metrics.jsonl", "out/b.curves.png", "out/b.confusion.png"}},
		{"c.safetensors", "m.jsonl", runFiles{"c.safetensors", "m.jsonl", "c.curves.png", "c.confusion.png"}},
	} {
		if got := filesFor(tc.ckpt, tc.metrics); got != tc.want {
			t.Errorf("filesFor(%q, %q) = %+v, want %+v", tc.ckpt, tc.metrics, got, tc.want)
		}
	}
}

// TestMetricsOnResume: a record written after the checkpoint it belongs
// to (a crash between the two writes) is dropped when the run resumes, so
// no epoch appears twice; --metrics moves the log.
func TestMetricsOnResume(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "elsewhere.jsonl")
	runCLI(t, trainArgs(dir, "--epochs", "1", "--metrics", log)...).must(t, 0)
	recs, err := readMetrics(log)
	if err != nil || len(recs) != 1 {
		t.Fatalf("--metrics log: %v, %d records", err, len(recs))
	}
	if _, err := os.Stat(filepath.Join(dir, "metrics.jsonl")); err == nil {
		t.Error("metrics.jsonl written despite --metrics")
	}
	// Pretend epoch 2 was logged but its checkpoint never written.
	b, _ := os.ReadFile(log)
	stale := strings.Replace(string(b), `"epoch":1,`, `"epoch":2,`, 1) // with epoch 1's step
	os.WriteFile(log, append(b, stale...), 0o644)
	runCLI(t, "train", "--resume", filepath.Join(dir, "model.safetensors"), "--metrics", log, "--epochs", "2").must(t, 0)
	recs, err = readMetrics(log)
	if err != nil || len(recs) != 2 || recs[0].Epoch != 1 || recs[1].Epoch != 2 || recs[1].Step != 12 {
		t.Fatalf("after resume: %v, %+v", err, recs)
	}
}

// TestBench runs the bench on two CPU devices in alternating rounds and
// checks the table and the JSON lines it prints.
func TestBench(t *testing.T) {
	r := runCLI(t, "bench", "--devices", "cpu,cpu", "--model", smallModel, "--steps", "2", "--rounds", "3", "--batch", "8", "--eval-batch", "16").must(t, 0)
	if !strings.Contains(r.stdout, "3 rounds of 2 timed steps") || !strings.Contains(r.stdout, "rounds min-max") || strings.Count(r.stdout, "\ncpu ") != 4 { // speed and work tables
		t.Fatalf("bench table:\n%s", r.stdout)
	}
	r = runCLI(t, "bench", "--devices", "cpu", "--model", smallModel, "--steps", "1", "--rounds", "2", "--batch", "8", "--eval-batch", "8", "--json").must(t, 0)
	var res benchResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, r.stdout)
	}
	if res.Rounds != 2 || len(res.RoundStepMS) != 2 || res.StepMillis <= 0 || res.TrainImgPerS <= 0 || res.InferImgPerS <= 0 {
		t.Errorf("bench --json = %+v", res)
	}
	runCLI(t, "bench", "--rounds", "0").must(t, 2)
}
