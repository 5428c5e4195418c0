package ref

import (
	"github.com/vktrain/vktrain/internal/qgemm"
	"github.com/vktrain/vktrain/nn/backend"
)

// The int8 path of the integer GEMMs (GemmI, GemmIDequant, ConvIDequant):
// where internal/qgemm has an assembly kernel (AVX-512 VNNI, arm64 SDOT),
// the codes are packed as bytes, a as the kernel's type (u8 for VNNI, s8
// for SDOT: qgemm.ASigned) and b as s8, each moved by an offset when its
// codes need it (qgemm.Offsets), and the kernel's wrapping int32 sums are
// corrected for the offsets. The codes' actual ranges decide: they are
// measured while packing (the quantization specs only guess the offsets,
// so a wrong guess costs a second packing, never a wrong result), and
// codes that fit neither 8-bit range (both below 0 and above 127 in one
// operand) take the float32 path of gemmIJob. ConvIDequant with stride 1
// and symmetric weights skips im2col (convDirect8: qgemm.GemmOff reads the
// padded byte image in place); other convolutions make their im2col rows
// as bytes, a block at a time, in the chunk's scratch.
//
// Exactness. With a' = a + oa and b' = b + ob (the packed bytes, the k
// padding 0 in both),
//
//	Σ_p a·b = Σ_p (a' - oa)(b' - ob)
//	        = Σ_p a'b' - ob·Σ_p a' - oa·Σ_p b' + K·oa·ob
//	        = D - ob·(SA + K·oa) - oa·SB' + K·oa·ob
//
// over the K true terms p, an identity of integers, so also of integers
// modulo 2^32, where Go's int32 arithmetic and the kernel's VPDPBUSD or
// SDOT (non-saturating: every sum of four u8·s8 or s8·s8 products is at
// most 4·255·128 in magnitude, added to its int32 lane with wrapping) both
// compute. D is
// the kernel's Σ over the padded k (the padding adds 0·0), SA the row sum
// of a's codes and SB' the column sum of b' (qgemm.RowTerms, ColTerms).
// So every int32 product is GemmI's, bit for bit, and the dequantization,
// the same operations on the same integers (qgemm.DequantRows is
// dequantConsts.row in SIMD), gives the same floats. With the usual codes
// (u8 activations, s8 weights) oa = ob = 0 and nothing is corrected on
// VNNI; on SDOT oa = -128 and the column term 128·SB' joins the
// dequantization's per-column constant (GemmI: one pass of Correct).

// q8Scratch is the int8 path's scratch, kept across calls.
type q8Scratch struct {
	a, b, x []byte  // packed A (GemmI, GemmIDequant), packed B, image bytes (ConvIDequant)
	sa      []int32 // row sums of a's codes (GemmI, GemmIDequant)
	sb      []int32 // column sums of b' (qgemm.PackB)
	cterm   []int32 // the column correction (GemmI) or off plus it (dequantization)
	wexp    []int32 // a stride-1 conv's weights, each filter row padded (convDirect8)
	qoff    []int   // a stride-1 conv's group offsets in its padded image
}

func growB(s []byte, n int) []byte {
	if cap(s) < n {
		return make([]byte, n)
	}
	return s[:n]
}

// q8PackJob packs the panels [lo, hi) of B (x nil), the tiles [lo, hi) of
// A (rows of a), or the elements [lo, hi) of an image (x), and records
// the range of the codes in the chunk's gemmPart.
type q8PackJob struct {
	src     []int32
	dst     []byte
	sums    []int32
	m, n, k int
	off     int32
	what    int // packB, packA, packX
	parts   []gemmPart
}

const (
	packB = iota
	packA
	packX
)

func (j *q8PackJob) run(lo, hi, part int) {
	p := &j.parts[part]
	var l, h int32
	switch j.what {
	case packB:
		p.a8 = growB(p.a8, 1024)
		l, h = qgemm.PackB(j.dst, p.a8, j.src, j.n, j.k, j.off, lo, hi, j.sums)
	case packA:
		r0, r1 := lo*qgemm.Rows, min(hi*qgemm.Rows, j.m)
		kp := qgemm.KPad(j.k)
		l, h = qgemm.PackA(j.dst[r0*kp:], j.src[r0*j.k:r1*j.k], r1-r0, j.k, j.off, j.sums[r0:r1])
	case packX:
		l, h = qgemm.PackBytes(j.dst[lo:hi], j.src[lo:hi], j.off)
	}
	p.lo, p.hi = min(p.lo, l), max(p.hi, h)
}

