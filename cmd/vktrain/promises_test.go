package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vktrain/vktrain/gpu"
)

// writePNG writes a w×h RGB PNG whose colour depends on seed.
func writePNG(t *testing.T, path string, w, h, seed int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(seed * 70), uint8(x * 20), uint8(y * 20), 255})
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// tinyFolder writes an image folder with n w×h images in each class.
func tinyFolder(t *testing.T, classes []string, n, w, h int) string {
	t.Helper()
	dir := t.TempDir()
	for c, cls := range classes {
		for i := range n {
			writePNG(t, filepath.Join(dir, cls, fmt.Sprintf("%02d.png", i)), w, h, c)
		}
	}
	return dir
}

// tinyArgs trains a small model on an image folder of 8×8 images.
func tinyArgs(data, out string, extra ...string) []string {
	a := []string{"train", "--data", data, "--device", "cpu", "--epochs", "1", "--batch", "2",
		"--model", "fc:4,comp,relu,fc:2,comp", "--plots=false", "--out", filepath.Join(out, "model.safetensors")}
	return append(a, extra...)
}

// TestConcurrentRunsRefused starts a second run of the same name while
// the first is training: the second is refused, and the first ends with
// one record per epoch and its lock file gone.
func TestConcurrentRunsRefused(t *testing.T) {
	t.Chdir(t.TempDir())
	args := []string{"train", "--data", "mini", "--limit", "64", "--batch", "16", "--epochs", "2", "--device", "cpu",
		"--model", smallModel, "--plots=false", "--name", "same"}
	var second result
	e := &env{afterStep: func(step int) {
		if step == 2 {
			second = runCLI(t, args...)
		}
	}}
	runWith(t, e, args...).must(t, 0)
	second.must(t, 1).oneLine(t, filepath.Join("runs", "same", "model.safetensors"), "being trained by another vktrain train",
		fmt.Sprintf("pid %d", os.Getpid()), "--name")
	recs, err := readMetrics(filepath.Join("runs", "same", "metrics.jsonl"))
	if err != nil || len(recs) != 2 || recs[0].Epoch != 1 || recs[1].Epoch != 2 {
		t.Fatalf("metrics after the refused second run: %v, %+v", err, recs)
	}
	if _, err := os.Stat(filepath.Join("runs", "same", "model.safetensors.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after the run: %v", err)
	}
	// --resume of a run being trained is refused too.
	ckpt := filepath.Join("runs", "same", "model.safetensors")
	lock, err := lockRun(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	runCLI(t, "train", "--resume", ckpt, "--epochs", "3").must(t, 1).oneLine(t, "being trained by another vktrain train")
	lock.release()
	runCLI(t, "train", "--resume", ckpt, "--epochs", "3").must(t, 0)
}

// TestFailedStartLeavesNothing checks that runs failing after their
// folder was made (no device, interrupted before the first step,
// divergence before the first checkpoint) remove what they created.
func TestFailedStartLeavesNothing(t *testing.T) {
	t.Chdir(t.TempDir())
	base := []string{"train", "--data", "mini", "--limit", "32", "--batch", "16", "--epochs", "1", "--model", smallModel}
	pre := make(chan os.Signal, 1)
	pre <- os.Interrupt
	for _, tc := range []struct {
		name string
		e    *env
		args []string
		code int
		want []string
	}{
		// No Vulkan device here, or no device 7: after the folder was made.
		{"device", nil, []string{"--device", "vulkan:7", "--name", "dev"}, -1, nil},
		{"device-auto-name", nil, []string{"--device", "vulkan:7"}, -1, nil},
		{"interrupted", &env{interrupt: pre}, []string{"--device", "cpu", "--name", "int"}, 130, []string{"nothing was saved"}},
		{"diverged", nil, []string{"--device", "cpu", "--name", "nan", "--lr", "1e30", "--threshold", "0"}, 1, []string{"no checkpoint was written by this run"}},
		{"bad-model", nil, []string{"--device", "cpu", "--name", "fit", "--model", "conv:8:40,fc:10"}, 2, []string{"does not fit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, tc.e, append(base, tc.args...)...)
			if tc.code >= 0 {
				r.must(t, tc.code)
			} else if r.code == 0 {
				t.Fatalf("exit 0:\n%s", r.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "checkpoint is none") {
				t.Errorf("garbled message: %s", r.stderr)
			}
			if ents, _ := os.ReadDir("."); len(ents) != 0 {
				var names []string
				filepath.Walk(".", func(p string, _ os.FileInfo, _ error) error { names = append(names, p); return nil })
				t.Errorf("the failed start left %v", names)
			}
		})
	}
}

// TestVersion checks --version and the version command.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version"} {
		r := runCLI(t, arg).must(t, 0)
		if !strings.HasPrefix(r.stdout, "vktrain ") || !strings.Contains(r.stdout, runtime.Version()) {
			t.Errorf("%s: %q", arg, r.stdout)
		}
	}
	runCLI(t, "version", "extra").must(t, 2)
	bi := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := versionText(bi, true)
	for _, w := range []string{"vktrain v1.2.3", "revision abc123 (2026-01-02T03:04:05Z)", "uncommitted changes", "go1.99"} {
		if !strings.Contains(got, w) {
			t.Errorf("versionText = %q, lacks %q", got, w)
		}
	}
	bi.Settings, bi.Main.Version = nil, ""
	if got := versionText(bi, true); !strings.Contains(got, "(devel)") || !strings.Contains(got, "without VCS") {
		t.Errorf("versionText without VCS = %q", got)
	}
}

