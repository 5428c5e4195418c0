package vk

import (
	"math"

	"github.com/vktrain/vktrain/nn/backend"
)

// Im2ColI writes the im2col matrix of the Q8 image x [N, H, W, C] into the
// Q8 tensor cols [g.Rows(), g.K()], with pad outside the image.
func (b *Backend) Im2ColI(cols, x backend.Tensor, g backend.ConvGeom, pad int32) {
	if _, ok := backend.OpIm2ColI.Check(&b.err, b, backend.Params{Conv: g, Pad: pad}, cols, x); !ok {
		return
	}
	b.im2colI("Im2ColI", tensor(cols), tensor(x), g, pad)
}

// im2colI records Im2ColI's kernel (operands checked by the caller's op).
func (b *Backend) im2colI(op string, ct, xt *Tensor, g backend.ConvGeom, pad int32) {
	// The codes of cols: x's and pad.
	lo, hi := int32(0), int32(255)
	switch xt.st.q {
	case qS8:
		lo, hi = -128, 127
	case qWide:
		lo, hi = -128, 255
	}
	if xt.st.q == qU8 && pad < 0 {
		lo = pad
	}
	if xt.st.q == qS8 && pad > 127 {
		hi = pad
	}
	xf := xt.st.q // before outQ8, which may change a shared format
	f := b.outQ8(op, ct, lo, hi)
	if b.failed() {
		return
	}
	oh, ow := g.Out()
	push := struct {
		H, W, C, KW, SH, SW uint32
		PH, PW              int32
		OH, OW, K, Rows     uint32
		RowWords, XCols     uint32
		XRowWords           uint32
		Pad                 int32
	}{uint32(g.H), uint32(g.W), uint32(g.C), uint32(g.KW), uint32(g.StrideH), uint32(g.StrideW), int32(g.PadH), int32(g.PadW),
		uint32(oh), uint32(ow), uint32(g.K()), uint32(g.Rows()), uint32(ct.rowWords()), uint32(xt.cols()), uint32(xt.rowWords()), pad}
	items := ct.rowWords()
	if f == qWide {
		items = g.K()
	}
	// q_im2coli: each invocation owns one item (word, or code when wide)
	// of every row it visits. On GPUs a row per invocation; on CPU drivers
	// about strideGroups workgroups, more where an invocation would walk
	// over maxLoop/4 rows (llvmpipe ends longer loops).
	wg, rows := int(b.wg()), g.Rows()
	lim := int(b.dev.Info().Limits.MaxComputeWorkGroupCount[0])
	gx := min(ceilDiv(items*rows, wg), lim)
	if sg := b.tune.strideGroups; sg > 0 {
		gx = max(sg, ceilDiv(items, wg))
		for gx < lim && gx*wg/items*(maxLoop/4) < rows {
			gx = min(2*gx, lim)
		}
	}
	if gx*wg < items || (b.tune.strideGroups > 0 && gx*wg/items*(maxLoop/4) < rows) {
		b.failf(op, "%d rows of %d items need more workgroups than the device's limit", rows, items)
		return
	}
	b.took("q_im2coli", fmtX[xf])
	b.took("q_im2coli", fmtCols[f])
	b.dispatch(op, "q_im2coli", []uint32{b.wg(), uint32(xf), uint32(f)}, pushOf(push), uint32(gx), 1, 1, xt, ct)
}

// GemmI computes acc[m,n] = Σ_k a[m,k]·b[n,k] in wrapping int32 for the Q8
// matrices a [M, K] and b [N, K] into the I32 matrix acc [M, N].
func (b *Backend) GemmI(acc, a, bm backend.Tensor) {
	d, ok := backend.OpGemmI.Check(&b.err, b, backend.Params{}, acc, a, bm)
	if !ok {
		return
	}
	b.gemmI("GemmI", tensor(acc), tensor(a), tensor(bm), d.M, d.N, d.K)
}

