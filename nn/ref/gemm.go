package ref

import (
	"github.com/vktrain/vktrain/internal/sgemm"
	"github.com/vktrain/vktrain/nn/backend"
)

// fillSpan sets dst to v; setSpan copies src into dst (same length).
// Spans are short (a filter row of one or a few channels), so plain loops
// beat memmove calls.
func fillSpan[T int32 | float32 | byte](dst []T, v T) {
	for i := range dst {
		dst[i] = v
	}
}

func setSpan[T int32 | float32 | byte](dst, src []T) {
	if len(src) >= 32 {
		copy(dst, src)
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v
	}
}

// kwRange returns the filter columns [kw0, kw1) whose input column
// x0+kw lies inside [0, w).
func kwRange(x0, kw, w int) (kw0, kw1 int) {
	kw0 = max(0, -x0)
	kw1 = min(kw, w-x0)
	return kw0, max(kw0, kw1)
}

// im2col fills rows [lo, hi) of the im2col matrix of the NHWC image x,
// with pad outside the image, into cols (row r at cols[(r-lo)*ld:], ld ≥
// K; the ld-K elements after each row are set to 0). Within
// a filter row the in-image taps are adjacent in x (NHWC), so each is one
// span copy. The output position (n, oy, ox) of row r is stepped from row
// to row rather than divided out of r.
func im2col[T int32 | float32 | byte](cols []T, ld int, x []T, g backend.ConvGeom, pad T, lo, hi int) {
	if lo >= hi {
		return
	}
	oh, ow := g.Out()
	k := g.K()
	C := g.C
	span := g.KW * C
	n, rem := lo/(oh*ow), lo%(oh*ow)
	oy, ox := rem/ow, rem%ow
	for r := lo; r < hi; r, ox = r+1, ox+1 {
		if ox == ow {
			ox = 0
			if oy++; oy == oh {
				oy = 0
				n++
			}
		}
		y0, x0 := oy*g.StrideH-g.PadH, ox*g.StrideW-g.PadW
		kw0, kw1 := kwRange(x0, g.KW, g.W)
		row := cols[(r-lo)*ld : (r-lo)*ld+k]
		if ld > k {
			clear(cols[(r-lo)*ld+k : (r-lo+1)*ld])
		}
		if kw0 == 0 && kw1 == g.KW && y0 >= 0 && y0+g.KH <= g.H {
			// Inside the image: one span copy per filter row, with the
			// common filter rows as fixed-size copies.
			off := ((n*g.H+y0)*g.W + x0) * C
			step := g.W * C
			if k == 25 && span == 5 && ld == k {
				// 5x5 filters on one channel: the rest of the output row's
				// windows inside the image (ox up to the last whose window
				// ends in the image, and before hi) as one run of
				// fixed-size moves, the same copies.
				end := min(ow, (g.W+g.PadW-g.KW)/g.StrideW+1, ox+hi-r)
				xs := g.StrideW * C
				for i := range end - ox {
					d := (*[25]T)(cols[(r-lo+i)*25:])
					src := x[off+i*xs:]
					src = src[:4*step+5]
					*(*[5]T)(d[0:]) = *(*[5]T)(src)
					*(*[5]T)(d[5:]) = *(*[5]T)(src[step:])
					*(*[5]T)(d[10:]) = *(*[5]T)(src[2*step:])
					*(*[5]T)(d[15:]) = *(*[5]T)(src[3*step:])
					*(*[5]T)(d[20:]) = *(*[5]T)(src[4*step:])
				}
				// The loop's increments step to the run's last window.
				r, ox = r+end-ox-1, end-1
				continue
			}
			// (Copies of at most 16 bytes between slices compile to
			// moves; longer ones, which might overlap, call memmove.)
			switch span {
			case 3:
				for kh := range g.KH {
					*(*[3]T)(row[kh*3:]) = *(*[3]T)(x[off+kh*step:])
				}
			case 5:
				for kh := range g.KH {
					src := x[off+kh*step : off+kh*step+5]
					*(*[4]T)(row[kh*5:]) = *(*[4]T)(src)
					row[kh*5+4] = src[4]
				}
			default:
				for kh := range g.KH {
					setSpan(row[kh*span:(kh+1)*span], x[off+kh*step:off+kh*step+span])
				}
			}
			continue
		}
		for kh := range g.KH {
			dst := row[kh*span : (kh+1)*span]
			iy := y0 + kh
			if iy < 0 || iy >= g.H || kw0 == kw1 {
				fillSpan(dst, pad)
				continue
			}
			fillSpan(dst[:kw0*C], pad)
			off := ((n*g.H+iy)*g.W + x0 + kw0) * C
			setSpan(dst[kw0*C:kw1*C], x[off:off+(kw1-kw0)*C])
			fillSpan(dst[kw1*C:], pad)
		}
	}
}

