package vk

// The residual add, average pooling and the depthwise convolution (integer
// and float, with the float gradients). Each op's arguments are checked by
// its declaration in package backend; the kernels are shaders/f_add*.comp,
// f_avgpool*.comp, q_dwconvi*.comp and f_dwconv*.comp.
//
// Exactness: DWConvI is exact (wrapping int32 sums, whose order does not
// matter). Add, DWConv, DWConvGradX and AvgPoolGrad add in the reference's
// order with each product rounded (no fused multiply-add), AvgPool too
// unless a window is longer than one invocation may loop over (then its
// sum is split into chunks added in order); DWConvGradW adds the outputs in
// order within chunks of rows and then the chunks in order.
//
// Launch: on CPU drivers few long workgroups (floatTuning.groups), but
// always enough that an invocation's loops stay below llvmpipe's 65535
// iterations (loopGroups, perChanLoop, segments). The pooling kernels and
// Add walk their elements in 1-D grid-stride loops with the coordinates
// stepped by carries (no division per element). The depthwise kernels give
// an invocation one channel (four for DWConvI) and walk rows of outputs,
// the channel's filter taps (or, for DWConvGradW, its KH·KW sums) held in
// registers: KH and KW are specialization constants, so the tap loops
// unroll. On lavapipe this took DWConv from about 4x the reference's time
// to under 2x.

import (
	"unsafe"

	"github.com/vktrain/vktrain/nn/backend"
)

// loopGroups returns the workgroups of a 1-D grid-stride kernel over n
// items whose loops take up to cost iterations per item: about
// floatTuning.groups on CPU drivers (one item per invocation elsewhere, up
// to the device's limit), but enough that an invocation loops at most
// maxLoop times in all. It records an error (and returns 0) when one item
// alone is too long or the device allows too few workgroups.
func (b *Backend) loopGroups(op string, n, cost int) uint32 {
	wg := int(b.wg())
	tu := b.floatTune()
	if cost+1 > maxLoop {
		b.failf(op, "%d loop iterations per output exceed the %d this backend runs in one invocation", cost, maxLoop)
		return 0
	}
	per := maxLoop / (cost + 1) // items per invocation
	need := ceilDiv(n, wg*per)
	if need > int(tu.maxGX) {
		b.failf(op, "%d outputs of %d loop iterations need more workgroups than the device's limit of %d", n, cost, tu.maxGX)
		return 0
	}
	return max(countFor(n, wg, tu.groups), uint32(need))
}

// perChanLoop is perChanRows (a launch of shaders/f_perchan.glsl over the
// matrix [r, c], whole rows per workgroup where c allows) for kernels that
// loop perRow times per row they walk and first pre times per column: it
// gives the grid enough row groups that an invocation loops at most maxLoop
// times in all, or records an error when one row alone is too long.
func (b *Backend) perChanLoop(op, shader string, extraSpec []uint32, push pushArg, r, c, perRow, pre int, ts ...*Tensor) {
	tu := b.floatTune()
	cw := max(1, min(c, int(b.wg()), int(tu.maxWX)))
	rw := max(1, min(int(b.wg())/cw, int(tu.maxWY)))
	gx := countFor(c, cw, tu.maxGX)
	cols := ceilDiv(c, int(gx)*cw) // columns per invocation
	if cols*(pre+perRow) > maxLoop {
		b.failf(op, "%d loop iterations per row exceed the %d this backend runs in one invocation", perRow, maxLoop)
		return
	}
	need := ceilDiv(r, rw*max(1, (maxLoop/cols-pre)/perRow)) // row groups the loop limit needs
	if need > int(tu.maxGY) {
		b.failf(op, "%d rows of %d loop iterations need more workgroups than the device's limit of %d", r, perRow, tu.maxGY)
		return
	}
	gy := max(countFor(r, rw, min(tu.maxGY, max(tu.groups/gx, 1))), uint32(need))
	var sb [specMax]uint32
	spec := append(append(sb[:0], uint32(cw), uint32(rw)), extraSpec...)
	b.dispatch(op, shader, spec, push, gx, gy, 1, ts...)
}