// gemmI records the GEMM kernel of the backend's variant (the packed one
// for operands stored one code per int). When the output has too few 4x4
// blocks to fill the device, k is split over workgroups z into partial
// products, summed by a second kernel (exact: wrapping int32 sums do not
// depend on the order).
func (b *Backend) gemmI(op string, ct, at, bt *Tensor, m, n, k int) {
	wx, wy := b.tune.gemmWX, b.tune.gemmWY
	gx := b.groups((n+3)/4, int(wx))
	// The kernels loop over m when the device allows fewer workgroups.
	gy := uint32(min((m+4*int(wy)-1)/(4*int(wy)), b.tune.gemmMaxGY))
	shader := "q_gemmi"
	if at.st.q != qWide && bt.st.q != qWide {
		switch b.variant {
		case VariantDot:
			shader = "q_gemmi_dot"
		case VariantInt8:
			shader = "q_gemmi_i8"
		}
	}
	kw := (k + 3) / 4
	splits := b.splitK(m, n, kw)
	kc := min((kw+splits-1)/splits, maxLoop)
	vec4 := uint32(0)
	if n%4 == 0 {
		vec4 = 1
	}
	var sb [specMax]uint32
	spec := append(sb[:0], wx, wy, uint32(at.st.q), uint32(bt.st.q), vec4)
	direct := true // the direct kernels bind acc, a and b twice (scalar and vector views)
	if shader != "q_gemmi_i8" {
		vload := uint32(0)
		if at.st.q != qWide && bt.st.q != qWide && kw%4 == 0 {
			vload = 1
			kc = (kc + 3) / 4 * 4 // whole uvec4s per split
		}
		spec = append(spec, vload)
	}
	if b.tune.gemmSG > 0 && shader == "q_gemmi" && at.st.q != qWide && bt.st.q != qWide && b.gemmISG(op, ct, at, bt, m, n, k, spec[4], nil) {
		return
	}
	// Tiles pay off when k has several steps of tileK words; short k (a
	// first convolution) reads each word once anyway.
	tiledOK := b.tune.tiled && at.st.q != qWide && bt.st.q != qWide && b.variant != VariantInt8 && kw >= 2*int(b.tune.tileK)
	if tiledOK {
		// The tiled kernels split long k (below): the partials must fit.
		tk := b.tune.tileK
		need := (kw + 512*int(tk) - 1) / (512 * int(tk))
		tiledOK = need <= 1 || int64(need)*int64(m)*int64(n)*4 <= int64(b.dev.Info().Limits.MaxStorageBufferRange)
	}
	if tiledOK {
		tx, ty, tk := b.tune.tileX, b.tune.tileY, b.tune.tileK
		shader = "q_gemmi_tiled"
		if b.variant == VariantDot {
			shader = "q_gemmi_tiled_dot"
		}
		spec = []uint32{tx, ty, tk, uint32(at.st.q), uint32(bt.st.q)}
		direct = false
		kc = (kc + int(tk) - 1) / int(tk) * int(tk)
		// At most 512 steps of k per workgroup: llvmpipe stops loops
		// with barriers after 65535 nested iterations.
		kc = min(kc, 512*int(tk))
		gx = b.groups(n, int(4*tx))
		gy = uint32(min((m+int(4*ty)-1)/int(4*ty), b.tune.gemmMaxGY))
	}
	splits = (kw + kc - 1) / kc
	push := struct{ M, N, K, KW, KC uint32 }{uint32(m), uint32(n), uint32(k), uint32(kw), uint32(kc)}
	out := ct
	if splits > 1 {
		out = b.scratch(op, splits*m*n)
	}
	if b.opts.RecordPaths {
		rows := 4 * int(wy) // rows of m per invocation row of a workgroup
		if !direct {
			rows = 4 * int(b.tune.tileY)
		}
		b.tookGemmI(shader, at.st.q, bt.st.q, splits, int(gy)*rows < m)
		if direct {
			b.took(shader, pick(spec[4] != 0, "acc=vec4", "acc=scalar"))
		}
		if direct && shader != "q_gemmi_i8" {
			b.took(shader, pick(spec[5] != 0, "load=vec4", "load=word"))
		}
	}
	switch {
	case direct && shader == "q_gemmi_i8":
		b.dispatch(op, shader, spec, pushOf(push), gx, gy, uint32(splits), at, bt, out, out)
	case direct:
		b.dispatch(op, shader, spec, pushOf(push), gx, gy, uint32(splits), at, bt, out, out, at, bt)
	default:
		b.dispatch(op, shader, spec, pushOf(push), gx, gy, uint32(splits), at, bt, out)
	}
	if splits <= 1 {
		return
	}
	b.sumI(op, ct, out, m*n, splits)
}

