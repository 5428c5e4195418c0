package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// convGeoms are the convolution geometries of the tests: batch 1,
// stride 2 with padding, non-square kernels and images, one channel,
// sizes that are not multiples of tile sizes.
func convGeoms() []backend.ConvGeom {
	return []backend.ConvGeom{
		{N: 1, H: 5, W: 5, C: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1},
		{N: 2, H: 7, W: 6, C: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
		{N: 3, H: 9, W: 11, C: 5, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{N: 1, H: 8, W: 7, C: 2, KH: 5, KW: 3, StrideH: 2, StrideW: 1, PadH: 2, PadW: 0},
		{N: 2, H: 4, W: 4, C: 7, KH: 1, KW: 1, StrideH: 1, StrideW: 1},
		{N: 1, H: 6, W: 6, C: 3, KH: 4, KW: 4, StrideH: 3, StrideW: 3, PadH: 3, PadW: 3},
		{N: 1, H: 13, W: 13, C: 33, KH: 3, KW: 3, StrideH: 2, StrideW: 2},
		{N: 2, H: 9, W: 8, C: 1, KH: 5, KW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 1}, // the MNIST stem: 5×5 on one channel
	}
}

func geomName(g backend.ConvGeom) string {
	return fmt.Sprintf("n%dh%dw%dc%d_k%dx%d_s%dx%d_p%dx%d", g.N, g.H, g.W, g.C, g.KH, g.KW, g.StrideH, g.StrideW, g.PadH, g.PadW)
}

// im2colAt returns the image offset that im2col entry (r, k) reads, or -1
// for padding; it is a direct statement of ConvGeom's layout.
func im2colAt(g backend.ConvGeom, r, k int) int {
	oh, ow := g.Out()
	n, oy, ox := r/(oh*ow), (r/ow)%oh, r%ow
	kh, kw, c := k/(g.KW*g.C), (k/g.C)%g.KW, k%g.C
	iy, ix := oy*g.StrideH-g.PadH+kh, ox*g.StrideW-g.PadW+kw
	if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
		return -1
	}
	return ((n*g.H+iy)*g.W+ix)*g.C + c
}

// TestIm2ColI checks Im2ColI bit for bit against the reference and the
// layout of ConvGeom, padding with the zero point.
func TestIm2ColI(t *testing.T, b backend.Backend) {
	for i, g := range convGeoms() {
		t.Run(geomName(g), func(t *testing.T) {
			e := newEnv(t, b)
			pad := int32([]int{0, 7, -3, 255, -128}[i%5])
			x := e.inQ8("x", e.codes(g.N*g.H*g.W*g.C, 0, 255), g.N, g.H, g.W, g.C)
			cols := e.out("cols", backend.Q8, g.Rows(), g.K())
			e.run(func(b backend.Backend, s int) { b.Im2ColI(cols.t[s], x.t[s], g, pad) })
			got := e.exactI32(cols)
			for r := range g.Rows() {
				for k := range g.K() {
					want := pad
					if at := im2colAt(g, r, k); at >= 0 {
						want = x.i[at]
					}
					if v := got[r*g.K()+k]; v != want {
						t.Fatalf("cols[%d,%d] = %d, want %d", r, k, v, want)
					}
				}
			}
		})
	}
}

// TestIm2Col checks Im2Col bit for bit against the reference and the
// layout of ConvGeom, padding with 0.
func TestIm2Col(t *testing.T, b backend.Backend) {
	for _, g := range convGeoms() {
		t.Run(geomName(g), func(t *testing.T) {
			e := newEnv(t, b)
			x := e.inF32("x", e.uniform(g.N*g.H*g.W*g.C, -2, 2), g.N, g.H, g.W, g.C)
			cols := e.out("cols", backend.F32, g.Rows(), g.K())
			e.run(func(b backend.Backend, s int) { b.Im2Col(cols.t[s], x.t[s], g) })
			got := e.exactF32(cols)
			for r := range g.Rows() {
				for k := range g.K() {
					var want float32
					if at := im2colAt(g, r, k); at >= 0 {
						want = x.f[at]
					}
					if v := got[r*g.K()+k]; v != want {
						t.Fatalf("cols[%d,%d] = %v, want %v", r, k, v, want)
					}
				}
			}
		})
	}
}

// TestCol2Im checks Col2Im against the reference and as the adjoint of
// Im2Col: <Im2Col(x), c> == <x, Col2Im(c)>.
func TestCol2Im(t *testing.T, b backend.Backend) {
	for _, g := range convGeoms() {
		t.Run(geomName(g), func(t *testing.T) {
			e := newEnv(t, b)
			c := e.inF32("cols", e.uniform(g.Rows()*g.K(), -1, 1), g.Rows(), g.K())
			x := e.inF32("x", e.uniform(g.N*g.H*g.W*g.C, -1, 1), g.N, g.H, g.W, g.C)
			dx := e.out("dx", backend.F32, g.N, g.H, g.W, g.C)
			cx := e.out("im2col(x)", backend.F32, g.Rows(), g.K())
			e.run(func(b backend.Backend, s int) {
				b.Col2Im(dx.t[s], c.t[s], g)
				b.Im2Col(cx.t[s], x.t[s], g)
			})
			gotDX := e.closeF32(dx, TolSum, g.KH*g.KW)
			gotCX := e.exactF32(cx)
			var lhs, rhs, mag float64
			for i, v := range gotCX {
				lhs += float64(v) * float64(c.f[i])
				mag += math.Abs(float64(v) * float64(c.f[i]))
			}
			for i, v := range gotDX {
				rhs += float64(v) * float64(x.f[i])
			}
			if d := math.Abs(lhs - rhs); d > 1e-5*(1+mag) {
				t.Fatalf("<Im2Col(x), c> = %v, <x, Col2Im(c)> = %v: not adjoint", lhs, rhs)
			}
		})
	}
}

// gemmICase is a GemmI shape with code ranges for a and b.
type gemmICase struct {
	m, k, n int
	ra, rb  codeRange
}

func gemmICases() []gemmICase {
	rs := codeRanges()
	u8, s8, s8f, u2, s2, u4, s4 := rs[6], rs[2], rs[3], rs[4], rs[0], rs[5], rs[1]
	return []gemmICase{
		{1, 1, 1, u8, s8},
		{1, 9, 32, u8, s8},
		{7, 13, 5, u4, s4},
		{33, 27, 17, u2, s2},
		{65, 75, 63, u8, s8f},
		{2, 3, 130, s8f, s8f},
		{130, 31, 3, u8, u8},
		{64, 5408, 128, u8, s8},
		{3, 9000, 5, u8, s8f},
		{2, 140001, 2, u8, u8}, // wraps int32: the result is modulo 2^32
	}
}

// TestGemmI checks GemmI bit for bit against the reference and a float64
// triple loop (exact for these sizes; reduced modulo 2^32 where the sum
// overflows int32).
func TestGemmI(t *testing.T, b backend.Backend) {
	for _, c := range gemmICases() {
		t.Run(fmt.Sprintf("%dx%dx%d_%s_%s", c.m, c.k, c.n, c.ra.name, c.rb.name), func(t *testing.T) {
			e := newEnv(t, b)
			a := e.inQ8("a", e.codes(c.m*c.k, c.ra.min, c.ra.max), c.m, c.k)
			bb := e.inQ8("b", e.codes(c.n*c.k, c.rb.min, c.rb.max), c.n, c.k)
			if c.k > 100000 {
				for i := range a.i {
					a.i[i], bb.i[i%len(bb.i)] = 255, 255
				}
				e.write(a, under)
				e.write(a, refer)
				e.write(bb, under)
				e.write(bb, refer)
			}
			acc := e.out("acc", backend.I32, c.m, c.n)
			e.run(func(b backend.Backend, s int) { b.GemmI(acc.t[s], a.t[s], bb.t[s]) })
			got := e.exactI32(acc)
			for i := range c.m {
				for j := range c.n {
					var sum float64
					for k := range c.k {
						sum += float64(a.i[i*c.k+k]) * float64(bb.i[j*c.k+k])
					}
					want := int32(uint32(int64(sum)))
					if got[i*c.n+j] != want {
						t.Fatalf("acc[%d,%d] = %d, want %d", i, j, got[i*c.n+j], want)
					}
				}
			}
		})
	}
}

// TestRowSumI checks RowSumI bit for bit against the reference and an
// int64 sum.
func TestRowSumI(t *testing.T, b backend.Backend) {
	for _, c := range gemmICases()[:9] {
		t.Run(fmt.Sprintf("%dx%d", c.m, c.k), func(t *testing.T) {
			e := newEnv(t, b)
			a := e.inQ8("a", e.codes(c.m*c.k, c.ra.min, c.ra.max), c.m, c.k)
			s := e.out("s", backend.I32, c.m)
			e.run(func(b backend.Backend, side int) { b.RowSumI(s.t[side], a.t[side]) })
			got := e.exactI32(s)
			for i := range c.m {
				var sum int64
				for _, v := range a.i[i*c.k : (i+1)*c.k] {
					sum += int64(v)
				}
				if int64(got[i]) != sum {
					t.Fatalf("s[%d] = %d, want %d", i, got[i], sum)
				}
			}
		})
	}
}

// hostGemmI returns acc = a·bᵀ (wrapping int32), the row sums of a and b.
func hostGemmI(a, b []int32, m, k, n int) (acc, sa, sb []int32) {
	acc, sa, sb = make([]int32, m*n), make([]int32, m), make([]int32, n)
	for i := range m {
		for _, v := range a[i*k : (i+1)*k] {
			sa[i] += v
		}
		for j := range n {
			var s int32
			for l := range k {
				s += a[i*k+l] * b[j*k+l]
			}
			acc[i*n+j] = s
		}
	}
	for j := range n {
		for _, v := range b[j*k : (j+1)*k] {
			sb[j] += v
		}
	}
	return
}

// TestDequant checks Dequant against the reference and against
// Σ(qa-za)(qb-zb)·sa·sb + bias in float64, with per-tensor and per-column
// specs for b, zero points at the range ends and with and without bias.
func TestDequant(t *testing.T, b backend.Backend) {
	rs := codeRanges()
	cases := []struct {
		m, k, n int
		ra, rb  codeRange
		zpa     string
		zpb     string
		perChan bool
		bias    bool
	}{
		{1, 1, 1, rs[6], rs[2], "min", "mid", false, false},
		{5, 9, 32, rs[6], rs[2], "min", "mid", true, true},
		{17, 27, 7, rs[5], rs[1], "max", "min", true, false},
		{33, 75, 13, rs[4], rs[0], "rand", "max", false, true},
		{9, 5408, 11, rs[6], rs[3], "max", "max", true, true},
		{3, 9000, 4, rs[3], rs[6], "min", "rand", true, true},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%dx%dx%d_%s%s_%s%s_perChan%v_bias%v", c.m, c.k, c.n, c.ra.name, c.zpa, c.rb.name, c.zpb, c.perChan, c.bias)
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, b)
			qa, qb := e.codes(c.m*c.k, c.ra.min, c.ra.max), e.codes(c.n*c.k, c.rb.min, c.rb.max)
			pa := e.spec(c.ra, 1, c.zpa)
			nb := 1
			if c.perChan {
				nb = c.n
			}
			pb := e.spec(c.rb, nb, c.zpb)
			hacc, hsa, hsb := hostGemmI(qa, qb, c.m, c.k, c.n)
			acc := e.inI32("acc", hacc, c.m, c.n)
			sa := e.inI32("sa", hsa, c.m)
			sb := e.inI32("sb", hsb, c.n)
			var bias *pair
			if c.bias {
				bias = e.inF32("bias", e.uniform(c.n, -0.1, 0.1), c.n)
			}
			y := e.out("y", backend.F32, c.m, c.n)
			e.run(func(b backend.Backend, s int) {
				var bt backend.Tensor
				if bias != nil {
					bt = bias.t[s]
				}
				b.Dequant(y.t[s], acc.t[s], sa.t[s], sb.t[s], c.k, pa, pb, bt)
			})
			got := e.closeF32(y, TolDequant, 1)
			want := make([]float64, c.m*c.n)
			for i := range c.m {
				for j := range c.n {
					ch := 0
					if c.perChan {
						ch = j
					}
					var s int64
					for l := range c.k {
						s += int64(qa[i*c.k+l]-pa.Zero[0]) * int64(qb[j*c.k+l]-pb.Zero[ch])
					}
					w := float64(s) * float64(pa.Scale[0]) * float64(pb.Scale[ch])
					if bias != nil {
						w += float64(bias.f[j])
					}
					want[i*c.n+j] = w
				}
			}
			checkClose(t, "y vs Σ(qa-za)(qb-zb)·sa·sb", got, want, TolDequant, 1)
		})
	}
}

