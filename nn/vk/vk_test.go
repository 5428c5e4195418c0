package vk

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// newOn returns a backend with GemmI variant v on dev, closed (and checked
// for a recorded error) when the test ends.
func newOn(t *testing.T, dev *gpu.Device, v string) *Backend {
	t.Helper()
	b, err := New(dev, Options{Variant: v})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestUnknownVariant(t *testing.T) {
	dev := gputest.Open(t)
	if _, err := New(dev, Options{Variant: "fast"}); err == nil {
		t.Fatal(`New with variant "fast": no error`)
	}
}

func TestTooBig(t *testing.T) {
	b := newOn(t, gputest.Open(t), "")
	lim := int(b.dev.Info().Limits.MaxStorageBufferRange)
	_, err := b.New(backend.F32, lim/4+1)
	if err == nil || !strings.Contains(err.Error(), "maxStorageBufferRange") || !errors.Is(err, gpu.ErrTooLarge) {
		t.Fatalf("New past maxStorageBufferRange: error %v, want one wrapping gpu.ErrTooLarge", err)
	}
}

// both runs f on the backend under test and on the reference and returns
// the int32 contents of the tensor named out on each side.
type sides struct {
	t  *testing.T
	bk [2]backend.Backend
}

func (s sides) q8(name string, v []int32, shape ...int) [2]backend.Tensor {
	s.t.Helper()
	var out [2]backend.Tensor
	for i, b := range s.bk {
		x, err := b.New(backend.Q8, shape...)
		if err != nil {
			s.t.Fatal(err)
		}
		if v != nil {
			if err := b.WriteI32(x, v); err != nil {
				s.t.Fatalf("%s: %v", name, err)
			}
		}
		out[i] = x
	}
	return out
}

func (s sides) newT(dt backend.DType, shape ...int) [2]backend.Tensor {
	s.t.Helper()
	var out [2]backend.Tensor
	for i, b := range s.bk {
		x, err := b.New(dt, shape...)
		if err != nil {
			s.t.Fatal(err)
		}
		out[i] = x
	}
	return out
}

func (s sides) same(name string, x [2]backend.Tensor) []int32 {
	s.t.Helper()
	var got [2][]int32
	for i, b := range s.bk {
		got[i] = make([]int32, x[i].Len())
		if err := b.ReadI32(x[i], got[i]); err != nil {
			s.t.Fatalf("%s: side %d: %v", name, i, err)
		}
	}
	for k := range got[0] {
		if got[0][k] != got[1][k] {
			s.t.Fatalf("%s[%d] = %d, reference %d", name, k, got[0][k], got[1][k])
		}
	}
	return got[0]
}

// testMixedSignCodes covers Q8 tensors holding codes of both signs, which
// are stored one per int: from WriteI32, from Im2ColI with a negative pad
// on unsigned codes and from Quantize with a range [-5, 200]; and their
// use by GemmI, RowSumI, Dequantize and Copy in every variant.
func testMixedSignCodes(t *testing.T, newB newRecorded) {
	for _, v := range Variants(newB(t, Options{}, nil).dev) {
		t.Run(v, func(t *testing.T) {
			s := sides{t, [2]backend.Backend{newB(t, Options{Variant: v}, nil), ref.New()}}
			g := backend.ConvGeom{N: 2, H: 5, W: 4, C: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
			xv := make([]int32, g.N*g.H*g.W*g.C)
			for i := range xv {
				xv[i] = int32(i*37%256) - 0
			}
			x := s.q8("x", xv, g.N, g.H, g.W, g.C)
			cols := s.q8("cols", nil, g.Rows(), g.K())
			wv := make([]int32, 5*g.K())
			for i := range wv {
				wv[i] = int32(i*53%251) - 120
			}
			w := s.q8("w", wv, 5, g.K())
			mixed := make([]int32, 5*g.K())
			for i := range mixed {
				mixed[i] = int32(i*29%290) - 40
			}
			wm := s.q8("wm", mixed, 5, g.K())
			acc, acc2 := s.newT(backend.I32, g.Rows(), 5), s.newT(backend.I32, g.Rows(), 5)
			rs := s.newT(backend.I32, g.Rows())
			xf := s.newT(backend.F32, g.N*g.H*g.W*g.C)
			qx := s.q8("qx", nil, g.N*g.H*g.W*g.C)
			cp := s.q8("copy", nil, g.Rows(), g.K())
			p := backend.QuantSpec{Scale: []float32{0.5}, Zero: []int32{3}, QMin: -5, QMax: 200}
			for i, b := range s.bk {
				b.Im2ColI(cols[i], x[i], g, -3)
				b.GemmI(acc[i], cols[i], w[i])
				b.GemmI(acc2[i], cols[i], wm[i])
				b.RowSumI(rs[i], cols[i])
				b.Dequantize(xf[i], x[i], p)
				b.Quantize(qx[i], xf[i], backend.QuantSpec{Scale: []float32{0.25}, Zero: []int32{-2}, QMin: -5, QMax: 200})
				b.Copy(cp[i], cols[i])
				if err := b.Sync(); err != nil {
					t.Fatalf("side %d: %v", i, err)
				}
			}
			if c := s.same("cols", cols); c[0] != -3 {
				t.Fatalf("cols[0] = %d, want the pad -3", c[0])
			}
			s.same("acc", acc)
			s.same("acc (mixed b)", acc2)
			s.same("rowsum", rs)
			s.same("quantize", qx)
			s.same("copy", cp)
		})
	}
}

// TestQ8Views checks Reshape of Q8 tensors: the last dimension must stay
// unless both are multiples of 4, and Copy between Q8 tensors whose rows
// are padded differently.
func TestQ8Views(t *testing.T) {
	b := newOn(t, gputest.Open(t), "")
	x, err := b.New(backend.Q8, 6, 8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reshape(x, 8, 6); err == nil {
		t.Fatal("Reshape q8 [6 8] to [8 6]: no error")
	}
	v, err := b.Reshape(x, 3, 16)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int32, 48)
	for i := range want {
		want[i] = int32(i) - 20
	}
	if err := b.WriteI32(x, want); err != nil {
		t.Fatal(err)
	}
	got := make([]int32, 48)
	if err := b.ReadI32(v, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("view [%d] = %d, want %d", i, got[i], want[i])
		}
	}
	y, err := b.New(backend.Q8, 16, 3)
	if err != nil {
		t.Fatal(err)
	}
	b.Copy(y, x)
	if err := b.ReadI32(y, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("copy [%d] = %d, want %d", i, got[i], want[i])
		}
	}
	if err := b.WriteI32(y, []int32{256}); err == nil {
		t.Fatal("WriteI32 of 1 value into 48: no error")
	}
	bad := make([]int32, 48)
	bad[7] = 256
	if err := b.WriteI32(y, bad); err == nil || !strings.Contains(err.Error(), "256") {
		t.Fatalf("WriteI32 of 256 into q8: error %v", err)
	}
}

