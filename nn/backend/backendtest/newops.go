package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// addData returns two operands of n values in [-2, 2) with special pairs
// (NaN, opposite infinities, sums that overflow, signed zeros,
// subnormals) at spread positions.
func (e *env) addData(n int) (a, b []float32) {
	a, b = e.uniform(n, -2, 2), e.uniform(n, -2, 2)
	nan, inf, negz := float32(math.NaN()), float32(math.Inf(1)), float32(math.Copysign(0, -1))
	special := [][2]float32{{nan, 1}, {inf, -inf}, {inf, 1}, {-inf, 2}, {3e38, 3e38}, {-3e38, -3e38},
		{negz, negz}, {negz, 0}, {1e-40, 1e-40}, {1e-40, -1e-40}}
	if n >= 4*len(special) {
		for i, v := range special {
			k := (i*37 + 5) % n
			a[k], b[k] = v[0], v[1]
		}
	}
	return a, b
}

// TestAdd checks Add against the reference and the correctly rounded
// float32 sum, with a separate output, in place (y is a) and with a
// tensor added to itself (b is a), on short and long tensors.
func TestAdd(t *testing.T, b backend.Backend) {
	for _, sh := range [][]int{{1}, {8}, {7, 5}, {3, 9, 9, 17}, {65536}, {100003}} {
		for _, mode := range []string{"separate", "inPlace", "selfAdd"} {
			t.Run(fmt.Sprintf("%v/%s", sh, mode), func(t *testing.T) {
				e := newEnv(t, b)
				n := product(sh)
				a0, b0 := e.addData(n)
				var a, bb, y *pair
				switch mode {
				case "separate":
					a, bb = e.inF32("a", a0, sh...), e.inF32("b", b0, sh...)
					y = e.out("y", backend.F32, sh...)
				case "inPlace":
					a = e.stateF32("a", append([]float32(nil), a0...), sh...)
					bb, y = e.inF32("b", b0, sh...), a
				case "selfAdd":
					a = e.inF32("a", a0, sh...)
					bb, b0 = a, a0
					y = e.out("y", backend.F32, sh...)
				}
				e.run(func(b backend.Backend, s int) { b.Add(y.t[s], a.t[s], bb.t[s]) })
				got := e.closeF32(y, TolElementwise, 1)
				want := make([]float64, n)
				for i := range want {
					// The float32 rounding of the exact sum (exact in
					// float64 up to a rounding that cannot change it).
					want[i] = float64(float32(float64(a0[i]) + float64(b0[i])))
				}
				checkClose(t, "y vs a+b", got, want, TolElementwise, 1)
			})
		}
	}
}

// avgPool64 is an independent average pool in float64.
func avgPool64(x []float64, g backend.PoolGeom) []float64 {
	kh, kw, sh, sw := g.Window()
	oh, ow := g.Out()
	y := make([]float64, g.N*oh*ow*g.C)
	for n := range g.N {
		for py := range oh {
			for px := range ow {
				for c := range g.C {
					var s float64
					for ky := range kh {
						for kx := range kw {
							s += x[((n*g.H+py*sh+ky)*g.W+px*sw+kx)*g.C+c]
						}
					}
					y[((n*oh+py)*ow+px)*g.C+c] = s / float64(kh*kw)
				}
			}
		}
	}
	return y
}

// poolGeoms are the average-pool geometries: square windows with and
// without overlap, rectangular windows and steps, windows that leave
// rows or columns unread, and global pooling (square and rectangular,
// with steps of 1 and of the window).
func poolGeoms() []backend.PoolGeom {
	return []backend.PoolGeom{
		{N: 1, H: 4, W: 4, C: 1, Size: 2, Stride: 2},
		{N: 2, H: 7, W: 6, C: 3, Size: 3, Stride: 2},
		{N: 1, H: 5, W: 5, C: 2, Size: 3, Stride: 1},
		{N: 2, H: 9, W: 8, C: 4, Size: 3, SizeW: 2, Stride: 2, StrideW: 1},
		{N: 1, H: 6, W: 10, C: 5, Size: 2, SizeW: 4, Stride: 1, StrideW: 3},
		{N: 2, H: 5, W: 7, C: 3, Size: 2, Stride: 2},
		{N: 2, H: 8, W: 8, C: 64, Size: 8, Stride: 1},
		{N: 3, H: 7, W: 5, C: 16, Size: 7, SizeW: 5, Stride: 1, StrideW: 1},
		{N: 2, H: 7, W: 5, C: 33, Size: 7, SizeW: 5, Stride: 7, StrideW: 5},
		{N: 1, H: 1, W: 9, C: 3, Size: 1, SizeW: 9, Stride: 1},
		{N: 2, H: 26, W: 26, C: 32, Size: 2, Stride: 2},
	}
}

