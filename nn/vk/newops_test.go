package vk

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/backend/backendtest"
	"github.com/vktrain/vktrain/nn/ref"
)

// The tests of newops.go: each op against the reference on shapes that
// reach every launch of its kernels (odd channel counts, strides, padding,
// rectangular and global windows, chunked sums, the Q8 formats and
// layouts of DWConvI), in both read modes. TestNewOps runs them on their
// own and checks that they take every declared path of their kernels;
// TestSuite runs them too (newOpsCases), so that their paths count there.

// newOpsKernels are the kernels of newops.go (f_add2 runs only where the
// device takes the pair kernels).
var newOpsKernels = []string{"f_add", "f_add2", "f_avgpool", "f_avgpoolgrad", "f_dwconv", "f_dwconv_gradx", "f_dwconv_gradw", "q_dwconvi", "q_dwconvi_w"}

// newOpsCases are the cases of newops.go, run by TestNewOps and TestSuite.
func newOpsCases() []vkCase {
	return []vkCase{
		{"NewOpsAdd", testNewOpsAdd},
		{"NewOpsAvgPool", testNewOpsAvgPool},
		{"NewOpsDWConv", testNewOpsDWConv},
		{"NewOpsDWConvI", testNewOpsDWConvI},
	}
}

// TestNewOps runs newOpsCases on a validated device and checks that they
// took every declared path of the kernels of newops.go.
func TestNewOps(t *testing.T) {
	rec := &pathRecorder{dev: gputest.Open(t)}
	pairs := false
	for _, c := range newOpsCases() {
		t.Run(c.name, func(t *testing.T) {
			c.test(t, func(t *testing.T, opts Options, tweak func(*Backend)) *Backend {
				b := rec.newBackend(t, opts, tweak)
				pairs = b.floatTune().pairs
				return b
			})
		})
	}
	if t.Failed() || strings.Contains(flag.Lookup("test.run").Value.String(), "/") {
		return // a failed or skipped case may have missed its paths
	}
	untaken := map[string]bool{}
	for _, u := range UntakenPaths(rec.recs...) {
		untaken[u] = true
	}
	for _, k := range newOpsKernels {
		if k == "f_add2" && !pairs {
			continue
		}
		for _, p := range DeclaredPaths()[k] {
			if untaken[k+": "+p] {
				t.Errorf("no case took path %s of %s", p, k)
			}
		}
	}
}