// segments splits a row of n outputs, each looping over taps taps, into
// segs segments of seg outputs (the last one shorter) that one invocation
// walks within maxLoop loop iterations, counting each tap as one (the tap
// loops unroll where their counts are specialization constants, but need
// not) besides a first loop over the taps.
func segments(n, taps int) (seg, segs int) {
	seg = max(1, min(n, (maxLoop-taps)/(taps+1)))
	return seg, ceilDiv(n, seg)
}

// Add writes y = a + b elementwise; y may alias a.
func (b *Backend) Add(y, a, bt backend.Tensor) {
	d, ok := backend.OpAdd.Check(&b.err, b, backend.Params{}, y, a, bt)
	if !ok {
		return
	}
	b.elementwisePairs(backend.OpAdd.Name, "f_add", pushOf(nPush{N: uint32(d.Len)}), d.Len, tensor(y), tensor(a), tensor(bt))
}

// avgPoolPush mirrors the push constants of f_avgpool.
type avgPoolPush struct {
	N, H, W, C  uint32
	KW, SH, SW  uint32
	OH, OW      uint32
	Total       uint32
	Taps, Chunk uint32
	Inv         float32
}

// AvgPool writes the window means of x into y: the sum of each window in
// row-major order times the float32 1/(kh·kw) (f_avgpool). A window longer
// than an invocation may loop over is summed in chunks (f_avgpool's PART),
// which f_gemm_ksum adds in order and scales.
func (b *Backend) AvgPool(y, x backend.Tensor, g backend.PoolGeom) {
	d, ok := backend.OpAvgPool.Check(&b.err, b, backend.Params{Pool: g}, y, x)
	if !ok {
		return
	}
	const op = "AvgPool"
	yt, xt := tensor(y), tensor(x)
	kh, kw, sh, sw := g.Window()
	oh, ow := g.Out()
	taps := kh * kw
	inv := 1 / float32(taps)
	chunks := ceilDiv(taps, maxLoop/2)
	chunk := ceilDiv(taps, chunks)
	total := d.Len
	push := avgPoolPush{
		N: uint32(g.N), H: uint32(g.H), W: uint32(g.W), C: uint32(g.C),
		KW: uint32(kw), SH: uint32(sh), SW: uint32(sw), OH: uint32(oh), OW: uint32(ow),
		Total: uint32(total), Taps: uint32(taps), Chunk: uint32(chunk), Inv: inv,
	}
	gx := b.loopGroups(op, total, chunk)
	if chunks == 1 {
		b.took("f_avgpool", "chunks=1")
		b.dispatch(op, "f_avgpool", []uint32{b.wg(), 0}, pushOf(push), gx, 1, 1, yt, xt)
		return
	}
	if chunks > int(b.floatTune().maxGY) {
		b.failf(op, "a window of %d taps needs more workgroups than the device allows", taps)
		return
	}
	part := b.scratch(op, chunks*total) // partial sums; reused, no allocation per step
	if part == nil {
		return
	}
	b.took("f_avgpool", "chunks>1")
	b.took("f_gemm_ksum", "beta=0")
	b.dispatch(op, "f_avgpool", []uint32{b.wg(), 1}, pushOf(push), gx, uint32(chunks), 1, part, xt)
	b.elementwise(op, "f_gemm_ksum", nil, pushOf(ksumPush{MN: uint32(total), Chunks: uint32(chunks), Alpha: inv, Beta: 0}), total, yt, part)
}

// avgPoolGradPush mirrors the push constants of f_avgpoolgrad.
type avgPoolGradPush struct {
	N, H, W, C uint32
	KH, KW     uint32
	OH, OW     uint32
	Total      uint32
	Inv        float32
}

