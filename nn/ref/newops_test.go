package ref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// tensorF makes an F32 tensor of b holding v.
func tensorF(t *testing.T, b *Backend, v []float32, shape ...int) backend.Tensor {
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

// tensorI makes a tensor of dtype dt (I32 or Q8) of b holding v.
func tensorI(t *testing.T, b *Backend, dt backend.DType, v []int32, shape ...int) backend.Tensor {
	t.Helper()
	x, err := b.New(dt, shape...)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WriteI32(x, v); err != nil {
		t.Fatal(err)
	}
	return x
}

func readF(t *testing.T, b *Backend, x backend.Tensor) []float32 {
	t.Helper()
	v := make([]float32, x.Len())
	if err := b.ReadF32(x, v); err != nil {
		t.Fatal(err)
	}
	return v
}

func readI(t *testing.T, b *Backend, x backend.Tensor) []int32 {
	t.Helper()
	v := make([]int32, x.Len())
	if err := b.ReadI32(x, v); err != nil {
		t.Fatal(err)
	}
	return v
}

func randF(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func dot64(a, b []float32) (s, mag float64) {
	for i := range a {
		p := float64(a[i]) * float64(b[i])
		s += p
		mag += math.Abs(p)
	}
	return s, mag
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v, want %v (bit for bit)", what, i, got[i], want[i])
		}
	}
}

func near(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b := New()
	a, c := randF(r, 1000), randF(r, 1000)
	at, ct := tensorF(t, b, a, 10, 100), tensorF(t, b, c, 1000)
	y, _ := b.New(backend.F32, 1000)
	b.Add(y, at, ct)
	got := readF(t, b, y)
	for i := range a {
		if got[i] != a[i]+c[i] {
			t.Fatalf("y[%d] = %v, want %v", i, got[i], a[i]+c[i])
		}
	}
	b.Add(at, at, ct) // y may alias a
	sameBits(t, "Add in place", readF(t, b, at), got)
	b.Add(ct, at, ct) // but not b
	if b.Err() == nil {
		t.Fatal("Add with y aliasing b: no error")
	}
}

var poolGeoms = []backend.PoolGeom{
	{N: 2, H: 6, W: 6, C: 3, Size: 2, Stride: 2},
	{N: 1, H: 7, W: 9, C: 5, Size: 3, Stride: 2},                         // overlapping
	{N: 3, H: 5, W: 8, C: 4, Size: 2, Stride: 1, SizeW: 3, StrideW: 2},   // rectangular
	{N: 2, H: 7, W: 5, C: 6, Size: 7, Stride: 1, SizeW: 5},               // global
	{N: 1, H: 9, W: 4, C: 2, Size: 3, Stride: 3, SizeW: 1, StrideW: 1},   // 3x1
	{N: 2, H: 10, W: 11, C: 1, Size: 4, Stride: 3, SizeW: 2, StrideW: 4}, // gaps
}

// TestAvgPool checks AvgPool against float64 means and bit for bit
// against its documented order (a float32 sum in window order times the
// float32 reciprocal of the area), and AvgPoolGrad as its adjoint and bit
// for bit against the documented order (terms added per output in
// increasing output order).
func TestAvgPool(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, g := range poolGeoms {
		b := New()
		kh, kw, sh, sw := g.Window()
		oh, ow := g.Out()
		x := randF(r, g.N*g.H*g.W*g.C)
		dy := randF(r, g.N*oh*ow*g.C)
		xt := tensorF(t, b, x, g.N, g.H, g.W, g.C)
		yt, _ := b.New(backend.F32, g.N, oh, ow, g.C)
		b.AvgPool(yt, xt, g)
		y := readF(t, b, yt)
		dyt := tensorF(t, b, dy, g.N, oh, ow, g.C)
		dxt, _ := b.New(backend.F32, g.N, g.H, g.W, g.C)
		b.Fill(dxt, float32(math.NaN())) // zeroed by AvgPoolGrad
		b.AvgPoolGrad(dxt, dyt, g)
		dx := readF(t, b, dxt)
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}

		inv := float32(1) / float32(kh*kw)
		want64 := make([]float64, len(y))
		want32 := make([]float32, len(y))
		dx32 := make([]float32, len(x))
		for n := range g.N {
			for py := range oh {
				for px := range ow {
					for c := range g.C {
						o := ((n*oh+py)*ow+px)*g.C + c
						var s64 float64
						var s32 float32
						for ky := range kh {
							for kx := range kw {
								i := ((n*g.H+py*sh+ky)*g.W+px*sw+kx)*g.C + c
								s64 += float64(x[i])
								s32 += x[i]
								dx32[i] += float32(dy[o] * inv)
							}
						}
						want64[o] = s64 / float64(kh*kw)
						want32[o] = float32(s32 * inv)
					}
				}
			}
		}
		near(t, "AvgPool vs float64", y, want64, 1e-5)
		sameBits(t, "AvgPool order", y, want32)
		sameBits(t, "AvgPoolGrad order", dx, dx32)
		lhs, m1 := dot64(y, dy)
		rhs, m2 := dot64(x, dx)
		if math.Abs(lhs-rhs) > 1e-5*(m1+m2) {
			t.Errorf("%+v: <AvgPool(x), dy> = %g, <x, AvgPoolGrad(dy)> = %g", g, lhs, rhs)
		}
	}
}