// TestConvI checks the integer convolution of the forward pass (Im2ColI
// padded with the activation zero point, GemmI, RowSumI of both operands,
// Dequant) against the reference and against a direct float64
// convolution of the dequantized input and weights with zero padding.
func TestConvI(t *testing.T, b backend.Backend) {
	rs := codeRanges()
	for i, g := range convGeoms() {
		ra, rw := rs[6], rs[2]
		if i%3 == 1 {
			ra, rw = rs[5], rs[1]
		}
		oc := []int{1, 8, 5, 3, 16, 2, 7}[i%7]
		t.Run(geomName(g), func(t *testing.T) {
			e := newEnv(t, b)
			pa := e.spec(ra, 1, []string{"min", "rand", "max"}[i%3])
			pw := e.spec(rw, oc, "rand")
			x := e.inQ8("x", e.codes(g.N*g.H*g.W*g.C, ra.min, ra.max), g.N, g.H, g.W, g.C)
			w := e.inQ8("w", e.codes(oc*g.K(), rw.min, rw.max), oc, g.K())
			bias := e.inF32("bias", e.uniform(oc, -0.1, 0.1), oc)
			cols := e.out("cols", backend.Q8, g.Rows(), g.K())
			acc := e.out("acc", backend.I32, g.Rows(), oc)
			sa := e.out("sa", backend.I32, g.Rows())
			sw := e.out("sw", backend.I32, oc)
			y := e.out("y", backend.F32, g.Rows(), oc)
			e.run(func(b backend.Backend, s int) {
				b.Im2ColI(cols.t[s], x.t[s], g, pa.Zero[0])
				b.GemmI(acc.t[s], cols.t[s], w.t[s])
				b.RowSumI(sa.t[s], cols.t[s])
				b.RowSumI(sw.t[s], w.t[s])
				b.Dequant(y.t[s], acc.t[s], sa.t[s], sw.t[s], g.K(), pa, pw, bias.t[s])
			})
			e.exactI32(cols)
			e.exactI32(acc)
			e.exactI32(sa)
			e.exactI32(sw)
			got := e.closeF32(y, TolDequant, 1)
			oh, ow := g.Out()
			want := make([]float64, g.Rows()*oc)
			for n := range g.N {
				for oy := range oh {
					for ox := range ow {
						for o := range oc {
							sum := float64(bias.f[o])
							for kh := range g.KH {
								for kw := range g.KW {
									iy, ix := oy*g.StrideH-g.PadH+kh, ox*g.StrideW-g.PadW+kw
									if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
										continue // zero padding
									}
									for c := range g.C {
										xv := float64(pa.Scale[0]) * float64(x.i[((n*g.H+iy)*g.W+ix)*g.C+c]-pa.Zero[0])
										wv := float64(pw.Scale[o]) * float64(w.i[o*g.K()+(kh*g.KW+kw)*g.C+c]-pw.Zero[o])
										sum += xv * wv
									}
								}
							}
							want[((n*oh+oy)*ow+ox)*oc+o] = sum
						}
					}
				}
			}
			checkClose(t, "y vs direct convolution", got, want, TolDequant, 1)
		})
	}
}

