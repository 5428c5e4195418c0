package gpu_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/shaders"
)

func spirv(t testing.TB, name string) []byte {
	t.Helper()
	b, err := shaders.SPIRV(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const wg = 64 // workgroup size given to the test kernels as specialization constant 0

func saxpyKernel(t testing.TB, d *gpu.Device) *gpu.Kernel {
	t.Helper()
	k, err := d.NewKernel(spirv(t, "test_saxpy"), gpu.KernelSpec{Name: "saxpy", Bindings: 2, PushSize: 8, Spec: []uint32{wg}})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func groups(n int) uint32 { return uint32((n + wg - 1) / wg) }

func newBuf(t testing.TB, d *gpu.Device, size int64, kind gpu.BufferKind) *gpu.Buffer {
	t.Helper()
	b, err := d.NewBuffer(size, kind)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDevices(t *testing.T) {
	d := gputest.Open(t) // skips or fails as gputest documents when there is no Vulkan
	infos, err := gpu.Devices(gpu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) == 0 {
		t.Fatal("no devices")
	}
	for i, in := range infos {
		if in.Index != i || in.Name == "" || in.APIVersion == "" {
			t.Errorf("device %d: bad identity %+v", i, in)
		}
		l := in.Limits
		// Vulkan's required minimums.
		if l.MaxComputeSharedMemorySize < 16384 || l.MaxStorageBufferRange < 1<<27-1 || l.MaxPushConstantsSize < 128 ||
			l.MaxComputeWorkGroupInvocations < 128 || l.MaxComputeWorkGroupSize[0] < 128 || l.MaxComputeWorkGroupCount[0] < 65535 {
			t.Errorf("device %d: limits below the Vulkan minimums: %+v", i, l)
		}
		if in.SubgroupSize != 0 && (in.SubgroupSize&(in.SubgroupSize-1) != 0 || in.MinSubgroupSize > in.SubgroupSize || in.MaxSubgroupSize < in.SubgroupSize) {
			t.Errorf("device %d: subgroup sizes %d (%d..%d)", i, in.SubgroupSize, in.MinSubgroupSize, in.MaxSubgroupSize)
		}
		if in.Type.String() == "" || !strings.Contains(in.String(), in.Name) {
			t.Errorf("device %d: report lacks the name:\n%s", i, in)
		}
		t.Logf("\n%s", in)
	}
	in := d.Info()
	f := d.Features()
	if f.ShaderInt8 != in.ShaderInt8 || f.IntegerDotProduct != in.IntegerDotProduct || f.StorageBuffer8Bit != in.StorageBuffer8Bit {
		t.Errorf("enabled features %+v do not match the supported ones", f)
	}
	if in.UnifiedMemory && in.Type != gpu.TypeDiscrete && !d.UnifiedMemory() {
		t.Error("unified-memory device does not map Storage buffers")
	}
}

func TestDeviceIndexOutOfRange(t *testing.T) {
	gputest.Open(t) // skip when there is no Vulkan
	if _, err := gpu.Open(gpu.Options{DeviceIndex: 1000}); err == nil || !strings.Contains(err.Error(), "DeviceIndex") {
		t.Errorf("Open(DeviceIndex: 1000): %v, want an out-of-range error", err)
	}
}

func TestBufferRoundTrip(t *testing.T) {
	d := gputest.Open(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kind := range []gpu.BufferKind{gpu.Storage, gpu.HostStorage} {
		for _, size := range []int64{1, 3, 4, 5, 1023, 1<<20 + 7} {
			b := newBuf(t, d, size, kind)
			if b.Size() != size {
				t.Errorf("Size = %d, want %d", b.Size(), size)
			}
			src := make([]byte, size)
			for i := range src {
				src[i] = byte(rng.Uint32())
			}
			if err := b.Write(0, src); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, size)
			if err := b.Read(0, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, src) {
				t.Errorf("%s %d bytes: round trip differs", kind, size)
			}
			// Partial write and read at an odd offset.
			if size > 3 {
				if err := b.Write(1, []byte{0xAA, 0xBB}); err != nil {
					t.Fatal(err)
				}
				part := make([]byte, 3)
				if err := b.Read(0, part); err != nil {
					t.Fatal(err)
				}
				if want := []byte{src[0], 0xAA, 0xBB}; !bytes.Equal(part, want) {
					t.Errorf("%s %d bytes: partial write: got %x want %x", kind, size, part, want)
				}
			}
			if err := b.Write(size, []byte{1}); err == nil {
				t.Errorf("%s: Write past the end: no error", kind)
			}
			if err := b.Read(-1, []byte{1}); err == nil {
				t.Errorf("%s: Read at -1: no error", kind)
			}
			if kind == gpu.HostStorage && len(b.Mapped()) != int(size) {
				t.Errorf("HostStorage buffer is not mapped (%d bytes)", len(b.Mapped()))
			}
			b.Close()
		}
	}
}

func TestOversizeBuffer(t *testing.T) {
	d := gputest.Open(t)
	max := int64(d.Info().Limits.MaxStorageBufferRange)
	_, err := d.NewBuffer(max+1, gpu.Storage)
	if err == nil || !strings.Contains(err.Error(), "maxStorageBufferRange") || !errors.Is(err, gpu.ErrTooLarge) {
		t.Errorf("NewBuffer(max+1): %v, want a maxStorageBufferRange error wrapping gpu.ErrTooLarge", err)
	}
	for _, n := range []int64{0, -4} {
		if _, err := d.NewBuffer(n, gpu.Storage); err == nil {
			t.Errorf("NewBuffer(%d): no error", n)
		}
	}
	if _, err := d.NewBuffer(16, gpu.BufferKind(9)); err == nil {
		t.Error("NewBuffer with an unknown kind: no error")
	}
}

// fmaOrNot reports whether got is a*x+y rounded once or twice.
func fmaOrNot(got, a, x, y float32) bool {
	return got == a*x+y || got == float32(math.FMA(float64(a), float64(x), float64(y)))
}

func TestSaxpy(t *testing.T) {
	d := gputest.Open(t)
	k := saxpyKernel(t, d)
	const n = 100_003
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n)
	y := make([]float32, n+5) // guard values past n must survive
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	for i := range y {
		y[i] = rng.Float32()*2 - 1
	}
	bx := newBuf(t, d, 4*n, gpu.Storage)
	by := newBuf(t, d, 4*(n+5), gpu.Storage)
	if err := bx.Write(0, gpu.AsBytes(x)); err != nil {
		t.Fatal(err)
	}
	if err := by.Write(0, gpu.AsBytes(y)); err != nil {
		t.Fatal(err)
	}
	seq, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	const a = float32(1.5)
	if err := seq.Dispatch(k, []*gpu.Buffer{bx, by}, gpu.Push(uint32(n), a), groups(n), 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := seq.Run(); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, n+5)
	if err := by.Read(0, gpu.AsBytes(got)); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if i < n && !fmaOrNot(got[i], a, x[i], y[i]) {
			t.Fatalf("y[%d] = %g, want %g", i, got[i], a*x[i]+y[i])
		}
		if i >= n && got[i] != y[i] {
			t.Fatalf("guard y[%d] changed: %g -> %g", i, y[i], got[i])
		}
	}
}

func TestI8Dot(t *testing.T) {
	d := gputest.Open(t)
	k, err := d.NewKernel(spirv(t, "test_i8dot"), gpu.KernelSpec{Name: "i8dot", Bindings: 3, PushSize: 8, Spec: []uint32{wg}})
	if err != nil {
		t.Fatal(err)
	}
	const rows, words = 257, 33
	rng := rand.New(rand.NewPCG(5, 6))
	a := make([]int8, rows*words*4)
	b := make([]int8, words*4)
	for i := range a {
		a[i] = int8(rng.Uint32())
	}
	for i := range b {
		b[i] = int8(rng.Uint32())
	}
	a[0], b[0] = -128, -128 // the extreme product
	ba := newBuf(t, d, int64(len(a)), gpu.Storage)
	bb := newBuf(t, d, int64(len(b)), gpu.Storage)
	bo := newBuf(t, d, 4*rows, gpu.Storage)
	if err := ba.Write(0, gpu.AsBytes(a)); err != nil {
		t.Fatal(err)
	}
	if err := bb.Write(0, gpu.AsBytes(b)); err != nil {
		t.Fatal(err)
	}
	seq, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	if err := seq.Dispatch(k, []*gpu.Buffer{ba, bb, bo}, gpu.Push(uint32(rows), uint32(words)), groups(rows), 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := seq.Run(); err != nil {
		t.Fatal(err)
	}
	got := make([]int32, rows)
	if err := bo.Read(0, gpu.AsBytes(got)); err != nil {
		t.Fatal(err)
	}
	for r := 0; r < rows; r++ {
		var want int32
		for j := 0; j < words*4; j++ {
			want += int32(a[r*words*4+j]) * int32(b[j])
		}
		if got[r] != want {
			t.Fatalf("row %d: got %d want %d", r, got[r], want)
		}
	}
}

// runChain records steps rounds of "B = 1*A + B; copy B -> A" (each operation
// depends on the one before, both ways) and checks B = 2^(steps-1) * (1 + B0).
func runChain(t *testing.T, d *gpu.Device, seq *gpu.Sequence, k *gpu.Kernel, ba, bb *gpu.Buffer, n, steps int) {
	t.Helper()
	if err := seq.Fill(ba, math.Float32bits(1)); err != nil {
		t.Fatal(err)
	}
	b0 := make([]float32, n)
	for i := range b0 {
		b0[i] = float32(i % 3)
	}
	if err := bb.Write(0, gpu.AsBytes(b0)); err != nil {
		t.Fatal(err)
	}
	push := gpu.Push(uint32(n), float32(1))
	for s := 0; s < steps; s++ {
		if err := seq.Dispatch(k, []*gpu.Buffer{ba, bb}, push, groups(n), 1, 1); err != nil {
			t.Fatal(err)
		}
		if err := seq.Copy(ba, bb, int64(4*n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := seq.Run(); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, n)
	if err := bb.Read(0, gpu.AsBytes(got)); err != nil {
		t.Fatal(err)
	}
	scale := float32(math.Ldexp(1, steps-1))
	for i, g := range got {
		if want := scale * (1 + b0[i]); g != want {
			t.Fatalf("after %d dependent steps: B[%d] = %g, want %g", steps, i, g, want)
		}
	}
}

func TestDependentChain(t *testing.T) {
	d := gputest.Open(t)
	k := saxpyKernel(t, d)
	const n = 4099
	ba := newBuf(t, d, 4*n, gpu.Storage)
	bb := newBuf(t, d, 4*n, gpu.Storage)
	seq, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	runChain(t, d, seq, k, ba, bb, n, 20)
}

func TestResetReuse(t *testing.T) {
	d := gputest.Open(t)
	k := saxpyKernel(t, d)
	const n = 1000
	ba := newBuf(t, d, 4*n, gpu.Storage)
	bb := newBuf(t, d, 4*n, gpu.Storage)
	seq, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		runChain(t, d, seq, k, ba, bb, n, 8)
		if err := seq.Dispatch(k, []*gpu.Buffer{ba, bb}, gpu.Push(uint32(n), float32(1)), 1, 1, 1); err == nil {
			t.Fatal("Dispatch after Run without Reset: no error")
		}
		if err := seq.Reset(); err != nil {
			t.Fatal(err)
		}
	}
	// Reset in the middle of recording discards the recording.
	if err := seq.Fill(bb, 0); err != nil {
		t.Fatal(err)
	}
	if err := seq.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := seq.Run(); err != nil {
		t.Fatal(err)
	}
	if v := readF32(t, bb, 0); v == 0 {
		t.Error("a discarded Fill ran")
	}
	// A new buffer set after a buffer was closed rewrites the cached descriptors.
	bc := newBuf(t, d, 4*n, gpu.Storage)
	ba.Close()
	if err := seq.Reset(); err != nil {
		t.Fatal(err)
	}
	runChain(t, d, seq, k, bc, bb, n, 3)
}

func TestResubmit(t *testing.T) {
	d := gputest.Open(t)
	k := saxpyKernel(t, d)
	const n = 300
	x := make([]float32, n)
	y := make([]float32, n)
	for i := range x {
		x[i], y[i] = float32(i), float32(2*i)
	}
	bx := newBuf(t, d, 4*n, gpu.Storage)
	by := newBuf(t, d, 4*n, gpu.Storage)
	if err := bx.Write(0, gpu.AsBytes(x)); err != nil {
		t.Fatal(err)
	}
	if err := by.Write(0, gpu.AsBytes(y)); err != nil {
		t.Fatal(err)
	}
	seq, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	if err := seq.Dispatch(k, []*gpu.Buffer{bx, by}, gpu.Push(uint32(n), float32(1)), groups(n), 1, 1); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 3; run++ {
		if err := seq.Run(); err != nil {
			t.Fatal(err)
		}
		if d.Info().Timestamps && len(seq.Timings()) != 1 {
			t.Errorf("run %d: %d timings, want 1", run, len(seq.Timings()))
		}
	}
	got := make([]float32, n)
	if err := by.Read(0, gpu.AsBytes(got)); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if want := float32(5 * i); got[i] != want {
			t.Fatalf("after 3 runs y[%d] = %g, want %g", i, got[i], want)
		}
	}
}

func readF32(t *testing.T, b *gpu.Buffer, i int) float32 {
	t.Helper()
	var v [1]float32
	if err := b.Read(int64(4*i), gpu.AsBytes(v[:])); err != nil {
		t.Fatal(err)
	}
	return v[0]
}

func TestTimings(t *testing.T) {
	d := gputest.Open(t)
	k := saxpyKernel(t, d)
	const n = 1 << 16
	bx := newBuf(t, d, 4*n, gpu.Storage)
	by := newBuf(t, d, 4*n, gpu.Storage)
	seq, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	if err := seq.Fill(bx, 0); err != nil {
		t.Fatal(err)
	}
	if err := seq.Fill(by, 0); err != nil {
		t.Fatal(err)
	}
	// More operations than one query pool holds.
	for i := 0; i < 200; i++ {
		if err := seq.Dispatch(k, []*gpu.Buffer{bx, by}, gpu.Push(uint32(n), float32(1)), groups(n), 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := seq.Run(); err != nil {
		t.Fatal(err)
	}
	tm := seq.Timings()
	seq.SetTiming(false)
	if err := seq.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := seq.Fill(bx, 0); err != nil {
		t.Fatal(err)
	}
	if err := seq.Run(); err != nil {
		t.Fatal(err)
	}
	if n := len(seq.Timings()); n != 0 {
		t.Errorf("%d timings with timing off", n)
	}
	if !d.Info().Timestamps {
		if len(tm) != 0 {
			t.Errorf("%d timings without timestamp support", len(tm))
		}
		t.Skip("device has no timestamps")
	}
	if len(tm) != 202 {
		t.Fatalf("%d timings, want 202", len(tm))
	}
	if tm[0].Name != "fill" || tm[2].Name != "saxpy" || tm[201].Name != "saxpy" {
		t.Errorf("timing names: %v %v %v", tm[0].Name, tm[2].Name, tm[201].Name)
	}
	for _, x := range tm {
		if x.Duration < 0 || x.Duration > 1e11 {
			t.Fatalf("implausible duration %v", x.Duration)
		}
	}
}

func TestKernelErrors(t *testing.T) {
	d := gputest.Open(t)
	code := spirv(t, "test_saxpy")
	cases := []struct {
		name  string
		code  []byte
		spec  gpu.KernelSpec
		error string
	}{
		{"not spirv", []byte("hello, world, not spirv"), gpu.KernelSpec{Bindings: 2, PushSize: 8}, "not SPIR-V"},
		{"odd push", code, gpu.KernelSpec{Bindings: 2, PushSize: 6}, "push-constant size"},
		{"big push", code, gpu.KernelSpec{Bindings: 2, PushSize: int(d.Info().Limits.MaxPushConstantsSize) + 4}, "maxPushConstantsSize"},
		{"bindings", code, gpu.KernelSpec{Bindings: -1}, "bindings"},
	}
	for _, c := range cases {
		if _, err := d.NewKernel(c.code, c.spec); err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.error)
		}
	}
	k := saxpyKernel(t, d)
	b := newBuf(t, d, 64, gpu.Storage)
	seq, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	push := gpu.Push(uint32(16), float32(1))
	bad := []struct {
		name    string
		bufs    []*gpu.Buffer
		push    []byte
		x, y, z uint32
	}{
		{"one buffer", []*gpu.Buffer{b}, push, 1, 1, 1},
		{"nil buffer", []*gpu.Buffer{b, nil}, push, 1, 1, 1},
		{"short push", []*gpu.Buffer{b, b}, push[:4], 1, 1, 1},
		{"zero groups", []*gpu.Buffer{b, b}, push, 0, 1, 1},
		{"too many groups", []*gpu.Buffer{b, b}, push, 1, 1, d.Info().Limits.MaxComputeWorkGroupCount[2] + 1},
	}
	for _, c := range bad {
		if err := seq.Dispatch(k, c.bufs, c.push, c.x, c.y, c.z); err == nil {
			t.Errorf("Dispatch with %s: no error", c.name)
		}
	}
	if err := seq.Copy(b, b, 64); err == nil {
		t.Error("overlapping Copy: no error")
	}
	if err := seq.CopyRegion(b, 32, b, 0, 32); err != nil {
		t.Errorf("disjoint CopyRegion within a buffer: %v", err)
	}
	if err := seq.Wait(); err == nil {
		t.Error("Wait before Submit: no error")
	}
	if err := seq.Run(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseTwice(t *testing.T) {
	d := gputest.Open(t)
	k := saxpyKernel(t, d)
	b := newBuf(t, d, 64, gpu.Storage)
	seq, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	if err := seq.Fill(b, 7); err != nil {
		t.Fatal(err)
	}
	if err := seq.Submit(); err != nil {
		t.Fatal(err)
	}
	seq.Close() // waits for the submitted work
	seq.Close()
	k.Close()
	k.Close()
	b.Close()
	b.Close()
	if b.Mapped() != nil {
		t.Error("closed buffer still mapped")
	}
	if err := b.Write(0, []byte{1}); err == nil {
		t.Error("Write to a closed buffer: no error")
	}
	if err := seq.Fill(b, 0); err == nil {
		t.Error("Fill on a closed sequence: no error")
	}
	// Objects left open are destroyed by the device's Close (validation reports leaks).
	newBuf(t, d, 16, gpu.HostStorage)
	saxpyKernel(t, d)
	s2, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	b2 := newBuf(t, d, 16, gpu.Storage)
	if err := s2.Fill(b2, 1); err != nil {
		t.Fatal(err)
	}
	if err := s2.Submit(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	b2.Close() // after the device: a no-op
	s2.Close()
	if _, err := d.NewBuffer(16, gpu.Storage); err == nil {
		t.Error("NewBuffer on a closed device: no error")
	}
	if _, err := d.NewSequence(); err == nil {
		t.Error("NewSequence on a closed device: no error")
	}
}

func TestPipelineCacheFile(t *testing.T) {
	gputest.Open(t) // skip when there is no Vulkan
	path := filepath.Join(t.TempDir(), "pipelines.bin")
	for i := 0; i < 2; i++ {
		d := gputest.OpenWith(t, gpu.Options{DeviceIndex: -1, PipelineCachePath: path})
		k := saxpyKernel(t, d)
		k.Close()
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Fatalf("pipeline cache file after run %d: %v", i, err)
		}
	}
	// A corrupt file is ignored.
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := gputest.OpenWith(t, gpu.Options{DeviceIndex: -1, PipelineCachePath: path})
	saxpyKernel(t, d)
}

func TestPush(t *testing.T) {
	got := gpu.Push(uint32(1), int32(-1), float32(1))
	want := []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x80, 0x3f}
	if !bytes.Equal(got, want) {
		t.Errorf("Push = %x, want %x", got, want)
	}
	type block struct {
		N    uint32
		A    float32
		Dims [2]int32
	}
	enc, err := gpu.EncodePush(&block{N: 1, A: 1, Dims: [2]int32{-1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != 16 || !bytes.Equal(enc[:8], []byte{1, 0, 0, 0, 0, 0, 0x80, 0x3f}) || enc[8] != 0xff || enc[12] != 2 {
		t.Errorf("EncodePush = %x", enc)
	}
	if _, err := gpu.EncodePush(struct{ X uint8 }{}); err == nil {
		t.Error("EncodePush with a uint8 field: no error")
	}
	defer func() {
		if recover() == nil {
			t.Error("Push(int) did not panic")
		}
	}()
	gpu.Push(1)
}

func TestNoVulkanError(t *testing.T) {
	if !strings.Contains(gpu.ErrNoVulkan.Error(), "libvulkan.so.1") || !errors.Is(gpu.ErrNoVulkan, gpu.ErrNoVulkan) {
		t.Error("ErrNoVulkan should name the library")
	}
}

// TestTexelBinding runs a kernel that reads one buffer as a uniform texel buffer
// and another as a storage buffer, interleaved with a storage-only kernel on the
// same buffers (two descriptor-set layouts in one sequence), and checks every
// element and a guard past the end.
func TestTexelBinding(t *testing.T) {
	d := gputest.Open(t)
	tk, err := d.NewKernel(spirv(t, "test_texel"), gpu.KernelSpec{Name: "texel", Bindings: 3, PushSize: 8, Spec: []uint32{wg}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tk.TexelBindings(); got != 1<<1 {
		t.Fatalf("TexelBindings = %b, want 10 (binding 1 only)", got)
	}
	sk := saxpyKernel(t, d)
	if got := sk.TexelBindings(); got != 0 {
		t.Fatalf("saxpy TexelBindings = %b, want 0", got)
	}
	const n = 70_001
	rng := rand.New(rand.NewPCG(7, 8))
	x, z := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], z[i] = rng.Float32()*2-1, rng.Float32()*2-1
	}
	bx, bz := newBuf(t, d, 4*n, gpu.Storage), newBuf(t, d, 4*n, gpu.Storage)
	by := newBuf(t, d, 4*(n+1), gpu.Storage)
	for _, w := range []struct {
		b *gpu.Buffer
		v []float32
	}{{bx, x}, {bz, z}, {by, make([]float32, n+1)}} {
		if err := w.b.Write(0, gpu.AsBytes(w.v)); err != nil {
			t.Fatal(err)
		}
	}
	seq, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	const a = float32(-0.75)
	// y = a*x + z (texel read of x), then z += 2*y (storage only), then y = a*x + z again.
	steps := []struct {
		k    *gpu.Kernel
		bufs []*gpu.Buffer
		a    float32
	}{{tk, []*gpu.Buffer{by, bx, bz}, a}, {sk, []*gpu.Buffer{by, bz}, 2}, {tk, []*gpu.Buffer{by, bx, bz}, a}}
	for _, s := range steps {
		if err := seq.Dispatch(s.k, s.bufs, gpu.Push(uint32(n), s.a), groups(n), 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := seq.Run(); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, n+1)
	if err := by.Read(0, gpu.AsBytes(got)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		y1 := a*x[i] + z[i]
		z2 := 2*y1 + z[i]
		want := a*x[i] + z2
		if d := math.Abs(float64(got[i] - want)); d > 1e-5 {
			t.Fatalf("y[%d] = %g, want %g", i, got[i], want)
		}
	}
	if got[n] != 0 {
		t.Fatalf("guard y[%d] changed to %g", n, got[n])
	}
}

// TestTexelBindingRefused checks that a float samplerBuffer, which the R32_UINT
// view cannot serve, is refused with a message naming the binding.
func TestTexelBindingRefused(t *testing.T) {
	d := gputest.Open(t)
	_, err := d.NewKernel(spirv(t, "test_texel_float"), gpu.KernelSpec{Name: "bad", Bindings: 2})
	if err == nil || !strings.Contains(err.Error(), "binding 1") || !strings.Contains(err.Error(), "usamplerBuffer") {
		t.Fatalf("NewKernel(float samplerBuffer) = %v, want an error naming binding 1 and usamplerBuffer", err)
	}
}

// TestCopyBuilds checks both builds of test_copy against the host.
func TestCopyBuilds(t *testing.T) {
	d := gputest.Open(t)
	const n = 10_007
	xv := make([]float32, n)
	for i := range xv {
		xv[i] = float32(i)*0.25 - 100
	}
	for _, name := range []string{"test_copy", "test_copy_tex"} {
		k, err := d.NewKernel(spirv(t, name), gpu.KernelSpec{Name: name, Bindings: 2, PushSize: 4, Spec: []uint32{64}})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]uint32{"test_copy": 0, "test_copy_tex": 2}[name]; k.TexelBindings() != want {
			t.Errorf("%s: TexelBindings = %b, want %b", name, k.TexelBindings(), want)
		}
		x, y := newBuf(t, d, 4*n, gpu.Storage), newBuf(t, d, 4*n, gpu.Storage)
		if err := x.Write(0, gpu.AsBytes(xv)); err != nil {
			t.Fatal(err)
		}
		seq, err := d.NewSequence()
		if err != nil {
			t.Fatal(err)
		}
		if err := seq.Dispatch(k, []*gpu.Buffer{y, x}, gpu.Push(uint32(n)), 7, 1, 1); err != nil {
			t.Fatal(err)
		}
		if err := seq.Run(); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, n)
		if err := y.Read(0, gpu.AsBytes(got)); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != 2*xv[i] {
				t.Fatalf("%s: y[%d] = %v, want %v", name, i, got[i], 2*xv[i])
			}
		}
	}
}
