package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
	"github.com/vktrain/vktrain/nn/vk"
)

// Tests of the layers added for residual networks (Add, AvgPool,
// GlobalAvgPool; DepthwiseConv2D in dwconv_test.go) and the helpers they
// share.

// opFree is the reference backend with every op the new layers record
// made a no-op (memory, reads and views still work): allocations measured
// through it are the layers' own, not the reference kernels'.
type opFree struct{ *ref.Backend }

func (opFree) Copy(dst, src backend.Tensor)                          {}
func (opFree) MinMax(dst, x backend.Tensor)                          {}
func (opFree) Quantize(q, x backend.Tensor, p backend.QuantSpec)     {}
func (opFree) Dequantize(x, q backend.Tensor, p backend.QuantSpec)   {}
func (opFree) AddBias(y, bias backend.Tensor)                        {}
func (opFree) ColSum(s, x backend.Tensor)                            {}
func (opFree) Add(y, a, b backend.Tensor)                            {}
func (opFree) AvgPool(y, x backend.Tensor, g backend.PoolGeom)       {}
func (opFree) AvgPoolGrad(dx, dy backend.Tensor, g backend.PoolGeom) {}
func (opFree) DWConv(y, x, w backend.Tensor, g backend.ConvGeom)     {}
func (opFree) DWConvGradX(dx, dy, w backend.Tensor, g backend.ConvGeom) {
}
func (opFree) DWConvGradW(dw, dy, x backend.Tensor, g backend.ConvGeom) {
}
func (opFree) QuantGrad(dx, dScale, dZero, x, dxhat backend.Tensor, p backend.QuantSpec) {}
func (opFree) DWConvI(acc, x, w backend.Tensor, g backend.ConvGeom, pa, pb backend.QuantSpec) {
}
func (opFree) Dequant(y, acc, sa, sb backend.Tensor, k int, pa, pb backend.QuantSpec, bias backend.Tensor) {
}

// stepAllocs returns the allocations of one steady-state training step
// (Forward and Backward) of l on b, after two warm-up steps.
func stepAllocs(t *testing.T, b backend.Backend, l Layer, in []int) float64 {
	t.Helper()
	if err := l.Bind(b); err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	rng := rand.New(rand.NewPCG(4, 4))
	x := newF32(t, b, in, randSlice(rng, shapeLen(in)))
	out, err := l.OutShape(in)
	if err != nil {
		t.Fatal(err)
	}
	dy := newF32(t, b, out, randSlice(rng, shapeLen(out)))
	c := &Context{B: b, Train: true}
	var stepErr error
	step := func() {
		if _, err := l.Forward(c, x); err != nil {
			stepErr = err
			return
		}
		if _, err := l.Backward(c, dy, true); err != nil {
			stepErr = err
		}
	}
	step()
	step()
	if stepErr != nil {
		t.Fatal(stepErr)
	}
	n := testing.AllocsPerRun(20, step)
	if stepErr != nil {
		t.Fatal(stepErr)
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	return n
}

func newF32(t *testing.T, b backend.Backend, shape []int, v []float32) backend.Tensor {
	t.Helper()
	x, err := b.New(backend.F32, shape...)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WriteF32(x, v); err != nil {
		t.Fatal(err)
	}
	return x
}

func readF32(t *testing.T, b backend.Backend, x backend.Tensor) []float32 {
	t.Helper()
	v := make([]float32, x.Len())
	if err := b.ReadF32(x, v); err != nil {
		t.Fatal(err)
	}
	return v
}

// passResult is what one training pass of a layer produced.
type passResult struct {
	y, dx []float32
	grads map[string][]float32
}

// layerPass binds l to b, runs one training Forward and Backward with
// input x and output gradient dy, and releases it. It returns the backend
// error, if any, for the caller to judge (a stubbed op).
func layerPass(t *testing.T, b backend.Backend, l Layer, in []int, x, dy []float32) (passResult, error) {
	t.Helper()
	if err := l.Bind(b); err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	c := &Context{B: b, Train: true}
	y, err := l.Forward(c, newF32(t, b, in, x))
	if err != nil {
		t.Fatal(err)
	}
	dyt := newF32(t, b, y.Shape(), dy)
	dx, err := l.Backward(c, dyt, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(); err != nil {
		return passResult{}, err
	}
	r := passResult{y: readF32(t, b, y), dx: readF32(t, b, dx), grads: map[string][]float32{}}
	for _, p := range l.Params() {
		if p.GradT != nil {
			r.grads[p.Name] = readF32(t, b, p.GradT)
		}
	}
	return r, nil
}

// openVulkan opens the Vulkan device once per test (validation on), or
// skips the test where there is none.
func openVulkan(t *testing.T) *gpu.Device {
	t.Helper()
	return gputest.Open(t)
}

// newVulkan returns a fresh Vulkan backend on dev (a backend stays broken
// after its first error, so each comparison gets its own).
func newVulkan(t *testing.T, dev *gpu.Device) *vk.Backend {
	t.Helper()
	vb, err := vk.New(dev, vk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vb.Close() })
	return vb
}

// skipIfStubbed skips the test when err says an op is not implemented on
// the backend yet (its kernel has not landed).
func skipIfStubbed(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "not implemented on this backend yet") {
		t.Skipf("op not on this backend yet: %v", err)
	}
}

