package vk

import (
	"github.com/vktrain/vktrain/nn/backend"
)

var _ backend.FusedConv = (*Backend)(nil)

// maxConvDirectK bounds the columns K = KH·KW·C of the convolutions that
// the direct kernels run (q_convi holds 32 codes of each of its weight
// rows in registers; past that the composed kernels take over).
const maxConvDirectK = 32

// convRowsCPU is the fewest rows each invocation of q_convi walks on CPU
// drivers (see ConvIDequant).
const convRowsCPU = 24

// convScratch holds the im2col matrices of one geometry's composed
// FusedConv ops: the codes (Q8) and the floats (x̂ or the column
// gradients), made on first use; the padded x̂ image of ConvGradWQ's
// f_gemm_rtc (img) and ConvGradWQuant's q_quantgrad partial sums (qpart,
// beside the product's partials in the backend's scratch), each grown to
// the largest asked for.
type convScratch struct {
	colsI, colsF backend.Tensor
	img, qpart   backend.Tensor
}

// convEntry returns the scratch entry of [rows, k] im2col matrices,
// evicting the oldest where maxGemmDeqShapes are kept.
func (b *Backend) convEntry(rows, k int) *convScratch {
	s, _ := b.convScr.get(rows, k, func(old *convScratch) {
		b.Free(old.colsI)
		b.Free(old.colsF)
		b.Free(old.img)
		b.Free(old.qpart)
	})
	return s
}

// convImg returns the F32 scratch of at least n elements for the padded
// image of geometry [rows, k] (nil after recording an error).
func (b *Backend) convImg(op string, rows, k, n int) *Tensor {
	return b.convGrown(op, &b.convEntry(rows, k).img, n)
}

// convGrown returns *t, an F32 scratch tensor of a convEntry, first made
// or replaced where it has fewer than n elements (nil after recording an
// error).
func (b *Backend) convGrown(op string, t *backend.Tensor, n int) *Tensor {
	if *t != nil && (*t).Len() < n {
		b.Free(*t)
		*t = nil
	}
	if *t == nil {
		nt, err := b.New(backend.F32, n)
		if err != nil {
			b.record(op, err)
			return nil
		}
		*t = nt
	}
	return tensor(*t)
}

// convCols returns the scratch of [rows, k] im2col matrices, making the
// one asked for (colsI Q8, else colsF F32) on first use (nil after
// recording an error).
func (b *Backend) convCols(op string, rows, k int, codes bool) *Tensor {
	s := b.convEntry(rows, k)
	t, dt := &s.colsF, backend.F32
	if codes {
		t, dt = &s.colsI, backend.Q8
	}
	if *t == nil {
		n, err := b.New(dt, rows, k)
		if err != nil {
			b.record(op, err)
			return nil
		}
		*t = n
	}
	return tensor(*t)
}

// convPushQ mirrors q_convi's push constants.
type convPushQ struct {
	H, W, OH, OW         uint32
	SH, SW               uint32
	PH, PW               int32
	Rows, Out            uint32
	XRowWords, WRowWords uint32
	ZA                   int32
	Off                  uint32
}

// ConvIDequant is Im2ColI then GemmIDequant (see backend.FusedConv), bit
// for bit. Where K is at most maxConvDirectK and the weight codes are
// packed, q_convi computes each row's products, row sum and
// dequantization straight from the image codes (the dequantization is
// q_dequant's, step for step); elsewhere Im2ColI writes the im2col
// matrix into scratch the backend keeps per shape and GemmIDequant's
// kernels take it (gemmIDequant: one q_gemmi_sg with its dequantizing
// epilogue where that applies).
func (b *Backend) ConvIDequant(y, qx, qw, sw, bias backend.Tensor, g backend.ConvGeom, xs, ws backend.QuantSpec) {
	d, ok := backend.OpConvIDequant.Check(&b.err, b, backend.Params{Conv: g, P: xs, PB: ws}, y, qx, qw, sw, bias)
	if !ok {
		return
	}
	b.convIDequant("ConvIDequant", tensor(y), tensor(qx), tensor(qw), tensor(sw), tensor(bias), nil, d.M, d.N, d.K, g, xs, ws)
}