type im2colIJob struct {
	cols, x []int32
	g       backend.ConvGeom
	pad     int32
}

func (j *im2colIJob) run(lo, hi, _ int) {
	im2col(j.cols[lo*j.g.K():], j.g.K(), j.x, j.g, j.pad, lo, hi)
}

// im2colJob runs im2col on float32 rows [lo, hi), with pad outside the
// image.
type im2colJob struct {
	cols, x []float32
	g       backend.ConvGeom
	pad     float32
}

func (j *im2colJob) run(lo, hi, _ int) { im2col(j.cols[lo*j.g.K():], j.g.K(), j.x, j.g, j.pad, lo, hi) }

// Im2ColI writes the im2col matrix of the I32 codes x into cols, with pad
// outside the image.
func (b *Backend) Im2ColI(cols, x backend.Tensor, g backend.ConvGeom, pad int32) {
	d, ok := backend.OpIm2ColI.Check(&b.err, b, backend.Params{Conv: g, Pad: pad}, cols, x)
	if !ok {
		return
	}
	j := &b.jobs.im2colI
	*j = im2colIJob{cols: cols.(*Tensor).st.i, x: x.(*Tensor).st.i, g: g, pad: pad}
	b.run(j, d.R, max(1, 4096/d.C))
	*j = im2colIJob{}
}

// Im2Col writes the im2col matrix of the F32 tensor x into cols, with 0
// outside the image.
func (b *Backend) Im2Col(cols, x backend.Tensor, g backend.ConvGeom) {
	d, ok := backend.OpIm2Col.Check(&b.err, b, backend.Params{Conv: g}, cols, x)
	if !ok {
		return
	}
	j := &b.jobs.im2col
	*j = im2colJob{cols: cols.(*Tensor).st.f, x: x.(*Tensor).st.f, g: g}
	b.run(j, d.R, max(1, 4096/d.C))
	*j = im2colJob{}
}

// col2imJob accumulates the cols rows of images [nlo, nhi) into dx.
type col2imJob struct {
	dx, cols []float32
	g        backend.ConvGeom
}

func (j *col2imJob) run(nlo, nhi, _ int) {
	g := j.g
	oh, ow := g.Out()
	k := g.K()
	C := g.C
	span := g.KW * C
	img := g.H * g.W * C
	clear(j.dx[nlo*img : nhi*img])
	for r := nlo * oh * ow; r < nhi*oh*ow; r++ {
		n, rem := r/(oh*ow), r%(oh*ow)
		y0, x0 := (rem/ow)*g.StrideH-g.PadH, (rem%ow)*g.StrideW-g.PadW
		kw0, kw1 := kwRange(x0, g.KW, g.W)
		if kw0 == kw1 {
			continue
		}
		row := j.cols[r*k : (r+1)*k]
		for kh := range g.KH {
			iy := y0 + kh
			if iy < 0 || iy >= g.H {
				continue
			}
			src := row[kh*span+kw0*C : kh*span+kw1*C]
			off := ((n*g.H+iy)*g.W + x0 + kw0) * C
			dst := j.dx[off : off+len(src)]
			for i, v := range src {
				dst[i] += v
			}
		}
	}
}