// TestTrainCommand checks the command the resume hint names.
func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	onPath := filepath.Join(dir, "vktrain")
	os.WriteFile(onPath, []byte("x"), 0o755)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == trainCommandEnv {
				return v
			}
			return ""
		}
	}
	found := func(string) (string, error) { return onPath, nil }
	missing := func(string) (string, error) { return "", exec.ErrNotFound }
	for _, tc := range []struct {
		env, args0, exe string
		look            func(string) (string, error)
		want            string
	}{
		{"tools/train.sh", onPath, onPath, found, "tools/train.sh"},
		{"", "vktrain", onPath, found, "vktrain train"},
		{"", "/tmp/go-build123/b001/exe/vktrain", "/tmp/go-build123/b001/exe/vktrain", missing, "go run ./cmd/vktrain train"},
		{"", ".cache/bin/vktrain", filepath.Join(dir, "other"), missing, ".cache/bin/vktrain train"},
		{"", "/my dir/vktrain", "/my dir/vktrain", missing, "'/my dir/vktrain' train"},
	} {
		if got := trainCommand(env(tc.env), tc.args0, tc.exe, tc.look); got != tc.want {
			t.Errorf("trainCommand(%q, %q, %q) = %q, want %q", tc.env, tc.args0, tc.exe, got, tc.want)
		}
	}
	if got := shellQuote("runs/it's/model.safetensors"); got != `'runs/it'\''s/model.safetensors'` {
		t.Errorf("shellQuote = %s", got)
	}
}

// TestTrainScript runs tools/train.sh: bad flags exit 2, and SIGINT
// saves, names a resume command that runs, and exits 130.
func TestTrainScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vktrain and runs it")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "tools", "train.sh"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "vktrain")
	environ := append(os.Environ(), "VKTRAIN_SKIP_SETUP=1", "VKTRAIN_BIN="+bin, trainCommandEnv+"=")
	cmd := exec.Command(script, "--no-such-flag")
	cmd.Env = environ
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "no-such-flag") {
		t.Fatalf("tools/train.sh --no-such-flag: exit %d, want 2\n%s", cmd.ProcessState.ExitCode(), out)
	}

	dir := t.TempDir()
	ckpt := filepath.Join(dir, "model.safetensors")
	cmd = exec.Command(script, "--data", "mini", "--limit", "64", "--batch", "16", "--epochs", "1000", "--device", "cpu",
		"--model", smallModel, "--plots=false", "--out", ckpt)
	cmd.Env = environ
	cmd.Dir = t.TempDir()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "epoch 1 ") {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() {
		for sc.Scan() {
		}
		done <- cmd.Wait()
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("tools/train.sh did not stop within 60 s of SIGINT")
	}
	if cmd.ProcessState.ExitCode() != 130 {
		t.Fatalf("exit %d, want 130\n%s", cmd.ProcessState.ExitCode(), stderr.String())
	}
	want := "resume with: " + script + " --resume " + ckpt
	if !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr lacks %q:\n%s", want, stderr.String())
	}
	// The hint runs: resumed with a finite epoch count.
	cmd = exec.Command(script, "--resume", ckpt, "--epochs", "2")
	cmd.Env = environ
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the resume hint's command: %v\n%s", err, out)
	}
}