// TestTuning checks that launch sizes follow the device's type and limits.
func TestTuning(t *testing.T) {
	lim := gpu.Limits{
		MaxComputeSharedMemorySize:     32768,
		MaxComputeWorkGroupInvocations: 1024,
		MaxComputeWorkGroupSize:        [3]uint32{1024, 1024, 64},
		MaxComputeWorkGroupCount:       [3]uint32{65535, 65535, 65535},
	}
	cpu := chooseTuning(gpu.Info{Type: gpu.TypeCPU, Limits: lim})
	if cpu.tiled || cpu.splitTarget != 0 {
		t.Errorf("CPU driver: tiled %v, split target %d; want direct kernels, no split", cpu.tiled, cpu.splitTarget)
	}
	if sg := chooseTuning(gpu.Info{Type: gpu.TypeCPU, Limits: lim, SubgroupSize: 8, MinSubgroupSize: 8, MaxSubgroupSize: 8}); sg.gemmSG != 8 {
		t.Errorf("CPU driver with subgroups of 8: gemmSG %d, want 8", sg.gemmSG)
	}
	if v := chooseTuning(gpu.Info{Type: gpu.TypeCPU, Limits: lim, SubgroupSize: 8, MinSubgroupSize: 4, MaxSubgroupSize: 16}); v.gemmSG != 0 {
		t.Errorf("CPU driver with varying subgroups: gemmSG %d, want 0", v.gemmSG)
	}
	gpuT := chooseTuning(gpu.Info{Type: gpu.TypeDiscrete, Limits: lim, SubgroupSize: 32, MinSubgroupSize: 32, MaxSubgroupSize: 32})
	if cpu.redGroups >= gpuT.redGroups || cpu.redGroups < 1 {
		t.Errorf("MinMax workgroups: %d on a CPU driver, %d on a GPU; want a few on CPU drivers", cpu.redGroups, gpuT.redGroups)
	}
	if cpu.strideGroups < 1 || gpuT.strideGroups != 0 {
		t.Errorf("grid-stride workgroups: cap %d on a CPU driver, %d on a GPU; want a few on CPU drivers, no cap on GPUs", cpu.strideGroups, gpuT.strideGroups)
	}
	if gpuT.gemmSG != 0 {
		t.Errorf("discrete GPU: gemmSG %d, want 0 (q_gemmi_sg is for CPU drivers)", gpuT.gemmSG)
	}
	if !gpuT.tiled || gpuT.splitTarget == 0 || gpuT.tileX*gpuT.tileY > lim.MaxComputeWorkGroupInvocations {
		t.Errorf("discrete GPU: %+v", gpuT)
	}
	if !cpu.cpu || gpuT.cpu {
		t.Errorf("cpu flag: %v on a CPU driver, %v on a GPU", cpu.cpu, gpuT.cpu)
	}
	fc := chooseFloatTuning(gpu.Info{Type: gpu.TypeCPU, Limits: lim, SubgroupSize: 8, MinSubgroupSize: 8, MaxSubgroupSize: 8}, true)
	fg := chooseFloatTuning(gpu.Info{Type: gpu.TypeDiscrete, Limits: lim, SubgroupSize: 32, MinSubgroupSize: 32, MaxSubgroupSize: 32}, true)
	if !fc.rt || fc.gemmSG != 8 || !fc.pairs || fc.groups >= fg.groups {
		t.Errorf("float tuning of a CPU driver with subgroups of 8 and shaderInt64: %+v", fc)
	}
	if fg.rt || fg.gemmSG != 0 || fg.pairs {
		t.Errorf("float tuning of a discrete GPU: %+v, want f_gemm (no subgroup kernels) and no column pairs", fg)
	}
	mali := chooseTuning(gpu.Info{Type: gpu.TypeIntegrated, VendorID: vendorARM, Limits: lim})
	if mali.tiled {
		t.Errorf("Mali: tiled")
	}
	small := lim
	small.MaxComputeWorkGroupInvocations = 64
	small.MaxComputeSharedMemorySize = 1024
	s := chooseTuning(gpu.Info{Type: gpu.TypeIntegrated, Limits: small})
	if s.wg > 64 || s.red > 64 || s.gemmWX*s.gemmWY > 64 || s.tileX*s.tileY > 64 {
		t.Errorf("64 invocations allowed: %+v", s)
	}
	if shared := 4 * s.tileK * (4*s.tileX + 4*s.tileY + 2); shared > small.MaxComputeSharedMemorySize || s.tileK < 1 {
		t.Errorf("tiles need %d bytes of shared memory, the device has %d", shared, small.MaxComputeSharedMemorySize)
	}
}

