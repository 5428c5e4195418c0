package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
	"github.com/vktrain/vktrain/quant"
)

func newDW(t *testing.T, name string, c, k, stride, pad int, cfg QuantConfig, rng *rand.Rand) *DepthwiseConv2D {
	t.Helper()
	l, err := NewDepthwiseConv2D(name, c, k, stride, pad, cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDepthwiseConvGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	f := floatCfg()
	cases := []gradCase{
		{"dw 3x3 stride 1 pad 1", newDW(t, "dw1", 3, 3, 1, 1, f, rng), []int{2, 5, 6, 3}, true},
		{"dw 3x3 stride 2 pad 1", newDW(t, "dw2", 4, 3, 2, 1, f, rng), []int{2, 7, 6, 4}, true},
		{"dw 2x2 valid", newDW(t, "dw3", 2, 2, 1, 0, f, rng), []int{3, 4, 5, 2}, true},
		{"dw 5x5 pad 2 stride 3", newDW(t, "dw4", 1, 5, 3, 2, f, rng), []int{1, 7, 6, 1}, true},
	}
	for _, gc := range cases {
		t.Run(gc.name, func(t *testing.T) { checkLayerGrad(t, gc) })
	}
}

func TestDepthwiseConvShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	l := newDW(t, "dw", 8, 3, 2, 1, floatCfg(), rng)
	if got, err := l.OutShape([]int{4, 9, 8, 8}); err != nil || !slices.Equal(got, []int{4, 5, 4, 8}) {
		t.Errorf("OutShape = %v, %v; want [4 5 4 8]", got, err)
	}
	if _, err := l.OutShape([]int{4, 9, 8, 7}); err == nil {
		t.Error("OutShape with 7 channels for 8: no error")
	}
	if !slices.Equal(l.W.Shape, []int{8, 3, 3}) || !slices.Equal(l.B.Shape, []int{8}) {
		t.Errorf("weight %v, bias %v; want [8 3 3], [8]", l.W.Shape, l.B.Shape)
	}
	for _, bad := range [][4]int{{0, 3, 1, 0}, {8, 0, 1, 0}, {8, 3, 0, 0}, {8, 3, 1, -1}} {
		if _, err := NewDepthwiseConv2D("bad", bad[0], bad[1], bad[2], bad[3], floatCfg(), rng); err == nil {
			t.Errorf("NewDepthwiseConv2D%v: no error", bad)
		}
	}
	if _, err := NewDepthwiseConv2D("bad", 8, 3, 1, 1, QuantConfig{Bits: 9}, rng); err == nil {
		t.Error("NewDepthwiseConv2D with 9 bits: no error")
	}
	// He initialisation with fan-in K·K.
	big := newDW(t, "big", 512, 3, 1, 1, floatCfg(), rng)
	var ss float64
	for _, v := range big.W.Data {
		ss += float64(v) * float64(v)
	}
	if std, want := math.Sqrt(ss/float64(len(big.W.Data))), math.Sqrt(2.0/9); math.Abs(std-want) > 0.05*want {
		t.Errorf("initial weight std %.4f, want %.4f (He, fan-in 9)", std, want)
	}
	if q, ok := Layer(l).(quantLayer); !ok {
		t.Error("DepthwiseConv2D is not a quantLayer")
	} else if w, x := q.quantizers(); w != nil || x != nil {
		t.Error("float DepthwiseConv2D has quantizers")
	}
	lq := newDW(t, "dwq", 8, 3, 1, 1, QuantConfig{Bits: 8}, rng)
	if w, x := lq.quantizers(); w == nil || x == nil || w.channels != 8 || x.channels != 1 {
		t.Error("quantized DepthwiseConv2D: want per-channel weight and per-tensor input quantizers")
	}
}