// convIDequant records ConvIDequant (operands checked by the caller's op)
// for y [m, n], and where xst is not nil ConvIDequantStats' statistics of
// y into xst [2, n]: from q_convi's epilogue (STATS) where it runs, else
// from passes over y (colStats).
func (b *Backend) convIDequant(op string, yt, xt, wt, swt, bt, xst *Tensor, m, n, k int, g backend.ConvGeom, xs, ws backend.QuantSpec) {
	groups := ceilDiv(n, 4)
	tu := b.floatTune()
	if k > maxConvDirectK || wt.st.q == qWide || groups > int(tu.maxGY) {
		cols := b.convCols(op, m, k, true)
		if cols == nil {
			return
		}
		b.im2colI(op, cols, xt, g, xs.Zero[0])
		b.gemmIDequant(op, yt, cols, wt, swt, bt, m, n, k, xs, ws)
		if xst != nil {
			b.colStats(op, yt, xst, m, n)
		}
		return
	}
	zA := xs.Zero[0]
	prm, off := b.dequantParams(op, n, k, xs, ws)
	if prm == nil {
		return
	}
	hasBias := uint32(1)
	if bt == nil {
		hasBias, bt = 0, swt // bound but not read
	}
	oh, ow := g.Out()
	push := convPushQ{H: uint32(g.H), W: uint32(g.W), OH: uint32(oh), OW: uint32(ow),
		SH: uint32(g.StrideH), SW: uint32(g.StrideW), PH: int32(g.PadH), PW: int32(g.PadW),
		Rows: uint32(m), Out: uint32(n), XRowWords: uint32(xt.rowWords()), WRowWords: uint32(wt.rowWords()), ZA: zA, Off: off}
	vec4 := n%4 == 0
	// Channel groups of 4 per invocation: on CPU drivers up to 16
	// channels share each image read (the reads cost most there), on GPUs
	// one group (fewer registers, more invocations).
	ng := 1
	if b.tune.cpu {
		ng = min(4, groups)
	}
	gy := ceilDiv(groups, ng)
	wg := int(b.wg())
	// Rows along x, grid-stride: every invocation loads its weights and
	// epilogue constants once (about 190 reads for 16 channels of 25
	// taps, the cost of a few rows), so on CPU drivers few workgroups,
	// each invocation walking at least convRowsCPU rows (the MNIST stem,
	// 36864 rows on lavapipe: 12 workgroups of 128 took 3.1-3.5 ms of
	// CPU time where 64 took 4.2-6.9), on GPUs a row per invocation.
	gx := ceilDiv(m, wg)
	if sg := b.tune.strideGroups; sg > 0 {
		gx = min(gx, max(ceilDiv(sg, gy), ceilDiv(m, wg*maxLoop/4)))
	}
	if b.tune.cpu {
		gx = min(gx, max(ceilDiv(m, wg*convRowsCPU), ceilDiv(m, wg*maxLoop/4)))
	} else if xst != nil {
		// With the statistics every invocation walks at least
		// convStatsRows rows: fewer lanes for f_colstats_fin to add.
		gx = min(gx, max(ceilDiv(m, wg*convStatsRows), ceilDiv(m, wg*maxLoop/4)))
	}
	gx = min(gx, int(tu.maxGX))
	if gx*wg*(maxLoop/4) < m && b.tune.cpu {
		b.failf(op, "%d rows need more workgroups than the device's limit", m)
		return
	}
	part := yt // bound, not written, without the statistics
	lanes := gx * wg
	if xst != nil {
		if part = b.scratch(op, 2*lanes*n); part == nil {
			return
		}
	}
	spec := []uint32{b.wg(), uint32(xt.st.q), uint32(wt.st.q), uint32(g.KH), uint32(g.KW), uint32(g.C), hasBias, b2u(vec4), uint32(ng), b2u(xst != nil)}
	if b.paths != nil {
		const kn = "q_convi"
		b.took(kn, fmtX[xt.st.q])
		b.took(kn, pick(wt.st.q == qS8, "w=s8", "w=u8"))
		b.took(kn, pick(hasBias != 0, "bias", "nobias"))
		b.took(kn, pick(vec4, "y=vec4", "y=scalar"))
		b.took(kn, pick(ng > 1, "groups>1", "groups=1"))
		b.took(kn, pick(xst != nil, "stats", "nostats"))
	}
	b.dispatch(op, "q_convi", spec, pushOf(push), uint32(gx), uint32(gy), 1, xt, wt, swt, bt, prm, yt, yt, part)
	if xst != nil {
		b.colStatsFin(op, xst, part, colStatsStrided, n, lanes, m)
	}
}

// convPushW mirrors f_convgradw's push constants.
type convPushW struct {
	H, W, C, KW, OH, OW uint32
	SH, SW              uint32
	PH, PW              int32
	Rows, Out, K        uint32
	XRowWords           uint32
	Zero                int32
	Scale               float32
}