// AvgPoolGrad writes dx = the sum of dy·(1/(kh·kw)) over the windows that
// contain each element, in increasing output order (f_avgpoolgrad, a
// gather per element of dx: no clearing, no atomics).
func (b *Backend) AvgPoolGrad(dx, dy backend.Tensor, g backend.PoolGeom) {
	_, ok := backend.OpAvgPoolGrad.Check(&b.err, b, backend.Params{Pool: g}, dx, dy)
	if !ok {
		return
	}
	const op = "AvgPoolGrad"
	dxt, dyt := tensor(dx), tensor(dy)
	kh, kw, sh, sw := g.Window()
	oh, ow := g.Out()
	total := g.N * g.H * g.W * g.C
	push := avgPoolGradPush{
		N: uint32(g.N), H: uint32(g.H), W: uint32(g.W), C: uint32(g.C), KH: uint32(kh), KW: uint32(kw),
		OH: uint32(oh), OW: uint32(ow), Total: uint32(total), Inv: 1 / float32(kh*kw),
	}
	// With one row (column) of windows its step does not matter: take kh
	// (kw), so that windows that do not overlap take the loop-free form.
	if oh == 1 {
		sh = kh
	}
	if ow == 1 {
		sw = kw
	}
	tiled := sh >= kh && sw >= kw
	b.took("f_avgpoolgrad", pick(tiled, "tiled", "overlap"))
	// An element lies in at most min(ceil(kh/sh), oh) x min(ceil(kw/sw), ow)
	// windows.
	gx := b.loopGroups(op, total, min(ceilDiv(kh, sh), oh)*(min(ceilDiv(kw, sw), ow)+1))
	b.dispatch(op, "f_avgpoolgrad", []uint32{b.wg(), uint32(sh), uint32(sw), b2u(tiled)}, pushOf(push), gx, 1, 1, dxt, dyt)
}

// dwPush mirrors the push constants of f_dwconv.
type dwPush struct {
	N, H, W, C uint32
	SH, SW     uint32
	PH, PW     int32
	OH, OW     uint32
	Seg, Segs  uint32
}

// DWConv writes the float depthwise convolution of x with the filters w
// [C, KH, KW] (f_dwconv: an invocation per channel and output row, the
// channel's weights in registers, the taps inside the image in row-major
// order).
func (b *Backend) DWConv(y, x, w backend.Tensor, g backend.ConvGeom) {
	if _, ok := backend.OpDWConv.Check(&b.err, b, backend.Params{Conv: g}, y, x, w); !ok {
		return
	}
	const op = "DWConv"
	oh, ow := g.Out()
	taps := g.KH * g.KW
	seg, segs := segments(ow, taps)
	push := dwPush{
		N: uint32(g.N), H: uint32(g.H), W: uint32(g.W), C: uint32(g.C),
		SH: uint32(g.StrideH), SW: uint32(g.StrideW), PH: int32(g.PadH), PW: int32(g.PadW), OH: uint32(oh), OW: uint32(ow),
		Seg: uint32(seg), Segs: uint32(segs),
	}
	b.took("f_dwconv", pick(segs == 1, "segs=1", "segs>1"))
	b.perChanLoop(op, "f_dwconv", []uint32{uint32(g.KH), uint32(g.KW)}, pushOf(push), g.N*oh*segs, g.C, seg*(taps+1), taps,
		tensor(y), tensor(x), tensor(w))
}

// dwGradXPush mirrors the push constants of f_dwconv_gradx.
type dwGradXPush struct {
	N, H, W, C uint32
	PH, PW     uint32
	OH, OW     uint32
	Seg, Segs  uint32
}

// DWConvGradX writes dx = the sum of dy·w over the outputs whose window
// reads each element, outputs in increasing order (f_dwconv_gradx: a
// gather per element of dx, an invocation per channel and image row, the
// channel's weights in registers).
func (b *Backend) DWConvGradX(dx, dy, w backend.Tensor, g backend.ConvGeom) {
	if _, ok := backend.OpDWConvGradX.Check(&b.err, b, backend.Params{Conv: g}, dx, dy, w); !ok {
		return
	}
	const op = "DWConvGradX"
	oh, ow := g.Out()
	taps := g.KH * g.KW
	seg, segs := segments(g.W, taps)
	push := dwGradXPush{
		N: uint32(g.N), H: uint32(g.H), W: uint32(g.W), C: uint32(g.C),
		PH: uint32(g.PadH), PW: uint32(g.PadW), OH: uint32(oh), OW: uint32(ow), Seg: uint32(seg), Segs: uint32(segs),
	}
	spec := []uint32{uint32(g.KH), uint32(g.KW), uint32(g.StrideH), uint32(g.StrideW)}
	b.took("f_dwconv_gradx", pick(segs == 1, "segs=1", "segs>1"))
	b.perChanLoop(op, "f_dwconv_gradx", spec, pushOf(push), g.N*g.H*segs, g.C, seg*(taps+1), taps,
		tensor(dx), tensor(dy), tensor(w))
}