// q8Pack runs j over n items and returns the range of the codes.
func (b *Backend) q8Pack(j *q8PackJob, n, grain int) (lo, hi int32) {
	j.parts = b.gemmParts()
	for i := range j.parts {
		j.parts[i].lo, j.parts[i].hi = 1<<31-1, -1<<31
	}
	b.jobs.q8Pack = *j
	b.run(&b.jobs.q8Pack, n, grain)
	b.jobs.q8Pack = q8PackJob{}
	lo, hi = 1<<31-1, -1<<31
	for i := range j.parts {
		lo, hi = min(lo, j.parts[i].lo), max(hi, j.parts[i].hi)
	}
	return lo, hi
}

// q8GemmJob computes tiles [lo, hi) of Rows rows of the product through
// qgemm: into acc (GemmI) or dequantized into y.
type q8GemmJob struct {
	acc     []int32 // GemmI's products, or nil
	a8      []byte  // packed A, or nil: the im2col rows of x8 (conv)
	sa      []int32 // row sums of a's codes (with a8)
	x8      []byte  // the image's bytes (with a8 nil)
	g       backend.ConvGeom
	pad     byte
	bp      []byte
	m, n, k int
	oa, ob  int32
	cterm   []int32 // GemmI: the column correction, nil if none
	deq     *dequantConsts
	off     []int32 // dequantization: off plus the column correction
	y       []float32
	parts   []gemmPart
}

// q8Block is the rows per block of q8GemmJob: a block's bytes of a and
// int32 products fill about 32 KiB.
func q8Block(kp, n int) int {
	return max(qgemm.Rows, min(512, (1<<15)/(kp+4*n))&^(qgemm.Rows-1))
}

func (j *q8GemmJob) run(lo, hi, part int) {
	p := &j.parts[part]
	n, k, kp := j.n, j.k, qgemm.KPad(j.k)
	block := q8Block(kp, n)
	zbUsed := j.deq != nil && !j.deq.zbZero
	// The row sums and row terms a block may need (where an offset or the
	// zero points of b need them) at their largest, whether or not this
	// call needs them: a later batch needing them allocates nothing.
	p.sa, p.tmpI = growI(p.sa, block), growI(p.tmpI, block)
	for r0 := lo * qgemm.Rows; r0 < min(hi*qgemm.Rows, j.m); r0 += block {
		rows := min(block, j.m-r0, hi*qgemm.Rows-r0)
		a8 := j.a8
		var sa []int32
		if a8 != nil {
			a8 = a8[r0*kp:]
			sa = j.sa[r0 : r0+rows]
		} else {
			p.a8 = growB(p.a8, qgemm.ALen(rows, k))
			a8 = p.a8
			im2col(a8, kp, j.x8, j.g, j.pad, r0, r0+rows)
			if j.ob != 0 || zbUsed {
				// The row sums of the codes: of the bytes (u8 or s8, as
				// the kernel reads them), less K·oa.
				p.sa = growI(p.sa, rows)
				sa = p.sa
				for i := range rows {
					sa[i] = qgemm.SumA(a8[i*kp:(i+1)*kp]) - int32(k)*j.oa
				}
			}
		}
		var out []int32
		if j.deq == nil {
			out = j.acc[r0*n : (r0+rows)*n]
		} else {
			p.acc = growI(p.acc, rows*n)
			out = p.acc
		}
		qgemm.Gemm(out, n, a8, rows, j.bp, n, k)
		var rt []int32
		if j.ob != 0 {
			p.tmpI = growI(p.tmpI, rows)
			rt = p.tmpI
			qgemm.RowTerms(rt, sa, k, j.oa, j.ob)
		}
		if rt != nil || j.cterm != nil {
			qgemm.Correct(out, n, rows, n, rt, j.cterm)
		}
		if j.deq != nil {
			var zb []int32
			if zbUsed {
				zb = j.deq.zb
			}
			qgemm.DequantRows(j.y[r0*n:], n, out, n, rows, n, sa, j.deq.scale, zb, j.off, j.deq.bias)
		}
	}
}