// TestDegenerateData checks that data that cannot be scored is named.
func TestDegenerateData(t *testing.T) {
	out := t.TempDir()
	t.Run("no-test-images", func(t *testing.T) {
		// Two images per class: a 20% split holds out none.
		data := tinyFolder(t, []string{"a", "b"}, 2, 8, 8)
		r := runCLI(t, tinyArgs(data, out, "--force")...).must(t, 0)
		if !strings.Contains(r.stdout, "no test images") || strings.Contains(r.stdout, "test loss") {
			t.Errorf("epoch line:\n%s", r.stdout)
		}
		if !strings.Contains(r.stdout, "warning  --data "+data+" has no test images") {
			t.Errorf("no warning:\n%s", r.stdout)
		}
		recs, err := readMetrics(filepath.Join(out, "metrics.jsonl"))
		if err != nil || len(recs) != 1 || !recs[0].NoTest {
			t.Errorf("metrics %v %+v", err, recs)
		}
		if err := drawCurves(filepath.Join(out, "curves.png"), []runHistory{{name: "x", recs: recs}}); err != nil {
			t.Errorf("curves without test figures: %v", err)
		}
	})
	t.Run("one-class", func(t *testing.T) {
		data := tinyFolder(t, []string{"only"}, 6, 8, 8)
		runCLI(t, tinyArgs(data, t.TempDir())...).must(t, 1).oneLine(t, `class "only"`, "at least two classes")
		runCLI(t, "train", "--data", "mini", "--limit", "1", "--device", "cpu", "--out", filepath.Join(t.TempDir(), "m.safetensors")).
			must(t, 1).oneLine(t, "--limit 1", "every training image is of class 5")
	})
	t.Run("batch-larger-than-data", func(t *testing.T) {
		r := runCLI(t, trainArgs(t.TempDir(), "--limit", "20", "--batch", "64", "--epochs", "1")...).must(t, 0)
		if !strings.Contains(r.stdout, "warning  --batch 64 is larger than the 20 training images") {
			t.Errorf("no warning:\n%s", r.stdout)
		}
	})
	t.Run("mixed-sizes", func(t *testing.T) {
		data := tinyFolder(t, []string{"a", "b"}, 5, 8, 8)
		writePNG(t, filepath.Join(data, "b", "03.png"), 6, 7, 1)
		runCLI(t, tinyArgs(data, t.TempDir())...).must(t, 1).oneLine(t, filepath.Join(data, "b", "03.png")+" is 6x7",
			filepath.Join(data, "a", "00.png")+", the first image, is 8x8", "--size")
		for _, size := range []string{"8x8", "8", "10x6"} {
			r := runCLI(t, tinyArgs(data, t.TempDir(), "--size", size)...).must(t, 0)
			w, h, _ := parseSize(size)
			if !strings.Contains(r.stdout, fmt.Sprintf("%dx%dx3", h, w)) {
				t.Errorf("--size %s: data line:\n%s", size, r.stdout)
			}
		}
		for _, size := range []string{"0x3", "8x", "x8", "big", "-4"} {
			runCLI(t, tinyArgs(data, t.TempDir(), "--size", size)...).must(t, 2).oneLine(t, "--size", "WxH")
		}
		runCLI(t, trainArgs(t.TempDir(), "--size", "32x32")...).must(t, 2).oneLine(t, "--size 32x32", "28x28", "image folders")
	})
}

