package vk

import (
	"fmt"
	"math"
	"testing"

	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/backend/backendtest"
	"github.com/vktrain/vktrain/nn/ref"
)

// The tests of newops.go: each op against the reference on shapes that
// reach every launch of its kernels (odd channel counts, strides, padding,
// rectangular and global windows, chunked sums, the Q8 formats and
// layouts of DWConvI), in both read modes.

// newOpsSides runs f with a Vulkan backend reading inputs through storage
// buffers and one reading through texel buffers, each beside the reference,
// on a validated device, recording the kernel paths; then it checks that
// the runs took every declared path of kernels.
func newOpsSides(t *testing.T, kernels []string, f func(s sides)) {
	dev := gputest.Open(t)
	var records []map[string]map[string]int
	pairs := false // whether the device runs the pair kernels (f_add2)
	for _, reads := range []string{ReadsStorage, ReadsTexel} {
		t.Run(reads, func(t *testing.T) {
			b, err := New(dev, Options{Reads: reads, RecordPaths: true})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := b.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			pairs = b.floatTune().pairs
			f(sides{t, [2]backend.Backend{b, ref.New()}})
			if err := b.Sync(); err != nil {
				t.Fatal(err)
			}
			records = append(records, b.PathsTaken())
		})
	}
	if t.Failed() {
		return
	}
	untaken := map[string]bool{}
	for _, u := range UntakenPaths(records...) {
		untaken[u] = true
	}
	for _, k := range kernels {
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

// f32 makes F32 tensors holding v on both sides.
func (s sides) f32(v []float32, shape ...int) [2]backend.Tensor {
	s.t.Helper()
	out := s.newT(backend.F32, shape...)
	for i, b := range s.bk {
		if err := b.WriteF32(out[i], v); err != nil {
			s.t.Fatal(err)
		}
	}
	return out
}

// close checks the F32 tensors x against each other: |got-want| <=
// tol·(1+|want|)·sqrt(terms), the bound of backendtest.
func (s sides) close(name string, x [2]backend.Tensor, tol float64, terms int) {
	s.t.Helper()
	var got [2][]float32
	for i, b := range s.bk {
		got[i] = make([]float32, x[i].Len())
		if err := b.ReadF32(x[i], got[i]); err != nil {
			s.t.Fatalf("%s: side %d: %v", name, i, err)
		}
	}
	bound := tol * math.Sqrt(float64(max(terms, 1)))
	for k, g := range got[0] {
		w := float64(got[1][k])
		if d := math.Abs(float64(g) - w); !(d <= bound*(1+math.Abs(w))) {
			s.t.Fatalf("%s[%d] = %v, reference %v", name, k, g, w)
		}
	}
}

// TestNewOpsAdd checks Add on lengths of every remainder of the pair
// kernel's groups of eight, in place (y = a) and not.
func TestNewOpsAdd(t *testing.T) {
	newOpsSides(t, []string{"f_add", "f_add2"}, func(s sides) {
		for _, n := range []int{1, 2, 7, 8, 22, 1001, 5000, 4096*3 + 6, 4096*3 + 7} {
			a := s.f32(vals(n, 1), n)
			bt := s.f32(vals(n, 2), n)
			y := s.newT(backend.F32, n)
			for i, b := range s.bk {
				b.Add(y[i], a[i], bt[i])
			}
			s.close(fmt.Sprintf("Add n=%d y", n), y, backendtest.TolElementwise, 1)
			for i, b := range s.bk {
				b.Add(a[i], a[i], bt[i]) // a += b
				b.Add(y[i], a[i], a[i])  // y = 2a
			}
			s.close(fmt.Sprintf("Add n=%d in place", n), a, backendtest.TolElementwise, 1)
			s.close(fmt.Sprintf("Add n=%d a+a", n), y, backendtest.TolElementwise, 1)
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
}

// TestNewOpsAvgPool checks AvgPool and AvgPoolGrad.
func TestNewOpsAvgPool(t *testing.T) {
	newOpsSides(t, []string{"f_avgpool", "f_avgpoolgrad"}, func(s sides) {
		for k, g := range poolCases {
			kh, kw, _, _ := g.Window()
			oh, ow := g.Out()
			x := s.f32(vals(g.N*g.H*g.W*g.C, k), g.N, g.H, g.W, g.C)
			y := s.newT(backend.F32, g.N, oh, ow, g.C)
			dy := s.f32(vals(g.N*oh*ow*g.C, k+50), g.N, oh, ow, g.C)
			dx := s.f32(vals(g.N*g.H*g.W*g.C, k+99), g.N, g.H, g.W, g.C) // overwritten
			for i, b := range s.bk {
				b.AvgPool(y[i], x[i], g)
				b.AvgPoolGrad(dx[i], dy[i], g)
			}
			s.close(fmt.Sprintf("AvgPool %+v", g), y, backendtest.TolSum, kh*kw)
			s.close(fmt.Sprintf("AvgPoolGrad %+v", g), dx, backendtest.TolSum, kh*kw)
		}
	})
}

// dwCases are depthwise geometries: odd channel counts and sizes, strides
// 1 to 3, padding up to and past the filter, rectangular filters, and
// enough output rows that DWConvGradW splits its sums into chunks.
var dwCases = []backend.ConvGeom{
	{N: 2, H: 5, W: 5, C: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
	{N: 1, H: 7, W: 6, C: 5, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
	{N: 2, H: 9, W: 8, C: 8, KH: 5, KW: 5, StrideH: 2, StrideW: 1, PadH: 2, PadW: 2},
	{N: 1, H: 4, W: 5, C: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1},
	{N: 2, H: 6, W: 7, C: 7, KH: 3, KW: 1, StrideH: 1, StrideW: 3, PadH: 1, PadW: 0},
	{N: 1, H: 3, W: 3, C: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 3, PadW: 2},
	{N: 3, H: 40, W: 40, C: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
	{N: 1, H: 200, W: 190, C: 1, KH: 3, KW: 2, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
}

// TestNewOpsDWConv checks DWConv, DWConvGradX and DWConvGradW, with the
// filters as [C, KH, KW] and as a matrix [C, KH·KW].
func TestNewOpsDWConv(t *testing.T) {
	newOpsSides(t, []string{"f_dwconv", "f_dwconv_gradx", "f_dwconv_gradw"}, func(s sides) {
		for k, g := range dwCases {
			oh, ow := g.Out()
			taps := g.KH * g.KW
			x := s.f32(vals(g.N*g.H*g.W*g.C, k), g.N, g.H, g.W, g.C)
			wshape := []int{g.C, g.KH, g.KW}
			if k%2 == 1 {
				wshape = []int{g.C, taps}
			}
			w := s.f32(vals(g.C*taps, k+7), wshape...)
			y := s.newT(backend.F32, g.N, oh, ow, g.C)
			dy := s.f32(vals(g.N*oh*ow*g.C, k+11), g.N, oh, ow, g.C)
			dx := s.f32(vals(g.N*g.H*g.W*g.C, k+13), g.N, g.H, g.W, g.C) // overwritten
			dw := s.f32(vals(g.C*taps, k+17), wshape...)                 // overwritten
			for i, b := range s.bk {
				b.DWConv(y[i], x[i], w[i], g)
				b.DWConvGradX(dx[i], dy[i], w[i], g)
				b.DWConvGradW(dw[i], dy[i], x[i], g)
			}
			s.close(fmt.Sprintf("DWConv %+v", g), y, backendtest.TolSum, taps)
			s.close(fmt.Sprintf("DWConvGradX %+v", g), dx, backendtest.TolSum, taps)
			s.close(fmt.Sprintf("DWConvGradW %+v", g), dw, backendtest.TolSum, g.N*oh*ow)
		}
	})
}

// TestNewOpsDWConvI checks DWConvI bit for bit: unsigned, signed and
// mixed-sign codes (stored packed, packed signed and one int per code),
// zero points per tensor and per channel, and x and w in other shapes
// than [N, H, W, C] and [C, KH, KW] (x rows of another length than C,
// packed with and without padding inside a pixel).
func TestNewOpsDWConvI(t *testing.T) {
	type codeRange struct{ lo, hi int32 }
	ranges := []codeRange{{0, 255}, {-128, 127}, {-60, 200}}
	newOpsSides(t, []string{"q_dwconvi", "q_dwconvi_w"}, func(s sides) {
		for k, g := range dwCases[:7] {
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