// sumI records q_sumi: acc = the sum of the splits partial sums of n
// elements each in part.
func (b *Backend) sumI(op string, acc, part *Tensor, n, splits int) {
	b.took("q_sumi", "x2")
	if splits%2 != 0 {
		b.took("q_sumi", "x1")
	}
	sum := struct{ N, Splits uint32 }{uint32(n), uint32(splits)}
	b.dispatch(op, "q_sumi", []uint32{b.wg()}, pushOf(sum), b.stride(n, int(b.wg())), 1, 1, part, acc)
}

// sgPlan is the launch of q_gemmi_sg (planISG).
type sgPlan struct {
	wx, wy, gx, gy int
	tm, ks, kc     int
	splits, perInv int
}

// planISG chooses q_gemmi_sg's launch for packed operands (CPU drivers
// with a fixed subgroup size): blocks of 16 rows by 4 columns per
// invocation, the rows loaded once per subgroup and broadcast, one word
// of k per step. Where k is at most 4 words (a first convolution) one
// step takes all of it and each invocation reads its b once for several
// blocks of m. It reports false where an invocation would loop too long
// or the grid does not fit the device.
func (b *Backend) planISG(m, n, k int) (sgPlan, bool) {
	const tm = 16
	p := sgPlan{tm: tm}
	sg := int(b.tune.gemmSG)
	kw := (k + 3) / 4
	// Invocations along n: whole subgroups; the rest of a workgroup of
	// about 64 walks blocks of m.
	lanes := (n + 3) / 4
	wx := sg
	for wx < lanes && wx < 64 {
		wx *= 2
	}
	wy := max(1, 64/wx)
	lim := b.dev.Info().Limits
	if uint32(wx*wy) > lim.MaxComputeWorkGroupInvocations || uint32(wx) > lim.MaxComputeWorkGroupSize[0] || uint32(wy) > lim.MaxComputeWorkGroupSize[1] {
		return p, false
	}
	mblocks := (m + tm - 1) / tm
	gx := (lanes + wx - 1) / wx
	gy := min((mblocks+wy-1)/wy, b.tune.gemmMaxGY)
	ks := 0 // words of k when one step takes them all
	if kw <= 4 {
		// b is read once per invocation: fewer workgroups, each walking
		// several blocks of m (measured on lavapipe: 6.5 -> 4.4 ms for
		// [43264 x 9] x [9 x 32]; the single step alone gains little).
		ks = kw
		gy = min(gy, max(1, 64/gx))
	}
	kc := min(kw, maxLoop-tm)
	splits := (kw + kc - 1) / kc
	perInv := (mblocks + gy*wy - 1) / (gy * wy) // blocks of m per invocation
	if gx > int(lim.MaxComputeWorkGroupCount[0]) || splits > int(lim.MaxComputeWorkGroupCount[2]) ||
		perInv*(kc+tm) > maxLoop || int64(splits)*int64(m)*int64(n)*4 > int64(lim.MaxStorageBufferRange) {
		return p, false
	}
	p.wx, p.wy, p.gx, p.gy = wx, wy, gx, gy
	p.ks, p.kc, p.splits, p.perInv = ks, kc, splits, perInv
	return p, true
}

// sgPush mirrors q_gemmi_sg's push constants (ZA and Off: its DEQ
// epilogue only).
type sgPush struct {
	M, N, K, KW, KC uint32
	ZA              int32
	Off             uint32
}

// sgDeq is the dequantization epilogue of q_gemmi_sg (DEQ): the
// operands and constants of q_dequant, y written in place of the
// products.
type sgDeq struct {
	sb, bias, prm *Tensor // bias nil: none
	za            int32
	off           uint32
}