// q8Operands packs b [n, k] (and a [m, k] unless a is nil) with offsets
// for which the codes fit, guessed by oa and ob, and returns the offsets
// and whether the codes fit 8 bits at all. xlo, xhi widen a's range (the
// conv's image, packed by the caller, and its pad code).
func (b *Backend) q8Operands(a, bm []int32, m, n, k int, oa, ob, xlo, xhi int32) (int32, int32, bool) {
	q := &b.q8
	nb := (n + 15) / 16
	q.b = growB(q.b, qgemm.BLen(n, k))
	q.sb = growI(q.sb, nb*16)
	jb := q8PackJob{src: bm, dst: q.b, sums: q.sb, n: n, k: k, off: ob, what: packB}
	blo, bhi := b.q8Pack(&jb, nb, max(1, (1<<14)/(16*k+1)))
	alo, ahi := xlo, xhi
	ja := q8PackJob{src: a, m: m, k: k, off: oa, what: packA}
	tiles := (m + qgemm.Rows - 1) / qgemm.Rows
	if a != nil {
		q.a = growB(q.a, qgemm.ALen(m, k))
		q.sa = growI(q.sa, m)
		ja.dst, ja.sums = q.a, q.sa
		l, h := b.q8Pack(&ja, tiles, max(1, (1<<14)/(16*k+1)))
		alo, ahi = min(alo, l), max(ahi, h)
	}
	noa, nob, ok := qgemm.Offsets(alo, ahi, blo, bhi)
	if !ok {
		return 0, 0, false
	}
	if nob != ob {
		jb.off = nob
		b.q8Pack(&jb, nb, max(1, (1<<14)/(16*k+1)))
	}
	if a != nil && noa != oa {
		ja.off = noa
		b.q8Pack(&ja, tiles, max(1, (1<<14)/(16*k+1)))
	}
	return noa, nob, true
}

// q8Guess returns the offsets that fit the code ranges of the specs.
func q8Guess(pa, pb backend.QuantSpec) (oa, ob int32) {
	oa, ob, _ = qgemm.Offsets(pa.QMin, pa.QMax, pb.QMin, pb.QMax)
	return oa, ob
}

// q8Run runs the GEMM job j (operands packed) over m rows.
func (b *Backend) q8Run(j *q8GemmJob) {
	j.bp, j.parts = b.q8.b, b.gemmParts()
	tiles := (j.m + qgemm.Rows - 1) / qgemm.Rows
	b.jobs.q8Gemm = *j
	b.run(&b.jobs.q8Gemm, tiles, max(1, (1<<17)/(qgemm.Rows*j.n*qgemm.KPad(j.k)+1)))
	b.jobs.q8Gemm = q8GemmJob{}
}

// gemmI8 is GemmI through qgemm; false (nothing written) when the codes
// do not fit 8 bits.
func (b *Backend) gemmI8(acc, a, bm []int32, m, n, k int) bool {
	oa, ob, ok := b.q8Operands(a, bm, m, n, k, 0, 0, 1<<31-1, -1<<31)
	if !ok {
		return false
	}
	j := q8GemmJob{acc: acc, a8: b.q8.a, sa: b.q8.sa, m: m, n: n, k: k, oa: oa, ob: ob}
	b.q8.cterm = growI(b.q8.cterm, n) // also where not needed now: no allocation later
	if oa != 0 {
		qgemm.ColTerms(b.q8.cterm, b.q8.sb[:n], k, oa, ob)
		j.cterm = b.q8.cterm
	}
	b.q8Run(&j)
	return true
}