func poolName(g backend.PoolGeom) string {
	kh, kw, sh, sw := g.Window()
	return fmt.Sprintf("n%dh%dw%dc%d_k%dx%d_s%dx%d", g.N, g.H, g.W, g.C, kh, kw, sh, sw)
}

// TestAvgPool checks AvgPool and AvgPoolGrad against the reference, an
// independent float64 average pool and, for AvgPoolGrad, central finite
// differences of it, on overlapping, rectangular and global windows.
func TestAvgPool(t *testing.T, b backend.Backend) {
	for _, g := range poolGeoms() {
		t.Run(poolName(g), func(t *testing.T) {
			e := newEnv(t, b)
			kh, kw, sh, sw := g.Window()
			oh, ow := g.Out()
			nx, ny := g.N*g.H*g.W*g.C, g.N*oh*ow*g.C
			x := e.inF32("x", e.uniform(nx, -2, 2), g.N, g.H, g.W, g.C)
			y := e.out("y", backend.F32, g.N, oh, ow, g.C)
			e.run(func(b backend.Backend, s int) { b.AvgPool(y.t[s], x.t[s], g) })
			gotY := e.closeF32(y, TolSum, kh*kw)
			x64 := to64(x.f)
			checkClose(t, "y vs float64 mean", gotY, avgPool64(x64, g), TolSum, kh*kw)

			dyv := e.uniform(ny, -1, 1)
			dy := e.inF32("dy", dyv, g.N, oh, ow, g.C)
			dx := e.out("dx", backend.F32, g.N, g.H, g.W, g.C)
			e.run(func(b backend.Backend, s int) { b.AvgPoolGrad(dx.t[s], dy.t[s], g) })
			per := ((kh + sh - 1) / sh) * ((kw + sw - 1) / sw)
			gotDX := e.closeF32(dx, TolSum, per)
			if nx*ny > 4e6 {
				return
			}
			loss := func() float64 {
				var l float64
				for i, v := range avgPool64(x64, g) {
					l += float64(dyv[i]) * v
				}
				return l
			}
			checkGrad(t, "dx vs finite differences", gotDX, fdGrad(x64, loss))
		})
	}
}

