package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
	"github.com/vktrain/vktrain/quant"
)

// gradCase checks a layer's Backward against central finite differences of
// L = Σ r·y with a fixed random r. The layer runs in float32 on the
// reference backend; L is accumulated in float64, so with eps = 1e-2 the
// difference quotient is accurate to about 1e-3 relative.
type gradCase struct {
	name  string
	layer Layer
	in    []int
	train bool
}

const (
	fdEps = 1e-2
	fdTol = 2e-2 // |fd - analytic| <= fdTol * max(1, |analytic|)
)

func randSlice(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func runLayer(t *testing.T, b backend.Backend, l Layer, x []float32, in []int, r []float32, train bool) (float64, backend.Tensor) {
	t.Helper()
	xt, err := b.New(backend.F32, in...)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WriteF32(xt, x); err != nil {
		t.Fatal(err)
	}
	c := &Context{B: b, Train: train}
	y, err := l.Forward(c, xt)
	if err != nil {
		t.Fatal(err)
	}
	yv := make([]float32, y.Len())
	if err := b.ReadF32(y, yv); err != nil {
		t.Fatal(err)
	}
	var loss float64
	for i, v := range yv {
		loss += float64(v) * float64(r[i])
	}
	return loss, y
}

func checkLayerGrad(t *testing.T, gc gradCase) {
	t.Helper()
	b := ref.New()
	defer b.Close()
	rng := rand.New(rand.NewPCG(7, 9))
	if err := gc.layer.Bind(b); err != nil {
		t.Fatal(err)
	}
	out, err := gc.layer.OutShape(gc.in)
	if err != nil {
		t.Fatal(err)
	}
	x := randSlice(rng, shapeLen(gc.in))
	r := randSlice(rng, shapeLen(out))
	// Trainable params get random values so every path is exercised.
	for _, p := range gc.layer.Params() {
		if p.Trainable() {
			for i := range p.Data {
				p.Data[i] = float32(rng.NormFloat64() * 0.5)
			}
			if err := p.upload(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, y := runLayer(t, b, gc.layer, x, gc.in, r, gc.train)
	dy, _ := b.New(backend.F32, y.Shape()...)
	_ = b.WriteF32(dy, r)
	dx, err := gc.layer.Backward(&Context{B: b, Train: gc.train}, dy, true)
	if err != nil {
		t.Fatal(err)
	}
	dxv := make([]float32, len(x))
	if err := b.ReadF32(dx, dxv); err != nil {
		t.Fatal(err)
	}
	grads := map[*Param][]float32{}
	for _, p := range gc.layer.Params() {
		if p.GradT != nil {
			g := make([]float32, len(p.Data))
			if err := b.ReadF32(p.GradT, g); err != nil {
				t.Fatal(err)
			}
			grads[p] = g
		}
	}
	// Running statistics change with every training forward; restore them
	// around each probe so the probes see the same layer.
	saved := map[*Param][]float32{}
	for _, p := range gc.layer.Params() {
		if p.Kind == KindBuffer && p.Value != nil {
			_ = p.download(b)
			saved[p] = append([]float32(nil), p.Data...)
		}
	}
	restore := func() {
		for p, v := range saved {
			copy(p.Data, v)
			_ = p.upload(b)
		}
	}
	probe := func(what string, i int, v []float32, analytic float32, upload func()) {
		t.Helper()
		old := v[i]
		v[i] = old + fdEps
		upload()
		restore()
		lp, _ := runLayer(t, b, gc.layer, x, gc.in, r, gc.train)
		v[i] = old - fdEps
		upload()
		restore()
		lm, _ := runLayer(t, b, gc.layer, x, gc.in, r, gc.train)
		v[i] = old
		upload()
		fd := (lp - lm) / (2 * fdEps)
		if d := math.Abs(fd - float64(analytic)); d > fdTol*math.Max(1, math.Abs(float64(analytic))) {
			t.Errorf("%s: d%s[%d] = %.5f, finite differences give %.5f", gc.name, what, i, analytic, fd)
		}
	}
	for k := 0; k < 12; k++ {
		i := rng.IntN(len(x))
		probe("x", i, x, dxv[i], func() {})
	}
	for p, g := range grads {
		for k := 0; k < 6; k++ {
			i := rng.IntN(len(p.Data))
			probe(p.Name, i, p.Data, g[i], func() { _ = p.upload(b) })
		}
	}
}

func floatCfg() QuantConfig { return QuantConfig{Float: true} }

func TestLayerGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	conv, _ := NewConv2D("conv", 3, 4, 3, 2, 1, floatCfg(), rng)
	conv1, _ := NewConv2D("conv1", 2, 3, 3, 1, 0, floatCfg(), rng)
	lin, _ := NewLinear("fc", 12, 5, floatCfg(), rng)
	pool, _ := NewMaxPool("pool", 2, 2)
	overlap, _ := NewMaxPool("pool3", 3, 2)
	cases := []gradCase{
		{"conv stride 2 pad 1", conv, []int{2, 7, 6, 3}, true},
		{"conv valid", conv1, []int{3, 5, 5, 2}, true},
		{"linear", lin, []int{4, 2, 2, 3}, true},
		{"compensation train", NewCompensation("comp", 3), []int{5, 3}, true},
		{"compensation infer", NewCompensation("comp", 3), []int{2, 2, 2, 3}, false},
		{"batchnorm train", NewBatchNorm("bn", 4), []int{3, 2, 2, 4}, true},
		{"relu", NewReLU("relu"), []int{3, 7}, true},
		{"maxpool", pool, []int{2, 4, 6, 3}, true},
		{"maxpool overlapping", overlap, []int{1, 7, 7, 2}, true},
		{"flatten", NewFlatten("flat"), []int{2, 3, 2, 2}, true},
	}
	for _, gc := range cases {
		t.Run(gc.name, func(t *testing.T) { checkLayerGrad(t, gc) })
	}
}

// TestQuantizedDenseMatchesFakeQuant checks S100/S200 of a quantized
// layer against an independent float computation on the host: the integer
// product with exact dequantization equals the float product of the
// fake-quantized input and weights, and the backward equals the float
// backward at x̂, ŵ masked by the straight-through rule.
func TestQuantizedDenseMatchesFakeQuant(t *testing.T) {
	for _, bits := range []int{8, 4, 2} {
		rng := rand.New(rand.NewPCG(3, uint64(bits)))
		cfg := QuantConfig{Bits: bits, Method: quant.MethodMinMax}
		lq, err := NewLinear("fcq", 6, 4, cfg, rng)
		if err != nil {
			t.Fatal(err)
		}
		b := ref.New()
		if err := lq.Bind(b); err != nil {
			t.Fatal(err)
		}
		n := 5
		x := randSlice(rng, n*6)
		xt, _ := b.New(backend.F32, n, 6)
		_ = b.WriteF32(xt, x)
		c := &Context{B: b, Train: true}
		y, err := lq.Forward(c, xt)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, n*4)
		if err := b.ReadF32(y, got); err != nil {
			t.Fatal(err)
		}
		xs, ws := lq.xq.Spec(), lq.wq.Spec()
		xh := make([]float32, len(x))
		quant.FakeQuantize(xh, x, quant.Params{Scale: xs.Scale[0], Zero: xs.Zero[0]}, quant.Activations(bits))
		wh := make([]float32, len(lq.W.Data))
		for o := 0; o < 4; o++ {
			quant.FakeQuantize(wh[o*6:(o+1)*6], lq.W.Data[o*6:(o+1)*6], quant.Params{Scale: ws.Scale[o], Zero: ws.Zero[o]}, quant.Weights(bits))
		}
		for i := 0; i < n; i++ {
			for o := 0; o < 4; o++ {
				var want float64
				for k := 0; k < 6; k++ {
					want += float64(xh[i*6+k]) * float64(wh[o*6+k])
				}
				if d := math.Abs(want - float64(got[i*4+o])); d > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("bits %d: y[%d,%d] = %v, fake-quant float product %v", bits, i, o, got[i*4+o], want)
				}
			}
		}
		// Backward.
		r := randSlice(rng, n*4)
		dy, _ := b.New(backend.F32, n, 4)
		_ = b.WriteF32(dy, r)
		dx, err := lq.Backward(c, dy, true)
		if err != nil {
			t.Fatal(err)
		}
		dxv := make([]float32, len(x))
		dw := make([]float32, len(wh))
		dsx := make([]float32, 1)
		if err := b.ReadF32(dx, dxv); err != nil {
			t.Fatal(err)
		}
		_ = b.ReadF32(lq.W.GradT, dw)
		_ = b.ReadF32(lq.xq.Scale.GradT, dsx)
		dxhat := make([]float32, len(x))
		for i := 0; i < n; i++ {
			for k := 0; k < 6; k++ {
				var s float64
				for o := 0; o < 4; o++ {
					s += float64(r[i*4+o]) * float64(wh[o*6+k])
				}
				dxhat[i*6+k] = float32(s)
			}
		}
		wantDX := make([]float32, len(x))
		ds, _ := quant.Grad(wantDX, x, dxhat, quant.Params{Scale: xs.Scale[0], Zero: xs.Zero[0]}, quant.Activations(bits))
		for i := range wantDX {
			if d := math.Abs(float64(wantDX[i] - dxv[i])); d > 1e-4*(1+math.Abs(float64(wantDX[i]))) {
				t.Fatalf("bits %d: dx[%d] = %v, want %v", bits, i, dxv[i], wantDX[i])
			}
		}
		if d := math.Abs(ds - float64(dsx[0])); d > 1e-3*(1+math.Abs(ds)) {
			t.Fatalf("bits %d: d scale_x = %v, want %v", bits, dsx[0], ds)
		}
		for o := 0; o < 4; o++ {
			dwh := make([]float32, 6)
			for k := 0; k < 6; k++ {
				var s float64
				for i := 0; i < n; i++ {
					s += float64(r[i*4+o]) * float64(xh[i*6+k])
				}
				dwh[k] = float32(s)
			}
			want := make([]float32, 6)
			quant.Grad(want, lq.W.Data[o*6:(o+1)*6], dwh, quant.Params{Scale: ws.Scale[o], Zero: ws.Zero[o]}, quant.Weights(bits))
			for k := range want {
				if d := math.Abs(float64(want[k] - dw[o*6+k])); d > 1e-4*(1+math.Abs(float64(want[k]))) {
					t.Fatalf("bits %d: dW[%d,%d] = %v, want %v", bits, o, k, dw[o*6+k], want[k])
				}
			}
		}
		lq.Release()
		b.Close()
	}
}

// TestQuantizedConvMatchesFakeQuant: the integer convolution (codes,
// im2col padded with the zero point, int32 GEMM, exact dequantization)
// equals a float convolution of the fake-quantized tensors.
func TestQuantizedConvMatchesFakeQuant(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := QuantConfig{Bits: 8}
	lq, _ := NewConv2D("cq", 2, 3, 3, 1, 1, cfg, rng)
	lf, _ := NewConv2D("cf", 2, 3, 3, 1, 1, floatCfg(), rng)
	b := ref.New()
	defer b.Close()
	_ = lq.Bind(b)
	in := []int{2, 5, 4, 2}
	x := randSlice(rng, shapeLen(in))
	for i := range x {
		x[i] = x[i]*0.7 + 0.3 // asymmetric, so the zero point is not in the middle
	}
	xt, _ := b.New(backend.F32, in...)
	_ = b.WriteF32(xt, x)
	yq, err := lq.Forward(&Context{B: b, Train: true}, xt)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, yq.Len())
	if err := b.ReadF32(yq, got); err != nil {
		t.Fatal(err)
	}
	xs, ws := lq.xq.Spec(), lq.wq.Spec()
	xh := make([]float32, len(x))
	quant.FakeQuantize(xh, x, quant.Params{Scale: xs.Scale[0], Zero: xs.Zero[0]}, quant.Activations(8))
	k := 18
	for o := 0; o < 3; o++ {
		quant.FakeQuantize(lf.W.Data[o*k:(o+1)*k], lq.W.Data[o*k:(o+1)*k], quant.Params{Scale: ws.Scale[o], Zero: ws.Zero[o]}, quant.Weights(8))
	}
	_ = lf.Bind(b)
	xht, _ := b.New(backend.F32, in...)
	_ = b.WriteF32(xht, xh)
	yf, err := lf.Forward(&Context{B: b, Train: true}, xht)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, yf.Len())
	_ = b.ReadF32(yf, want)
	for i := range want {
		if d := math.Abs(float64(want[i] - got[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("y[%d] = %v, float conv of fake-quantized values %v", i, got[i], want[i])
		}
	}
}

func TestBatchNormBackwardNeedsTrainingForward(t *testing.T) {
	b := ref.New()
	defer b.Close()
	l := NewBatchNorm("bn", 2)
	if err := l.Bind(b); err != nil {
		t.Fatal(err)
	}
	x, _ := b.New(backend.F32, 3, 2)
	y, err := l.Forward(&Context{B: b}, x)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Backward(&Context{B: b}, y, true); err == nil {
		t.Fatal("Backward after an inference Forward: no error")
	}
}