// closeTo checks |got-want| <= tol·(1+max|want|) elementwise.
func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var scale float64
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= tol*(1+scale)) {
			t.Fatalf("%s[%d] = %v, want %v (|d| = %.3g)", what, i, got[i], want[i], d)
		}
	}
}

// comparePasses checks a Vulkan pass against the reference pass.
func comparePasses(t *testing.T, got, want passResult, tol float64) {
	t.Helper()
	closeTo(t, "y", got.y, want.y, tol)
	closeTo(t, "dx", got.dx, want.dx, tol)
	for name, w := range want.grads {
		closeTo(t, "grad "+name, got.grads[name], w, tol)
	}
}

func TestNewLayersGradients(t *testing.T) {
	pool2, _ := NewAvgPool("avg2", 2, 2)
	pool3, _ := NewAvgPool("avg3", 3, 2) // overlapping windows
	pool1, _ := NewAvgPool("avg31", 3, 1)
	cases := []gradCase{
		{"avgpool 2/2", pool2, []int{2, 4, 6, 3}, true},
		{"avgpool 3/2 overlapping", pool3, []int{1, 7, 7, 2}, true},
		{"avgpool 3/1 odd", pool1, []int{2, 5, 4, 3}, true},
		{"global avgpool", NewGlobalAvgPool("gap"), []int{3, 5, 4, 6}, true},
		{"global avgpool 1x1", NewGlobalAvgPool("gap1"), []int{2, 1, 1, 4}, true},
	}
	for _, gc := range cases {
		t.Run(gc.name, func(t *testing.T) { checkLayerGrad(t, gc) })
	}
}

func TestNewLayersAvgPoolShapes(t *testing.T) {
	p, err := NewAvgPool("p", 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want []int }{
		{[]int{2, 7, 7, 3}, []int{2, 3, 3, 3}},
		{[]int{1, 8, 5, 4}, []int{1, 3, 2, 4}},
		{[]int{4, 3, 3, 1}, []int{4, 1, 1, 1}},
	} {
		got, err := p.OutShape(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("AvgPool(3, 2).OutShape(%v) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, in := range [][]int{{2, 2, 7, 3}, {2, 7, 3}, {0, 7, 7, 3}} {
		if _, err := p.OutShape(in); err == nil {
			t.Errorf("AvgPool(3, 2).OutShape(%v): no error", in)
		}
	}
	if _, err := NewAvgPool("bad", 0, 1); err == nil {
		t.Error("NewAvgPool with size 0: no error")
	}
	if _, err := NewAvgPool("bad", 2, 0); err == nil {
		t.Error("NewAvgPool with stride 0: no error")
	}
	g := NewGlobalAvgPool("g")
	if got, err := g.OutShape([]int{5, 7, 3, 16}); err != nil || !slices.Equal(got, []int{5, 16}) {
		t.Errorf("GlobalAvgPool.OutShape = %v, %v; want [5 16]", got, err)
	}
	if _, err := g.OutShape([]int{5, 16}); err == nil {
		t.Error("GlobalAvgPool.OutShape of a matrix: no error")
	}

	// The forward values: means of the windows, [N, C] for the global pool.
	b := ref.New()
	defer b.Close()
	in := []int{2, 3, 4, 2}
	x := make([]float32, shapeLen(in))
	for i := range x {
		x[i] = float32(i)
	}
	if err := g.Bind(b); err != nil {
		t.Fatal(err)
	}
	y, err := g.Forward(&Context{B: b}, newF32(t, b, in, x))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y.Shape(), []int{2, 2}) {
		t.Fatalf("GlobalAvgPool output shape %v, want [2 2]", y.Shape())
	}
	want := make([]float32, 4)
	for n := range 2 {
		for c := range 2 {
			var s float64
			for i := range 12 {
				s += float64(x[(n*12+i)*2+c])
			}
			want[n*2+c] = float32(s / 12)
		}
	}
	closeTo(t, "global mean", readF32(t, b, y), want, 1e-6)

	p2, _ := NewAvgPool("p2", 2, 2)
	if err := p2.Bind(b); err != nil {
		t.Fatal(err)
	}
	y, err = p2.Forward(&Context{B: b}, newF32(t, b, in, x))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y.Shape(), []int{2, 1, 2, 2}) {
		t.Fatalf("AvgPool(2, 2) output shape %v, want [2 1 2 2]", y.Shape())
	}
	want = want[:0]
	for n := range 2 {
		for ox := range 2 {
			for c := range 2 {
				var s float32
				for ky := range 2 {
					for kx := range 2 {
						s += x[((n*3+ky)*4+ox*2+kx)*2+c]
					}
				}
				want = append(want, s/4)
			}
		}
	}
	closeTo(t, "window mean", readF32(t, b, y), want, 1e-6)
}

