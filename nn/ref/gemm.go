package ref

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/vktrain/vktrain/nn/backend"
)

// im2col fills rows [lo, hi) of cols from the NHWC image x, with pad
// outside the image.
func im2col[T int32 | float32](cols, x []T, g backend.ConvGeom, pad T, lo, hi int) {
	oh, ow := g.Out()
	k := g.K()
	for r := lo; r < hi; r++ {
		n, rem := r/(oh*ow), r%(oh*ow)
		y0, x0 := (rem/ow)*g.StrideH-g.PadH, (rem%ow)*g.StrideW-g.PadW
		row := cols[r*k : (r+1)*k]
		j := 0
		for kh := range g.KH {
			iy := y0 + kh
			for kw := range g.KW {
				ix := x0 + kw
				dst := row[j : j+g.C]
				j += g.C
				if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
					for c := range dst {
						dst[c] = pad
					}
					continue
				}
				off := ((n*g.H+iy)*g.W + ix) * g.C
				copy(dst, x[off:off+g.C])
			}
		}
	}
}

// Im2ColI writes the im2col matrix of the I32 codes x into cols, with pad
// outside the image.
func (b *Backend) Im2ColI(cols, x backend.Tensor, g backend.ConvGeom, pad int32) {
	d, ok := backend.OpIm2ColI.Check(&b.err, b, backend.Params{Conv: g, Pad: pad}, cols, x)
	if !ok {
		return
	}
	ct, xt := cols.(*Tensor), x.(*Tensor)
	b.parallel(d.R, max(1, 4096/d.C), func(lo, hi int) {
		im2col(ct.st.i, xt.st.i, g, pad, lo, hi)
	})
}

// Im2Col writes the im2col matrix of the F32 tensor x into cols, with 0
// outside the image.
func (b *Backend) Im2Col(cols, x backend.Tensor, g backend.ConvGeom) {
	d, ok := backend.OpIm2Col.Check(&b.err, b, backend.Params{Conv: g}, cols, x)
	if !ok {
		return
	}
	ct, xt := cols.(*Tensor), x.(*Tensor)
	b.parallel(d.R, max(1, 4096/d.C), func(lo, hi int) {
		im2col(ct.st.f, xt.st.f, g, 0, lo, hi)
	})
}

// Col2Im writes dx = the sum of the cols entries that read each input
// element, accumulated in float32 over rows in increasing order and, within
// a row, columns in increasing order.
func (b *Backend) Col2Im(dx, cols backend.Tensor, g backend.ConvGeom) {
	d, ok := backend.OpCol2Im.Check(&b.err, b, backend.Params{Conv: g}, dx, cols)
	if !ok {
		return
	}
	xt, ct := dx.(*Tensor), cols.(*Tensor)
	oh, ow := g.Out()
	k := d.C
	img := g.H * g.W * g.C
	// Rows of image n only touch image n: split by image.
	b.parallel(g.N, 1, func(nlo, nhi int) {
		clear(xt.st.f[nlo*img : nhi*img])
		for r := nlo * oh * ow; r < nhi*oh*ow; r++ {
			n, rem := r/(oh*ow), r%(oh*ow)
			y0, x0 := (rem/ow)*g.StrideH-g.PadH, (rem%ow)*g.StrideW-g.PadW
			row := ct.st.f[r*k : (r+1)*k]
			j := 0
			for kh := range g.KH {
				iy := y0 + kh
				for kw := range g.KW {
					ix := x0 + kw
					src := row[j : j+g.C]
					j += g.C
					if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
						continue
					}
					off := ((n*g.H+iy)*g.W + ix) * g.C
					dst := xt.st.f[off : off+g.C]
					for c, v := range src {
						dst[c] += v
					}
				}
			}
		}
	})
}