// gemmISG records q_gemmi_sg for packed operands (see planISG) with ct
// the products, or with deq (not nil) the dequantized products y; it
// reports false, recording nothing, where planISG finds no launch or,
// with deq, where k would be split.
func (b *Backend) gemmISG(op string, ct, at, bt *Tensor, m, n, k int, vec4 uint32, deq *sgDeq) bool {
	p, ok := b.planISG(m, n, k)
	if !ok || (deq != nil && p.splits > 1) {
		return false
	}
	kw := (k + 3) / 4
	push := sgPush{M: uint32(m), N: uint32(n), K: uint32(k), KW: uint32(kw), KC: uint32(p.kc)}
	out := ct
	if p.splits > 1 {
		out = b.scratch(op, p.splits*m*n)
	}
	// Without DEQ bindings 4..6 are bound to a, not read.
	sbt, biast, prm := at, at, at
	hasBias := uint32(0)
	if deq != nil {
		push.ZA, push.Off = deq.za, deq.off
		sbt, biast, prm = deq.sb, deq.sb, deq.prm
		if deq.bias != nil {
			hasBias, biast = 1, deq.bias
		}
	}
	sg := b.tune.gemmSG
	spec := []uint32{uint32(p.wx), uint32(at.st.q), uint32(bt.st.q), vec4, sg, uint32(p.tm), uint32(p.wy), uint32(p.ks), b2u(deq != nil), hasBias}
	if b.opts.RecordPaths {
		const k = "q_gemmi_sg"
		b.tookGemmI(k, at.st.q, bt.st.q, p.splits, p.perInv > 1)
		b.took(k, pick(vec4 != 0, "acc=vec4", "acc=scalar"))
		b.took(k, pick(p.ks > 0, "ksteps=one", "ksteps=loop"))
		// The kernel broadcasts rows where the device's subgroups are SG
		// wide, else every invocation loads its own.
		b.took(k, pick(b.dev.Info().SubgroupSize == sg, "rows=broadcast", "rows=own"))
		switch {
		case deq == nil:
			b.took(k, "out=acc")
		case hasBias != 0:
			b.took(k, "out=y/bias")
		default:
			b.took(k, "out=y/nobias")
		}
	}
	b.dispatch(op, "q_gemmi_sg", spec, pushOf(push), uint32(p.gx), uint32(p.gy), uint32(p.splits), at, bt, out, out, sbt, biast, prm)
	if p.splits > 1 {
		b.sumI(op, ct, out, m*n, p.splits)
	}
	return true
}

// splitK returns how many ways to split the kw words of k: enough 4x4
// blocks times splits to reach the device's target of invocations, each
// split keeping at least 32 words, the partials within one buffer.
func (b *Backend) splitK(m, n, kw int) int {
	blocks := ((m + 3) / 4) * ((n + 3) / 4)
	target := b.tune.splitTarget
	if target <= 0 || blocks >= target || kw < 64 {
		return 1
	}
	s := min((target+blocks-1)/blocks, kw/32, 64)
	if lim := int(b.dev.Info().Limits.MaxStorageBufferRange) / 4 / (m * n); s > lim {
		s = lim
	}
	if lim := int(b.dev.Info().Limits.MaxComputeWorkGroupCount[2]); s > lim {
		s = lim
	}
	return max(s, 1)
}

// RowSumI writes s[m] = Σ_k a[m,k] of the Q8 matrix a [M, K] into s [M].
func (b *Backend) RowSumI(s, a backend.Tensor) {
	d, ok := backend.OpRowSumI.Check(&b.err, b, backend.Params{}, s, a)
	if !ok {
		return
	}
	b.rowSumI("RowSumI", tensor(s), tensor(a), d.M)
}