// addPass runs Forward2 and Backward2 of an Add layer on b.
func addPass(t *testing.T, b backend.Backend, l *Add, in []int, a, bv, dy []float32) (y, da, db []float32, err error) {
	t.Helper()
	if err := l.Bind(b); err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	c := &Context{B: b, Train: true}
	yt, err := l.Forward2(c, newF32(t, b, in, a), newF32(t, b, in, bv))
	if err != nil {
		t.Fatal(err)
	}
	dyt := newF32(t, b, in, dy)
	dat, dbt, err := l.Backward2(c, dyt)
	if err != nil {
		t.Fatal(err)
	}
	if dat == dbt {
		t.Fatal("Backward2 returned the same tensor for da and db")
	}
	if err := b.Sync(); err != nil {
		return nil, nil, nil, err
	}
	return readF32(t, b, yt), readF32(t, b, dat), readF32(t, b, dbt), nil
}

func TestNewLayersAdd(t *testing.T) {
	l := NewAdd("res")
	var _ MergeLayer = l
	if got, err := l.OutShape([]int{2, 3, 3, 4}); err != nil || !slices.Equal(got, []int{2, 3, 3, 4}) {
		t.Errorf("OutShape = %v, %v", got, err)
	}
	b := ref.New()
	defer b.Close()
	if err := l.Bind(b); err != nil {
		t.Fatal(err)
	}
	x, _ := b.New(backend.F32, 2, 3)
	if _, err := l.Forward(&Context{B: b}, x); err == nil {
		t.Error("one-input Forward: no error")
	}
	if _, err := l.Backward(&Context{B: b}, x, true); err == nil {
		t.Error("one-input Backward: no error")
	}
	if _, _, err := l.Backward2(&Context{B: b}, x); err == nil {
		t.Error("Backward2 before Forward2: no error")
	}
	z, _ := b.New(backend.F32, 3, 2)
	if _, err := l.Forward2(&Context{B: b}, x, z); err == nil {
		t.Error("Forward2 of shapes [2 3] and [3 2]: no error")
	}

	// y = a + b; L = Σ r·y, so dL/da = dL/db = r exactly; check it also
	// by finite differences as the other layers are.
	rng := rand.New(rand.NewPCG(8, 8))
	in := []int{2, 3, 2, 4}
	n := shapeLen(in)
	a, bv, r := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
	y, da, db, err := addPass(t, b, l, in, a, bv, r)
	if err != nil {
		t.Fatal(err)
	}
	loss := func(y []float32) float64 {
		var s float64
		for i, v := range y {
			s += float64(v) * float64(r[i])
		}
		return s
	}
	for i := range y {
		if y[i] != a[i]+bv[i] {
			t.Fatalf("y[%d] = %v, want %v", i, y[i], a[i]+bv[i])
		}
	}
	for k := 0; k < 8; k++ {
		i := rng.IntN(n)
		for _, side := range []struct {
			name string
			v    []float32
			g    float32
		}{{"a", a, da[i]}, {"b", bv, db[i]}} {
			old := side.v[i]
			side.v[i] = old + fdEps
			yp, _, _, _ := addPass(t, b, l, in, a, bv, r)
			side.v[i] = old - fdEps
			ym, _, _, _ := addPass(t, b, l, in, a, bv, r)
			side.v[i] = old
			fd := (loss(yp) - loss(ym)) / (2 * fdEps)
			if d := math.Abs(fd - float64(side.g)); d > fdTol*math.Max(1, math.Abs(float64(side.g))) {
				t.Errorf("d%s[%d] = %v, finite differences give %v", side.name, i, side.g, fd)
			}
		}
	}
}