// GemmI computes acc[m,n] = Σ_k a[m,k]·b[n,k] in wrapping int32.
func (b *Backend) GemmI(acc, a, bm backend.Tensor) {
	d, ok := backend.OpGemmI.Check(&b.err, b, backend.Params{}, acc, a, bm)
	if !ok {
		return
	}
	ct, at, bt := acc.(*Tensor), a.(*Tensor), bm.(*Tensor)
	m, n, k := d.M, d.N, d.K
	// Wrapping int32 sums are exact modulo 2^32, so the result depends
	// neither on the split over rows nor on the blocking of k.
	if k >= gemmFloatMinK && b.gemmIFloat(ct.st.i, at.st.i, bt.st.i, m, n, k) {
		return
	}
	b.parallel(m, max(1, 1<<15/(n*k+1)), func(lo, hi int) {
		gemmI(ct.st.i, at.st.i, bt.st.i, n, k, lo, hi)
	})
}

// gemmFloatMinK is the smallest k for which GemmI goes through the float
// GEMM.
const gemmFloatMinK = 64

// gemmIFloat computes acc = a·bᵀ exactly with float32 Sgemm (SIMD) on
// chunks of k short enough that every partial sum is an integer of
// magnitude at most 2^24, hence exact in float32 in any order; the chunk
// results are added in int32. It returns false, doing nothing, when the
// values are too large for chunks of a useful length (never for 8-bit
// codes, whose chunks hold at least 256 terms).
func (b *Backend) gemmIFloat(acc, a, bm []int32, m, n, k int) bool {
	ma, mb := maxAbs(a), maxAbs(bm)
	if ma == 0 || mb == 0 {
		clear(acc)
		return true
	}
	kc := (1 << 24) / (ma * mb)
	if kc < gemmFloatMinK {
		return false
	}
	kc = min(kc, 1024, int64(k))
	if cap(b.scratch) < (m+n)*k {
		b.scratch = make([]float32, (m+n)*k)
	}
	af, bf := b.scratch[:m*k], b.scratch[m*k:(m+n)*k]
	b.parallel(m*k, 1<<16, func(lo, hi int) {
		for i, v := range a[lo:hi] {
			af[lo+i] = float32(v)
		}
	})
	for i, v := range bm {
		bf[i] = float32(v)
	}
	b.parallel(m, max(1, (1<<18)/(n*k)), func(lo, hi int) {
		rows := hi - lo
		tmp := make([]float32, rows*n)
		out := acc[lo*n : hi*n]
		clear(out)
		for k0 := 0; k0 < k; k0 += int(kc) {
			kl := min(k-k0, int(kc))
			gonum.Implementation{}.Sgemm(blas.NoTrans, blas.Trans, rows, n, kl, 1, af[lo*k+k0:], k, bf[k0:], k, 0, tmp, n)
			for i, v := range tmp {
				out[i] += int32(v)
			}
		}
	})
	return true
}

func maxAbs(v []int32) int64 {
	var lo, hi int32
	for _, x := range v {
		lo = min(lo, x)
		hi = max(hi, x)
	}
	return max(-int64(lo), int64(hi))
}

// gemmKBlock is the k extent of one pass over b, sized so that a block of
// b stays in cache.
const gemmKBlock = 256

// gemmI computes rows [lo, hi) of acc = a·bᵀ for a [·, k] and b [n, k].
func gemmI(acc, a, b []int32, n, k, lo, hi int) {
	clear(acc[lo*n : hi*n])
	for k0 := 0; k0 < k; k0 += gemmKBlock {
		k1 := min(k, k0+gemmKBlock)
		m := lo
		for ; m+2 <= hi; m += 2 {
			a0 := a[m*k+k0 : m*k+k1]
			a1 := a[(m+1)*k+k0 : (m+1)*k+k1]
			c0 := acc[m*n : (m+1)*n]
			c1 := acc[(m+1)*n : (m+2)*n]
			j := 0
			for ; j+2 <= n; j += 2 {
				b0 := b[j*k+k0 : j*k+k1]
				b1 := b[(j+1)*k+k0 : (j+1)*k+k1]
				s00, s01, s10, s11 := dot2x2(a0, a1, b0, b1)
				c0[j] += s00
				c0[j+1] += s01
				c1[j] += s10
				c1[j+1] += s11
			}
			for ; j < n; j++ {
				bj := b[j*k+k0 : j*k+k1]
				c0[j] += dot(a0, bj)
				c1[j] += dot(a1, bj)
			}
		}
		for ; m < hi; m++ {
			am := a[m*k+k0 : m*k+k1]
			cm := acc[m*n : (m+1)*n]
			for j := range n {
				cm[j] += dot(am, b[j*k+k0:j*k+k1])
			}
		}
	}
}