// dwGradWPush mirrors the push constants of f_dwconv_gradw.
type dwGradWPush struct {
	H, W, C     uint32
	SH, SW      uint32
	PH, PW      int32
	OH, OW      uint32
	Rows, Chunk uint32
}

// DWConvGradW writes dw [C, KH, KW] = the sum over the outputs of dy·x
// (f_dwconv_gradw): an invocation per channel and lane of output rows, the
// channel's KH·KW sums in registers; enough lanes to fill the device (and
// to keep each invocation's loop short), whose partial sums f_gemm_ksum
// adds in order.
func (b *Backend) DWConvGradW(dw, dy, x backend.Tensor, g backend.ConvGeom) {
	d, ok := backend.OpDWConvGradW.Check(&b.err, b, backend.Params{Conv: g}, dw, dy, x)
	if !ok {
		return
	}
	const op = "DWConvGradW"
	dwt, dyt, xt := tensor(dw), tensor(dy), tensor(x)
	tu := b.floatTune()
	oh, ow := g.Out()
	rows, taps := d.R, g.KH*g.KW
	// Workgroups of cw channels by rw lanes; lanes of at least 64 rows,
	// about tune.rowInvocations invocations in all, at most maxLoop loop
	// iterations each.
	cw := max(1, min(g.C, int(b.wg()), int(tu.maxWX)))
	gx := countFor(g.C, cw, tu.maxGX)
	perRow := (taps + 1) * ceilDiv(g.C, int(gx)*cw)
	if perRow+taps > maxLoop {
		b.failf(op, "%d loop iterations per output row exceed the %d this backend runs in one invocation", perRow, maxLoop)
		return
	}
	lanes := min(max(1, ceilDiv(b.tune.rowInvocations, g.C)), max(1, rows/64))
	lanes = max(lanes, ceilDiv(rows, (maxLoop-taps)/perRow))
	rw := max(1, min(int(b.wg())/cw, int(tu.maxWY), lanes))
	gy := ceilDiv(lanes, rw)
	if gy > int(tu.maxGY) {
		b.failf(op, "%d output rows need more workgroups than the device allows", rows)
		return
	}
	lanes = gy * rw
	chunk := ceilDiv(rows, lanes)
	push := dwGradWPush{
		H: uint32(g.H), W: uint32(g.W), C: uint32(g.C),
		SH: uint32(g.StrideH), SW: uint32(g.StrideW), PH: int32(g.PadH), PW: int32(g.PadW),
		OH: uint32(oh), OW: uint32(ow), Rows: uint32(rows), Chunk: uint32(chunk),
	}
	spec := []uint32{uint32(cw), uint32(rw), uint32(g.KH), uint32(g.KW), 0}
	if lanes == 1 {
		b.took("f_dwconv_gradw", "chunks=1")
		b.dispatch(op, "f_dwconv_gradw", spec, pushOf(push), gx, 1, 1, dwt, dyt, xt)
		return
	}
	items := g.C * taps
	part := b.scratch(op, lanes*items) // partial sums; reused, no allocation per step
	if part == nil {
		return
	}
	b.took("f_dwconv_gradw", "chunks>1")
	b.took("f_gemm_ksum", "beta=0")
	spec[4] = 1
	b.dispatch(op, "f_dwconv_gradw", spec, pushOf(push), gx, uint32(gy), 1, part, dyt, xt)
	b.elementwise(op, "f_gemm_ksum", nil, pushOf(ksumPush{MN: uint32(items), Chunks: uint32(lanes), Alpha: 1, Beta: 0}), items, dwt, part)
}

// fmtW names the Q8 formats of DWConvI's filters as paths, indexed by qfmt.
var fmtW = [...]string{"w=u8", "w=s8", "w=wide"}