// rowSumI records RowSumI's kernels for st = the row sums of the m rows of
// at (checked by the caller's op).
func (b *Backend) rowSumI(op string, st, at *Tensor, m int) {
	items := at.rowWords()
	if at.st.q == qWide {
		items = at.cols()
	}
	// q_rowsumi splits each row sp ways (interleaved items, then q_sumi):
	// few enough items per invocation that its loop stays short (llvmpipe
	// ends loops after 65535 iterations) and, on GPUs, enough invocations
	// for the device (tune.rowInvocations). On CPU drivers a second
	// dispatch costs more than a few rows to an invocation.
	wg := int(b.wg())
	sp := ceilDiv(items, maxLoop/2)
	if b.tune.strideGroups == 0 {
		sp = max(sp, ceilDiv(b.tune.rowInvocations, m))
	}
	sp = max(1, min(sp, items))
	ids := m * sp
	gx := int(b.stride(ids, wg))
	if sg := b.tune.strideGroups; sg > 0 {
		// A few workgroups per thread, each invocation looping over
		// several (row, split) pairs, but at most maxLoop/4 iterations.
		per := ceilDiv(items, sp)/2 + 2
		gx = min(gx, max(sg, ceilDiv(ids*per, wg*maxLoop/4)))
	}
	push := struct{ M, K, RowWords, S uint32 }{uint32(m), uint32(at.cols()), uint32(at.rowWords()), uint32(sp)}
	short := uint32(0) // ITEMS: rows of at most four items, summed straight-line
	if items <= 4 && sp == 1 {
		short = uint32(items)
	}
	spec := []uint32{b.wg(), uint32(at.st.q), short}
	b.took("q_rowsumi", fmtA[at.st.q])
	b.took("q_rowsumi", pick(short != 0, "row=short", "row=loop"))
	b.took("q_rowsumi", pick(sp > 1, "split", "whole"))
	if sp == 1 {
		b.dispatch(op, "q_rowsumi", spec, pushOf(push), uint32(gx), 1, 1, at, st)
		return
	}
	part := b.scratch(op, sp*m)
	b.dispatch(op, "q_rowsumi", spec, pushOf(push), uint32(gx), 1, 1, at, part)
	b.sumI(op, st, part, m, sp)
}

// maxLoop bounds the iterations of a kernel's inner loop over k: llvmpipe
// ends an invocation's loops after 65535 iterations in all, so longer
// reductions are split over workgroups.
const maxLoop = 16384

// Dequant turns int32 products into floats with the exact zero-point
// correction, as nn/ref: the integer part in wrapping int32, then
// y = float32(sa·sb[n])·float32(v) + bias[n], each step rounded.
func (b *Backend) Dequant(y, acc, sa, sb backend.Tensor, k int, pa, pb backend.QuantSpec, bias backend.Tensor) {
	d, ok := backend.OpDequant.Check(&b.err, b, backend.Params{K: k, P: pa, PB: pb}, y, acc, sa, sb, bias)
	if !ok {
		return
	}
	b.dequant("Dequant", tensor(y), tensor(acc), tensor(sa), tensor(sb), tensor(bias), d.M, d.N, k, pa, pb)
}

// dequantParams reserves and fills the per-column constants of the exact
// dequantization of n columns of k-term products: fl32(sA·sB[c]), zB[c]
// and k·zA·zB[c] (nil after recording an error).
func (b *Backend) dequantParams(op string, n, k int, pa, pb backend.QuantSpec) (*Tensor, uint32) {
	sA, zA := pa.Scale[0], pa.Zero[0]
	w, prm, off := b.reserve(op, 3*n)
	if prm == nil {
		return nil, 0
	}
	for j := range n {
		c := 0
		if len(pb.Scale) > 1 {
			c = j
		}
		zb := pb.Zero[c]
		w[j] = math.Float32bits(sA * pb.Scale[c])
		w[n+j] = uint32(zb)
		w[2*n+j] = uint32(int32(k) * zA * zb)
	}
	return prm, off
}

