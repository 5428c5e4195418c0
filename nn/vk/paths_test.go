package vk

import (
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/backend/backendtest"
)

// pathRecorder makes backends that record their kernel paths and keeps
// the records of every backend it made.
type pathRecorder struct {
	dev  *gpu.Device
	mu   sync.Mutex
	recs []map[string]map[string]int
}

// newBackend returns a backend on the recorder's device with opts (paths
// recorded) and the tuning changes of tweak (may be nil), closed when the
// test ends, its paths then kept.
func (r *pathRecorder) newBackend(t *testing.T, opts Options, tweak func(*Backend)) *Backend {
	t.Helper()
	opts.RecordPaths = true
	b, err := New(r.dev, opts)
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(b)
	}
	t.Cleanup(func() {
		b.Close() // its error, if any, is the case's to check
		r.mu.Lock()
		r.recs = append(r.recs, b.PathsTaken())
		r.mu.Unlock()
	})
	return b
}

// suiteConfig is one backend configuration the op suite runs in.
type suiteConfig struct {
	name  string
	opts  Options
	tweak func(*Backend) // tuning changes, or nil
	// ops restricts the run to the suite's cases of these ops (nil: the
	// whole suite).
	ops []*backend.Op
	// errors runs the suite's error contract too (which does not depend
	// on the tuning).
	errors bool
}

// gpuTuning gives b the launch sizes of a discrete GPU with this device's
// limits (shared-memory GemmI tiles, split k, strided column reductions,
// scalar kernels), so that the GPU launch paths run here too.
func gpuTuning(b *Backend) {
	info := b.dev.Info()
	info.Type = gpu.TypeDiscrete
	b.tune = chooseTuning(info)
	b.ft = chooseFloatTuning(info, b.dev.Features().ShaderInt64)
}

// suiteConfigs returns the configurations of TestSuite on dev: the
// device's own choices, the other read mode, a GPU's tuning in both read
// modes, and for the GEMM ops every GemmI variant with forced tunings
// (split k, shared-memory tiles, loops over m, the subgroup kernel) and
// the float GEMM's subgroup kernels.
func suiteConfigs(dev *gpu.Device) []suiteConfig {
	other := ReadsStorage
	if AutoReads(dev.Info()) == ReadsStorage {
		other = ReadsTexel
	}
	gemmI := []*backend.Op{backend.OpGemmI}
	cs := []suiteConfig{
		{name: "auto", errors: true},
		{name: other, opts: Options{Reads: other}},
		{name: "gpu/storage", opts: Options{Reads: ReadsStorage}, tweak: gpuTuning},
		{name: "gpu/texel", opts: Options{Reads: ReadsTexel}, tweak: gpuTuning},
	}
	for _, v := range Variants(dev) {
		cs = append(cs,
			suiteConfig{name: v, opts: Options{Variant: v}, ops: gemmI},
			// The direct kernels (not q_gemmi_sg) splitting k wherever it
			// allows, and with one workgroup row looping over all of m.
			suiteConfig{name: v + "/splitK", opts: Options{Variant: v}, ops: gemmI, tweak: func(b *Backend) {
				b.tune.splitTarget, b.tune.gemmSG = 1<<20, 0
			}},
			suiteConfig{name: v + "/loopM", opts: Options{Variant: v}, ops: gemmI, tweak: func(b *Backend) {
				b.tune.gemmMaxGY, b.tune.gemmSG = 1, 0
			}})
		if v == VariantInt8 {
			continue // no tiled kernel
		}
		cs = append(cs,
			suiteConfig{name: v + "/tiled", opts: Options{Variant: v}, ops: gemmI, tweak: func(b *Backend) {
				b.tune.tiled, b.tune.splitTarget, b.tune.gemmSG = true, 0, 0
			}},
			suiteConfig{name: v + "/tiled/splitK/loopM", opts: Options{Variant: v}, ops: gemmI, tweak: func(b *Backend) {
				b.tune.tiled, b.tune.splitTarget, b.tune.gemmMaxGY, b.tune.gemmSG = true, 1<<20, 1, 0
			}},
			suiteConfig{name: v + "/tiled/uneven", opts: Options{Variant: v}, ops: gemmI, tweak: func(b *Backend) {
				b.tune.tiled, b.tune.gemmSG = true, 0
				b.tune.tileX, b.tune.tileY, b.tune.tileK = 4, 8, 3
			}})
	}
	// q_gemmi_sg with subgroups of 8 (lavapipe's: rows broadcast) and 16
	// (not the device's: every invocation loads its rows), over the whole
	// grid and with one row of workgroups looping over m.
	for _, sg := range []uint32{8, 16} {
		for _, maxGY := range []int{1 << 16, 1} {
			cs = append(cs, suiteConfig{name: fmt.Sprintf("sg%d/maxGY%d", sg, maxGY), opts: Options{Variant: VariantPacked}, ops: gemmI,
				tweak: func(b *Backend) { b.tune.gemmSG, b.tune.gemmMaxGY, b.tune.tiled = sg, maxGY, false }})
		}
	}
	// The float GEMM's subgroup kernels (f_gemm_rt's fallback): with
	// 64-bit loads (f_gemm_sg64) and without (f_gemm_sg).
	for _, pairs := range []bool{true, false} {
		cs = append(cs, suiteConfig{name: fmt.Sprintf("gemm_sg/pairs=%v", pairs), ops: []*backend.Op{backend.OpGemm},
			tweak: func(b *Backend) {
				b.ft.rt, b.ft.pairs = false, pairs
				if b.ft.gemmSG == 0 {
					b.ft.gemmSG = 8
				}
			}})
	}
	return cs
}