// dwNaive is the depthwise convolution in float64 on the host: x [N, H, W,
// C], w [C, K, K], bias [C].
func dwNaive(x, w, bias []float64, g backend.ConvGeom) []float64 {
	oh, ow := g.Out()
	y := make([]float64, g.N*oh*ow*g.C)
	for n := range g.N {
		for oy := range oh {
			for ox := range ow {
				for c := range g.C {
					s := bias[c]
					for ky := range g.KH {
						for kx := range g.KW {
							iy, ix := oy*g.StrideH-g.PadH+ky, ox*g.StrideW-g.PadW+kx
							if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
								continue
							}
							s += x[((n*g.H+iy)*g.W+ix)*g.C+c] * w[(c*g.KH+ky)*g.KW+kx]
						}
					}
					y[((n*oh+oy)*ow+ox)*g.C+c] = s
				}
			}
		}
	}
	return y
}

// dwNaiveGrads returns dx = Σ dy·w and dw = Σ dy·x of dwNaive.
func dwNaiveGrads(x, w, dy []float64, g backend.ConvGeom) (dx, dw []float64) {
	oh, ow := g.Out()
	dx = make([]float64, len(x))
	dw = make([]float64, len(w))
	for n := range g.N {
		for oy := range oh {
			for ox := range ow {
				for c := range g.C {
					d := dy[((n*oh+oy)*ow+ox)*g.C+c]
					for ky := range g.KH {
						for kx := range g.KW {
							iy, ix := oy*g.StrideH-g.PadH+ky, ox*g.StrideW-g.PadW+kx
							if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
								continue
							}
							xi, wi := ((n*g.H+iy)*g.W+ix)*g.C+c, (c*g.KH+ky)*g.KW+kx
							dx[xi] += d * w[wi]
							dw[wi] += d * x[xi]
						}
					}
				}
			}
		}
	}
	return dx, dw
}

func f64s(v []float32) []float64 {
	r := make([]float64, len(v))
	for i, x := range v {
		r[i] = float64(x)
	}
	return r
}

func f32s(v []float64) []float32 {
	r := make([]float32, len(v))
	for i, x := range v {
		r[i] = float32(x)
	}
	return r
}