// dequant records Dequant's kernel (operands checked by the caller's op;
// bt may be nil).
func (b *Backend) dequant(op string, yt, ct, sat, sbt, bt *Tensor, m, n, k int, pa, pb backend.QuantSpec) {
	zA := pa.Zero[0]
	prm, off := b.dequantParams(op, n, k, pa, pb)
	if prm == nil {
		return
	}
	hasBias := uint32(1)
	if bt == nil {
		hasBias, bt = 0, sat // bound but not read
	}
	push := struct {
		M, N uint32
		ZA   int32
		Off  uint32
	}{uint32(m), uint32(n), zA, off}
	// Column pairs as 64-bit words where the device takes them cheaply
	// (q_dequant2 has the launch of perChanRows: whole-row workgroups).
	if b.floatTune().pairs && n%2 == 0 {
		b.took("q_dequant2", pick(hasBias != 0, "bias", "nobias"))
		b.perChanRows(op, "q_dequant2", []uint32{hasBias}, pushOf(push), m, n/2, ct, sat, sbt, bt, yt, prm)
		return
	}
	b.took("q_dequant", pick(hasBias != 0, "bias", "nobias"))
	wx, wy := b.tile2D(n)
	gx := b.groups(n, int(wx))
	gy := max(1, min((m+int(wy)-1)/int(wy), b.tune.rowInvocations/int(gx*wx*wy)))
	gy = max(gy, (m+int(wy)*maxLoop-1)/(int(wy)*maxLoop)) // rows per invocation <= maxLoop
	gy = min(gy, int(b.dev.Info().Limits.MaxComputeWorkGroupCount[1]))
	b.dispatch(op, "q_dequant", []uint32{wx, wy, hasBias}, pushOf(push), gx, uint32(gy), 1, ct, sat, sbt, bt, yt, prm)
}

// tile2D returns a 2-D workgroup of b.wg() invocations whose width covers
// n columns (a power of two from 8), for kernels with one column per
// invocation.
func (b *Backend) tile2D(n int) (wx, wy uint32) {
	wx = 8
	for wx < b.wg() && int(wx) < n {
		wx *= 2
	}
	return wx, b.wg() / wx
}

// rtPlan is the launch of f_gemm_rt: its specialization, grid and the
// chunks k is split into.
type rtPlan struct {
	wx, tu, tl, ku uint32
	lanesM         bool
	gx, gy         uint32
	chunks, kc     int
}

// planGemmRT chooses f_gemm_rt's launch for C [m, n] = op(A)·op(B) with
// inner dimension k on a CPU driver with a fixed subgroup size: the
// invocations walk the longer of m and n (L) in register tiles of up to
// 16 indices, the workgroup the other (U) in blocks of up to 16 shared
// indices, which whole subgroups read once and broadcast; two steps of k
// per iteration. On lavapipe every gather and broadcast costs tens of
// multiply-adds, so the tiles are as large as the shader allows (16x16
// beat 16x8 by about a quarter at the fc shapes although the accumulators
// spill), in workgroups of at most 16 invocations (more workgroups, each
// on a narrower strip of the lane operand). A grid of few workgroups with
// a long k is split into chunks of k. It reports false where the grid
// does not fit the device.
func (b *Backend) planGemmRT(m, n, k int) (rtPlan, bool) {
	const minGroups, minChunk = 16, 256
	const maxTU, maxTL, maxWX = 16, 16, 16
	tu := b.floatTune()
	sg := int(tu.gemmSG)
	p := rtPlan{lanesM: m > n}
	u, l := m, n
	if p.lanesM {
		u, l = n, m
	}
	// Blocks of U: all of a short U, else equal blocks of at most 16.
	tU := ceilDiv(u, ceilDiv(u, maxTU))
	// Lane tiles of 16; smaller where there are fewer tiles than a
	// subgroup has lanes (the lanes past them would load as much for
	// nothing).
	tL := maxTL
	if ceilDiv(l, tL) < sg {
		tL = max(1, ceilDiv(l, sg))
	}
	wx := sg
	for wx < ceilDiv(l, tL) && wx*2 <= min(maxWX, int(tu.gemmWX)) {
		wx *= 2
	}
	gx, gy := ceilDiv(l, wx*tL), ceilDiv(u, tU)
	if wx > int(tu.gemmWX) || gx > int(tu.maxGX) || gy > int(tu.maxGY) {
		return p, false
	}
	p.wx, p.tu, p.tl = uint32(wx), uint32(tU), uint32(tL)
	p.ku = 2
	p.gx, p.gy = uint32(gx), uint32(gy)
	p.chunks = 1
	if wgs := gx * gy; wgs < minGroups && k >= 2*minChunk {
		p.chunks = min(ceilDiv(minGroups, wgs), k/minChunk)
	}
	p.kc = min(ceilDiv(k, p.chunks), maxLoop)
	p.chunks = ceilDiv(k, p.kc)
	lim := b.dev.Info().Limits
	if p.chunks > int(tu.maxGZ) || (p.chunks > 1 && int64(p.chunks)*int64(m)*int64(n)*4 > int64(lim.MaxStorageBufferRange)) {
		return p, false
	}
	return p, true
}