// dwGeoms are the depthwise-convolution geometries: the convolution
// geometries with stride 1 and 2, with and without padding, non-square
// kernels and images and one channel (the first six of convGeoms), and
// channel counts that are not multiples of vector widths, padding as
// large as the kernel and a window of the whole image.
func dwGeoms() []backend.ConvGeom {
	return append(convGeoms()[:6:6],
		backend.ConvGeom{N: 2, H: 14, W: 14, C: 32, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		backend.ConvGeom{N: 1, H: 13, W: 13, C: 33, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
		backend.ConvGeom{N: 1, H: 7, W: 9, C: 64, KH: 7, KW: 9, StrideH: 1, StrideW: 1},
	)
}

// dwTaps calls f for every tap of the depthwise convolution g that reads
// the image: output index o, input index i and filter index k (of
// w [C, KH, KW]), in the order of the sum of backend.Backend.DWConv.
func dwTaps(g backend.ConvGeom, f func(o, i, k int)) {
	oh, ow := g.Out()
	for n := range g.N {
		for oy := range oh {
			for ox := range ow {
				for c := range g.C {
					o := ((n*oh+oy)*ow+ox)*g.C + c
					for kh := range g.KH {
						for kw := range g.KW {
							iy, ix := oy*g.StrideH-g.PadH+kh, ox*g.StrideW-g.PadW+kw
							if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
								continue
							}
							f(o, ((n*g.H+iy)*g.W+ix)*g.C+c, (c*g.KH+kh)*g.KW+kw)
						}
					}
				}
			}
		}
	}
}

// dwConv64 is an independent depthwise convolution in float64.
func dwConv64(x, w []float64, g backend.ConvGeom) []float64 {
	oh, ow := g.Out()
	y := make([]float64, g.N*oh*ow*g.C)
	dwTaps(g, func(o, i, k int) { y[o] += x[i] * w[k] })
	return y
}

// TestDWConvI checks DWConvI bit for bit against the reference and an
// int64 direct convolution, over signed and unsigned codes of 2, 4 and 8
// bits, zero points at the range ends, per-tensor and per-channel specs
// for the weights, strides and padding; then Dequant of its result (zero
// points 0, zero row sums) against a direct float64 convolution of the
// dequantized image and weights.
func TestDWConvI(t *testing.T, b backend.Backend) {
	rs := codeRanges() // s2, s4, s8, s8full, u2, u4, u8
	s2, s4, s8, s8f, u2, u4, u8 := rs[0], rs[1], rs[2], rs[3], rs[4], rs[5], rs[6]
	combos := []struct {
		ra, rw   codeRange
		zpa, zpw string
		perChan  bool
	}{
		{u8, s8, "min", "mid", false},
		{s8, s8f, "rand", "rand", true},
		{u4, s4, "max", "min", true},
		{u8, u8, "rand", "max", false},
		{s4, u4, "min", "rand", true},
		{u2, s2, "rand", "max", false},
		{u8, s8, "rand", "rand", true},
		{s8f, s8f, "max", "min", false},
		{u8, s8f, "min", "rand", true},
	}
	for i, g := range dwGeoms() {
		cb := combos[i%len(combos)]
		name := fmt.Sprintf("%s/%s%s_%s%s_perChan%v", geomName(g), cb.ra.name, cb.zpa, cb.rw.name, cb.zpw, cb.perChan)
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, b)
			oh, ow := g.Out()
			pa := e.spec(cb.ra, 1, cb.zpa)
			nb := 1
			if cb.perChan {
				nb = g.C
			}
			pw := e.spec(cb.rw, nb, cb.zpw)
			x := e.inQ8("x", e.codes(g.N*g.H*g.W*g.C, cb.ra.min, cb.ra.max), g.N, g.H, g.W, g.C)
			w := e.inQ8("w", e.codes(g.C*g.KH*g.KW, cb.rw.min, cb.rw.max), g.C, g.KH, g.KW)
			acc := e.out("acc", backend.I32, g.N, oh, ow, g.C)
			e.run(func(b backend.Backend, s int) { b.DWConvI(acc.t[s], x.t[s], w.t[s], g, pa, pw) })
			got := e.exactI32(acc)
			zw := func(k int) int64 {
				if cb.perChan {
					return int64(pw.Zero[k/(g.KH*g.KW)])
				}
				return int64(pw.Zero[0])
			}
			want := make([]int64, len(got))
			dwTaps(g, func(o, i, k int) { want[o] += (int64(x.i[i]) - int64(pa.Zero[0])) * (int64(w.i[k]) - zw(k)) })
			for o, v := range want {
				if int64(got[o]) != v {
					t.Fatalf("acc[%d] = %d, want %d", o, got[o], v)
				}
			}

			// Dequant with zero points 0 and zero row sums: x̂∗ŵ + bias.
			r := g.N * oh * ow
			pa0 := backend.QuantSpec{Scale: pa.Scale, Zero: []int32{0}, QMin: -128, QMax: 255}
			pw0 := backend.QuantSpec{Scale: pw.Scale, Zero: make([]int32, nb), QMin: -128, QMax: 255}
			sa := e.inI32("sa (zeros)", make([]int32, r), r)
			sb := e.inI32("sb (zeros)", make([]int32, g.C), g.C)
			bias := e.inF32("bias", e.uniform(g.C, -0.1, 0.1), g.C)
			y := e.out("y", backend.F32, g.N, oh, ow, g.C)
			e.run(func(b backend.Backend, s int) {
				b.Dequant(y.t[s], acc.t[s], sa.t[s], sb.t[s], g.KH*g.KW, pa0, pw0, bias.t[s])
			})
			gotY := e.closeF32(y, TolDequant, 1)
			xh, wh := make([]float64, len(x.i)), make([]float64, len(w.i))
			for i, v := range x.i {
				xh[i] = float64(pa.Scale[0]) * float64(v-pa.Zero[0])
			}
			for k, v := range w.i {
				c := 0
				if cb.perChan {
					c = k / (g.KH * g.KW)
				}
				wh[k] = float64(pw.Scale[c]) * float64(v-pw.Zero[c])
			}
			wantY := dwConv64(xh, wh, g)
			for o := range wantY {
				wantY[o] += float64(bias.f[o%g.C])
			}
			checkClose(t, "y vs direct convolution of x̂ and ŵ", gotY, wantY, TolDequant, 1)
		})
	}
}