// newOpsSides runs f with a Vulkan backend from newB reading inputs
// through storage buffers and one reading through texel buffers, each
// beside the reference.
func newOpsSides(t *testing.T, newB newRecorded, f func(s sides)) {
	for _, reads := range []string{ReadsStorage, ReadsTexel} {
		t.Run(reads, func(t *testing.T) {
			b := newB(t, Options{Reads: reads}, nil)
			f(sides{t, [2]backend.Backend{b, ref.New()}})
			if err := b.Sync(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// vals returns n deterministic values in about [-2, 2], with some exact
// zeros and small magnitudes.
func vals(n, seed int) []float32 {
	v := make([]float32, n)
	s := uint32(seed*7919 + 1)
	for i := range v {
		s = s*1664525 + 1013904223
		v[i] = float32(int32(s>>8)%4001-2000) / 1000
		if i%17 == 5 {
			v[i] = 0
		}
	}
	return v
}

// codes returns n deterministic Q8 codes in [lo, hi].
func codes(n, seed int, lo, hi int32) []int32 {
	v := make([]int32, n)
	s := uint32(seed*104729 + 3)
	for i := range v {
		s = s*1664525 + 1013904223
		v[i] = lo + int32((s>>8)%uint32(hi-lo+1))
	}
	return v
}

// testNewOpsAdd checks Add on lengths of every remainder of the pair
// kernel's groups of eight, in place (y = a) and not.
func testNewOpsAdd(t *testing.T, newB newRecorded) {
	newOpsSides(t, newB, func(s sides) {
		for _, n := range []int{1, 2, 7, 8, 22, 1001, 5000, 4096*3 + 6, 4096*3 + 7} {
			a := s.inF(vals(n, 1), n)
			bt := s.inF(vals(n, 2), n)
			y := s.newT(backend.F32, n)
			for i, b := range s.bk {
				b.Add(y[i], a[i], bt[i])
			}
			s.near(fmt.Sprintf("Add n=%d y", n), y, backendtest.TolElementwise, 1)
			for i, b := range s.bk {
				b.Add(a[i], a[i], bt[i]) // a += b
				b.Add(y[i], a[i], a[i])  // y = 2a
			}
			s.near(fmt.Sprintf("Add n=%d in place", n), a, backendtest.TolElementwise, 1)
			s.near(fmt.Sprintf("Add n=%d a+a", n), y, backendtest.TolElementwise, 1)
		}
	})
}

// poolCases are AvgPool geometries: square and rectangular windows,
// overlapping, gapped and global ones, odd channel counts, and a global
// window longer than one invocation loops over (summed in chunks).
var poolCases = []backend.PoolGeom{
	{N: 2, H: 4, W: 4, C: 3, Size: 2, Stride: 2},
	{N: 1, H: 7, W: 9, C: 5, Size: 3, Stride: 2},
	{N: 2, H: 6, W: 8, C: 4, Size: 3, Stride: 1},
	{N: 1, H: 7, W: 7, C: 2, Size: 2, Stride: 3},
	{N: 2, H: 5, W: 7, C: 3, Size: 5, SizeW: 7, Stride: 1},
	{N: 3, H: 4, W: 6, C: 8, Size: 2, SizeW: 3, Stride: 1, StrideW: 2},
	{N: 1, H: 5, W: 9, C: 1, Size: 1, SizeW: 4, Stride: 2, StrideW: 1},
	{N: 2, H: 100, W: 97, C: 3, Size: 100, SizeW: 97, Stride: 1},
	{N: 1, H: 230, W: 200, C: 2, Size: 230, SizeW: 200, Stride: 3, StrideW: 1},
}

// testNewOpsAvgPool checks AvgPool and AvgPoolGrad.
func testNewOpsAvgPool(t *testing.T, newB newRecorded) {
	newOpsSides(t, newB, func(s sides) {
		for k, g := range poolCases {
			kh, kw, _, _ := g.Window()
			oh, ow := g.Out()
			x := s.inF(vals(g.N*g.H*g.W*g.C, k), g.N, g.H, g.W, g.C)
			y := s.newT(backend.F32, g.N, oh, ow, g.C)
			dy := s.inF(vals(g.N*oh*ow*g.C, k+50), g.N, oh, ow, g.C)
			dx := s.inF(vals(g.N*g.H*g.W*g.C, k+99), g.N, g.H, g.W, g.C) // overwritten
			for i, b := range s.bk {
				b.AvgPool(y[i], x[i], g)
				b.AvgPoolGrad(dx[i], dy[i], g)
			}
			s.near(fmt.Sprintf("AvgPool %+v", g), y, backendtest.TolSum, kh*kw)
			s.near(fmt.Sprintf("AvgPoolGrad %+v", g), dx, backendtest.TolSum, kh*kw)
		}
	})
}

// dwCases are depthwise geometries: odd channel counts and sizes, strides
// 1 to 3, padding up to and past the filter, rectangular filters, enough
// output rows that DWConvGradW splits its sums into chunks, and rows too
// long for one invocation (split into segments).
var dwCases = []backend.ConvGeom{
	{N: 2, H: 5, W: 5, C: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
	{N: 1, H: 7, W: 6, C: 5, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
	{N: 2, H: 9, W: 8, C: 8, KH: 5, KW: 5, StrideH: 2, StrideW: 1, PadH: 2, PadW: 2},
	{N: 1, H: 4, W: 5, C: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1},
	{N: 2, H: 6, W: 7, C: 7, KH: 3, KW: 1, StrideH: 1, StrideW: 3, PadH: 1, PadW: 0},
	{N: 1, H: 3, W: 3, C: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 3, PadW: 2},
	{N: 3, H: 40, W: 40, C: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
	{N: 1, H: 200, W: 190, C: 1, KH: 3, KW: 2, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
	{N: 1, H: 3, W: 2000, C: 5, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
}

// testNewOpsDWConv checks DWConv, DWConvGradX and DWConvGradW, with the
// filters as [C, KH, KW] and as a matrix [C, KH·KW].
func testNewOpsDWConv(t *testing.T, newB newRecorded) {
	newOpsSides(t, newB, func(s sides) {
		for k, g := range dwCases {
			oh, ow := g.Out()
			taps := g.KH * g.KW
			x := s.inF(vals(g.N*g.H*g.W*g.C, k), g.N, g.H, g.W, g.C)
			wshape := []int{g.C, g.KH, g.KW}
			if k%2 == 1 {
				wshape = []int{g.C, taps}
			}
			w := s.inF(vals(g.C*taps, k+7), wshape...)
			y := s.newT(backend.F32, g.N, oh, ow, g.C)
			dy := s.inF(vals(g.N*oh*ow*g.C, k+11), g.N, oh, ow, g.C)
			dx := s.inF(vals(g.N*g.H*g.W*g.C, k+13), g.N, g.H, g.W, g.C) // overwritten
			dw := s.inF(vals(g.C*taps, k+17), wshape...)                 // overwritten
			for i, b := range s.bk {
				b.DWConv(y[i], x[i], w[i], g)
				b.DWConvGradX(dx[i], dy[i], w[i], g)
				b.DWConvGradW(dw[i], dy[i], x[i], g)
			}
			s.near(fmt.Sprintf("DWConv %+v", g), y, backendtest.TolSum, taps)
			s.near(fmt.Sprintf("DWConvGradX %+v", g), dx, backendtest.TolSum, taps)
			s.near(fmt.Sprintf("DWConvGradW %+v", g), dw, backendtest.TolSum, g.N*oh*ow)
		}
	})
}

// testNewOpsDWConvI checks DWConvI bit for bit: unsigned, signed and
// mixed-sign codes (stored packed, packed signed and one int per code),
// zero points per tensor and per channel, and x and w in other shapes
// than [N, H, W, C] and [C, KH, KW] (x rows of another length than C,
// packed with and without padding inside a pixel).
func testNewOpsDWConvI(t *testing.T, newB newRecorded) {
	type codeRange struct{ lo, hi int32 }
	ranges := []codeRange{{0, 255}, {-128, 127}, {-60, 200}}
	newOpsSides(t, newB, func(s sides) {
		for k, g := range dwCases {
			oh, ow := g.Out()
			taps := g.KH * g.KW
			nx := g.N * g.H * g.W * g.C
			xshapes := [][]int{{g.N, g.H, g.W, g.C}, {nx}, {g.N * g.H, g.W * g.C}}
			wshapes := [][]int{{g.C, g.KH, g.KW}, {g.C * taps}, {g.C, taps}}
			for ri, xr := range ranges {
				wr := ranges[(ri+k)%len(ranges)]
				for si, xs := range xshapes {
					ws := wshapes[(si+k)%len(wshapes)]
					x := s.q8("x", codes(nx, k+ri, xr.lo, xr.hi), xs...)
					w := s.q8("w", codes(g.C*taps, k+si+5, wr.lo, wr.hi), ws...)
					pa := backend.QuantSpec{Scale: []float32{0.1}, Zero: []int32{xr.lo + 3*int32(k+1)}, QMin: xr.lo, QMax: xr.hi}
					pb := backend.QuantSpec{Scale: []float32{0.2}, Zero: []int32{wr.hi - 7}, QMin: wr.lo, QMax: wr.hi}
					if si != 1 {
						pb.Scale, pb.Zero = make([]float32, g.C), make([]int32, g.C)
						for c := range g.C {
							pb.Scale[c], pb.Zero[c] = 0.01*float32(c+1), wr.lo+int32(c*37)%(wr.hi-wr.lo)
						}
					}
					acc := s.newT(backend.I32, g.N, oh, ow, g.C)
					for i, b := range s.bk {
						b.DWConvI(acc[i], x[i], w[i], g, pa, pb)
					}
					s.same(fmt.Sprintf("DWConvI %+v x %v [%d, %d] w %v [%d, %d]", g, xs, xr.lo, xr.hi, ws, wr.lo, wr.hi), acc)
				}
			}
		}
	})
}

// BenchmarkNewOps times the ops of newops.go at the shapes of a small
// depthwise-separable network's training step (a batch of 32, a 3x3
// depthwise layer over 16x16x64 with stride 1 and one with stride 2, a
// residual add over its output, a global average pool over 8x8x128) on the
// Vulkan backend in both read modes and on the reference, without the
// validation layer.
func BenchmarkNewOps(bm *testing.B) {
	vs, vt := readModes(bm, gputest.OpenBench(bm))
	for _, bk := range []backend.Backend{vs, vt, ref.New()} {
		all, ops := newBenchOps(bm, bk)
		runBenchOps(bm, bk, ops, all)
	}
}

// newBenchOps makes the tensors of BenchmarkNewOps on bk (returned for
// freeing) and the ops to time.
func newBenchOps(bm *testing.B, bk backend.Backend) ([]backend.Tensor, []benchOp) {
	var all []backend.Tensor
	seed := 0
	mk := func(dt backend.DType, shape ...int) backend.Tensor {
		t, err := bk.New(dt, shape...)
		if err != nil {
			bm.Fatal(err)
		}
		seed++
		switch dt {
		case backend.F32:
			err = bk.WriteF32(t, vals(t.Len(), seed))
		case backend.Q8:
			err = bk.WriteI32(t, codes(t.Len(), seed, 0, 255))
		}
		if err != nil {
			bm.Fatal(err)
		}
		all = append(all, t)
		return t
	}
	g1 := backend.ConvGeom{N: 32, H: 16, W: 16, C: 64, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
	g2 := g1
	g2.StrideH, g2.StrideW = 2, 2
	pg := backend.PoolGeom{N: 32, H: 8, W: 8, C: 128, Size: 8, Stride: 1}
	x, w, y, dx, dw := mk(backend.F32, 32, 16, 16, 64), mk(backend.F32, 64, 3, 3), mk(backend.F32, 32, 16, 16, 64), mk(backend.F32, 32, 16, 16, 64), mk(backend.F32, 64, 3, 3)
	y2 := mk(backend.F32, 32, 8, 8, 64)
	qx, qw, acc := mk(backend.Q8, 32, 16, 16, 64), mk(backend.Q8, 64, 3, 3), mk(backend.I32, 32, 16, 16, 64)
	px, py := mk(backend.F32, 32, 8, 8, 128), mk(backend.F32, 32, 1, 1, 128)
	pa := backend.QuantSpec{Scale: []float32{0.02}, Zero: []int32{128}, QMin: 0, QMax: 255}
	pb := backend.QuantSpec{Scale: make([]float32, 64), Zero: make([]int32, 64), QMin: 0, QMax: 255}
	for c := range 64 {
		pb.Scale[c], pb.Zero[c] = 0.01, int32(100+c)
	}
	return all, []benchOp{
		{"Add", func() { bk.Add(y, x, dx) }},
		{"AvgPool", func() { bk.AvgPool(py, px, pg) }},
		{"AvgPoolGrad", func() { bk.AvgPoolGrad(px, py, pg) }},
		{"DWConvI", func() { bk.DWConvI(acc, qx, qw, g1, pa, pb) }},
		{"DWConv", func() { bk.DWConv(y, x, w, g1) }},
		{"DWConvGradX", func() { bk.DWConvGradX(dx, y, w, g1) }},
		{"DWConvGradW", func() { bk.DWConvGradW(dw, y, x, g1) }},
		{"DWConv-s2", func() { bk.DWConv(y2, x, w, g2) }},
		{"DWConvGradX-s2", func() { bk.DWConvGradX(dx, y2, w, g2) }},
		{"DWConvGradW-s2", func() { bk.DWConvGradW(dw, y2, x, g2) }},
	}
}