// Col2Im writes dx = the sum of the cols entries that read each input
// element, accumulated in float32 over rows in increasing order and, within
// a row, columns in increasing order.
func (b *Backend) Col2Im(dx, cols backend.Tensor, g backend.ConvGeom) {
	if _, ok := backend.OpCol2Im.Check(&b.err, b, backend.Params{Conv: g}, dx, cols); !ok {
		return
	}
	// Rows of image n only touch image n: split by image.
	j := &b.jobs.col2im
	*j = col2imJob{dx: dx.(*Tensor).st.f, cols: cols.(*Tensor).st.f, g: g}
	b.run(j, g.N, 1)
	*j = col2imJob{}
}

// GemmI computes acc[m,n] = Σ_k a[m,k]·b[n,k] in wrapping int32.
//
// Wrapping int32 sums are exact modulo 2^32, so the result depends neither
// on the split over rows nor on the blocking of k. Codes (whose products
// are small) go through the float32 GEMM of internal/sgemm on chunks of k
// short enough that every partial sum is an integer of magnitude at most
// 2^24, hence exact in float32 in any order; the chunk results are added
// in int32. Values too large for chunks of a useful length take the plain
// integer loops. Where internal/qgemm has an int8 kernel and the codes fit
// 8 bits, the int8 path of gemm8.go runs instead, with the same result.
func (b *Backend) GemmI(acc, a, bm backend.Tensor) {
	d, ok := backend.OpGemmI.Check(&b.err, b, backend.Params{}, acc, a, bm)
	if !ok {
		return
	}
	m, n, k := d.M, d.N, d.K
	ai, bi := a.(*Tensor).st.i[:m*k], bm.(*Tensor).st.i[:n*k]
	if q8Enabled && b.gemmI8(acc.(*Tensor).st.i[:m*n], ai, bi, m, n, k) {
		return
	}
	// Q8 codes lie in [-128, 255] (backend.Q8), so no scan is needed to
	// bound them.
	b.gemmI32(acc.(*Tensor).st.i[:m*n], a.(*Tensor).st.i[:m*k], bm.(*Tensor).st.i[:n*k], m, n, k, 255, 255)
}

// gemmI32 is GemmI on checked slices whose values have magnitudes at most
// ma and mb.
func (b *Backend) gemmI32(acc, ai, bi []int32, m, n, k int, ma, mb int64) {
	if ma == 0 || mb == 0 {
		clear(acc)
		return
	}
	if kc, ok := floatChunk(ma, mb, k); ok {
		if cap(b.scratch) < n*k {
			b.scratch = make([]float32, n*k)
		}
		bf := b.scratch[:n*k]
		for i, v := range bi {
			bf[i] = float32(v)
		}
		j := &b.jobs.gemmI
		*j = gemmIJob{acc: acc, a: ai, bf: bf, n: n, k: k, kc: kc, parts: b.gemmParts()}
		b.run(j, m, max(1, (1<<17)/(n*k)))
		*j = gemmIJob{}
		return
	}
	j := &b.jobs.gemmIExact
	*j = gemmIExactJob{acc: acc, a: ai, b: bi, n: n, k: k}
	b.run(j, m, max(1, 1<<15/(n*k+1)))
	*j = gemmIExactJob{}
}

// floatChunk returns the k chunk for which float32 GEMM products of
// integers of magnitudes at most ma and mb are exact (every partial sum at
// most 2^24), capped at 1024 and k, and whether it is long enough to use
// (at least gemmFloatMinK, or k). ma and mb are not 0.
func floatChunk(ma, mb int64, k int) (int, bool) {
	kc := (1 << 24) / (ma * mb)
	return int(min(kc, 1024, int64(k))), kc >= int64(min(k, gemmFloatMinK))
}

// gemmFloatMinK is the shortest k chunk (or k itself, if shorter) for
// which GemmI goes through the float GEMM.
const gemmFloatMinK = 64