// TestProfile checks that StartProfile/StopProfile report the kernels run
// in between, with their call counts.
func TestProfile(t *testing.T) {
	b := newOn(t, gputest.Open(t), "")
	if !b.dev.Info().Timestamps {
		t.Skip("no timestamps on this device")
	}
	x, err := b.New(backend.F32, 1000)
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.New(backend.F32, 3)
	if err != nil {
		t.Fatal(err)
	}
	b.MinMax(d, x) // before the profile: not counted
	b.StartProfile()
	b.MinMax(d, x)
	b.MinMax(d, x)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	b.MinMax(d, x)
	stats := b.StopProfile()
	// A MinMax is one dispatch where one workgroup covers x (on CPU
	// drivers, 1000 elements), two passes elsewhere.
	if len(stats) != 1 || strings.TrimSuffix(stats[0].Name, "_tex") != "q_minmax" || (stats[0].Calls != 3 && stats[0].Calls != 6) || stats[0].Total <= 0 {
		t.Fatalf("profile = %+v, want q_minmax (or its texel build q_minmax_tex) with 3 or 6 calls (one or two passes of three MinMax)", stats)
	}
	if again := b.StopProfile(); again != nil {
		t.Fatalf("second StopProfile = %+v, want nil", again)
	}
}

// testQuantizeChannelsInWords quantizes per channel into Q8 tensors whose
// rows (and packed words) span several channels: a 1-D x with one channel
// per element, and q of another shape than x.
func testQuantizeChannelsInWords(t *testing.T, newB newRecorded) {
	s := sides{t, [2]backend.Backend{newB(t, Options{}, nil), ref.New()}}
	cases := []struct{ xs, qs []int }{{[]int{9}, []int{9}}, {[]int{12, 5}, []int{60}}, {[]int{7, 3}, []int{3, 7}}, {[]int{6, 2, 3}, []int{6, 2, 3}}}
	for _, c := range cases {
		nch := c.xs[0]
		n := product(c.xs)
		p := backend.QuantSpec{Scale: make([]float32, nch), Zero: make([]int32, nch), QMin: -100, QMax: 100}
		for i := range nch {
			p.Scale[i] = 0.05 * float32(i+1)
			p.Zero[i] = int32(3*i - 10)
		}
		xv := make([]float32, n)
		for i := range xv {
			xv[i] = float32(i%17) - 8.25
		}
		x := s.newT(backend.F32, c.xs...)
		q := s.q8("q", nil, c.qs...)
		for i, b := range s.bk {
			if err := b.WriteF32(x[i], xv); err != nil {
				t.Fatal(err)
			}
			b.Quantize(q[i], x[i], p)
		}
		s.same(fmt.Sprintf("q %v from x %v", c.qs, c.xs), q)
		// Dequantize per channel of q's first dimension (looked up once
		// per word).
		pq := backend.QuantSpec{Scale: make([]float32, c.qs[0]), Zero: make([]int32, c.qs[0]), QMin: -100, QMax: 100}
		for i := range pq.Scale {
			pq.Scale[i] = 0.03 * float32(i+2)
			pq.Zero[i] = int32(i%5 - 2)
		}
		y := s.newT(backend.F32, c.qs...)
		got := [2][]float32{make([]float32, n), make([]float32, n)}
		for i, b := range s.bk {
			b.Dequantize(y[i], q[i], pq)
			if err := b.ReadF32(y[i], got[i]); err != nil {
				t.Fatal(err)
			}
		}
		for j := range got[0] {
			if math.Float32bits(got[0][j]) != math.Float32bits(got[1][j]) {
				t.Fatalf("Dequantize q %v: y[%d] = %v on Vulkan, %v on the reference", c.qs, j, got[0][j], got[1][j])
			}
		}
	}
}