// TestGemm checks Gemm against the reference and a float64 triple loop,
// for every transposition, alpha and beta (beta == 0 with a NaN-filled C).
func TestGemm(t *testing.T, b backend.Backend) {
	cases := []struct {
		m, k, n     int
		ta, tb      bool
		alpha, beta float32
	}{
		{1, 1, 1, false, false, 1, 0},
		{1, 9, 32, false, true, 1, 0},
		{7, 13, 5, true, false, 0.5, 0},
		{33, 27, 17, true, true, -1, 1},
		{65, 75, 63, false, false, 1, 0.5},
		{31, 130, 3, false, true, 2, -1},
		{130, 9, 33, true, false, 1, 1},
		{64, 5408, 128, false, true, 1, 0},
		{5, 9000, 3, true, false, 1, 0},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%dx%dx%d_tA%v_tB%v_a%v_b%v", c.m, c.k, c.n, c.ta, c.tb, c.alpha, c.beta)
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, b)
			ash, bsh := []int{c.m, c.k}, []int{c.k, c.n}
			if c.ta {
				ash = []int{c.k, c.m}
			}
			if c.tb {
				bsh = []int{c.n, c.k}
			}
			a := e.inF32("a", e.uniform(c.m*c.k, -1, 1), ash...)
			bb := e.inF32("b", e.uniform(c.k*c.n, -1, 1), bsh...)
			var cm *pair
			var c0 []float32
			if c.beta == 0 {
				cm = e.out("c", backend.F32, c.m, c.n)
			} else {
				c0 = e.uniform(c.m*c.n, -1, 1)
				cm = e.stateF32("c", append([]float32(nil), c0...), c.m, c.n)
			}
			e.run(func(b backend.Backend, s int) { b.Gemm(cm.t[s], a.t[s], bb.t[s], c.ta, c.tb, c.alpha, c.beta) })
			got := e.closeF32(cm, TolGemm, c.k)
			at := func(i, l int) float64 {
				if c.ta {
					return float64(a.f[l*c.m+i])
				}
				return float64(a.f[i*c.k+l])
			}
			bt := func(l, j int) float64 {
				if c.tb {
					return float64(bb.f[j*c.k+l])
				}
				return float64(bb.f[l*c.n+j])
			}
			want := make([]float64, c.m*c.n)
			for i := range c.m {
				for j := range c.n {
					var s float64
					for l := range c.k {
						s += at(i, l) * bt(l, j)
					}
					w := float64(c.alpha) * s
					if c.beta != 0 {
						w += float64(c.beta) * float64(c0[i*c.n+j])
					}
					want[i*c.n+j] = w
				}
			}
			checkClose(t, "c vs float64 triple loop", got, want, TolGemm, c.k)
		})
	}
}