// gemmPart is the scratch of one chunk of a parallel GEMM.
type gemmPart struct {
	ctx     sgemm.Context
	af, tmp []float32
	acc     []int32 // GemmIDequant's products of one block
	sa      []int32 // GemmIDequant's row sums of one block
	a8      []byte  // the int8 path's im2col rows of one block
	tmpI    []int32 // the int8 path's row corrections of one block
	lo, hi  int32   // the range of the codes a packing chunk saw
}

// gemmParts returns one gemmPart per thread.
func (b *Backend) gemmParts() []gemmPart {
	if len(b.parts) != b.threads {
		b.parts = make([]gemmPart, b.threads)
	}
	return b.parts
}

// grow returns s resized to n, reallocated only when too small.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// gemmIJob computes rows [lo, hi) of acc = a·bᵀ exactly through float32
// GEMMs over k chunks of kc (see GemmI): blocks of rows of a are converted
// to float32 in the chunk's scratch, multiplied by bf (b as float32) and
// the chunk products added in int32.
type gemmIJob struct {
	acc, a   []int32
	bf       []float32
	n, k, kc int
	parts    []gemmPart
	// deq, when not nil, makes the job GemmIDequant: each block's products
	// are dequantized into y with the block's row sums (when the zero
	// points of b need them), instead of being stored in acc. With one k
	// chunk (kc ≥ k) the float GEMM writes the block's rows of y, exact
	// integers, which are dequantized in place; else the int32 chunk sums
	// go to the chunk's scratch first.
	deq *dequantConsts
	y   []float32
	// conv, when not nil, makes the job ConvIDequant: a is not used, each
	// block's rows of the im2col matrix are made (as float32) in the
	// chunk's scratch.
	conv *convSrc
}

// convSrc is the image whose im2col matrix a gemmIJob multiplies: its
// codes as float32 (exact), and the pad code.
type convSrc struct {
	x   []float32
	g   backend.ConvGeom
	pad float32
}

// gemmIBlock is the rows per block of gemmIJob: a block's float rows of a
// and products (k+n floats a row) fill about 64 KiB when dequantized
// straight from the products, else about 1 MiB of a.
func gemmIBlock(k, n int, direct bool) int {
	if direct {
		return max(1, (1<<14)/(k+n))
	}
	return max(1, (1<<18)/k)
}

func (j *gemmIJob) run(lo, hi, part int) {
	p := &j.parts[part]
	n, k := j.n, j.k
	direct := j.deq != nil && j.kc >= k
	sums := j.deq != nil && !j.deq.zbZero
	block := min(hi-lo, gemmIBlock(k, n, direct))
	for r0 := lo; r0 < hi; r0 += block {
		rows := min(block, hi-r0)
		p.af = grow(p.af, rows*k)
		af := p.af
		var a []int32
		if j.conv != nil {
			im2col(af, k, j.conv.x, j.conv.g, j.conv.pad, r0, r0+rows)
		} else {
			a = j.a[r0*k : (r0+rows)*k]
			for i, v := range a {
				af[i] = float32(v)
			}
		}
		if sums {
			// The row sums of the codes in wrapping int32, from a or from
			// the exact float codes of the im2col rows.
			p.sa = growI(p.sa, rows)
			for i := range rows {
				var sa int32
				if a != nil {
					for _, v := range a[i*k : (i+1)*k] {
						sa += v
					}
				} else {
					for _, v := range af[i*k : (i+1)*k] {
						sa += int32(v)
					}
				}
				p.sa[i] = sa
			}
		}
		if direct {
			y := j.y[r0*n : (r0+rows)*n]
			p.ctx.Sgemm(false, true, rows, n, k, 1, af, k, j.bf, k, 0, y, n)
			for i := range rows {
				var sa int32
				if sums {
					sa = p.sa[i]
				}
				j.deq.rowF(y[i*n:(i+1)*n], sa)
			}
			continue
		}
		p.tmp = grow(p.tmp, rows*n)
		var out []int32
		if j.deq != nil {
			p.acc = growI(p.acc, rows*n)
			out = p.acc
		} else {
			out = j.acc[r0*n : (r0+rows)*n]
		}
		for k0 := 0; k0 < k; k0 += j.kc {
			kl := min(k-k0, j.kc)
			p.ctx.Sgemm(false, true, rows, n, kl, 1, af[k0:], k, j.bf[k0:], k, 0, p.tmp, n)
			tmp := p.tmp[:len(out)]
			if k0 == 0 {
				for i, v := range tmp {
					out[i] = int32(v)
				}
				continue
			}
			for i, v := range tmp {
				out[i] += int32(v)
			}
		}
		if j.deq != nil {
			for i := range rows {
				var sa int32
				if sums {
					sa = p.sa[i]
				}
				j.deq.row(j.y[(r0+i)*n:(r0+i+1)*n], out[i*n:(i+1)*n], sa)
			}
		}
	}
}