// testLongRows checks GemmI and RowSumI on rows longer than one
// invocation may loop over (llvmpipe ends loops after 65535 iterations):
// packed and one-int-per-code rows.
func testLongRows(t *testing.T, newB newRecorded) {
	const k = 300001
	s := sides{t, [2]backend.Backend{newB(t, Options{}, nil), ref.New()}}
	for _, mixed := range []bool{false, true} {
		v := make([]int32, 2*k)
		for i := range v {
			v[i] = int32(i*7%256) - 3
			if !mixed {
				v[i] = int32(i * 7 % 256)
			}
		}
		a := s.q8("a", v, 2, k)
		acc, sum := s.newT(backend.I32, 2, 2), s.newT(backend.I32, 2)
		for i, b := range s.bk {
			b.GemmI(acc[i], a[i], a[i])
			b.RowSumI(sum[i], a[i])
		}
		s.same(fmt.Sprintf("acc (mixed %v)", mixed), acc)
		s.same(fmt.Sprintf("row sums (mixed %v)", mixed), sum)
	}
}

// TestReadsChoice checks the read-mode option: auto picks texel buffers on
// CPU drivers only, unknown modes are refused, and a kernel whose output
// aliases its input falls back to the storage build.
func TestReadsChoice(t *testing.T) {
	dev := gputest.Open(t)
	b, err := New(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if want := map[bool]string{true: ReadsTexel, false: ReadsStorage}[dev.Info().Type == gpu.TypeCPU]; b.Reads() != want {
		t.Errorf("auto Reads() = %s on a %v device, want %s", b.Reads(), dev.Info().Type, want)
	}
	if _, err := New(dev, Options{Reads: "images"}); err == nil || !strings.Contains(err.Error(), "images") {
		t.Errorf("New(Reads: images) = %v, want an error naming it", err)
	}
	tb, err := New(dev, Options{Reads: ReadsTexel})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	x, err := tb.New(backend.F32, 6)
	if err != nil {
		t.Fatal(err)
	}
	y, err := tb.New(backend.F32, 6)
	if err != nil {
		t.Fatal(err)
	}
	k, err := tb.pickKernel("f_relu2", []uint32{64}, 4, []*Tensor{y.(*Tensor), x.(*Tensor)})
	if err != nil {
		t.Fatal(err)
	}
	if k.Name() != "f_relu2_tex" || k.TexelBindings() != 1<<1 {
		t.Errorf("separate tensors: kernel %s with texel bindings %b, want f_relu2_tex with 10", k.Name(), k.TexelBindings())
	}
	k, err = tb.pickKernel("f_relu2", []uint32{64}, 4, []*Tensor{x.(*Tensor), x.(*Tensor)})
	if err != nil {
		t.Fatal(err)
	}
	if k.Name() != "f_relu2" {
		t.Errorf("aliased tensors: kernel %s, want the storage build f_relu2", k.Name())
	}
}

// testQuantizeWidenThenDequantize records, without a sync between them, a
// per-channel Quantize whose range has codes of both signs (so q is
// re-stored one int per code, which runs the recorded work mid-op) and a
// Dequantize with other parameters: the quantizer's scales and zero points
// must survive the recycled parameter arena (they once did not, and every
// code came out as the zero point).
func testQuantizeWidenThenDequantize(t *testing.T, newB newRecorded) {
	s := sides{t, [2]backend.Backend{newB(t, Options{}, nil), ref.New()}}
	const rows, cols = 6, 37
	p := backend.QuantSpec{Scale: make([]float32, rows), Zero: make([]int32, rows), QMin: -50, QMax: 200}
	pq := backend.QuantSpec{Scale: make([]float32, rows), Zero: make([]int32, rows), QMin: -50, QMax: 200}
	for i := range rows {
		p.Scale[i], p.Zero[i] = 0.02*float32(i+1), int32(7*i-20)
		pq.Scale[i], pq.Zero[i] = 0.5/float32(i+1), int32(i-3)
	}
	xv := make([]float32, rows*cols)
	for i := range xv {
		xv[i] = float32(i%23)*0.31 - 3.5
	}
	x := s.newT(backend.F32, rows, cols)
	q := s.q8("q", nil, rows, cols)
	y := s.newT(backend.F32, rows, cols)
	got := [2][]float32{make([]float32, len(xv)), make([]float32, len(xv))}
	for i, b := range s.bk {
		if err := b.WriteF32(x[i], xv); err != nil {
			t.Fatal(err)
		}
		b.Quantize(q[i], x[i], p)
		b.Dequantize(y[i], q[i], pq)
		if err := b.ReadF32(y[i], got[i]); err != nil {
			t.Fatal(err)
		}
	}
	for j := range got[0] {
		if math.Float32bits(got[0][j]) != math.Float32bits(got[1][j]) {
			t.Fatalf("y[%d] = %v on Vulkan, %v on the reference", j, got[0][j], got[1][j])
		}
	}
	s.same("q", q)
}
