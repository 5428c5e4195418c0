package gpu_test

import (
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/gpu/gputest"
)

// TestWork counts the commands of a recording: a fill and two dispatches
// are 3 commands, 4 barriers (one at the start, one between consecutive
// commands, one to the host at the end), 1 submission and 1 wait per run;
// running the recording again counts it again.
func TestWork(t *testing.T) {
	d := gputest.Open(t)
	k := saxpyKernel(t, d)
	const n = 300
	bx := newBuf(t, d, 4*n, gpu.Storage)
	by := newBuf(t, d, 4*n, gpu.Storage)
	seq, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	start := d.Work()
	if err := seq.Fill(by, 0); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := seq.Dispatch(k, []*gpu.Buffer{bx, by}, gpu.Push(uint32(n), float32(1)), groups(n), 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.Work().Sub(start); got != (gpu.Work{}) {
		t.Fatalf("before Submit: %+v, want nothing counted", got)
	}
	if err := seq.Run(); err != nil {
		t.Fatal(err)
	}
	want := gpu.Work{Dispatches: 2, Barriers: 4, Transfers: 1, Submits: 1, HostWaits: 1}
	if got := d.Work().Sub(start); got != want {
		t.Fatalf("after one run: %+v, want %+v", got, want)
	}
	if err := seq.Run(); err != nil {
		t.Fatal(err)
	}
	want = gpu.Work{Dispatches: 4, Barriers: 8, Transfers: 2, Submits: 2, HostWaits: 2}
	if got := d.Work().Sub(start); got != want {
		t.Fatalf("after two runs: %+v, want %+v", got, want)
	}
	if err := d.WaitIdle(); err != nil {
		t.Fatal(err)
	}
	if got := d.Work().Sub(start).HostWaits; got != 3 {
		t.Fatalf("after WaitIdle: %d host waits, want 3", got)
	}
}