var dwGeoms = []backend.ConvGeom{
	{N: 2, H: 7, W: 6, C: 5, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
	{N: 1, H: 9, W: 8, C: 3, KH: 3, KW: 2, StrideH: 2, StrideW: 3, PadH: 1, PadW: 0},
	{N: 3, H: 5, W: 5, C: 4, KH: 5, KW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2},
	{N: 1, H: 4, W: 4, C: 2, KH: 1, KW: 1, StrideH: 2, StrideW: 2},
	{N: 2, H: 3, W: 2, C: 7, KH: 3, KW: 3, StrideH: 1, StrideW: 2, PadH: 2, PadW: 2}, // mostly padding
	{N: 1, H: 12, W: 10, C: 9, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
}

// dwNaive is the depthwise convolution of x [N,H,W,C] with w [C,KH,KW] in
// float64, taps outside the image contributing nothing.
func dwNaive(g backend.ConvGeom, x, w func(i int) float64) []float64 {
	oh, ow := g.Out()
	y := make([]float64, g.N*oh*ow*g.C)
	for n := range g.N {
		for oy := range oh {
			for ox := range ow {
				for c := range g.C {
					var s float64
					for kh := range g.KH {
						for kw := range g.KW {
							iy, ix := oy*g.StrideH-g.PadH+kh, ox*g.StrideW-g.PadW+kw
							if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
								continue
							}
							s += x(((n*g.H+iy)*g.W+ix)*g.C+c) * w((c*g.KH+kh)*g.KW+kw)
						}
					}
					y[((n*oh+oy)*ow+ox)*g.C+c] = s
				}
			}
		}
	}
	return y
}

// TestDWConvI checks the integer depthwise convolution exactly against a
// float64 convolution of the zero-point-corrected codes, with per-tensor
// and per-channel weight zero points, and against DWConv on the same
// (integer-valued) numbers.
func TestDWConvI(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, g := range dwGeoms {
		for _, perChannel := range []bool{false, true} {
			b := New()
			oh, ow := g.Out()
			x := make([]int32, g.N*g.H*g.W*g.C)
			for i := range x {
				x[i] = r.Int32N(256)
			}
			w := make([]int32, g.C*g.KH*g.KW)
			for i := range w {
				w[i] = r.Int32N(255) - 127
			}
			pa := backend.QuantSpec{Scale: []float32{0.1}, Zero: []int32{r.Int32N(256)}, QMin: 0, QMax: 255}
			pb := backend.QuantSpec{Scale: []float32{0.2}, Zero: []int32{r.Int32N(21) - 10}, QMin: -127, QMax: 127}
			if perChannel {
				pb.Scale, pb.Zero = make([]float32, g.C), make([]int32, g.C)
				for c := range g.C {
					pb.Scale[c], pb.Zero[c] = 0.01*float32(c+1), r.Int32N(255)-127
				}
			}
			zb := func(c int) int32 {
				if perChannel {
					return pb.Zero[c]
				}
				return pb.Zero[0]
			}
			xt := tensorI(t, b, backend.Q8, x, g.N, g.H, g.W, g.C)
			wt := tensorI(t, b, backend.Q8, w, g.C, g.KH, g.KW)
			acc, _ := b.New(backend.I32, g.N, oh, ow, g.C)
			b.DWConvI(acc, xt, wt, g, pa, pb)
			got := readI(t, b, acc)
			want := dwNaive(g,
				func(i int) float64 { return float64(x[i] - pa.Zero[0]) },
				func(i int) float64 { return float64(w[i] - zb(i/(g.KH*g.KW))) })
			for i := range want {
				if float64(got[i]) != want[i] {
					t.Fatalf("%+v per-channel %v: acc[%d] = %d, want %v", g, perChannel, i, got[i], want[i])
				}
			}
			// The float op on the corrected codes gives the same integers
			// (every partial sum is an integer below 2^24).
			xf, wf := make([]float32, len(x)), make([]float32, len(w))
			for i, v := range x {
				xf[i] = float32(v - pa.Zero[0])
			}
			for i, v := range w {
				wf[i] = float32(v - zb(i/(g.KH*g.KW)))
			}
			y, _ := b.New(backend.F32, g.N, oh, ow, g.C)
			b.DWConv(y, tensorF(t, b, xf, g.N, g.H, g.W, g.C), tensorF(t, b, wf, g.C, g.KH, g.KW), g)
			for i, v := range readF(t, b, y) {
				if v != float32(got[i]) {
					t.Fatalf("%+v: DWConv %v, DWConvI %d at %d", g, v, got[i], i)
				}
			}
		}
	}
	// Wrapping int32: huge codes are impossible in Q8, so check the
	// product loop directly on a 1x1 filter.
	b := New()
	g := backend.ConvGeom{N: 1, H: 1, W: 1, C: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1}
	acc, _ := b.New(backend.I32, 1, 1, 1, 1)
	b.DWConvI(acc, tensorI(t, b, backend.Q8, []int32{-128}, 1, 1, 1, 1), tensorI(t, b, backend.Q8, []int32{255}, 1, 1, 1), g,
		backend.QuantSpec{Scale: []float32{1}, Zero: []int32{127}, QMin: -128, QMax: 255},
		backend.QuantSpec{Scale: []float32{1}, Zero: []int32{-128}, QMin: -128, QMax: 255})
	if got := readI(t, b, acc)[0]; got != (-128-127)*(255+128) {
		t.Errorf("DWConvI extreme codes: %d, want %d", got, (-128-127)*(255+128))
	}
}

// TestDWConv checks the float depthwise convolution against float64 and,
// bit for bit, against its documented summation orders; the gradients as
// adjoints of the forward (dot-product test) and against their documented
// orders written as the scatter loops of the backward pass.
func TestDWConv(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, g := range dwGeoms {
		b := New()
		oh, ow := g.Out()
		k := g.KH * g.KW
		x := randF(r, g.N*g.H*g.W*g.C)
		w := randF(r, g.C*k)
		dy := randF(r, g.N*oh*ow*g.C)
		xt := tensorF(t, b, x, g.N, g.H, g.W, g.C)
		wt := tensorF(t, b, w, g.C, g.KH, g.KW)
		dyt := tensorF(t, b, dy, g.N, oh, ow, g.C)
		yt, _ := b.New(backend.F32, g.N, oh, ow, g.C)
		dxt, _ := b.New(backend.F32, g.N, g.H, g.W, g.C)
		dwt, _ := b.New(backend.F32, g.C, g.KH, g.KW)
		for _, o := range []backend.Tensor{yt, dxt, dwt} {
			b.Fill(o, float32(math.NaN())) // every element is overwritten
		}
		b.DWConv(yt, xt, wt, g)
		b.DWConvGradX(dxt, dyt, wt, g)
		b.DWConvGradW(dwt, dyt, xt, g)
		y, dx, dw := readF(t, b, yt), readF(t, b, dxt), readF(t, b, dwt)
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		near(t, "DWConv vs float64", y,
			dwNaive(g, func(i int) float64 { return float64(x[i]) }, func(i int) float64 { return float64(w[i]) }), 1e-5)

		// The documented orders, as the forward's scatter loops.
		y32 := make([]float32, len(y))
		dx32 := make([]float32, len(x))
		dw32 := make([]float32, len(w))
		for n := range g.N {
			for oy := range oh {
				for ox := range ow {
					for kh := range g.KH {
						for kw := range g.KW {
							iy, ix := oy*g.StrideH-g.PadH+kh, ox*g.StrideW-g.PadW+kw
							if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
								continue
							}
							for c := range g.C {
								o := ((n*oh+oy)*ow+ox)*g.C + c
								i := ((n*g.H+iy)*g.W+ix)*g.C + c
								j := (c*g.KH+kh)*g.KW + kw
								y32[o] += float32(x[i] * w[j])
								dx32[i] += float32(dy[o] * w[j])
								dw32[j] += float32(dy[o] * x[i])
							}
						}
					}
				}
			}
		}
		sameBits(t, "DWConv order", y, y32)
		sameBits(t, "DWConvGradX order", dx, dx32)
		sameBits(t, "DWConvGradW order", dw, dw32)

		lhs, m1 := dot64(y, dy)
		rx, m2 := dot64(x, dx)
		rw, m3 := dot64(w, dw)
		if math.Abs(lhs-rx) > 1e-5*(m1+m2) {
			t.Errorf("%+v: <DWConv(x, w), dy> = %g, <x, DWConvGradX(dy, w)> = %g", g, lhs, rx)
		}
		if math.Abs(lhs-rw) > 1e-5*(m1+m3) {
			t.Errorf("%+v: <DWConv(x, w), dy> = %g, <w, DWConvGradW(dy, x)> = %g", g, lhs, rw)
		}
	}
}