// TestDWConv checks DWConv, DWConvGradX and DWConvGradW against the
// reference and a float64 direct convolution, and both gradients against
// central finite differences of it.
func TestDWConv(t *testing.T, b backend.Backend) {
	for _, g := range dwGeoms() {
		t.Run(geomName(g), func(t *testing.T) {
			e := newEnv(t, b)
			oh, ow := g.Out()
			nx, ny, nw := g.N*g.H*g.W*g.C, g.N*oh*ow*g.C, g.C*g.KH*g.KW
			x := e.inF32("x", e.uniform(nx, -2, 2), g.N, g.H, g.W, g.C)
			w := e.inF32("w", e.uniform(nw, -1, 1), g.C, g.KH, g.KW)
			y := e.out("y", backend.F32, g.N, oh, ow, g.C)
			e.run(func(b backend.Backend, s int) { b.DWConv(y.t[s], x.t[s], w.t[s], g) })
			gotY := e.closeF32(y, TolSum, g.KH*g.KW)
			x64, w64 := to64(x.f), to64(w.f)
			checkClose(t, "y vs float64 convolution", gotY, dwConv64(x64, w64, g), TolSum, g.KH*g.KW)

			dyv := e.uniform(ny, -1, 1)
			dy := e.inF32("dy", dyv, g.N, oh, ow, g.C)
			dx := e.out("dx", backend.F32, g.N, g.H, g.W, g.C)
			dw := e.out("dw", backend.F32, g.C, g.KH, g.KW)
			e.run(func(b backend.Backend, s int) {
				b.DWConvGradX(dx.t[s], dy.t[s], w.t[s], g)
				b.DWConvGradW(dw.t[s], dy.t[s], x.t[s], g)
			})
			per := ((g.KH + g.StrideH - 1) / g.StrideH) * ((g.KW + g.StrideW - 1) / g.StrideW)
			gotDX := e.closeF32(dx, TolSum, per)
			gotDW := e.closeF32(dw, TolSum, g.N*oh*ow)
			// The adjoint sums in float64.
			wantDX, wantDW := make([]float64, nx), make([]float64, nw)
			dwTaps(g, func(o, i, k int) {
				wantDX[i] += float64(dyv[o]) * w64[k]
				wantDW[k] += float64(dyv[o]) * x64[i]
			})
			checkClose(t, "dx vs float64 adjoint", gotDX, wantDX, TolSum, per)
			checkClose(t, "dw vs float64 adjoint", gotDW, wantDW, TolSum, g.N*oh*ow)
			if (nx+nw)*ny*g.KH*g.KW > 2e7 {
				return
			}
			loss := func() float64 {
				var l float64
				for i, v := range dwConv64(x64, w64, g) {
					l += float64(dyv[i]) * v
				}
				return l
			}
			checkGrad(t, "dx vs finite differences", gotDX, fdGrad(x64, loss))
			checkGrad(t, "dw vs finite differences", gotDW, fdGrad(w64, loss))
		})
	}
}