func TestNewLayersZeroAllocs(t *testing.T) {
	rb := ref.New()
	defer rb.Close()
	b := opFree{rb}
	pool, _ := NewAvgPool("avg", 2, 2)
	for _, c := range []struct {
		l  Layer
		in []int
	}{
		{pool, []int{2, 4, 4, 3}},
		{NewGlobalAvgPool("gap"), []int{2, 4, 4, 3}},
	} {
		if n := stepAllocs(t, b, c.l, c.in); n != 0 {
			t.Errorf("%s: %v allocations per step, want 0", c.l.Name(), n)
		}
		if n := stepAllocs(t, rb, c.l, c.in); n != 0 {
			t.Logf("%s: %v allocations per step on the reference backend (its kernels' own)", c.l.Name(), n)
		}
	}
	l := NewAdd("res")
	if err := l.Bind(b); err != nil {
		t.Fatal(err)
	}
	in := []int{2, 3, 3, 4}
	x, _ := b.New(backend.F32, in...)
	z, _ := b.New(backend.F32, in...)
	c := &Context{B: b, Train: true}
	var stepErr error
	step := func() {
		y, err := l.Forward2(c, x, z)
		if err != nil {
			stepErr = err
			return
		}
		if _, _, err := l.Backward2(c, y); err != nil {
			stepErr = err
		}
	}
	step()
	if n := testing.AllocsPerRun(20, step); n != 0 {
		t.Errorf("add: %v allocations per step, want 0", n)
	}
	if stepErr != nil {
		t.Fatal(stepErr)
	}
}

// TestNewLayersVulkan runs the pooling layers and Add on the Vulkan
// backend and compares them with the reference backend.
func TestNewLayersVulkan(t *testing.T) {
	dev := openVulkan(t)
	rng := rand.New(rand.NewPCG(9, 9))
	pool, _ := NewAvgPool("avg", 3, 2)
	for _, c := range []struct {
		l  Layer
		in []int
	}{
		{pool, []int{2, 7, 6, 5}},
		{NewGlobalAvgPool("gap"), []int{3, 5, 4, 7}},
	} {
		t.Run(c.l.Name(), func(t *testing.T) {
			out, err := c.l.OutShape(c.in)
			if err != nil {
				t.Fatal(err)
			}
			x, dy := randSlice(rng, shapeLen(c.in)), randSlice(rng, shapeLen(out))
			rb := ref.New()
			defer rb.Close()
			want, err := layerPass(t, rb, c.l, c.in, x, dy)
			if err != nil {
				t.Fatal(err)
			}
			got, err := layerPass(t, newVulkan(t, dev), c.l, c.in, x, dy)
			skipIfStubbed(t, err)
			if err != nil {
				t.Fatal(err)
			}
			comparePasses(t, got, want, 1e-5)
		})
	}
	t.Run("add", func(t *testing.T) {
		in := []int{2, 3, 3, 4}
		n := shapeLen(in)
		a, bv, r := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
		rb := ref.New()
		defer rb.Close()
		l := NewAdd("res")
		y0, da0, db0, err := addPass(t, rb, l, in, a, bv, r)
		if err != nil {
			t.Fatal(err)
		}
		y1, da1, db1, err := addPass(t, newVulkan(t, dev), l, in, a, bv, r)
		skipIfStubbed(t, err)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "y", y1, y0, 1e-6)
		closeTo(t, "da", da1, da0, 0)
		closeTo(t, "db", db1, db0, 0)
	})
}