// gemmRT records Gemm as f_gemm_rt (and f_gemm_ksum for a split k) on CPU
// drivers with a fixed subgroup size; it reports false, recording
// nothing, elsewhere or where planGemmRT finds no launch.
func (b *Backend) gemmRT(op string, ct, at, bt *Tensor, m, n, k int, transA, transB bool, alpha, beta float32) bool {
	pt, chunks, ok := b.gemmRTParts(op, ct, at, bt, m, n, k, transA, transB, alpha, beta)
	if ok && chunks > 1 {
		b.gemmKSum(op, ct, pt, m*n, chunks, alpha, beta)
	}
	return ok
}

// gemmRTParts is gemmRT without f_gemm_ksum: where k is split it returns
// the backend's scratch holding the chunks' partial products of
// op(A)·op(B) (m·n elements each, in chunk order; alpha and beta not
// applied), else the product C = alpha·op(A)·op(B) + beta·C written into
// ct (where ct is nil into the scratch, for gemmParts: alpha 1, beta 0)
// and 1.
// ok is false, nothing recorded, where gemmRT would not run (pt is nil
// after recording an error).
func (b *Backend) gemmRTParts(op string, ct, at, bt *Tensor, m, n, k int, transA, transB bool, alpha, beta float32) (pt *Tensor, chunks int, ok bool) {
	if !b.floatTune().rt || m == 0 || n == 0 || k == 0 {
		return nil, 0, false
	}
	if b.gemmRows(op, ct, at, bt, m, n, k, transA, transB, alpha, beta) {
		if ct == nil {
			ct = b.scratch(op, m*n) // the buffer gemmRows wrote
		}
		return ct, 1, true
	}
	p, ok := b.planGemmRT(m, n, k)
	if !ok {
		return nil, 0, false
	}
	spec := []uint32{p.wx, p.tu, p.tl, b2u(transA), b2u(transB), b2u(p.lanesM), p.ku}
	push := gemmPush{M: uint32(m), N: uint32(n), K: uint32(k), KC: uint32(p.kc), Alpha: alpha, Beta: beta}
	b.tookGemm("f_gemm_rt", transA, transB, p.lanesM, p.chunks)
	if p.chunks <= 1 {
		if ct == nil {
			ct = b.scratch(op, m*n)
		}
		b.dispatch(op, "f_gemm_rt", spec, pushOf(push), p.gx, p.gy, 1, ct, at, bt)
		return ct, 1, true
	}
	pt = b.scratch(op, p.chunks*m*n) // partial products; reused, no allocation per step
	push.Alpha, push.Beta = 1, 0
	b.dispatch(op, "f_gemm_rt", spec, pushOf(push), p.gx, p.gy, uint32(p.chunks), pt, at, bt)
	return pt, p.chunks, true
}

