package vk

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// testGemmPaths checks the GEMM launches (invocations along m or n,
// scalar and vec4 loads, tiles of 4 and 8, split k) for every
// transposition against the reference, including shapes that are not
// multiples of 4.
func testGemmPaths(t *testing.T, newB newRecorded) {
	b := newB(t, Options{}, nil)
	r := ref.New()
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{3, 1030, 6}, {9, 2, 7}, {200, 20, 5}, {5, 3, 300}, {70, 200, 33}, {8, 1024, 12}, {12, 30, 16}, {44, 520, 24}}
	for _, sh := range shapes {
		m, k, n := sh[0], sh[1], sh[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				t.Run(fmt.Sprintf("%dx%dx%d_tA%v_tB%v", m, k, n, ta, tb), func(t *testing.T) {
					ash, bsh := []int{m, k}, []int{k, n}
					if ta {
						ash = []int{k, m}
					}
					if tb {
						bsh = []int{n, k}
					}
					av, bv, cv := floatRand(rng, m*k), floatRand(rng, k*n), floatRand(rng, m*n)
					want := floatGemmOn(t, r, ash, bsh, av, bv, cv, ta, tb)
					got := floatGemmOn(t, b, ash, bsh, av, bv, cv, ta, tb)
					for i := range want {
						if d := float64(got[i] - want[i]); d > 1e-4 || d < -1e-4 {
							t.Fatalf("c[%d] = %v, reference %v", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}

func floatRand(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
	}
	return v
}

// floatGemmOn runs C = 0.5·op(A)·op(B) + 2·C on bk and returns C.
func floatGemmOn(t *testing.T, bk backend.Backend, ash, bsh []int, av, bv, cv []float32, ta, tb bool) []float32 {
	t.Helper()
	m, n := ash[0], bsh[1]
	if ta {
		m = ash[1]
	}
	if tb {
		n = bsh[0]
	}
	mk := func(v []float32, shape ...int) backend.Tensor {
		x, err := bk.New(backend.F32, shape...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bk.Free(x) })
		if err := bk.WriteF32(x, v); err != nil {
			t.Fatal(err)
		}
		return x
	}
	a, bb, c := mk(av, ash...), mk(bv, bsh...), mk(cv, m, n)
	bk.Gemm(c, a, bb, ta, tb, 0.5, 2)
	out := make([]float32, m*n)
	if err := bk.ReadF32(c, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// floatGemmShapes are the float GEMMs of a training step (conv1 with 32
// 3x3 filters on 1x28x28 images, batch 64; a 128-unit layer on 5408
// features).
var floatGemmShapes = []struct {
	name           string
	m, k, n        int
	transA, transB bool
	ashape, bshape [2]int
}{
	{"dW_conv1_32x43264x9", 32, 43264, 9, true, false, [2]int{43264, 32}, [2]int{43264, 9}},
	{"dcols_conv1_43264x32x9", 43264, 32, 9, false, false, [2]int{43264, 32}, [2]int{32, 9}},
	{"dW_fc_128x64x5408", 128, 64, 5408, true, false, [2]int{64, 128}, [2]int{64, 5408}},
	{"dx_fc_64x128x5408", 64, 128, 5408, false, false, [2]int{64, 128}, [2]int{128, 5408}},
}

// BenchmarkGemm times Gemm at the training shapes on the Vulkan backend,
// reading inputs through storage buffers (vk-storage) and texel buffers
// (vk-texel), and on the reference (nn/ref, the baseline).
func BenchmarkGemm(bm *testing.B) {
	vs, vt := readModes(bm, gputest.OpenBench(bm))
	backs := []struct {
		name string
		b    backend.Backend
	}{{"vk-storage", vs}, {"vk-texel", vt}, {"ref", ref.New()}}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range floatGemmShapes {
		for _, bk := range backs {
			bm.Run(s.name+"/"+bk.name, func(bm *testing.B) {
				mk := func(shape ...int) backend.Tensor {
					x, err := bk.b.New(backend.F32, shape...)
					if err != nil {
						bm.Fatal(err)
					}
					if err := bk.b.WriteF32(x, floatRand(rng, x.Len())); err != nil {
						bm.Fatal(err)
					}
					return x
				}
				a, b, c := mk(s.ashape[:]...), mk(s.bshape[:]...), mk(s.m, s.n)
				defer bk.b.Free(a)
				defer bk.b.Free(b)
				defer bk.b.Free(c)
				bk.b.Gemm(c, a, b, s.transA, s.transB, 1, 0) // warm up (pipeline compile)
				if err := bk.b.Sync(); err != nil {
					bm.Fatal(err)
				}
				bm.ResetTimer()
				for range bm.N {
					bk.b.Gemm(c, a, b, s.transA, s.transB, 1, 0)
					if err := bk.b.Sync(); err != nil {
						bm.Fatal(err)
					}
				}
				bm.ReportMetric(float64(2*s.m*s.n*s.k)*float64(bm.N)/bm.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// testMaxPoolGradGaps checks MaxPoolGrad against the reference where the
// windows leave gaps (stride > size) and a ragged edge, which the op suite
// does not cover: every element of dx is dy or 0, so the match is exact.
func testMaxPoolGradGaps(t *testing.T, newB newRecorded) {
	b := newB(t, Options{}, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	g := backend.PoolGeom{N: 2, H: 8, W: 7, C: 3, Size: 2, Stride: 3}
	oh, ow := g.Out()
	xv := floatRand(rng, g.N*g.H*g.W*g.C)
	dyv := floatRand(rng, g.N*oh*ow*g.C)
	run := func(bk backend.Backend) ([]float32, []int32) {
		mk := func(dt backend.DType, shape ...int) backend.Tensor {
			x, err := bk.New(dt, shape...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { bk.Free(x) })
			return x
		}
		x, y, arg := mk(backend.F32, g.N, g.H, g.W, g.C), mk(backend.F32, g.N, oh, ow, g.C), mk(backend.I32, g.N, oh, ow, g.C)
		dy, dx := mk(backend.F32, g.N, oh, ow, g.C), mk(backend.F32, g.N, g.H, g.W, g.C)
		nan := make([]float32, dx.Len())
		for i := range nan {
			nan[i] = float32(math.NaN())
		}
		if err := errors.Join(bk.WriteF32(x, xv), bk.WriteF32(dy, dyv), bk.WriteF32(dx, nan)); err != nil {
			t.Fatal(err)
		}
		bk.MaxPool(y, arg, x, g)
		bk.MaxPoolGrad(dx, dy, arg, g)
		out, av := make([]float32, dx.Len()), make([]int32, arg.Len())
		if err := errors.Join(bk.ReadF32(dx, out), bk.ReadI32(arg, av)); err != nil {
			t.Fatal(err)
		}
		return out, av
	}
	got, gotArg := run(b)
	want, wantArg := run(ref.New())
	for i := range wantArg {
		if gotArg[i] != wantArg[i] {
			t.Fatalf("arg[%d] = %d, reference %d", i, gotArg[i], wantArg[i])
		}
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("dx[%d] = %v, reference %v", i, got[i], want[i])
		}
	}
}

// BenchmarkFloatOps times the other float ops at the shapes of a training
// step (the 64x26x26x32 output of a first convolution) on the Vulkan
// backend, reading inputs through storage buffers (vk-storage) and texel
// buffers (vk-texel), and on the reference.
func BenchmarkFloatOps(bm *testing.B) {
	vs, vt := readModes(bm, gputest.OpenBench(bm))
	pg := backend.PoolGeom{N: 64, H: 26, W: 26, C: 32, Size: 2, Stride: 2}
	cg := backend.ConvGeom{N: 64, H: 28, W: 28, C: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1}
	const r, c = 64 * 26 * 26, 32
	for _, bk := range []backend.Backend{vs, vt, ref.New()} {
		rng := rand.New(rand.NewPCG(7, 8))
		ts := &benchTensors{tb: bm, bk: bk, rng: rng}
		mk := ts.mk
		x, y, xh, dy, dx := mk(backend.F32, r, c), mk(backend.F32, r, c), mk(backend.F32, r, c), mk(backend.F32, r, c), mk(backend.F32, r, c)
		s, g, be, m, is, rm, rv := mk(backend.F32, c), mk(backend.F32, c), mk(backend.F32, c), mk(backend.F32, c), mk(backend.F32, c), mk(backend.F32, c), mk(backend.F32, c)
		py, pa := mk(backend.F32, 64, 13, 13, c), mk(backend.I32, 64, 13, 13, c)
		img, cols := mk(backend.F32, 64, 28, 28, 1), mk(backend.F32, cg.Rows(), cg.K())
		bk.MaxPool(py, pa, x, pg) // valid indices for MaxPoolGrad
		ops := []benchOp{
			{"ColSum", func() { bk.ColSum(s, x) }},
			{"ReLU", func() { bk.ReLU(y, x) }},
			{"ReLUGrad", func() { bk.ReLUGrad(dx, dy, y) }},
			{"AddBias", func() { bk.AddBias(y, s) }},
			{"MaxPool", func() { bk.MaxPool(py, pa, x, pg) }},
			{"MaxPoolGrad", func() { bk.MaxPoolGrad(dx, py, pa, pg) }},
			{"BatchNormTrain", func() { bk.BatchNormTrain(y, xh, m, is, x, g, be, rm, rv, 0.1, 1e-5) }},
			{"BatchNormGrad", func() { bk.BatchNormGrad(dx, s, m, dy, xh, is, g) }},
			{"CompensateTrain", func() { bk.CompensateTrain(y, m, x, g, be, rm, 0.1) }},
			{"CompensateGrad", func() { bk.CompensateGrad(dx, s, m, dy, is, g, true) }},
			{"Im2Col", func() { bk.Im2Col(cols, img, cg) }},
			{"Col2Im", func() { bk.Col2Im(img, cols, cg) }},
		}
		runBenchOps(bm, bk, ops, ts.all)
	}
}

// readModes returns two backends on dev, reading inputs through storage
// buffers and through texel buffers, closed when the benchmark ends.
func readModes(tb testing.TB, dev *gpu.Device) (storage, texel *Backend) {
	tb.Helper()
	var bs [2]*Backend
	for i, r := range []string{ReadsStorage, ReadsTexel} {
		b, err := New(dev, Options{Reads: r})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { b.Close() })
		bs[i] = b
	}
	return bs[0], bs[1]
}