// growI returns s resized to n, reallocated only when too small.
func growI(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// GemmIDequant is GemmI, RowSumI and Dequant in one pass (see
// backend.FusedGemmIDequant), bit for bit: each block of rows is
// multiplied as in GemmI, and its row sums (only where a zero point of b
// is not 0: else they do not enter the result) and dequantization follow
// while the block is in cache.
func (b *Backend) GemmIDequant(y, a, bm, sb, bias backend.Tensor, pa, pb backend.QuantSpec) {
	d, ok := backend.OpGemmIDequant.Check(&b.err, b, backend.Params{P: pa, PB: pb}, y, a, bm, sb, bias)
	if !ok {
		return
	}
	ai := a.(*Tensor).st.i[:d.M*d.K]
	if q8Enabled && b.gemmIDequant8(y, ai, nil, backend.ConvGeom{}, bm, sb, bias, d.M, d.N, d.K, pa, pb) {
		return
	}
	b.gemmIDequant(y, ai, nil, bm, sb, bias, d.M, d.N, d.K, pa, pb)
}

// gemmIDequant runs GemmIDequant's job for y [m, n] from the codes a
// [m, k], or, with conv set, from the im2col rows of its image (each
// block made in the chunk's scratch: ConvIDequant).
func (b *Backend) gemmIDequant(y backend.Tensor, a []int32, conv *convSrc, bm, sb, bias backend.Tensor, m, n, k int, pa, pb backend.QuantSpec) {
	kc, _ := floatChunk(255, 255, k) // Q8 codes: always long enough chunks
	if cap(b.scratch) < n*k {
		b.scratch = make([]float32, n*k)
	}
	bf := b.scratch[:n*k]
	for i, v := range bm.(*Tensor).st.i[:n*k] {
		bf[i] = float32(v)
	}
	b.deq = b.dequantConsts(n, k, pa, pb, sb.(*Tensor).st.i, bias)
	j := &b.jobs.gemmI
	*j = gemmIJob{a: a, bf: bf, n: n, k: k, kc: kc, parts: b.gemmParts(), deq: &b.deq, y: y.(*Tensor).st.f, conv: conv}
	b.run(j, m, max(1, (1<<17)/(n*k)))
	*j = gemmIJob{}
	b.deq = dequantConsts{}
}

// gemmIExactJob computes rows [lo, hi) of acc = a·bᵀ with integer loops.
type gemmIExactJob struct {
	acc, a, b []int32
	n, k      int
}

func (j *gemmIExactJob) run(lo, hi, _ int) { gemmI(j.acc, j.a, j.b, j.n, j.k, lo, hi) }

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

type rowSumIJob struct {
	s, a []int32
	k    int
}

func (j *rowSumIJob) run(lo, hi, _ int) {
	k := j.k
	s := j.s[lo:hi]
	for i := range s {
		var sum int32
		for _, v := range j.a[(lo+i)*k : (lo+i+1)*k] {
			sum += v
		}
		s[i] = sum
	}
}

// RowSumI writes s[m] = Σ_k a[m,k] in wrapping int32.
func (b *Backend) RowSumI(s, a backend.Tensor) {
	d, ok := backend.OpRowSumI.Check(&b.err, b, backend.Params{}, s, a)
	if !ok {
		return
	}
	j := &b.jobs.rowSumI
	*j = rowSumIJob{s: s.(*Tensor).st.i, a: a.(*Tensor).st.i, k: d.K}
	b.run(j, d.M, max(1, 1<<14/max(d.K, 1)))
	*j = rowSumIJob{}
}

// dequantJob runs Dequant for rows [lo, hi).
type dequantJob struct {
	y      []float32
	acc    []int32
	sa     []int32
	consts dequantConsts
}

// dequantConsts are Dequant's per-column constants and operands.
type dequantConsts struct {
	scale, bias []float32 // float32(sa·sb) per column; bias or nil
	zb, off     []int32   // zero point of b, k·za·zb - za·sb (wrapping)
	zbZero      bool      // every zb is 0: the row sums of a do not count
	n           int
}

// row dequantizes one row: out[c] = float32(scale·float32(v)) (+ bias)
// with v = acc - zb·sa - za·sb + k·za·zb in wrapping int32, computed as
// (acc - zb·sa) + off (the same value: wrapping sums do not depend on
// the order).
func (d *dequantConsts) row(out []float32, acc []int32, sa int32) {
	n := d.n
	scale, zb, off := d.scale[:n], d.zb[:n], d.off[:n]
	acc, out = acc[:n], out[:n]
	if d.bias == nil {
		for c, a := range acc {
			v := a - zb[c]*sa + off[c]
			out[c] = float32(scale[c] * float32(v))
		}
		return
	}
	bias := d.bias[:n]
	for c, a := range acc {
		v := a - zb[c]*sa + off[c]
		out[c] = float32(scale[c]*float32(v)) + bias[c]
	}
}

// rowF is row in place on y, which holds the row's products as float32
// (integers of magnitude at most 2^24, so int32(y[c]) is the product).
func (d *dequantConsts) rowF(y []float32, sa int32) {
	n := d.n
	scale, off := d.scale[:n], d.off[:n]
	y = y[:n]
	switch {
	case d.zbZero && d.bias == nil:
		for c, a := range y {
			y[c] = float32(scale[c] * float32(int32(a)+off[c]))
		}
	case d.zbZero:
		bias := d.bias[:n]
		for c, a := range y {
			y[c] = float32(scale[c]*float32(int32(a)+off[c])) + bias[c]
		}
	case d.bias == nil:
		zb := d.zb[:n]
		for c, a := range y {
			y[c] = float32(scale[c] * float32(int32(a)-zb[c]*sa+off[c]))
		}
	default:
		zb, bias := d.zb[:n], d.bias[:n]
		for c, a := range y {
			y[c] = float32(scale[c]*float32(int32(a)-zb[c]*sa+off[c])) + bias[c]
		}
	}
}

func (j *dequantJob) run(lo, hi, _ int) {
	n := j.consts.n
	for i := lo; i < hi; i++ {
		j.consts.row(j.y[i*n:(i+1)*n], j.acc[i*n:(i+1)*n], j.sa[i])
	}
}

// dequantConsts fills the backend's small scratch with Dequant's
// per-column constants for n columns of inner dimension k.
func (b *Backend) dequantConsts(n, k int, pa, pb backend.QuantSpec, sb []int32, bias backend.Tensor) dequantConsts {
	sA, zA := pa.Scale[0], pa.Zero[0]
	scale := b.floats(n)
	zk := b.ints(2 * n)
	zb, off := zk[:n], zk[n:]
	zbZero := true
	for c := range n {
		pc := 0
		if len(pb.Scale) > 1 {
			pc = c
		}
		scale[c] = sA * pb.Scale[pc]
		zb[c] = pb.Zero[pc]
		off[c] = int32(k)*zA*zb[c] - zA*sb[c]
		zbZero = zbZero && zb[c] == 0
	}
	var bv []float32
	if !isNil(bias) {
		bv = bias.(*Tensor).st.f
	}
	return dequantConsts{scale: scale, bias: bv, zb: zb, off: off, zbZero: zbZero, n: n}
}

// ints returns n int32 of the backend's small integer scratch, zeroed;
// one op at a time.
func (b *Backend) ints(n int) []int32 {
	if cap(b.smallI) < n {
		b.smallI = make([]int32, n)
	}
	s := b.smallI[:n]
	clear(s)
	return s
}

// Dequant turns int32 products into floats, see backend.Backend. The
// integer part v = acc - zb·sa - za·sb + k·za·zb is wrapping int32; then
// y = float32(sa·sb)·float32(v) + bias, each product rounded to float32.
func (b *Backend) Dequant(y, acc, sa, sb backend.Tensor, k int, pa, pb backend.QuantSpec, bias backend.Tensor) {
	d, ok := backend.OpDequant.Check(&b.err, b, backend.Params{K: k, P: pa, PB: pb}, y, acc, sa, sb, bias)
	if !ok {
		return
	}
	m, n := d.M, d.N
	j := &b.jobs.dequant
	*j = dequantJob{y: y.(*Tensor).st.f, acc: acc.(*Tensor).st.i, sa: sa.(*Tensor).st.i,
		consts: b.dequantConsts(n, k, pa, pb, sb.(*Tensor).st.i, bias)}
	b.run(j, m, rowGrain(n))
	*j = dequantJob{}
}

// gemmJob computes rows (or columns, byCols) [lo, hi) of
// C = alpha·op(A)·op(B) + beta·C with the chunk's sgemm.Context. Every
// element of C is computed the same way whatever the split.
type gemmJob struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	byCols         bool
	parts          []gemmPart
}