// gemmParts records the product op(A)·op(B) [m, n] as Gemm's kernels
// compute it (alpha 1, beta 0) into the backend's scratch, without
// f_gemm_ksum: it returns the scratch and the partial products it holds,
// m·n elements each in chunk order (1: the product itself), which the
// reader adds in order from 0 as f_gemm_ksum does (nil after recording an
// error). Gemm's float order, with the sum of the chunks left to the
// reader (ConvGradWQuant's q_quantgrad).
func (b *Backend) gemmParts(op string, at, bt *Tensor, m, n, k int, transA, transB bool) (*Tensor, int) {
	if pt, chunks, ok := b.gemmRTParts(op, nil, at, bt, m, n, k, transA, transB, 1, 0); ok {
		return pt, chunks
	}
	p := b.planGemm(m, n, k, transA, transB)
	pt := b.scratch(op, p.chunks*m*n)
	b.recordGemm(op, p, pt, at, bt, m, n, k, transA, transB, 1, 0)
	return pt, p.chunks
}

// recordGemm records f_gemm (or its subgroup forms) with plan p: with one
// chunk C = alpha·op(A)·op(B) + beta·C into ct, else the chunks' partial
// products into ct (alpha and beta not applied): Gemm's f_gemm dispatch
// (b.gemm) and gemmParts'.
func (b *Backend) recordGemm(op string, p gemmPlan, ct, at, bt *Tensor, m, n, k int, transA, transB bool, alpha, beta float32) {
	shader := "f_gemm"
	var sb [specMax]uint32
	spec := append(sb[:0], p.wx, p.tm, p.tn, b2u(transA), b2u(transB), b2u(p.lanesM), b2u(p.vecA), b2u(p.vecB))
	if p.sg > 0 {
		shader = "f_gemm_sg"
		if b.floatTune().pairs {
			shader = "f_gemm_sg64" // vec4s as 64-bit words
		}
		spec = append(spec, p.sg, p.rounds)
	}
	b.tookGemm(shader, transA, transB, p.lanesM, p.chunks)
	b.took(shader, pick(p.vecA, "loadA=vec4", "loadA=scalar"))
	b.took(shader, pick(p.vecB, "loadB=vec4", "loadB=scalar"))
	push := gemmPush{M: uint32(m), N: uint32(n), K: uint32(k), KC: uint32(p.kc), Alpha: alpha, Beta: beta}
	if p.chunks > 1 {
		push.Alpha, push.Beta = 1, 0
	}
	b.dispatch(op, shader, spec, pushOf(push), p.gx, p.gy, uint32(p.chunks), ct, at, bt)
}

// gemmRows records Gemm as f_gemm_rows where that kernel fits (on CPU
// drivers, with gemmRT's conditions): A not transposed, k at most 16, A
// tall (at least 64 rows per column of C; the gradient of a first
// convolution's im2col matrix), so that eight rows of A per invocation,
// read once for all n columns, leave enough invocations (C into ct, or
// where ct is nil into the backend's scratch: gemmRTParts). It reports
// false, recording nothing, elsewhere. Measured on lavapipe for [36864 x 16] by
// [16 x 25] on a loaded machine: 7.1 ms as f_gemm_rt, 4.4 ms (about 2 of
// them the stores, one lane at a time).
func (b *Backend) gemmRows(op string, ct, at, bt *Tensor, m, n, k int, transA, transB bool, alpha, beta float32) bool {
	const rows, maxK = 8, 16
	if transA || k > maxK || m < 64*n || m < 8*rows {
		return false
	}
	tu := b.floatTune()
	wx := min(64, int(tu.gemmWX))
	gx := ceilDiv(ceilDiv(m, rows), wx)
	if gx > int(tu.maxGX) {
		return false
	}
	if b.opts.RecordPaths {
		const k = "f_gemm_rows"
		b.took(k, pick(transB, "b=T", "b=N"))
		b.took(k, pick(beta == 0, "beta=0", "beta"))
		b.took(k, pick(m%rows == 0, "rows=whole", "rows=ragged"))
	}
	push := gemmPush{M: uint32(m), N: uint32(n), K: uint32(k), KC: uint32(k), Alpha: alpha, Beta: beta}
	if ct == nil { // gemmRTParts: into the scratch
		ct = b.scratch(op, m*n)
	}
	b.dispatch(op, "f_gemm_rows", []uint32{uint32(wx), uint32(k), b2u(transB)}, pushOf(push), uint32(gx), 1, 1, ct, at, bt)
	return true
}