// TestDWConvGradFiniteDifferences checks the gradients of L = <DWConv(x,
// w), dy> against central differences in float64 on a few coordinates.
func TestDWConvGradFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	g := dwGeoms[1]
	b := New()
	oh, ow := g.Out()
	x, w, dy := randF(r, g.N*g.H*g.W*g.C), randF(r, g.C*g.KH*g.KW), randF(r, g.N*oh*ow*g.C)
	loss := func(x, w []float32) float64 {
		y := dwNaive(g, func(i int) float64 { return float64(x[i]) }, func(i int) float64 { return float64(w[i]) })
		var s float64
		for i, v := range y {
			s += v * float64(dy[i])
		}
		return s
	}
	dyt := tensorF(t, b, dy, g.N, oh, ow, g.C)
	dxt, _ := b.New(backend.F32, g.N, g.H, g.W, g.C)
	dwt, _ := b.New(backend.F32, g.C, g.KH, g.KW)
	b.DWConvGradX(dxt, dyt, tensorF(t, b, w, g.C, g.KH, g.KW), g)
	b.DWConvGradW(dwt, dyt, tensorF(t, b, x, g.N, g.H, g.W, g.C), g)
	dx, dw := readF(t, b, dxt), readF(t, b, dwt)
	const h = 1e-2 // L is linear in each argument: differences are exact up to rounding
	for range 20 {
		i := r.IntN(len(x))
		xp, xm := append([]float32(nil), x...), append([]float32(nil), x...)
		xp[i] += h
		xm[i] -= h
		fd := (loss(xp, w) - loss(xm, w)) / float64(xp[i]-xm[i])
		if math.Abs(fd-float64(dx[i])) > 1e-4*(1+math.Abs(fd)) {
			t.Errorf("dx[%d] = %v, finite difference %g", i, dx[i], fd)
		}
		j := r.IntN(len(w))
		wp, wm := append([]float32(nil), w...), append([]float32(nil), w...)
		wp[j] += h
		wm[j] -= h
		fd = (loss(x, wp) - loss(x, wm)) / float64(wp[j]-wm[j])
		if math.Abs(fd-float64(dw[j])) > 1e-4*(1+math.Abs(fd)) {
			t.Errorf("dw[%d] = %v, finite difference %g", j, dw[j], fd)
		}
	}
}