// TestSuite runs the shared op suite (package backendtest) in every
// configuration of suiteConfigs and this package's own cases
// (vkCases), with kernel paths recorded, and fails for every declared
// kernel path (paths.go) that none of them took.
func TestSuite(t *testing.T) {
	dev := gputest.Open(t)
	rec := &pathRecorder{dev: dev}
	ran, want := 0, 0
	for _, c := range suiteConfigs(dev) {
		want++
		t.Run(c.name, func(t *testing.T) {
			ran++
			newB := func(t *testing.T) backend.Backend { return rec.newBackend(t, c.opts, c.tweak) }
			if c.ops != nil {
				backendtest.Run(t, newB, backendtest.Config{Ops: c.ops})
				return
			}
			backendtest.Run(t, newB, backendtest.Config{})
			if c.errors {
				t.Run("Errors", func(t *testing.T) { backendtest.TestErrors(t, hostless(dev, newB)) })
			}
		})
	}
	for _, c := range vkCases() {
		want++
		t.Run(c.name, func(t *testing.T) {
			ran++
			c.test(t, func(t *testing.T, opts Options, tweak func(*Backend)) *Backend { return rec.newBackend(t, opts, tweak) })
		})
	}
	if ran < want || strings.Contains(flag.Lookup("test.run").Value.String(), "/") {
		t.Logf("kernel paths not checked: %d of %d configurations and cases ran", ran, want)
		return
	}
	if t.Failed() {
		return // a failed case may have stopped before its paths
	}
	if miss := UntakenPaths(rec.recs...); len(miss) > 0 {
		t.Errorf("%d declared kernel paths were never taken (add a case that reaches each, or remove it from paths.go):\n\t%s",
			len(miss), strings.Join(miss, "\n\t"))
	}
}

// hostless returns newB, whose backends are handed over without their
// HostAccess methods where tensors are not host-visible (discrete GPUs,
// where HostF32 refuses them; the error contract's checks use it).
func hostless(dev *gpu.Device, newB func(t *testing.T) backend.Backend) func(t *testing.T) backend.Backend {
	if dev.UnifiedMemory() {
		return newB
	}
	return func(t *testing.T) backend.Backend { return struct{ backend.Backend }{newB(t)} }
}

// newRecorded makes a backend for a case of TestSuite: on the test's
// device, with opts and the tuning changes of tweak (may be nil), its
// kernel paths recorded.
type newRecorded func(t *testing.T, opts Options, tweak func(*Backend)) *Backend

// vkCase is one of this package's tests run inside TestSuite, so that
// the kernel paths it reaches count.
type vkCase struct {
	name string
	test func(t *testing.T, newB newRecorded)
}

// vkCases are this package's cases run by TestSuite: launches and formats
// the shared suite does not reach.
func vkCases() []vkCase {
	cs := []vkCase{
		{"GemmPaths", testGemmPaths},
		{"MixedSignCodes", testMixedSignCodes},
		{"QuantizeChannelsInWords", testQuantizeChannelsInWords},
		{"LongRows", testLongRows},
		{"QuantizeWidenThenDequantize", testQuantizeWidenThenDequantize},
		{"MaxPoolGradGaps", testMaxPoolGradGaps},
		{"BatchNormElementwise", testBatchNormElementwise},
		{"FusedBNReLUExact", testFusedBNReLUExact},
	}
	cs = append(cs, newOpsCases()...)
	return append(cs, pathCases()...)
}