// gemmIDequant8 is gemmIDequant through qgemm, from the codes a or (a nil)
// the image codes x with geometry g; false (nothing written) when the
// codes do not fit 8 bits.
func (b *Backend) gemmIDequant8(y backend.Tensor, a, x []int32, g backend.ConvGeom, bm, sb, bias backend.Tensor, m, n, k int, pa, pb backend.QuantSpec) bool {
	oa, ob := q8Guess(pa, pb)
	xlo, xhi := int32(1<<31-1), int32(-1<<31)
	q := &b.q8
	var pad int32
	if x != nil && g.StrideH == 1 && g.StrideW == 1 && ob == 0 && allZero(pb.Zero) &&
		b.convDirect8(y, x, g, bm, sb, bias, m, n, k, pa, pb, oa) {
		return true
	}
	if x != nil {
		pad = pa.Zero[0]
		q.x = growB(q.x, len(x))
		jx := q8PackJob{src: x, dst: q.x, off: oa, what: packX}
		xlo, xhi = b.q8Pack(&jx, len(x), 1<<14)
		xlo, xhi = min(xlo, pad), max(xhi, pad)
		if noa, _, ok := qgemm.Offsets(xlo, xhi, 0, 0); ok && noa != oa {
			oa = noa
			jx.off = oa
			b.q8Pack(&jx, len(x), 1<<14)
		}
	}
	oa2, ob, ok := b.q8Operands(a, bm.(*Tensor).st.i[:n*k], m, n, k, oa, ob, xlo, xhi)
	if !ok || x != nil && oa2 != oa {
		return false // (the second: not reached, Offsets chose oa from the same range)
	}
	oa = oa2
	b.deq = b.dequantConsts(n, k, pa, pb, sb.(*Tensor).st.i, bias)
	q.cterm = growI(q.cterm, n)
	if oa != 0 {
		qgemm.ColTerms(q.cterm, q.sb[:n], k, oa, ob)
		for c := range n {
			q.cterm[c] += b.deq.off[c]
		}
	} else {
		copy(q.cterm, b.deq.off)
	}
	j := q8GemmJob{a8: nil, m: m, n: n, k: k, oa: oa, ob: ob, deq: &b.deq, off: q.cterm, y: y.(*Tensor).st.f}
	if x != nil {
		j.x8, j.g, j.pad = q.x, g, byte(pad+oa)
	} else {
		j.a8, j.sa = q.a, q.sa
	}
	b.q8Run(&j)
	b.deq = dequantConsts{}
	return true
}

// q8Enabled: the int8 path runs (qgemm has an assembly kernel); tests
// turn it off to compare with the float32 path.
var q8Enabled = qgemm.Fast()