// TestNewOpsThreads checks that the new ops give the same bits with one
// thread and with several.
func TestNewOpsThreads(t *testing.T) {
	run := func(threads int) [][]float32 {
		b, err := NewWithOptions(Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(11, 12))
		var out [][]float32
		for _, g := range dwGeoms {
			oh, ow := g.Out()
			xt := tensorF(t, b, randF(r, g.N*g.H*g.W*g.C), g.N, g.H, g.W, g.C)
			wt := tensorF(t, b, randF(r, g.C*g.KH*g.KW), g.C, g.KH, g.KW)
			dyt := tensorF(t, b, randF(r, g.N*oh*ow*g.C), g.N, oh, ow, g.C)
			y, _ := b.New(backend.F32, g.N, oh, ow, g.C)
			dx, _ := b.New(backend.F32, g.N, g.H, g.W, g.C)
			dw, _ := b.New(backend.F32, g.C, g.KH, g.KW)
			b.DWConv(y, xt, wt, g)
			b.DWConvGradX(dx, dyt, wt, g)
			b.DWConvGradW(dw, dyt, xt, g)
			out = append(out, readF(t, b, y), readF(t, b, dx), readF(t, b, dw))
		}
		for _, g := range poolGeoms {
			oh, ow := g.Out()
			xt := tensorF(t, b, randF(r, g.N*g.H*g.W*g.C), g.N, g.H, g.W, g.C)
			dyt := tensorF(t, b, randF(r, g.N*oh*ow*g.C), g.N, oh, ow, g.C)
			y, _ := b.New(backend.F32, g.N, oh, ow, g.C)
			dx, _ := b.New(backend.F32, g.N, g.H, g.W, g.C)
			b.AvgPool(y, xt, g)
			b.AvgPoolGrad(dx, dyt, g)
			b.Add(dx, dx, xt)
			out = append(out, readF(t, b, y), readF(t, b, dx))
		}
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	one, many := run(1), run(4)
	for i := range one {
		sameBits(t, "threads 1 vs 4", many[i], one[i])
	}
}

func TestDWRange(t *testing.T) {
	for p := range 20 {
		for k := 1; k <= 5; k++ {
			for s := 1; s <= 3; s++ {
				for out := 1; out <= 8; out++ {
					o0, o1 := dwRange(p, k, s, out)
					for o := range out {
						in := p-o*s >= 0 && p-o*s < k
						if in != (o >= o0 && o < o1) {
							t.Fatalf("dwRange(%d, %d, %d, %d) = [%d, %d), output %d covers: %v", p, k, s, out, o0, o1, o, in)
						}
					}
				}
			}
		}
	}
}