func dot(a, b []int32) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

func dot2x2(a0, a1, b0, b1 []int32) (s00, s01, s10, s11 int32) {
	a1 = a1[:len(a0)]
	b0 = b0[:len(a0)]
	b1 = b1[:len(a0)]
	for i, x := range a0 {
		y := a1[i]
		u, v := b0[i], b1[i]
		s00 += x * u
		s01 += x * v
		s10 += y * u
		s11 += y * v
	}
	return
}

// RowSumI writes s[m] = Σ_k a[m,k] in wrapping int32.
func (b *Backend) RowSumI(s, a backend.Tensor) {
	d, ok := backend.OpRowSumI.Check(&b.err, b, backend.Params{}, s, a)
	if !ok {
		return
	}
	st, at := s.(*Tensor), a.(*Tensor)
	m, k := d.M, d.K
	b.parallel(m, max(1, 1<<14/k), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var sum int32
			for _, v := range at.st.i[i*k : (i+1)*k] {
				sum += v
			}
			st.st.i[i] = sum
		}
	})
}

// Dequant turns int32 products into floats, see backend.Backend. The
// integer part v = acc - zb·sa - za·sb + k·za·zb is wrapping int32; then
// y = float32(sa·sb)·float32(v) + bias, each product rounded to float32.
func (b *Backend) Dequant(y, acc, sa, sb backend.Tensor, k int, pa, pb backend.QuantSpec, bias backend.Tensor) {
	d, ok := backend.OpDequant.Check(&b.err, b, backend.Params{K: k, P: pa, PB: pb}, y, acc, sa, sb, bias)
	if !ok {
		return
	}
	yt, ct, sat, sbt := y.(*Tensor), acc.(*Tensor), sa.(*Tensor), sb.(*Tensor)
	var bt *Tensor
	if !isNil(bias) {
		bt = bias.(*Tensor)
	}
	m, n := d.M, d.N
	sA, zA := pa.Scale[0], pa.Zero[0]
	scale := make([]float32, n)
	zb := make([]int32, n)
	kzz := make([]int32, n)
	for j := range n {
		c := 0
		if len(pb.Scale) > 1 {
			c = j
		}
		scale[j] = sA * pb.Scale[c]
		zb[j] = pb.Zero[c]
		kzz[j] = int32(k) * zA * zb[j]
	}
	var bv []float32
	if bt != nil {
		bv = bt.st.f
	}
	b.parallel(m, max(1, 1<<14/n), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := ct.st.i[i*n : (i+1)*n]
			out := yt.st.f[i*n : (i+1)*n]
			si := sat.st.i[i]
			for j, a := range row {
				v := a - zb[j]*si - zA*sbt.st.i[j] + kzz[j]
				f := float32(scale[j] * float32(v))
				if bv != nil {
					f += bv[j]
				}
				out[j] = f
			}
		}
	})
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C with gonum's Sgemm.
func (b *Backend) Gemm(c, a, bm backend.Tensor, transA, transB bool, alpha, beta float32) {
	d, ok := backend.OpGemm.Check(&b.err, b, backend.Params{TransA: transA, TransB: transB, Alpha: alpha, Beta: beta}, c, a, bm)
	if !ok {
		return
	}
	ct, at, bt := c.(*Tensor), a.(*Tensor), bm.(*Tensor)
	m, n, k := d.M, d.N, d.K
	ac, bc := at.shape[len(at.shape)-1], bt.shape[len(bt.shape)-1]
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, at.st.f, ac, bt.st.f, bc, beta, ct.st.f, n)
}