// ConvGradWQ is the weight gradient Gemm(dw, dy, Dequantize(Im2ColI(qx)),
// true, false, 1, 0) (see backend.FusedConv). On GPUs, where K is at most
// maxConvDirectK, f_convgradw reads the image codes directly: blocks of
// 4 channels by 4 taps per invocation, summed over a strided share of the
// rows into partials that f_gemm_ksum adds in order. On CPU drivers that
// run f_gemm_rt, f_gemm_rtc reads the x̂ columns from the dequantized,
// padded image (convGradWRT). Elsewhere the composed kernels run with the
// matrices in scratch.
func (b *Backend) ConvGradWQ(dw, dy, qx backend.Tensor, g backend.ConvGeom, xs backend.QuantSpec) {
	d, ok := backend.OpConvGradWQ.Check(&b.err, b, backend.Params{Conv: g, P: xs}, dw, dy, qx)
	if !ok {
		return
	}
	const op = "ConvGradWQ"
	dwt := tensor(dw)
	out, k := d.M, d.N
	if pt, chunks := b.convGradWParts(op, dwt, tensor(dy), tensor(qx), g, xs, out, k, d.K); chunks > 1 {
		b.gemmKSum(op, dwt, pt, out*k, chunks, 1, 0)
	}
}

// convGradWParts records ConvGradWQ's kernels (see there; operands
// checked by the caller's op) but for the sum of a split product's
// partials: it returns the tensor holding the product [out, k] as chunks
// partial products of out·k elements each, in chunk order, to be added in
// order from 0 as f_gemm_ksum adds them (chunks > 1: the backend's
// scratch), or the product itself (chunks 1: dwt, or where dwt is nil the
// scratch). pt is nil after recording an error.
func (b *Backend) convGradWParts(op string, dwt, dyt, xt *Tensor, g backend.ConvGeom, xs backend.QuantSpec, out, k, rows int) (pt *Tensor, chunks int) {
	tu := b.floatTune()
	og, kg := ceilDiv(out, 4), ceilDiv(k, 4)
	// Rows per invocation: long runs on CPU drivers (few, long
	// workgroups), short ones on GPUs; the partials must fit one buffer.
	per := 16
	if b.tune.cpu {
		per = 128
	}
	wg := int(b.wg())
	gx := max(1, min(ceilDiv(rows, wg*per), int(tu.maxGX)))
	lim := b.dev.Info().Limits
	// On CPU drivers the GEMM wins: per row f_convgradw reads 4 image
	// codes and 4 of dy per 16 products, and every texel fetch costs
	// lavapipe more than the GEMM's broadcast rows (measured on the MNIST
	// stem, [36864 x 16]ᵀ·[36864 x 25]: about 18 ms against 6 composed,
	// 4 with f_gemm_rtc).
	direct := !b.tune.cpu && k <= maxConvDirectK && og <= int(tu.maxGY) && kg <= int(tu.maxGZ) &&
		ceilDiv(rows, gx*wg) <= maxLoop && int64(gx*wg)*int64(out*k)*4 <= int64(lim.MaxStorageBufferRange)
	if !direct {
		if pt, chunks, ok := b.convGradWRT(op, dwt, dyt, xt, g, xs, out, k, rows); ok {
			return pt, chunks
		}
		cols := b.convCols(op, rows, k, true)
		if cols == nil {
			return nil, 0
		}
		b.im2colI(op, cols, xt, g, xs.Zero[0])
		colsF := b.convCols(op, rows, k, false)
		if colsF == nil {
			return nil, 0
		}
		b.dequantize(op, colsF, cols, xs, cols.Len())
		if dwt == nil {
			return b.gemmParts(op, dyt, colsF, out, k, rows, true, false)
		}
		b.gemm(op, dwt, dyt, colsF, out, k, rows, true, false, 1, 0)
		return dwt, 1
	}
	chunks = gx * wg
	part := b.scratch(op, chunks*out*k)
	if part == nil {
		return nil, 0
	}
	oh, ow := g.Out()
	push := convPushW{H: uint32(g.H), W: uint32(g.W), C: uint32(g.C), KW: uint32(g.KW), OH: uint32(oh), OW: uint32(ow),
		SH: uint32(g.StrideH), SW: uint32(g.StrideW), PH: int32(g.PadH), PW: int32(g.PadW),
		Rows: uint32(rows), Out: uint32(out), K: uint32(k), XRowWords: uint32(xt.rowWords()), Zero: xs.Zero[0], Scale: xs.Scale[0]}
	b.took("f_convgradw", fmtX[xt.st.q])
	b.dispatch(op, "f_convgradw", []uint32{b.wg(), uint32(xt.st.q)}, pushOf(push), uint32(gx), uint32(og), uint32(kg), part, dyt, xt)
	return part, chunks
}

// convRTPush mirrors f_gemm_rtc's push constants.
type convRTPush struct {
	M, N, K, KC                        uint32
	Alpha, Beta                        float32
	OW, OH, SWC, RS, IS, Img, KWC, WpC uint32
}

// convPadPush mirrors q_dequantpad's push constants.
type convPadPush struct {
	H, W, C, HP, WP, PH, PW uint32
	RowWords, Total         uint32
	S                       float32
	Z                       int32
}