func allZero(v []int32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// q8PadJob writes the image rows [lo, hi) (n·H' + y' of the padded
// image, H' = H+2·PadH rows of W' = W+2·PadW pixels) of x's codes plus off
// as bytes, the border the pad byte, and records the range of the codes
// in the chunk's gemmPart.
type q8PadJob struct {
	x     []int32
	dst   []byte
	g     backend.ConvGeom
	off   int32
	pad   byte
	parts []gemmPart
}

func (j *q8PadJob) run(lo, hi, part int) {
	g := j.g
	hp, wp := g.H+2*g.PadH, g.W+2*g.PadW
	rowB := wp * g.C
	lo32, hi32 := int32(1<<31-1), int32(-1<<31)
	for r := lo; r < hi; r++ {
		n, yp := r/hp, r%hp
		row := j.dst[r*rowB : (r+1)*rowB]
		y := yp - g.PadH
		if y < 0 || y >= g.H {
			fillSpan(row, j.pad)
			continue
		}
		fillSpan(row[:g.PadW*g.C], j.pad)
		fillSpan(row[(g.PadW+g.W)*g.C:], j.pad)
		l, h := qgemm.PackBytes(row[g.PadW*g.C:(g.PadW+g.W)*g.C], j.x[(n*g.H+y)*g.W*g.C:(n*g.H+y+1)*g.W*g.C], j.off)
		lo32, hi32 = min(lo32, l), max(hi32, h)
	}
	p := &j.parts[part]
	p.lo, p.hi = min(p.lo, lo32), max(p.hi, hi32)
}

// q8ConvJob computes the output rows [lo, hi) (n·OH + oy) of a stride-1
// convolution with qgemm.GemmOff from the padded image bytes, and
// dequantizes them.
type q8ConvJob struct {
	xp    []byte
	g     backend.ConvGeom
	qoff  []int
	bp    []byte
	n     int
	deq   *dequantConsts
	off   []int32
	y     []float32
	parts []gemmPart
}

func (j *q8ConvJob) run(lo, hi, part int) {
	p := &j.parts[part]
	g, n := j.g, j.n
	oh, ow := g.Out()
	hp, wp := g.H+2*g.PadH, g.W+2*g.PadW
	per := max(1, (1<<13)/(ow*n)) // output rows per block: about 32 KiB of products
	p.acc = growI(p.acc, per*ow*n)
	for r0 := lo; r0 < hi; r0 += per {
		r1 := min(hi, r0+per)
		for r := r0; r < r1; r++ {
			img, oy := r/oh, r%oh
			src := j.xp[(img*hp+oy)*wp*g.C:]
			qgemm.GemmOff(p.acc[(r-r0)*ow*n:], n, src, g.C, ow, j.qoff, j.bp, n)
		}
		qgemm.DequantRows(j.y[r0*ow*n:], n, p.acc, n, (r1-r0)*ow, n, nil, j.deq.scale, nil, j.off, j.deq.bias)
	}
}

// convDirect8 is ConvIDequant for stride 1, zero points of the weights 0
// and weights that fit s8 (ob = 0), without im2col: the image is packed
// once as bytes with its padding (pad code) around it, each filter row's
// KW·C taps padded to a multiple of 4 with zero weights, and GemmOff reads
// every group of four taps of an output position in place (the image
// bytes that meet the zero weights add 0; the column correction for oa
// needs only the sums of b', which the zeros do not change, and ob = 0
// needs no row sums). False (nothing written) when the codes do not fit
// or the weights need an offset: the im2col path then decides.
func (b *Backend) convDirect8(y backend.Tensor, x []int32, g backend.ConvGeom, bm, sb, bias backend.Tensor, m, n, k int, pa, pb backend.QuantSpec, oa int32) bool {
	q := &b.q8
	hp, wp := g.H+2*g.PadH, g.W+2*g.PadW
	span := g.KW * g.C
	spanP := qgemm.KPad(span)
	kq := g.KH * spanP / 4
	// GemmOff reads up to 15 positions and spanP bytes past the last
	// output position's receptive field (see its doc).
	size := g.N * hp * wp * g.C
	q.x = growB(q.x, size+16*g.C+spanP+64)
	pad := pa.Zero[0]
	jx := &b.jobs.q8Pad
	pack := func() (int32, int32) {
		parts := b.gemmParts()
		for i := range parts {
			parts[i].lo, parts[i].hi = 1<<31-1, -1<<31
		}
		*jx = q8PadJob{x: x, dst: q.x, g: g, off: oa, pad: byte(pad + oa), parts: parts}
		b.run(jx, g.N*hp, max(1, (1<<14)/(wp*g.C)))
		*jx = q8PadJob{}
		lo, hi := pad, pad
		for i := range parts {
			lo, hi = min(lo, parts[i].lo), max(hi, parts[i].hi)
		}
		return lo, hi
	}
	xlo, xhi := pack()
	if noa, _, ok := qgemm.Offsets(xlo, xhi, 0, 0); !ok {
		return false
	} else if noa != oa {
		oa = noa
		pack()
	}
	// The weights [n, KH, KW·C] with each filter row padded to spanP.
	w := bm.(*Tensor).st.i[:n*k]
	q.wexp = growI(q.wexp, n*g.KH*spanP)
	for j := range n {
		for kh := range g.KH {
			dst := q.wexp[(j*g.KH+kh)*spanP : (j*g.KH+kh+1)*spanP]
			copy(dst, w[(j*g.KH+kh)*span:(j*g.KH+kh+1)*span])
			clear(dst[span:])
		}
	}
	oa2, ob, ok := b.q8Operands(nil, q.wexp, m, n, 4*kq, oa, 0, xlo, xhi)
	if !ok || ob != 0 || oa2 != oa {
		return false
	}
	if cap(q.qoff) < kq {
		q.qoff = make([]int, kq)
	}
	q.qoff = q.qoff[:kq]
	for kh := range g.KH {
		for h := range spanP / 4 {
			q.qoff[kh*spanP/4+h] = kh*wp*g.C + 4*h
		}
	}
	b.deq = b.dequantConsts(n, k, pa, pb, sb.(*Tensor).st.i, bias)
	q.cterm = growI(q.cterm, n)
	if oa != 0 {
		qgemm.ColTerms(q.cterm, q.sb[:n], k, oa, 0)
		for c := range n {
			q.cterm[c] += b.deq.off[c]
		}
	} else {
		copy(q.cterm, b.deq.off)
	}
	oh, ow := g.Out()
	j := &b.jobs.q8Conv
	*j = q8ConvJob{xp: q.x, g: g, qoff: q.qoff, bp: q.b, n: n, deq: &b.deq, off: q.cterm, y: y.(*Tensor).st.f, parts: b.gemmParts()}
	b.run(j, g.N*oh, max(1, (1<<17)/(ow*n*4*kq)))
	*j = q8ConvJob{}
	b.deq = dequantConsts{}
	return true
}
