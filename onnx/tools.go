package onnx

import (
	"bytes"
	_ "embed" // the ONNX Runtime driver script
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// The external tools that check and run exported models: ONNX Runtime
// (the npm package onnxruntime-node, run by Node.js) and the ONNX checker
// (Debian's python3-onnx). tools/setup.sh installs both; the functions
// below find them and say what is missing when they cannot.

// ErrToolMissing is wrapped by the errors of FindRuntime and FindChecker
// when a tool is not installed (tests skip on it).
var ErrToolMissing = errors.New("tool not installed")

//go:embed ort_run.js
var ortScript string

// RuntimeEnv names the environment variable that may give the folder
// holding node_modules/onnxruntime-node (default: .cache/onnxrt in the
// working directory or one above it, where tools/setup.sh installs it).
const RuntimeEnv = "VKTRAIN_ONNXRUNTIME"

// Runtime runs ONNX models with ONNX Runtime through Node.js.
type Runtime struct {
	// Node is the node executable, Module the onnxruntime-node package
	// folder.
	Node, Module string
}

// FindRuntime locates node and the onnxruntime-node package.
func FindRuntime() (*Runtime, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node (Node.js) is not on PATH; tools/setup.sh installs it and ONNX Runtime", ErrToolMissing)
	}
	var dirs []string
	if d := os.Getenv(RuntimeEnv); d != "" {
		dirs = append(dirs, d)
	} else if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, filepath.Join(d, ".cache", "onnxrt"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, d := range dirs {
		mod := filepath.Join(d, "node_modules", "onnxruntime-node")
		if _, err := os.Stat(filepath.Join(mod, "package.json")); err == nil {
			return &Runtime{Node: node, Module: mod}, nil
		}
	}
	where := "$" + RuntimeEnv
	if os.Getenv(RuntimeEnv) == "" {
		where = ".cache/onnxrt in the working directory or above it"
	}
	return nil, fmt.Errorf("%w: onnxruntime-node not found under %s; run tools/setup.sh (npm install --ignore-scripts onnxruntime-node@1.30.0 into .cache/onnxrt) or set %s", ErrToolMissing, where, RuntimeEnv)
}

// RunResult is the output of Runtime.Run.
type RunResult struct {
	// Logits are the model's outputs [N, Classes].
	Logits  []float32
	Classes int
	// Seconds is the wall time of the timed repeats (session.run calls
	// only) over Images images; 0 when there were none.
	Seconds float64
	Images  int
	// Version is ONNX Runtime's version.
	Version string
}

// Run runs the model file on x, n inputs of shape [c, h, w] (NCHW,
// float32), in batches of batch, and then repeat more times for timing.
func (r *Runtime) Run(model string, x []float32, n, c, h, w, batch, repeat int) (RunResult, error) {
	if n <= 0 || c <= 0 || h <= 0 || w <= 0 || batch <= 0 || repeat < 0 {
		return RunResult{}, fmt.Errorf("onnxruntime: bad sizes n %d, [%d %d %d], batch %d, repeat %d", n, c, h, w, batch, repeat)
	}
	if len(x) != n*c*h*w {
		return RunResult{}, fmt.Errorf("onnxruntime: %d input values, want %d·%d·%d·%d", len(x), n, c, h, w)
	}
	dir, err := os.MkdirTemp("", "vktrain-ort")
	if err != nil {
		return RunResult{}, err
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.bin"), filepath.Join(dir, "out.bin")
	raw := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(in, raw, 0o600); err != nil {
		return RunResult{}, err
	}
	args := []string{"-e", ortScript, "--", model, in, out}
	for _, v := range []int{n, c, h, w, batch, repeat} {
		args = append(args, strconv.Itoa(v))
	}
	cmd := exec.Command(r.Node, args...)
	cmd.Env = append(os.Environ(), "VKTRAIN_ORT_MODULE="+r.Module)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return RunResult{}, fmt.Errorf("onnxruntime on %s: %v: %s", model, err, strings.TrimSpace(stderr.String()))
	}
	var rep struct {
		Classes int     `json:"classes"`
		Seconds float64 `json:"seconds"`
		Images  int     `json:"images"`
		ORT     string  `json:"ort"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return RunResult{}, fmt.Errorf("onnxruntime on %s: reading its report %q: %w", model, stdout.String(), err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return RunResult{}, fmt.Errorf("onnxruntime on %s: %w", model, err)
	}
	if rep.Classes <= 0 || len(b) != 4*n*rep.Classes {
		return RunResult{}, fmt.Errorf("onnxruntime on %s: %d bytes of output for %d inputs of %d classes", model, len(b), n, rep.Classes)
	}
	res := RunResult{Logits: make([]float32, n*rep.Classes), Classes: rep.Classes, Seconds: rep.Seconds, Images: rep.Images, Version: rep.ORT}
	for i := range res.Logits {
		res.Logits[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return res, nil
}

// CheckerEnv names the environment variable that may give the Python
// interpreter that has the onnx module.
const CheckerEnv = "VKTRAIN_PYTHON"

// Checker runs onnx.checker.check_model (full check) with a Python that
// has the onnx module.
type Checker struct {
	// Python is the interpreter, Version the onnx module's version.
	Python, Version string
}

// FindChecker finds a Python interpreter with the onnx module: $VKTRAIN_PYTHON,
// python3 on PATH, then /usr/bin/python3 (Debian's python3-onnx installs
// there even where another python3 comes first on PATH).
func FindChecker() (*Checker, error) {
	var cands []string
	if p := os.Getenv(CheckerEnv); p != "" {
		cands = append(cands, p)
	}
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	cands = append(cands, "/usr/bin/python3")
	for _, p := range cands {
		out, err := exec.Command(p, "-c", "import onnx; print(onnx.__version__)").Output()
		if err == nil {
			return &Checker{Python: p, Version: strings.TrimSpace(string(out))}, nil
		}
	}
	return nil, fmt.Errorf("%w: no Python with the onnx module (tried %s); tools/setup.sh installs Debian's python3-onnx, or set %s", ErrToolMissing, strings.Join(cands, ", "), CheckerEnv)
}

const checkScript = `import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
`

// Check runs onnx.checker.check_model(full_check=True) on the model file
// (full_check includes strict shape inference); the error carries the
// checker's message.
func (c *Checker) Check(model string) error {
	cmd := exec.Command(c.Python, "-c", checkScript, model)
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if i := strings.LastIndex(msg, "\n"); i >= 0 && len(msg) > 2000 {
			msg = msg[i+1:]
		}
		return fmt.Errorf("onnx.checker on %s: %v: %s", model, err, msg)
	}
	return nil
}

// NCHW converts n images from vktrain's NHWC layout to ONNX's NCHW.
func NCHW(x []float32, n, h, w, c int) []float32 {
	y := make([]float32, len(x))
	for i := range n {
		img := x[i*h*w*c : (i+1)*h*w*c]
		out := y[i*h*w*c : (i+1)*h*w*c]
		for p := range h * w {
			for ch := range c {
				out[ch*h*w+p] = img[p*c+ch]
			}
		}
	}
	return y
}