// TestPredictSkipsBadImages classifies a folder holding a broken file:
// the broken one is named with the reason, the others are classified,
// and the exit status is 1.
func TestPredictSkipsBadImages(t *testing.T) {
	ckpt := filepath.Join(trainShapes(t), "model.safetensors")
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), 16, 16, 0)
	writePNG(t, filepath.Join(dir, "c.png"), 16, 16, 1)
	os.WriteFile(filepath.Join(dir, "b.png"), []byte("not a png"), 0o644)
	r := runCLI(t, "predict", "--device", "cpu", ckpt, dir).must(t, 1)
	if n := strings.Count(r.stdout, "(p="); n != 2 || !strings.Contains(r.stdout, "a.png: ") || !strings.Contains(r.stdout, "c.png: ") {
		t.Errorf("predictions of the good images:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, filepath.Join(dir, "b.png")+": not a decodable PNG or JPEG") || !strings.Contains(r.stderr, "1 of 3 images could not be read") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// TestDeviceIndexError checks the usage error of a Vulkan device index
// the machine does not have.
func TestDeviceIndexError(t *testing.T) {
	one := []gpu.Info{{Name: "llvmpipe (LLVM 15.0.6, 256 bits)", Type: gpu.TypeCPU}}
	err := checkDeviceIndex(7, one)
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("checkDeviceIndex(7) = %v, want a usage error", err)
	}
	for _, w := range []string{"--device vulkan:7", "there is 1 Vulkan device (0: llvmpipe (LLVM 15.0.6, 256 bits), cpu)", "use vulkan:0"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	two := append(one, gpu.Info{Name: "NVIDIA H100", Type: gpu.TypeDiscrete})
	if err := checkDeviceIndex(2, two); err == nil || !strings.Contains(err.Error(), "there are 2 Vulkan devices") || !strings.Contains(err.Error(), "vulkan:0 to vulkan:1") {
		t.Errorf("two devices: %v", err)
	}
	for _, i := range []int{-1, 0, 1} {
		if err := checkDeviceIndex(i, two); err != nil {
			t.Errorf("checkDeviceIndex(%d): %v", i, err)
		}
	}
}

// TestLowerAdvice checks the advice on a buffer over the device's limit.
func TestLowerAdvice(t *testing.T) {
	big := fmt.Errorf("New: %d bytes: %w of %d bytes", 1<<30, gpu.ErrTooLarge, 1<<27)
	if got := lowerAdvice(fmt.Errorf("step 3: %w", big), "--batch", 512); !strings.Contains(got, "lower --batch, now 512") {
		t.Errorf("advice %q", got)
	}
	if got := lowerAdvice(errors.New("other"), "--batch", 512); got != "" {
		t.Errorf("advice on another error: %q", got)
	}
	r := &trainRun{}
	if got := r.lastGood(); got != "no checkpoint was written by this run" {
		t.Errorf("lastGood = %q", got)
	}
}

// TestOutsideCheckout trains on the built-in data sets and runs the
// bench's default data from a folder outside the repository, as after go
// install.
func TestOutsideCheckout(t *testing.T) {
	t.Chdir(t.TempDir())
	runCLI(t, "train", "--data", "mini", "--limit", "32", "--batch", "16", "--epochs", "1", "--device", "cpu",
		"--model", smallModel, "--plots=false", "--name", "m").must(t, 0)
	runCLI(t, "train", "--data", "shapes", "--batch", "16", "--epochs", "1", "--device", "cpu",
		"--model", "conv:4:3,comp,relu,fc:3,comp", "--plots=false", "--name", "s").must(t, 0)
	runCLI(t, "bench", "--devices", "cpu", "--model", smallModel, "--steps", "1", "--rounds", "1", "--batch", "8", "--eval-batch", "8").must(t, 0)
}

// TestEvalProgress checks that the bar keeps moving during evaluation.
func TestEvalProgress(t *testing.T) {
	r := runWith(t, &env{terminal: true}, trainArgs(t.TempDir(), "--epochs", "1", "--eval-batch", "50")...).must(t, 0)
	if !strings.Contains(r.stderr, "eval ") || !strings.Contains(r.stderr, "/10") {
		t.Errorf("no evaluation progress on stderr:\n%q", r.stderr)
	}
}

// TestETAEstimator checks that the estimate follows the recent steps, not
// the slow first one.
func TestETAEstimator(t *testing.T) {
	t0 := time.Unix(1000, 0)
	e := newETA(0.1)
	e.start(0, t0)
	if _, ok := e.remaining(6400); ok {
		t.Fatal("an estimate before any step")
	}
	now := t0.Add(100 * time.Second) // the first step: pipeline compilation etc.
	e.step(64, now)
	if _, ok := e.remaining(6400); ok {
		t.Fatal("an estimate from the warm-up step alone")
	}
	done := 64
	for range 5 {
		now = now.Add(100 * time.Millisecond)
		done += 64
		e.step(done, now)
	}
	d, ok := e.remaining(6400)
	want := time.Duration(float64(6400-done) / 640 * float64(time.Second)).Round(time.Second)
	if !ok || d != want {
		t.Fatalf("ETA %v (%v), want %v at 640 images/s", d, ok, want)
	}
	if ips := e.itemsPerSecond(); ips < 639 || ips > 641 {
		t.Errorf("pace %v images/s, want 640", ips)
	}
	// The pace halves: within some 40 steps the estimate follows.
	for range 40 {
		now = now.Add(200 * time.Millisecond)
		done += 64
		e.step(done, now)
	}
	if ips := e.itemsPerSecond(); ips < 320 || ips > 340 {
		t.Errorf("after the pace halved: %v images/s, want about 320", ips)
	}
	if got := e.etaText(done); got != "ETA 0s" {
		t.Errorf("etaText at the end = %q", got)
	}
}

// TestDeviceIndexCLI asks train for a Vulkan device one past the last:
// a usage error (exit 2) listing the devices, and no run folder.
func TestDeviceIndexCLI(t *testing.T) {
	infos, err := gpu.Devices(gpu.Options{})
	if err != nil {
		t.Skipf("no Vulkan: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	spec := fmt.Sprintf("vulkan:%d", len(infos))
	r := runCLI(t, "train", "--data", "mini", "--device", spec, "--out", filepath.Join(dir, "model.safetensors")).must(t, 2)
	r.oneLine(t, "--device "+spec+": there", "0: "+infos[0].Name, "vulkan for the best device or cpu")
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run folder left: %v", err)
	}
}