// TestDepthwiseConvQuantizedMatchesNaive checks S100/S200/S300 of the
// quantized depthwise convolution against a host computation: the integer
// path (DWConvI with the zero points subtracted, Dequant with zero points
// 0) equals the float64 depthwise convolution of the dequantized codes
// plus bias, and the backward equals the float backward at x̂, ŵ passed
// through the straight-through quantizer gradients.
func TestDepthwiseConvQuantizedMatchesNaive(t *testing.T) {
	for _, tc := range []struct {
		name              string
		cfg               QuantConfig
		c, k, stride, pad int
		in                []int
	}{
		{"int8 per-channel 3x3 pad 1", QuantConfig{Bits: 8}, 3, 3, 1, 1, []int{2, 5, 6, 3}},
		{"int8 asymmetric weights stride 2", QuantConfig{Bits: 8, AsymmetricWeights: true}, 4, 3, 2, 1, []int{2, 7, 6, 4}},
		{"int4 per-tensor weights", QuantConfig{Bits: 4, PerTensorWeights: true}, 3, 3, 1, 1, []int{1, 6, 5, 3}},
		{"int2 5x5 pad 2", QuantConfig{Bits: 2}, 2, 5, 1, 2, []int{2, 5, 5, 2}},
		{"int8 stats asymmetric valid", QuantConfig{Bits: 8, Mode: QuantStats, AsymmetricWeights: true}, 5, 2, 1, 0, []int{2, 4, 5, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, uint64(tc.c*100+tc.k)))
			l := newDW(t, "dwq", tc.c, tc.k, tc.stride, tc.pad, tc.cfg, rng)
			for i := range l.B.Data {
				l.B.Data[i] = float32(rng.NormFloat64() * 0.3)
			}
			if tc.cfg.AsymmetricWeights { // shift the weights so their zero points are not 0
				for i := range l.W.Data {
					l.W.Data[i] += 0.2
				}
			}
			b := ref.New()
			defer b.Close()
			if err := l.Bind(b); err != nil {
				t.Fatal(err)
			}
			defer l.Release()
			x := randSlice(rng, shapeLen(tc.in))
			for i := range x {
				x[i] = x[i]*0.7 + 0.3 // asymmetric, so the zero point is not in the middle
			}
			c := &Context{B: b, Train: true}
			yt, err := l.Forward(c, newF32(t, b, tc.in, x))
			if err != nil {
				t.Fatal(err)
			}
			got := readF32(t, b, yt)
			g := l.cur.g

			// x̂ and ŵ from the codes the layer made.
			xs, ws := l.xq.Spec(), l.wq.Spec()
			qx := make([]int32, len(x))
			qw := make([]int32, len(l.W.Data))
			if err := b.ReadI32(l.cur.qx, qx); err != nil {
				t.Fatal(err)
			}
			if err := b.ReadI32(l.qw, qw); err != nil {
				t.Fatal(err)
			}
			xh := make([]float64, len(qx))
			for i, q := range qx {
				xh[i] = float64(xs.Scale[0]) * float64(q-xs.Zero[0])
			}
			kk := tc.k * tc.k
			wh := make([]float64, len(qw))
			zeroW := false
			for i, q := range qw {
				ch := 0
				if len(ws.Scale) > 1 {
					ch = i / kk
				}
				wh[i] = float64(ws.Scale[ch]) * float64(q-ws.Zero[ch])
				zeroW = zeroW || ws.Zero[ch] != 0
			}
			if tc.cfg.AsymmetricWeights && !zeroW {
				t.Fatal("asymmetric weights got zero points 0: the case tests nothing")
			}
			if xs.Zero[0] == 0 {
				t.Fatal("input zero point 0: padding with 0 is not tested")
			}
			want := dwNaive(xh, wh, f64s(l.B.Data), g)
			for i := range want {
				if d := math.Abs(want[i] - float64(got[i])); d > 1e-5*(1+math.Abs(want[i])) {
					t.Fatalf("y[%d] = %v, naive depthwise conv of the dequantized codes %v", i, got[i], want[i])
				}
			}

			// Backward.
			r := randSlice(rng, len(got))
			dxt, err := l.Backward(c, newF32(t, b, yt.Shape(), r), true)
			if err != nil {
				t.Fatal(err)
			}
			dx := readF32(t, b, dxt)
			dW := readF32(t, b, l.W.GradT)
			dB := readF32(t, b, l.B.GradT)
			dsx := readF32(t, b, l.xq.Scale.GradT)
			dxh, dwh := dwNaiveGrads(xh, wh, f64s(r), g)
			wantDX := make([]float32, len(x))
			xp := quant.Params{Scale: xs.Scale[0], Zero: xs.Zero[0]}
			ds, _ := quant.Grad(wantDX, x, f32s(dxh), xp, quant.Activations(l.cfg.Bits))
			closeTo(t, "dx", dx, wantDX, 1e-4)
			if d := math.Abs(ds - float64(dsx[0])); d > 1e-3*(1+math.Abs(ds)) {
				t.Fatalf("d scale_x = %v, want %v", dsx[0], ds)
			}
			wantDW := make([]float32, len(dW))
			per := len(dW) / len(ws.Scale)
			for ch := range ws.Scale {
				sl := ch * per
				quant.Grad(wantDW[sl:sl+per], l.W.Data[sl:sl+per], f32s(dwh[sl:sl+per]), quant.Params{Scale: ws.Scale[ch], Zero: ws.Zero[ch]}, quant.Weights(l.cfg.Bits))
			}
			closeTo(t, "dW", dW, wantDW, 1e-4)
			wantDB := make([]float32, tc.c)
			for i, v := range r {
				wantDB[i%tc.c] += v
			}
			closeTo(t, "dbias", dB, wantDB, 1e-5)
		})
	}
}