// convGradWRT records ConvGradWQ on CPU drivers where f_gemm_rt runs
// (gemmRT's conditions and launch plan): q_dequantpad writes x̂, the
// dequantized image with its padding as zeros (the value of a padding
// code), and f_gemm_rtc multiplies dyᵀ by its implicit im2col matrix,
// the same arithmetic in the same order as f_gemm_rt over the x̂ columns
// (f_gemm_ksum adding split k's parts). This writes and reads the small
// image instead of two [rows, K] matrices (q_im2coli, q_dequantize): on
// lavapipe for the MNIST stem about 4.5 ms against 10.5 (BenchmarkFusedConv).
// The GEMM's dimensions: m = Out, n = K, k = rows. It returns the product
// as convGradWParts does (the partials of a split k in the backend's
// scratch, else the product in dwt, or in the scratch where dwt is nil);
// ok is false, nothing recorded, where it does not apply.
func (b *Backend) convGradWRT(op string, dwt, dyt, xt *Tensor, g backend.ConvGeom, xs backend.QuantSpec, m, n, k int) (pt *Tensor, chunks int, ok bool) {
	if !b.floatTune().rt {
		return nil, 0, false
	}
	p, ok := b.planGemmRT(m, n, k)
	if !ok {
		return nil, 0, false
	}
	oh, ow := g.Out()
	hp, wp := (oh-1)*g.StrideH+g.KH, (ow-1)*g.StrideW+g.KW
	total := g.N * hp * wp * g.C
	if int64(total) >= 1<<30 { // qdiv's range
		return nil, 0, false
	}
	img := b.convImg(op, k, n, total) // the scratch of the geometry's [rows, K]
	if img == nil {
		return nil, 0, true
	}
	wpc := wp * g.C
	pad := convPadPush{H: uint32(g.H), W: uint32(g.W), C: uint32(g.C), HP: uint32(hp), WP: uint32(wp),
		PH: uint32(g.PadH), PW: uint32(g.PadW), RowWords: uint32(xt.rowWords()), Total: uint32(total),
		S: xs.Scale[0], Z: xs.Zero[0]}
	b.took("q_dequantpad", fmtX[xt.st.q])
	b.elementwise(op, "q_dequantpad", []uint32{uint32(xt.st.q)}, pushOf(pad), total, xt, img)
	push := convRTPush{M: uint32(m), N: uint32(n), K: uint32(k), KC: uint32(p.kc), Alpha: 1, Beta: 0,
		OW: uint32(ow), OH: uint32(oh), SWC: uint32(g.StrideW * g.C), RS: uint32(g.StrideH * wpc),
		IS: uint32(hp*wpc - (oh-1)*g.StrideH*wpc), Img: uint32(hp * wpc), KWC: uint32(g.KW * g.C), WpC: uint32(wpc)}
	spec := []uint32{p.wx, p.tu, p.tl, 1, 0, b2u(p.lanesM), p.ku}
	b.tookGemm("f_gemm_rtc", true, false, p.lanesM, p.chunks)
	if p.chunks <= 1 {
		if dwt == nil {
			dwt = b.scratch(op, m*n)
		}
		b.dispatch(op, "f_gemm_rtc", spec, pushOf(push), p.gx, p.gy, 1, dwt, dyt, img)
		return dwt, 1, true
	}
	pt = b.scratch(op, p.chunks*m*n)
	b.dispatch(op, "f_gemm_rtc", spec, pushOf(push), p.gx, p.gy, uint32(p.chunks), pt, dyt, img)
	return pt, p.chunks, true
}

// ConvGradX is the input gradient Col2Im(Gemm(dy, w, false, false, 1, 0))
// (see backend.FusedConv): on Vulkan the composed kernels (the column
// gradients in scratch the backend keeps per shape), recorded as one op.
// (A direct kernel per input element reads every weight once per tap and
// channel, more than the GEMM and f_col2im cost together on lavapipe. Also
// slower there, measured on the MNIST stem: f_gemm_rows storing the
// column gradients transposed as vec4s, about 1.4x; f_col2im walking the
// whole window with the taps outside masked instead of its loops, as fast
// for 5x5 over one channel and 1.3x slower for 3x3 over 16.)
func (b *Backend) ConvGradX(dx, dy, w backend.Tensor, g backend.ConvGeom) {
	d, ok := backend.OpConvGradX.Check(&b.err, b, backend.Params{Conv: g}, dx, dy, w)
	if !ok {
		return
	}
	const op = "ConvGradX"
	rows, k, out := d.M, d.N, d.K
	dcols := b.convCols(op, rows, k, false)
	if dcols == nil {
		return
	}
	b.gemm(op, dcols, tensor(dy), tensor(w), rows, k, out, false, false, 1, 0)
	b.col2im(op, tensor(dx), dcols, g)
}