// dwWPush mirrors the push constants of q_dwconvi_w.
type dwWPush struct {
	C, Taps          uint32
	WCols, WRowWords uint32
	Off, ZStep       uint32
}

// dwIPush mirrors the push constants of q_dwconvi.
type dwIPush struct {
	N, H, W, C       uint32
	SH, SW           uint32
	PH, PW           int32
	OH, OW           uint32
	Seg, Segs        uint32
	Groups           uint32
	XCols, XRowWords uint32
	ZA               int32
}

// DWConvI writes the integer depthwise convolution of the codes x with the
// filters w less their zero points (see backend.Backend): q_dwconvi_w
// turns w into one int per tap and channel less pb's zero point (into the
// scratch buffer), then q_dwconvi computes four channels of an output row
// per invocation, their filters in registers, reading x's four codes of a
// tap as one packed word where the layout allows.
func (b *Backend) DWConvI(acc, x, w backend.Tensor, g backend.ConvGeom, pa, pb backend.QuantSpec) {
	if _, ok := backend.OpDWConvI.Check(&b.err, b, backend.Params{Conv: g, P: pa, PB: pb}, acc, x, w); !ok {
		return
	}
	const op = "DWConvI"
	at, xt, wt := tensor(acc), tensor(x), tensor(w)
	taps := g.KH * g.KW
	// The zero points of w, uploaded as they are (int32 and uint32 share a
	// layout: no copy, no allocation).
	zs := unsafe.Slice((*uint32)(unsafe.Pointer(&pb.Zero[0])), len(pb.Zero))
	prm, off := b.upload(op, zs)
	wz := b.scratch(op, g.C*taps)
	if prm == nil || wz == nil {
		return
	}
	zstep := uint32(0)
	if len(pb.Zero) > 1 {
		zstep = 1
	}
	b.took("q_dwconvi_w", fmtW[wt.st.q])
	b.took("q_dwconvi_w", pick(zstep == 0, "zb=tensor", "zb=channel"))
	b.dispatch(op, "q_dwconvi_w", []uint32{b.wg(), uint32(wt.st.q)},
		pushOf(dwWPush{C: uint32(g.C), Taps: uint32(taps), WCols: uint32(wt.cols()), WRowWords: uint32(wt.rowWords()), Off: off, ZStep: zstep}),
		countFor(g.C*taps, int(b.wg()), b.floatTune().groups), 1, 1, wz, wt, prm)

	// How q_dwconvi finds x's codes (XMODE).
	xmode, xrw := uint32(2), uint32(xt.rowWords())
	switch {
	case xt.st.q == qWide:
		xmode = 1
	case xt.cols() == g.C:
		xmode = 0
	case xt.cols()%4 == 0 && g.C%4 == 0:
		xmode, xrw = 0, uint32(g.C/4)
	}
	b.took("q_dwconvi", fmtX[xt.st.q])
	switch xmode {
	case 0:
		b.took("q_dwconvi", "x=word")
	case 2:
		b.took("q_dwconvi", "x=code")
	}
	b.took("q_dwconvi", pick(g.C%4 == 0, "acc=vec4", "acc=scalar"))
	oh, ow := g.Out()
	groups := ceilDiv(g.C, 4)
	seg, segs := segments(ow, taps)
	push := dwIPush{
		N: uint32(g.N), H: uint32(g.H), W: uint32(g.W), C: uint32(g.C),
		SH: uint32(g.StrideH), SW: uint32(g.StrideW), PH: int32(g.PadH), PW: int32(g.PadW), OH: uint32(oh), OW: uint32(ow),
		Seg: uint32(seg), Segs: uint32(segs), Groups: uint32(groups), XCols: uint32(xt.cols()), XRowWords: xrw, ZA: pa.Zero[0],
	}
	spec := []uint32{uint32(g.KH), uint32(g.KW), uint32(xt.st.q), xmode, b2u(g.C%4 == 0)}
	b.took("q_dwconvi", pick(segs == 1, "segs=1", "segs>1"))
	b.perChanLoop(op, "q_dwconvi", spec, pushOf(push), g.N*oh*segs, groups, seg*(taps+1), taps, at, xt, wz)
}