// TestDepthwiseConvInferenceReusesCodes: in inference with an unchanged
// ParamsVersion the weights are not quantized again, and the output
// matches the training-mode forward.
func TestDepthwiseConvInferenceReusesCodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	l := newDW(t, "dwq", 3, 3, 1, 1, QuantConfig{Bits: 8}, rng)
	b := ref.New()
	defer b.Close()
	if err := l.Bind(b); err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	in := []int{2, 4, 4, 3}
	x := newF32(t, b, in, randSlice(rng, shapeLen(in)))
	y, err := l.Forward(&Context{B: b, Train: true}, x)
	if err != nil {
		t.Fatal(err)
	}
	want := readF32(t, b, y)
	v := &ParamsVersion{}
	c := &Context{B: b, Params: v}
	y, err = l.Forward(c, x)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "inference y", readF32(t, b, y), want, 0)
	if l.qwGen != v {
		t.Fatal("inference forward did not record the parameters' version")
	}
	// Codes are reused: clobber them and check the output changes.
	if err := b.WriteI32(l.qw, make([]int32, l.qw.Len())); err != nil {
		t.Fatal(err)
	}
	y, _ = l.Forward(c, x)
	if slices.Equal(readF32(t, b, y), want) {
		t.Fatal("inference forward quantized the unchanged weights again")
	}
	y, _ = l.Forward(&Context{B: b, Params: &ParamsVersion{}}, x)
	closeTo(t, "y after a version change", readF32(t, b, y), want, 0)
}

func TestDepthwiseConvZeroAllocs(t *testing.T) {
	rb := ref.New()
	defer rb.Close()
	b := opFree{rb}
	for _, cfg := range []QuantConfig{{Float: true}, {Bits: 8}, {Bits: 4, PerTensorWeights: true}} {
		rng := rand.New(rand.NewPCG(5, 5))
		l := newDW(t, "dw", 4, 3, 1, 1, cfg, rng)
		in := []int{2, 5, 5, 4}
		if n := stepAllocs(t, b, l, in); n != 0 {
			t.Errorf("%+v: %v allocations per step, want 0", cfg, n)
		}
		if n := stepAllocs(t, rb, l, in); n != 0 {
			t.Logf("%+v: %v allocations per step on the reference backend (its kernels' own)", cfg, n)
		}
	}
}

// TestDepthwiseConvVulkan runs the depthwise convolution in float and
// quantized modes on the Vulkan backend and compares it with the
// reference backend.
func TestDepthwiseConvVulkan(t *testing.T) {
	dev := openVulkan(t)
	for _, tc := range []struct {
		name string
		cfg  QuantConfig
	}{
		{"float", QuantConfig{Float: true}},
		{"int8", QuantConfig{Bits: 8}},
		{"int4 asymmetric weights", QuantConfig{Bits: 4, AsymmetricWeights: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(6, 6))
			l := newDW(t, "dw", 5, 3, 2, 1, tc.cfg, rng)
			for i := range l.B.Data {
				l.B.Data[i] = float32(rng.NormFloat64() * 0.3)
			}
			in := []int{2, 7, 6, 5}
			out, _ := l.OutShape(in)
			x, dy := randSlice(rng, shapeLen(in)), randSlice(rng, shapeLen(out))
			rb := ref.New()
			defer rb.Close()
			want, err := layerPass(t, rb, l, in, x, dy)
			if err != nil {
				t.Fatal(err)
			}
			// The quantizers are calibrated now, so both passes use the
			// same scales and zero points.
			got, err := layerPass(t, newVulkan(t, dev), l, in, x, dy)
			skipIfStubbed(t, err)
			if err != nil {
				t.Fatal(err)
			}
			comparePasses(t, got, want, 1e-4)
		})
	}
}