func (j *gemmJob) run(lo, hi, part int) {
	ctx := &j.parts[part].ctx
	if !j.byCols {
		aoff := lo * j.lda
		if j.transA {
			aoff = lo
		}
		ctx.Sgemm(j.transA, j.transB, hi-lo, j.n, j.k, j.alpha, j.a[aoff:], j.lda, j.b, j.ldb, j.beta, j.c[lo*j.ldc:], j.ldc)
		return
	}
	boff := lo
	if j.transB {
		boff = lo * j.ldb
	}
	ctx.Sgemm(j.transA, j.transB, j.m, hi-lo, j.k, j.alpha, j.a, j.lda, j.b[boff:], j.ldb, j.beta, j.c[lo:], j.ldc)
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C with the float32 GEMM of
// internal/sgemm (assembly where the CPU has it, its plain Go kernel
// elsewhere), split over the rows of C, or its columns when C has fewer
// rows than columns.
func (b *Backend) Gemm(c, a, bm backend.Tensor, transA, transB bool, alpha, beta float32) {
	d, ok := backend.OpGemm.Check(&b.err, b, backend.Params{TransA: transA, TransB: transB, Alpha: alpha, Beta: beta}, c, a, bm)
	if !ok {
		return
	}
	ct, at, bt := c.(*Tensor), a.(*Tensor), bm.(*Tensor)
	b.gemm(ct.st.f, at.st.f, bt.st.f, d.M, d.N, d.K, at.shape[len(at.shape)-1], bt.shape[len(bt.shape)-1], transA, transB, alpha, beta)
}

// gemm is Gemm on checked slices: C [m, n] (row stride n), A and B with
// row strides lda and ldb.
func (b *Backend) gemm(c, a, bm []float32, m, n, k, lda, ldb int, transA, transB bool, alpha, beta float32) {
	j := &b.jobs.gemm
	*j = gemmJob{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: bm, c: c, lda: lda, ldb: ldb, ldc: n, byCols: m < n, parts: b.gemmParts()}
	if j.byCols {
		b.run(j, n, max(1, (1<<17)/max(m*k, 1)))
	} else {
		b.run(j, m, max(1, (1<<17)/max(n*k, 1)))
	}
	*j = gemmJob{}
}
