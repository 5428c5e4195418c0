package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/gpu/gputest"
)

// TestBenchWork checks the work per training step that bench counts: on
// cpu, ops, declared kernel bytes and Go allocations, and no device queue
// ("n/a" in the table, 0 in JSON).
func TestBenchWork(t *testing.T) {
	r := runCLI(t, "bench", "--devices", "cpu", "--model", smallModel, "--steps", "2", "--rounds", "1", "--batch", "8", "--eval-batch", "8",
		"--profile-steps", "0").must(t, 0)
	if !strings.Contains(r.stdout, "work per training step (2 steps counted") || !strings.Contains(r.stdout, "n/a") ||
		!strings.Contains(r.stdout, "dispatches") || !strings.Contains(r.stdout, "Go allocs") {
		t.Fatalf("bench table without the work per step:\n%s", r.stdout)
	}
	r = runCLI(t, "bench", "--devices", "cpu", "--model", smallModel, "--steps", "16", "--rounds", "1", "--batch", "8", "--eval-batch", "8",
		"--profile-steps", "0", "--json").must(t, 0)
	var res benchResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, r.stdout)
	}
	// The small model runs dozens of ops per step; its input alone is
	// 8·28·28 floats (25 kB). A step allocates nothing in steady state.
	// The count is process-wide (runtime.MemStats): the Go runtime's own
	// bookkeeping (a goroutine parking after a GC emptied the sudog
	// cache, the cleanups of earlier tests' backends) can add a few
	// allocations, 7 at most in two counted steps in this package's
	// runs; so 16 steps, and under one per step on average: an
	// allocation of the step's own code, made every step, fails.
	if res.CountedSteps != 16 || !res.WorkCounted || res.DeviceQueue || res.OpsPerStep < 20 || res.KernelBytesPerStep < 8*784*4 ||
		res.AllocsPerStep < 0 || res.AllocsPerStep >= 1 || res.DispatchesPerStep != 0 || res.SubmitsPerStep != 0 || res.HostWaitsPerStep != 0 ||
		!strings.Contains(res.WorkComment, "no device queue") {
		t.Errorf("bench --json work figures: %+v", res)
	}
	for _, key := range []string{"dispatches_per_step", "barriers_per_step", "submits_per_step", "host_waits_per_step", "kernel_bytes_per_step", "allocs_per_step"} {
		if !strings.Contains(r.stdout, `"`+key+`":`) {
			t.Errorf("bench --json has no %s:\n%s", key, r.stdout)
		}
	}
}

// TestBenchWorkVulkan checks the Vulkan device's counts against the cpu
// device's in one bench: no more ops and declared bytes per step, and not
// far fewer (on a backend that recomputes, backend.Recomputer, the batch
// norm's backward recomputes xhat and sums the conv's bias gradient, and
// CompBNPoolQuant stands for CompBNTrain and MaxPoolQuant: a few ops
// fewer, moving less), and plausible dispatches, barriers, submissions
// and host waits.
func TestBenchWorkVulkan(t *testing.T) {
	gputest.Open(t) // skips without Vulkan
	r := runCLI(t, "bench", "--devices", "cpu,vulkan", "--model", smallModel, "--steps", "2", "--rounds", "1", "--batch", "8", "--eval-batch", "8",
		"--profile-steps", "0", "--json").must(t, 0)
	var rs []benchResult
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for dec.More() {
		var res benchResult
		if err := dec.Decode(&res); err != nil {
			t.Fatalf("bench --json: %v\n%s", err, r.stdout)
		}
		rs = append(rs, res)
	}
	if len(rs) != 2 {
		t.Fatalf("bench --json: %d results, want 2:\n%s", len(rs), r.stdout)
	}
	c, v := rs[0], rs[1]
	if v.OpsPerStep > c.OpsPerStep || v.OpsPerStep < c.OpsPerStep-4 || v.KernelBytesPerStep > c.KernelBytesPerStep || v.KernelBytesPerStep < c.KernelBytesPerStep/2 {
		t.Errorf("cpu ran %v ops, %v bytes per step, vulkan %v ops, %v bytes", c.OpsPerStep, c.KernelBytesPerStep, v.OpsPerStep, v.KernelBytesPerStep)
	}
	if !v.DeviceQueue || v.DispatchesPerStep < v.OpsPerStep/2 || v.BarriersPerStep < v.DispatchesPerStep ||
		v.SubmitsPerStep < 1 || v.SubmitsPerStep > v.DispatchesPerStep || v.HostWaitsPerStep < 1 || v.AllocsPerStep < 0 {
		t.Errorf("vulkan work figures implausible: %+v", v)
	}
}
