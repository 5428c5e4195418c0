package gpu_test

import (
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/gpu/gputest"
)

// benchDispatches times Reset + perStep saxpy dispatches over n floats + Run, or
// only Run again when rerun is set.
func benchDispatches(b *testing.B, n, perStep int, timing, rerun bool) {
	d := gputest.OpenBench(b)
	k := saxpyKernel(b, d)
	size := int64(4 * max(n, 1))
	x := newBuf(b, d, size, gpu.Storage)
	y := newBuf(b, d, size, gpu.Storage)
	seq, err := d.NewSequence()
	if err != nil {
		b.Fatal(err)
	}
	seq.SetTiming(timing)
	push := gpu.Push(uint32(n), float32(0.5))
	recorded := false
	step := func() {
		if rerun && recorded {
			if err := seq.Run(); err != nil {
				b.Fatal(err)
			}
			return
		}
		recorded = true
		if err := seq.Reset(); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < perStep; i++ {
			if err := seq.Dispatch(k, []*gpu.Buffer{x, y}, push, max(groups(n), 1), 1, 1); err != nil {
				b.Fatal(err)
			}
		}
		if err := seq.Run(); err != nil {
			b.Fatal(err)
		}
	}
	step() // lavapipe compiles the pipeline at the first dispatch
	b.ReportAllocs()
	if n > 0 {
		b.SetBytes(int64(perStep) * 12 * int64(n))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
}

// BenchmarkEmptyDispatch: record one dispatch of one workgroup that does nothing,
// submit, fence wait: the fixed cost of a round trip.
func BenchmarkEmptyDispatch(b *testing.B) { benchDispatches(b, 0, 1, false, false) }

// BenchmarkEmptyDispatchTimed is BenchmarkEmptyDispatch with timestamps.
func BenchmarkEmptyDispatchTimed(b *testing.B) { benchDispatches(b, 0, 1, true, false) }

// BenchmarkEmptyResubmit submits an already recorded empty dispatch again.
func BenchmarkEmptyResubmit(b *testing.B) { benchDispatches(b, 0, 1, false, true) }

// BenchmarkRecord100: 100 small dependent dispatches per submission: the per-dispatch
// recording and barrier cost.
func BenchmarkRecord100(b *testing.B) { benchDispatches(b, 64, 100, false, false) }

// BenchmarkRecord100Timed is BenchmarkRecord100 with timestamps.
func BenchmarkRecord100Timed(b *testing.B) { benchDispatches(b, 64, 100, true, false) }

// BenchmarkSaxpy1M: y = a*x + y over 2^20 floats.
func BenchmarkSaxpy1M(b *testing.B) { benchDispatches(b, 1<<20, 1, false, false) }

// BenchmarkCopy times y = 2*x over 4M floats with x read through a storage
// buffer (test_copy) and through a uniform texel buffer (test_copy_tex), in
// ns per element: on lavapipe a storage-buffer load is a loop over the SIMD
// lanes, a texel fetch one gather (see nn/vk's Options.Reads).
//
//	go test -run - -bench Copy ./gpu/
func BenchmarkCopy(b *testing.B) {
	const n = 1 << 22
	for _, name := range []string{"test_copy", "test_copy_tex"} {
		b.Run(name, func(b *testing.B) {
			d := gputest.OpenBench(b)
			k, err := d.NewKernel(spirv(b, name), gpu.KernelSpec{Name: name, Bindings: 2, PushSize: 4, Spec: []uint32{256}})
			if err != nil {
				b.Fatal(err)
			}
			x := newBuf(b, d, 4*n, gpu.Storage)
			y := newBuf(b, d, 4*n, gpu.Storage)
			seq, err := d.NewSequence()
			if err != nil {
				b.Fatal(err)
			}
			seq.SetTiming(false)
			// A grid of 8 elements per invocation (the grid-stride loop does the rest).
			if err := seq.Dispatch(k, []*gpu.Buffer{y, x}, gpu.Push(uint32(n)), n/8/256, 1, 1); err != nil {
				b.Fatal(err)
			}
			if err := seq.Run(); err != nil { // the first run compiles the pipeline
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := seq.Run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/element")
		})
	}
}