// TestGemmIDequant checks the fused integer GEMM with its dequantization
// epilogue (backend.FusedGemmIDequant) on the backend under test against
// the composed ops it replaces, GemmI, RowSumI and Dequant, run on the
// reference: shapes with one and many blocks of rows, k below one float
// chunk and across several (k > 258), per-tensor and per-channel weights,
// with and without bias, and the shape of a batch of 64 through a
// 2304 -> 128 fc layer.
func TestGemmIDequant(t *testing.T, b backend.Backend) {
	f, ok := b.(backend.FusedGemmIDequant)
	if !ok {
		t.Fatalf("%s (%T) lacks backend.FusedGemmIDequant, whose op the contract declares", b.Name(), b)
	}
	rs := codeRanges()
	cases := []struct {
		m, k, n int
		ra, rb  codeRange
		perChan bool
		bias    bool
	}{
		{1, 1, 1, rs[6], rs[2], false, false},
		{37, 25, 16, rs[6], rs[2], true, true},
		{3000, 9, 5, rs[5], rs[1], true, false},
		{64, 700, 13, rs[4], rs[0], false, true},
		{6, 2304, 10, rs[6], rs[3], true, true},
		{64, 2304, 128, rs[6], rs[2], true, true}, // the first fc layer of the patent net
	}
	for _, c := range cases {
		name := fmt.Sprintf("%dx%dx%d_%s_%s_perChan%v_bias%v", c.m, c.k, c.n, c.ra.name, c.rb.name, c.perChan, c.bias)
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, b)
			pa := e.spec(c.ra, 1, "rand")
			nb := 1
			if c.perChan {
				nb = c.n
			}
			pb := e.spec(c.rb, nb, "rand")
			a := e.inQ8("a", e.codes(c.m*c.k, c.ra.min, c.ra.max), c.m, c.k)
			w := e.inQ8("b", e.codes(c.n*c.k, c.rb.min, c.rb.max), c.n, c.k)
			_, _, hsb := hostGemmI(nil, w.i, 0, c.k, c.n)
			sb := e.inI32("sb", hsb, c.n)
			var bias *pair
			if c.bias {
				bias = e.inF32("bias", e.uniform(c.n, -0.1, 0.1), c.n)
			}
			acc := e.out("acc", backend.I32, c.m, c.n)
			sa := e.out("sa", backend.I32, c.m)
			y := e.out("y", backend.F32, c.m, c.n)
			e.run(func(b backend.Backend, s int) {
				var bt backend.Tensor
				if bias != nil {
					bt = bias.t[s]
				}
				if s == under {
					f.GemmIDequant(y.t[s], a.t[s], w.t[s], sb.t[s], bt, pa, pb)
					return
				}
				b.GemmI(acc.t[s], a.t[s], w.t[s])
				b.RowSumI(sa.t[s], a.t[s])
				b.Dequant(y.t[s], acc.t[s], sa.t[s], sb.t[s], c.k, pa, pb, bt)
			})
			e.closeF32(y, TolDequant, 1)
		})
	}
}