// TestPathRecording checks the path API: nothing recorded (and nothing
// allocated) without Options.RecordPaths; with it, a dispatch records its
// kernel's read mode and launch paths, an undeclared path or kernel fails
// the op, and push constants that do not match the kernel's block fail
// the op before the dispatch.
func TestPathRecording(t *testing.T) {
	dev := gputest.Open(t)
	mk := func(b *Backend, n int) *Tensor {
		x, err := b.New(backend.F32, n)
		if err != nil {
			t.Fatal(err)
		}
		return x.(*Tensor)
	}

	off, err := New(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if a := testing.AllocsPerRun(100, func() { off.took("f_relu", "x2") }); a != 0 {
		t.Errorf("took without RecordPaths: %v allocations, want 0", a)
	}
	off.ReLU(mk(off, 40), mk(off, 40))
	if err := off.Sync(); err != nil {
		t.Fatal(err)
	}
	if p := off.PathsTaken(); p != nil {
		t.Errorf("PathsTaken without RecordPaths = %v, want nil", p)
	}
	if n := off.OpCounts()[backend.OpReLU.ID]; n != 1 {
		t.Errorf("OpCounts()[ReLU] = %d after one ReLU, want 1", n)
	}

	rec := func(t *testing.T) *Backend {
		b, err := New(dev, Options{RecordPaths: true, Reads: ReadsStorage})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	t.Run("recorded", func(t *testing.T) {
		b := rec(t)
		x, y := mk(b, 9001), mk(b, 9001)
		b.ft.pairs, b.ft.groups = false, 64 // f_relu, 64 workgroups: two elements per iteration, and a last one
		b.ReLU(y, x)
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		got := b.PathsTaken()["f_relu"]
		for _, p := range []string{PathStorage, "x2", "x1"} {
			if got[p] != 1 {
				t.Errorf("f_relu path %s taken %d times, want 1 (taken: %v)", p, got[p], got)
			}
		}
		if miss := UntakenPaths(b.PathsTaken()); len(miss) == 0 || strings.Contains(strings.Join(miss, "\n"), "f_relu: x2") {
			t.Errorf("UntakenPaths after one ReLU = %v", miss)
		}
		if d := DeclaredPaths()["f_relu"]; len(d) != 4 { // reads=storage, reads=texel, x1, x2
			t.Errorf("DeclaredPaths()[f_relu] = %v", d)
		}
		if d := DeclaredPaths()["f_colpart_sum2"]; len(d) != 1 || d[0] != PathStorage {
			t.Errorf("DeclaredPaths()[f_colpart_sum2] = %v, want only %s (its texel build is never chosen)", d, PathStorage)
		}
	})
	for _, c := range []struct {
		name, want string
		do         func(b *Backend, x, y *Tensor)
	}{
		{"undeclared path", `took path "x3"`, func(b *Backend, x, y *Tensor) { b.took("f_relu", "x3") }},
		{"undeclared kernel", "test_copy is not declared", func(b *Backend, x, y *Tensor) {
			b.dispatch("ReLU", "test_copy", []uint32{64}, pushOf(nPush{N: 4}), 1, 1, 1, y, x)
		}},
		{"push too long", "push constants", func(b *Backend, x, y *Tensor) {
			b.dispatch("ReLU", "f_relu", []uint32{64}, pushOf(rcPush{R: 4, C: 1}), 1, 1, 1, y, x)
		}},
		{"push of another type", "push constants", func(b *Backend, x, y *Tensor) {
			b.dispatch("ReLU", "f_relu", []uint32{64}, pushOf(struct{ N float32 }{4}), 1, 1, 1, y, x)
		}},
		{"push bytes", "push constants", func(b *Backend, x, y *Tensor) {
			b.dispatch("ReLU", "f_relu", []uint32{64}, pushBytes([]byte{4, 0, 0, 0, 0, 0, 0, 0}), 1, 1, 1, y, x)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := rec(t)
			x, y := mk(b, 4), mk(b, 4)
			b.curOp = "ReLU"
			c.do(b, x, y)
			if err := b.Err(); err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "ReLU: ") {
				t.Errorf("error %v, want one naming ReLU and containing %q", err, c.want)
			}
			if b.pending != 0 {
				t.Errorf("%d operations recorded after the failed check, want 0", b.pending)
			}
		})
	}
	t.Run("push matches", func(t *testing.T) {
		b := rec(t)
		x, y := mk(b, 4), mk(b, 4)
		b.dispatch("ReLU", "f_relu", []uint32{64}, pushOf(nPush{N: 4}), 1, 1, 1, y, x)
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
	})
}
