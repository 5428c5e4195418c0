package vk

// The float ops: GEMM, im2col/col2im, bias, column sums, ReLU, max-pool,
// batch norm and the compensation layer. Each validates its arguments as
// the reference backend does (same conditions, errors naming the op) and
// records a few dispatches of the shaders/f_*.comp kernels.
//
// Exactness: Im2Col, ReLU, ReLUGrad and MaxPool move float bits (and
// compare them as integers), so they are bit-exact even where a driver
// flushes subnormals; Col2Im and MaxPoolGrad add in the reference's order;
// the other sums (GEMM, column sums) differ from the reference only by
// their order of additions. No kernel uses float atomics.
//
// Performance shape: on CPU drivers (lavapipe) every storage-buffer load
// and store is a loop over the SIMD lanes and every workgroup costs
// microseconds, so the kernels minimise memory operations per element
// (per-channel values are read once per column, reductions are two
// barrier-free passes through a partial-sum tensor) and use few long
// workgroups there; GEMM uses large register tiles and, on CPU drivers
// with a fixed subgroup size, subgroup broadcasts for the operand panel
// that all invocations share. Large GEMM tiles take seconds to compile on
// lavapipe, so they are used only for large products. Where a CPU driver
// has shaderInt64, the column reductions read column pairs as 64-bit words
// (a 64-bit load costs lavapipe what a 32-bit one does, a vec4 four times
// that).

import (
	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/nn/backend"
)

// fop validates the tensor arguments of one float op with backend.Check,
// as the reference's op does: inputs and outputs resolved in order,
// outputs pairwise distinct and distinct from the inputs except where
// mayAlias allows it. Failures are recorded in b's sticky error.
type fop struct {
	backend.Check
	b    *Backend
	name string
}

func (b *Backend) fbegin(name string) *fop {
	return &fop{Check: backend.NewCheck(name, &b.err), b: b, name: name}
}

func (o *fop) bad() bool { return o.Failed() }

func (o *fop) failf(format string, args ...any) { o.Failf(format, args...) }

func (o *fop) input(name string, t backend.Tensor, dt backend.DType) *Tensor {
	vt := o.b.arg(o.name, name, t, dt)
	if vt != nil {
		o.Input(name, vt, vt.st)
	}
	return vt
}

func (o *fop) output(name string, t backend.Tensor, dt backend.DType) *Tensor {
	vt := o.b.arg(o.name, name, t, dt)
	if vt != nil {
		o.Output(name, vt, vt.st)
	}
	return vt
}

// mayAlias allows output out to share storage with input in.
func (o *fop) mayAlias(out, in *Tensor) {
	if out != nil && in != nil && out.st == in.st {
		o.MayAlias(in)
	}
}

// wantMatrix checks that t is a matrix [r, c].
func (o *fop) wantMatrix(name string, t *Tensor, r, c int) {
	o.WantMatrix(name, shapeSlice(t), r, c)
}

// wantLen checks that t has n elements.
func (o *fop) wantLen(name string, t *Tensor, n int, what string) {
	o.WantLen(name, shapeSlice(t), n, what)
}

// channels checks that each of ts (named by names) has c elements.
func (o *fop) channels(c int, what string, names []string, ts ...*Tensor) {
	for i, t := range ts {
		o.wantLen(names[i], t, c, what)
	}
}

// done checks aliasing and reports whether the op should run.
func (o *fop) done() bool { return o.Done() }

// shapeSlice returns t's shape, nil for nil.
func shapeSlice(t *Tensor) []int {
	if t == nil {
		return nil
	}
	return t.shape
}

func lenOf(t *Tensor) int {
	if t == nil {
		return 0
	}
	return t.Len()
}

// matrixOf returns t's matrix dimensions, 0, 0 for nil.
func matrixOf(t *Tensor) (r, c int) {
	if t == nil {
		return 0, 0
	}
	return t.rows(), t.cols()
}

// floatTuning holds the launch sizes of the float kernels, chosen from the
// device's limits.
type floatTuning struct {
	gemmWX   uint32 // most invocations of an f_gemm workgroup
	gemmTile uint32 // largest register tile side of f_gemm (a multiple of 4)
	gemmSG   uint32 // subgroup size for f_gemm_sg, 0 to use f_gemm
	maxWX    uint32 // workgroup size limits
	maxWY    uint32
	maxGX    uint32 // workgroup count limits
	maxGY    uint32
	maxGZ    uint32
	groups   uint32 // most workgroups of a grid-stride kernel
	// pairs selects the kernels that read two floats as one 64-bit word
	// (f_colpart_*2, f_gemm_sg64): CPU drivers with shaderInt64, where a
	// load costs the same whatever its width up to 64 bits.
	pairs bool
}

func (b *Backend) floatTune() floatTuning {
	l := b.dev.Info().Limits
	inv := l.MaxComputeWorkGroupInvocations
	t := floatTuning{
		gemmWX: min(64, inv, l.MaxComputeWorkGroupSize[0]),
		maxWX:  l.MaxComputeWorkGroupSize[0], maxWY: l.MaxComputeWorkGroupSize[1],
		maxGX: l.MaxComputeWorkGroupCount[0], maxGY: l.MaxComputeWorkGroupCount[1], maxGZ: l.MaxComputeWorkGroupCount[2],
	}
	// CPU drivers (lavapipe) are limited by loads, which large tiles
	// save; GPUs by registers.
	// Subgroup broadcasts replace loads there too, where the subgroup size
	// is fixed (so the specialized kernel knows it).
	info := b.dev.Info()
	t.gemmTile = 8
	t.groups = t.maxGX
	if info.Type == gpu.TypeCPU {
		// Each workgroup costs a CPU driver a few microseconds: fewer,
		// longer ones (grid-stride loops), still several per thread.
		t.groups = 64
		t.gemmTile = 16
		t.pairs = b.dev.Features().ShaderInt64
		if sg := info.SubgroupSize; sg > 0 && sg <= 64 && info.MinSubgroupSize == sg && info.MaxSubgroupSize == sg && sg <= t.gemmWX {
			t.gemmSG = sg
		}
	}
	return t
}

func ceilDiv(n, d int) int { return (n + d - 1) / d }

func b2u(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

// countFor returns the workgroups covering n items in groups of size, at
// least 1 and at most lim (the kernels loop over the rest).
func countFor(n, size int, lim uint32) uint32 {
	return uint32(max(1, min(ceilDiv(n, size), int(lim))))
}

// gemmPush mirrors the push constants of f_gemm.
type gemmPush struct {
	M, N, K, KC uint32
	Alpha, Beta float32
}

// ksumPush mirrors the push constants of f_gemm_ksum.
type ksumPush struct {
	MN, Chunks  uint32
	Alpha, Beta float32
}

// gemmPlan is the launch of one Gemm: f_gemm's specialization and grid,
// and the number of chunks k is split into.
type gemmPlan struct {
	sg, rounds uint32 // f_gemm_sg's subgroup size and load rounds; sg 0: f_gemm
	wx, tm, tn uint32
	lanesM     bool
	vecA, vecB bool
	gx, gy     uint32
	chunks, kc int
}

// roundUp4 rounds n up to a multiple of 4.
func roundUp4(n int) int { return (n + 3) &^ 3 }

// roundUpTo rounds n up to a multiple of m.
func roundUpTo(n, m int) int { return ceilDiv(n, m) * m }

// planGemm chooses f_gemm's launch for C [m, n] = op(A)·op(B) with inner
// dimension k. The invocations of a workgroup walk the longer of m and n,
// the workgroup the other, each invocation computing a register tile of
// up to tu.gemmTile x tu.gemmTile. Operands whose contiguous dimension is
// a multiple of 4 are read as vec4s. When the grid has fewer than
// minGroups workgroups and k is long, k is split into chunks whose partial
// products a second pass adds.
func (b *Backend) planGemm(m, n, k int, transA, transB bool) gemmPlan {
	const minGroups, minChunk = 32, 256
	tu := b.floatTune()
	// Large tiles save loads but take long to compile (seconds on
	// lavapipe): only for large products.
	tile := int(tu.gemmTile)
	if ops := float64(m) * float64(n) * float64(k); ops < 1<<20 {
		tile = 4
	} else if ops < 1<<25 {
		tile = min(tile, 8)
	}
	p := gemmPlan{lanesM: m > n}
	u, l := m, n
	if p.lanesM {
		u, l = n, m
	}
	tU, tL := min(tile, roundUp4(u)), min(tile, roundUp4(l))
	if tile >= 8 && roundUp4(u) <= 16 {
		tU = roundUp4(u) // one block covers a short dimension
	}
	if sg := int(tu.gemmSG); sg > 0 && tile >= 16 {
		// Subgroup loads: an invocation loads 4·tL values of its own and
		// 4·tU/sg of the broadcast panel per 4·tU·tL products, so the
		// broadcast side is the long one (64x8 was 1.3x faster than 16x16
		// on lavapipe for the 128x5408x64 weight gradient).
		tU, tL = min(4*tile, roundUp4(u)), min(tile/2, roundUp4(l))
	}
	if sg := int(tu.gemmSG); sg > 0 && ceilDiv(l, tL) < sg {
		// Fewer blocks than a subgroup has lanes (the lanes past them
		// would load as much for nothing): smaller blocks, one per lane.
		tL = max(4, roundUp4(ceilDiv(l, sg)))
	}
	wx := 1
	for wx < ceilDiv(l, tL) && wx*2 <= int(tu.gemmWX) {
		wx *= 2
	}
	if sg := int(tu.gemmSG); sg > 0 {
		// Whole subgroups only: every lane takes part in the broadcasts.
		wx = roundUpTo(wx, sg)
		p.sg, p.rounds = uint32(sg), uint32(ceilDiv(4*tU, sg))
	}
	p.wx = uint32(wx)
	p.tm, p.tn = uint32(tU), uint32(tL)
	if p.lanesM {
		p.tm, p.tn = uint32(tL), uint32(tU)
	}
	if transA {
		p.vecA = m%4 == 0
	} else {
		p.vecA = k%4 == 0
	}
	if transB {
		p.vecB = k%4 == 0
	} else {
		p.vecB = n%4 == 0
	}
	gx, gy := ceilDiv(l, wx*tL), ceilDiv(u, tU)
	p.gx, p.gy = uint32(min(gx, int(tu.maxGX))), uint32(min(gy, int(tu.maxGY)))
	p.chunks = 1
	if wgs := gx * gy; wgs < minGroups && k >= 2*minChunk {
		p.chunks = min(ceilDiv(2*minGroups, wgs), k/minChunk, int(tu.maxGZ))
	}
	p.kc = roundUp4(ceilDiv(k, p.chunks))
	p.chunks = ceilDiv(k, p.kc)
	return p
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C (see backend.Backend) with
// register-blocked f_gemm (f_gemm_rt on CPU drivers with a fixed subgroup
// size: gemmRT in gemm.go); a long k with a small C is split into chunks
// whose partial products f_gemm_ksum adds in order (no atomics).
func (b *Backend) Gemm(c, a, bm backend.Tensor, transA, transB bool, alpha, beta float32) {
	o := b.fbegin("Gemm")
	at := o.input("a", a, backend.F32)
	bt := o.input("b", bm, backend.F32)
	ct := o.output("c", c, backend.F32)
	if o.bad() {
		return
	}
	m, n, k := o.Gemm(shapeSlice(ct), at.shape, bt.shape, transA, transB)
	if !o.done() {
		return
	}
	if b.gemmRT(o.name, ct, at, bt, m, n, k, transA, transB, alpha, beta) {
		return // CPU drivers: f_gemm_rt (gemm.go)
	}
	p := b.planGemm(m, n, k, transA, transB)
	shader := "f_gemm"
	spec := []uint32{p.wx, p.tm, p.tn, b2u(transA), b2u(transB), b2u(p.lanesM), b2u(p.vecA), b2u(p.vecB)}
	if p.sg > 0 {
		shader = "f_gemm_sg"
		if b.floatTune().pairs {
			shader = "f_gemm_sg64" // vec4s as 64-bit words
		}
		spec = append(spec, p.sg, p.rounds)
	}
	push := gemmPush{M: uint32(m), N: uint32(n), K: uint32(k), KC: uint32(p.kc), Alpha: alpha, Beta: beta}
	if p.chunks == 1 {
		b.dispatch(o.name, shader, spec, push, p.gx, p.gy, 1, ct, at, bt)
		return
	}
	pt := b.scratch(o.name, p.chunks*m*n) // partial products; reused, no allocation per step
	if pt == nil {
		return
	}
	push.Alpha, push.Beta = 1, 0
	b.dispatch(o.name, shader, spec, push, p.gx, p.gy, uint32(p.chunks), pt, at, bt)
	b.elementwise(o.name, "f_gemm_ksum", nil, ksumPush{MN: uint32(m * n), Chunks: uint32(p.chunks), Alpha: alpha, Beta: beta}, m*n, ct, pt)
}

// convPush mirrors the push constants of f_im2col and f_col2im (Total:
// the items walked, output pixels times channels for f_im2col and input
// elements for f_col2im).
type convPush struct {
	N, H, W, C, KH, KW, SH, SW, PH, PW, OH, OW uint32
	Total                                      uint32
}

func newConvPush(g backend.ConvGeom, total int) convPush {
	oh, ow := g.Out()
	return convPush{
		N: uint32(g.N), H: uint32(g.H), W: uint32(g.W), C: uint32(g.C), KH: uint32(g.KH), KW: uint32(g.KW),
		SH: uint32(g.StrideH), SW: uint32(g.StrideW), PH: uint32(g.PadH), PW: uint32(g.PadW),
		OH: uint32(oh), OW: uint32(ow), Total: uint32(total),
	}
}

// convArgs validates the image img (read as [N, H, W, C]) and the matrix
// cols [Rows, K] of Im2Col and Col2Im.
func (o *fop) convArgs(g backend.ConvGeom, img, cols *Tensor, imgName string) {
	o.Conv(g, imgName, shapeSlice(img), shapeSlice(cols))
}

// elementwise dispatches a 1-D grid-stride kernel over n items.
func (b *Backend) elementwise(op, shader string, extraSpec []uint32, push any, n int, ts ...*Tensor) {
	wg := b.wg()
	spec := append([]uint32{wg}, extraSpec...)
	b.dispatch(op, shader, spec, push, countFor(n, int(wg), b.floatTune().groups), 1, 1, ts...)
}

// rcfPush mirrors the push constants {uint r, c; float f}.
type rcfPush struct {
	R, C uint32
	F    float32
}

// perChan dispatches a per-channel elementwise kernel (shaders/f_perchan.glsl)
// over the matrix [r, c]: workgroups of up to 8 columns by rows.
func (b *Backend) perChan(op, shader string, extraSpec []uint32, push any, r, c int, ts ...*Tensor) {
	tu := b.floatTune()
	cw := 1
	for cw < c && cw < 8 {
		cw *= 2
	}
	rw := max(1, min(int(b.wg())/cw, int(tu.maxWY)))
	spec := append([]uint32{uint32(cw), uint32(rw)}, extraSpec...)
	b.dispatch(op, shader, spec, push, countFor(c, cw, tu.maxGX), countFor(r, rw, min(tu.maxGY, tu.groups)), 1, ts...)
}

// perChanRows is perChan with workgroups of whole rows where c allows:
// CW = c columns (at most the workgroup size) by RW = wg/CW rows, so that a
// workgroup walks contiguous memory. On CPU drivers the narrow workgroups
// of perChan put neighbouring columns of a cache line in different
// workgroups (threads), and the elementwise kernels ran about twice as
// slow. The grid has about floatTuning.groups workgroups in all, but
// enough row groups that an invocation walks at most 2^14 rows (the
// kernels' loops stay far below lavapipe's 65535 iterations).
func (b *Backend) perChanRows(op, shader string, extraSpec []uint32, push any, r, c int, ts ...*Tensor) {
	tu := b.floatTune()
	cw := max(1, min(c, int(b.wg()), int(tu.maxWX)))
	rw := max(1, min(int(b.wg())/cw, int(tu.maxWY)))
	gx := countFor(c, cw, tu.maxGX)
	gy := countFor(r, rw, min(tu.maxGY, max(tu.groups/gx, uint32(ceilDiv(r, rw<<14)))))
	spec := append([]uint32{uint32(cw), uint32(rw)}, extraSpec...)
	b.dispatch(op, shader, spec, push, gx, gy, 1, ts...)
}

// perChanPairs is perChanRows for a kernel with a column-pair variant
// (shader+"2", f_pair.glsl), used where the device takes 64-bit words
// (floatTuning.pairs) and c is even. The pair form also wins with texel
// reads (two fetches per pair, but half the stores).
func (b *Backend) perChanPairs(op, shader string, extraSpec []uint32, push any, r, c int, ts ...*Tensor) {
	if b.floatTune().pairs && c%2 == 0 {
		b.perChanRows(op, shader+"2", extraSpec, push, r, c/2, ts...)
		return
	}
	b.perChanRows(op, shader, extraSpec, push, r, c, ts...)
}

// elementwisePairs is elementwise for a kernel with a variant over groups
// of eight elements (shader+"2": four 64-bit pairs per invocation step,
// and the pairs after the last group), used where the device takes 64-bit
// words and n is even. The grid gives an invocation about 6 steps: on
// lavapipe long grid-stride walks of 32-byte lanes ran markedly slower
// (about 1.8x at 21 steps).
func (b *Backend) elementwisePairs(op, shader string, push any, n int, ts ...*Tensor) {
	if tu := b.floatTune(); tu.pairs && n%2 == 0 {
		wg := int(b.wg())
		items := max(n/8, 3) // invocations 0..2 also write the last pairs
		g := countFor(items, wg, min(tu.maxGX, max(tu.groups, uint32(ceilDiv(items, 6*wg)))))
		b.dispatch(op, shader+"2", []uint32{uint32(wg)}, push, g, 1, 1, ts...)
		return
	}
	b.elementwise(op, shader, nil, push, n, ts...)
}

// Im2Col writes the im2col matrix of the F32 tensor x into cols, with 0
// outside the image (bit-exact copies).
func (b *Backend) Im2Col(cols, x backend.Tensor, g backend.ConvGeom) {
	o := b.fbegin("Im2Col")
	xt := o.input("x", x, backend.F32)
	ct := o.output("cols", cols, backend.F32)
	o.convArgs(g, xt, ct, "x")
	if !o.done() {
		return
	}
	// f_im2col: one invocation per (output pixel, channel) writes its window.
	n := g.Rows() * g.C
	b.elementwise(o.name, "f_im2col", nil, newConvPush(g, n), n, ct, xt)
}

// Col2Im writes dx = the sum of the cols entries that read each input
// element, in the reference's order of additions.
func (b *Backend) Col2Im(dx, cols backend.Tensor, g backend.ConvGeom) {
	o := b.fbegin("Col2Im")
	ct := o.input("cols", cols, backend.F32)
	xt := o.output("dx", dx, backend.F32)
	o.convArgs(g, xt, ct, "dx")
	if !o.done() {
		return
	}
	n := g.N * g.H * g.W * g.C
	b.elementwise(o.name, "f_col2im", []uint32{uint32(g.StrideH), uint32(g.StrideW)}, newConvPush(g, n), n, xt, ct)
}

// AddBias adds bias[c] to every row of the matrix y, in place.
func (b *Backend) AddBias(y, bias backend.Tensor) {
	o := b.fbegin("AddBias")
	bt := o.input("bias", bias, backend.F32)
	yt := o.output("y", y, backend.F32)
	_, c := matrixOf(yt)
	o.wantLen("bias", bt, c, "columns of y "+shapeOf(yt))
	if !o.done() {
		return
	}
	r := yt.rows()
	// f_addbias writes y = x + bias with x bound to y itself (the storage
	// build: a texel view need not see the writes). Reading through texel
	// views, y is first copied to the scratch buffer, read as x: on CPU
	// drivers the copy and the texel reads cost about a third of reading y
	// back through a storage buffer.
	xt := yt
	if b.texel {
		if s := b.scratch(o.name, r*c); s != nil && b.texelFits(1, []*Tensor{s}) {
			b.record(o.name, b.seq.Copy(s.st.buf, yt.st.buf, int64(r*c)*4))
			xt = s
		}
	}
	// PAIRS (one uvec2 store per two columns) pays with texel reads; with
	// storage-buffer reads the loads dominate and the scalar form is as fast.
	if xt != yt && c%2 == 0 {
		b.perChanRows(o.name, "f_addbias", []uint32{1}, rcPush{R: uint32(r), C: uint32(c)}, r, c/2, yt, bt, xt)
		return
	}
	b.perChanRows(o.name, "f_addbias", []uint32{0}, rcPush{R: uint32(r), C: uint32(c)}, r, c, yt, bt, xt)
}

// rcPush mirrors the push constants {uint r, c} of the column reductions.
type rcPush struct{ R, C uint32 }

// colPart records the first pass of a column reduction over the matrix
// [r, c] (shaders/f_colpart.glsl): the kernel shader writes sets arrays of
// lanes x c partial sums into the backend's scratch tensor, which it
// returns with lanes; the caller records the second pass
// (shaders/f_colfin.glsl). It returns nil after recording an error.
func (b *Backend) colPart(op, shader string, r, c, sets int, ins ...*Tensor) (*Tensor, int) {
	return b.colPartSpec(op, shader, nil, r, c, sets, ins...)
}

// colPairs reports whether colPart takes the column-pair kernels
// (f_colpart_*2) for c columns of the inputs ins: 64-bit storage loads
// where the inputs are read through storage buffers on CPU drivers;
// through texel buffers (when pickKernel will choose them: every input
// fits) the scalar kernels with four columns per invocation were faster
// on lavapipe.
func (b *Backend) colPairs(c int, ins []*Tensor) bool {
	texel := b.texel && b.texelFits(1<<len(ins)-1, ins)
	return b.floatTune().pairs && c%2 == 0 && !texel
}

// colContig reports whether colPart launches the scalar kernel with
// CONTIG runs of rows per lane (CPU drivers, no column pairs), where
// extra specialization constants (from 4 on) may be given.
func (b *Backend) colContig(c int, ins ...*Tensor) bool {
	return b.dev.Info().Type == gpu.TypeCPU && !b.colPairs(c, ins)
}

// colPartSpec is colPart with extra specialization constants from
// constant 4 on, for the CONTIG launch only (see colContig).
func (b *Backend) colPartSpec(op, shader string, extra []uint32, r, c, sets int, ins ...*Tensor) (*Tensor, int) {
	tu := b.floatTune()
	cpu := b.dev.Info().Type == gpu.TypeCPU
	pc := c // columns (or column pairs) walked by invocations
	pairs := b.colPairs(c, ins)
	if extra != nil && !b.colContig(c, ins...) {
		b.failf(op, "internal error: %s specialized for the CONTIG launch", shader)
		return nil, 0
	}
	if pairs {
		shader += "2"
		pc = c / 2
	}
	cw := 1
	for cw < pc && cw < 8 {
		cw *= 2
	}
	rw := max(1, min(int(b.wg())/cw, int(tu.maxWY)))
	// At most about 1024 row lanes: the second pass adds them serially.
	maxLanes := 1024
	spec := []uint32{0, 0}
	ncol := 1
	if cpu {
		// Whole rows per workgroup where they fit (see perChanRows), 128
		// row lanes (a few workgroups per thread is enough), more only to
		// keep each lane under 16384 rows.
		cw = max(1, min(pc, int(b.wg()), int(tu.maxWX)))
		maxLanes = max(128, ceilDiv(r, 1<<14))
		if !pairs {
			// Contiguous runs of rows per lane and, past 8 columns, four
			// columns per invocation (f_colpart.glsl CONTIG, NCOL): a
			// SIMD group of lavapipe streams through its rows, fetching
			// four independent values per row. CW: enough columns for
			// whole rows, at least the SIMD width.
			if c > 8 {
				ncol = 4
			}
			cw = 8
			for cw*ncol < c && cw < int(b.wg()) {
				cw *= 2
			}
			cw = min(cw, int(tu.maxWX))
			spec = append(append(spec, 1, uint32(ncol)), extra...)
		}
		rw = max(1, min(int(b.wg())/cw, int(tu.maxWY)))
	}
	spec[0], spec[1] = uint32(cw), uint32(rw)
	gy := countFor(r, rw, min(tu.maxGY, tu.groups, uint32(max(1, maxLanes/rw))))
	lanes := int(gy) * rw
	pt := b.scratch(op, sets*lanes*c) // reused across ops and steps: no allocation per step
	if pt == nil {
		return nil, 0
	}
	b.dispatch(op, shader, spec, rcPush{R: uint32(r), C: uint32(c)},
		countFor(pc, cw*ncol, tu.maxGX), gy, 1, append([]*Tensor{pt}, ins...)...)
	return pt, lanes
}

// colSumPart is colPart for the column sums of x (f_colpart_sum). On CPU
// drivers, for matrices of at most 512 rows, it records nothing and
// returns x itself with lanes = r: the second pass then adds the rows of
// x directly (its partial sums are laid out as a matrix [lanes, c]), one
// dispatch instead of two, whose fixed cost dominates at these sizes.
func (b *Backend) colSumPart(op string, r, c int, x *Tensor) (*Tensor, int) {
	if b.dev.Info().Type == gpu.TypeCPU && r <= 512 {
		return x, r
	}
	return b.colPart(op, "f_colpart_sum", r, c, 1, x)
}

// colFin records the second pass of a column reduction: one invocation
// per column, reading the partial sums part (the backend's scratch buffer).
func (b *Backend) colFin(op, shader string, extraSpec []uint32, push any, c int, part *Tensor, ts ...*Tensor) {
	b.elementwise(op, shader, extraSpec, push, c, ts...)
}

// clPush mirrors the push constants {uint c, lanes} of the second passes,
// clfPush {uint c, lanes; float f}.
type clPush struct{ C, Lanes uint32 }

type clfPush struct {
	C, Lanes uint32
	F        float32
}

// ColSum writes s[c] = Σ_r x[r,c].
func (b *Backend) ColSum(s, x backend.Tensor) {
	o := b.fbegin("ColSum")
	xt := o.input("x", x, backend.F32)
	st := o.output("s", s, backend.F32)
	r, c := matrixOf(xt)
	o.wantLen("s", st, c, "columns of x "+shapeOf(xt))
	if !o.done() {
		return
	}
	part, lanes := b.colSumPart(o.name, r, c, xt)
	if part == nil {
		return
	}
	b.colFin(o.name, "f_colsum", []uint32{0}, clfPush{C: uint32(c), Lanes: uint32(lanes), F: float32(r)}, c, part, st, part)
}

// nPush mirrors the push constants {uint n}.
type nPush struct{ N uint32 }

// ReLU writes y = x where x > 0, else +0 (NaN gives 0), bit for bit. y may
// alias x.
func (b *Backend) ReLU(y, x backend.Tensor) {
	o := b.fbegin("ReLU")
	xt := o.input("x", x, backend.F32)
	yt := o.output("y", y, backend.F32)
	o.wantLen("y", yt, lenOf(xt), "x is "+shapeOf(xt))
	o.mayAlias(yt, xt)
	if !o.done() {
		return
	}
	b.elementwisePairs(o.name, "f_relu", nPush{N: uint32(xt.Len())}, xt.Len(), yt, xt)
}

// ReLUGrad writes dx = dy where y > 0, else +0, bit for bit. dx may alias
// dy.
func (b *Backend) ReLUGrad(dx, dy, y backend.Tensor) {
	o := b.fbegin("ReLUGrad")
	dyt := o.input("dy", dy, backend.F32)
	yt := o.input("y", y, backend.F32)
	dxt := o.output("dx", dx, backend.F32)
	o.wantLen("y", yt, lenOf(dyt), "dy is "+shapeOf(dyt))
	o.wantLen("dx", dxt, lenOf(dyt), "dy is "+shapeOf(dyt))
	o.mayAlias(dxt, dyt)
	if !o.done() {
		return
	}
	b.elementwisePairs(o.name, "f_relugrad", nPush{N: uint32(dyt.Len())}, dyt.Len(), dxt, dyt, yt)
}

// poolPush mirrors the push constants of f_maxpool and f_maxpoolgrad.
type poolPush struct {
	N, H, W, C, Size, Stride, OH, OW uint32
}

func newPoolPush(g backend.PoolGeom) poolPush {
	oh, ow := g.Out()
	return poolPush{
		N: uint32(g.N), H: uint32(g.H), W: uint32(g.W), C: uint32(g.C), Size: uint32(g.Size), Stride: uint32(g.Stride),
		OH: uint32(oh), OW: uint32(ow),
	}
}

func (o *fop) poolArgs(g backend.PoolGeom, x, y *Tensor, xName, yName string) {
	o.Pool(g, xName, shapeSlice(x), yName, shapeSlice(y))
}

// MaxPool writes the window maxima of x into y and their flat indices into
// arg: the first maximum in row-major window order (bit for bit).
func (b *Backend) MaxPool(y, arg, x backend.Tensor, g backend.PoolGeom) {
	o := b.fbegin("MaxPool")
	xt := o.input("x", x, backend.F32)
	yt := o.output("y", y, backend.F32)
	at := o.output("arg", arg, backend.I32)
	o.poolArgs(g, xt, yt, "x", "y")
	o.wantLen("arg", at, lenOf(yt), "y is "+shapeOf(yt))
	if !o.done() {
		return
	}
	oh, _ := g.Out()
	// V channels per invocation, one uvec2/uvec4 store of y and of arg per
	// output position.
	v := b.storeChannels(g.C)
	b.perChanRows(o.name, "f_maxpool", []uint32{uint32(g.Size), uint32(v)}, newPoolPush(g), g.N*oh, g.C/v, yt, at, xt)
}

// storeChannels returns how many neighbouring channels (of c) one
// invocation of the pooling kernels owns, storing them as one vector: 4 or
// 2 on CPU drivers, where a store is a loop over the SIMD lanes and one
// pass stores a whole vector; 1 elsewhere.
func (b *Backend) storeChannels(c int) int {
	if b.dev.Info().Type == gpu.TypeCPU {
		for _, w := range []int{4, 2} {
			if c%w == 0 {
				return w
			}
		}
	}
	return 1
}

// MaxPoolGrad writes dx with dy routed to the recorded maxima: scattered
// per window when windows do not overlap, else gathered per element of dx
// in the reference's order of additions. Unlike the reference it does not
// read arg on the host to reject indices outside dx (that would wait for
// the device); an index outside its own window routes nothing.
func (b *Backend) MaxPoolGrad(dx, dy, arg backend.Tensor, g backend.PoolGeom) {
	o := b.fbegin("MaxPoolGrad")
	dyt := o.input("dy", dy, backend.F32)
	at := o.input("arg", arg, backend.I32)
	dxt := o.output("dx", dx, backend.F32)
	o.poolArgs(g, dxt, dyt, "dx", "dy")
	o.wantLen("arg", at, lenOf(dyt), "dy is "+shapeOf(dyt))
	if !o.done() {
		return
	}
	oh, ow := g.Out()
	if g.Stride >= g.Size {
		if (oh-1)*g.Stride+g.Size < g.H || (ow-1)*g.Stride+g.Size < g.W || g.Stride > g.Size {
			b.Fill(dxt, 0) // elements in no window
		}
		// V channels per invocation, one uvec2/uvec4 store per window
		// position.
		v := b.storeChannels(g.C)
		b.perChanRows(o.name, "f_maxpoolgrad_tiled", []uint32{uint32(g.Size), uint32(v)}, newPoolPush(g), g.N*oh, g.C/v, dxt, dyt, at)
		return
	}
	b.perChanRows(o.name, "f_maxpoolgrad", []uint32{uint32(g.Size), uint32(g.Stride)}, newPoolPush(g), g.N*g.H, g.C, dxt, dyt, at)
}

// checkMomentum and checkEps validate the scalar arguments of the
// normalisation ops.
func (o *fop) checkMomentum(momentum float32) {
	if !o.bad() && !(momentum >= 0 && momentum <= 1) {
		o.failf("momentum = %v, want within [0, 1]", momentum)
	}
}

func (o *fop) checkEps(eps float32) {
	if !o.bad() && (!(eps >= 0) || eps > maxFloat32) {
		o.failf("eps = %v, want finite and >= 0", eps)
	}
}

const maxFloat32 = 3.40282346638528859811704183484516925440e+38

// bnStatsPush mirrors the push constants of f_bn_stats.
type bnStatsPush struct {
	C, Lanes                  uint32
	RF, Unbias, Momentum, Eps float32
	R                         uint32
}

// BatchNormTrain normalises x per channel with batch statistics (see
// backend.Backend): the column reductions for mean, invstd and the running
// statistics (on CPU drivers one pass over x, Welford/Chan partials; else
// the sum, then the squared deviations from the mean), then one
// elementwise dispatch for xhat and y.
func (b *Backend) BatchNormTrain(y, xhat, mean, invstd, x, gamma, beta, runMean, runVar backend.Tensor, momentum, eps float32) {
	o := b.fbegin("BatchNormTrain")
	xt := o.input("x", x, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	bt := o.input("beta", beta, backend.F32)
	yt := o.output("y", y, backend.F32)
	ht := o.output("xhat", xhat, backend.F32)
	mt := o.output("mean", mean, backend.F32)
	it := o.output("invstd", invstd, backend.F32)
	rm := o.output("runMean", runMean, backend.F32)
	rv := o.output("runVar", runVar, backend.F32)
	r, c := matrixOf(xt)
	o.wantMatrix("y", yt, r, c)
	o.wantMatrix("xhat", ht, r, c)
	o.channels(c, "channels of x "+shapeOf(xt),
		[]string{"gamma", "beta", "mean", "invstd", "runMean", "runVar"}, gt, bt, mt, it, rm, rv)
	o.checkMomentum(momentum)
	o.checkEps(eps)
	if !o.done() {
		return
	}
	fr := float32(r)
	unbias := float32(1)
	if r > 1 {
		unbias = fr / float32(r-1)
	}
	push := bnStatsPush{RF: fr, Unbias: unbias, Momentum: momentum, Eps: eps, R: uint32(r)}
	if b.colContig(c, xt, mt) {
		// One pass over x: each lane's mean and squared deviations
		// (f_colpart_sqdev WELFORD), combined by f_bn_stats, which
		// writes mean.
		part, lanes := b.colPartSpec(o.name, "f_colpart_sqdev", []uint32{1}, r, c, 2, xt, mt)
		if part == nil {
			return
		}
		push.C, push.Lanes = uint32(c), uint32(lanes)
		b.colFin(o.name, "f_bn_stats", []uint32{1}, push, c, part, it, rm, rv, part, mt)
	} else {
		part, lanes := b.colSumPart(o.name, r, c, xt)
		if part == nil {
			return
		}
		b.colFin(o.name, "f_colsum", []uint32{1}, clfPush{C: uint32(c), Lanes: uint32(lanes), F: fr}, c, part, mt, part)
		part, lanes = b.colPart(o.name, "f_colpart_sqdev", r, c, 1, xt, mt)
		if part == nil {
			return
		}
		push.C, push.Lanes = uint32(c), uint32(lanes)
		b.colFin(o.name, "f_bn_stats", []uint32{0}, push, c, part, it, rm, rv, part, mt)
	}
	b.perChanPairs(o.name, "f_bn_apply", nil, rcPush{R: uint32(r), C: uint32(c)}, r, c, yt, ht, xt, mt, it, gt, bt)
}

// BatchNormInfer writes y = gamma·(x-runMean)/sqrt(runVar+eps) + beta.
func (b *Backend) BatchNormInfer(y, x, gamma, beta, runMean, runVar backend.Tensor, eps float32) {
	o := b.fbegin("BatchNormInfer")
	xt := o.input("x", x, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	bt := o.input("beta", beta, backend.F32)
	rm := o.input("runMean", runMean, backend.F32)
	rv := o.input("runVar", runVar, backend.F32)
	yt := o.output("y", y, backend.F32)
	r, c := matrixOf(xt)
	o.wantMatrix("y", yt, r, c)
	o.channels(c, "channels of x "+shapeOf(xt), []string{"gamma", "beta", "runMean", "runVar"}, gt, bt, rm, rv)
	o.checkEps(eps)
	if !o.done() {
		return
	}
	b.perChanRows(o.name, "f_bn_infer", nil, rcfPush{R: uint32(r), C: uint32(c), F: eps}, r, c, yt, xt, gt, bt, rm, rv)
}

// BatchNormGrad writes dbeta = Σ_r dy, dgamma = Σ_r dy·xhat and
// dx = (gamma·invstd/R)·((R·dy - dbeta) - xhat·dgamma).
func (b *Backend) BatchNormGrad(dx, dgamma, dbeta, dy, xhat, invstd, gamma backend.Tensor) {
	o := b.fbegin("BatchNormGrad")
	dyt := o.input("dy", dy, backend.F32)
	ht := o.input("xhat", xhat, backend.F32)
	it := o.input("invstd", invstd, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	dxt := o.output("dx", dx, backend.F32)
	dg := o.output("dgamma", dgamma, backend.F32)
	db := o.output("dbeta", dbeta, backend.F32)
	r, c := matrixOf(dyt)
	o.wantMatrix("xhat", ht, r, c)
	o.wantMatrix("dx", dxt, r, c)
	o.channels(c, "channels of dy "+shapeOf(dyt), []string{"invstd", "gamma", "dgamma", "dbeta"}, it, gt, dg, db)
	if !o.done() {
		return
	}
	part, lanes := b.colPart(o.name, "f_colpart_bngrad", r, c, 2, dyt, ht)
	if part == nil {
		return
	}
	b.colFin(o.name, "f_bn_gradsums", nil, clPush{C: uint32(c), Lanes: uint32(lanes)}, c, part, dg, db, part)
	b.perChanPairs(o.name, "f_bn_gradx", nil, rcfPush{R: uint32(r), C: uint32(c), F: float32(r)}, r, c,
		dxt, dyt, ht, it, gt, dg, db)
}

// compStatsPush mirrors the push constants of f_comp_stats.
type compStatsPush struct {
	C, Lanes     uint32
	RF, Momentum float32
}

// CompensateTrain writes mean = Σ_r x/R, y = (x + gamma·mean) + beta and
// updates runMean in place.
func (b *Backend) CompensateTrain(y, mean, x, gamma, beta, runMean backend.Tensor, momentum float32) {
	o := b.fbegin("CompensateTrain")
	xt := o.input("x", x, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	bt := o.input("beta", beta, backend.F32)
	yt := o.output("y", y, backend.F32)
	mt := o.output("mean", mean, backend.F32)
	rm := o.output("runMean", runMean, backend.F32)
	r, c := matrixOf(xt)
	o.wantMatrix("y", yt, r, c)
	o.channels(c, "channels of x "+shapeOf(xt), []string{"gamma", "beta", "mean", "runMean"}, gt, bt, mt, rm)
	o.checkMomentum(momentum)
	if !o.done() {
		return
	}
	part, lanes := b.colSumPart(o.name, r, c, xt)
	if part == nil {
		return
	}
	b.colFin(o.name, "f_comp_stats", nil, compStatsPush{C: uint32(c), Lanes: uint32(lanes), RF: float32(r), Momentum: momentum}, c, part, mt, rm, part)
	b.perChanPairs(o.name, "f_comp_apply", nil, rcPush{R: uint32(r), C: uint32(c)}, r, c, yt, xt, gt, bt, mt)
}

// CompensateInfer writes y = (x + gamma·runMean) + beta.
func (b *Backend) CompensateInfer(y, x, gamma, beta, runMean backend.Tensor) {
	o := b.fbegin("CompensateInfer")
	xt := o.input("x", x, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	bt := o.input("beta", beta, backend.F32)
	rm := o.input("runMean", runMean, backend.F32)
	yt := o.output("y", y, backend.F32)
	r, c := matrixOf(xt)
	o.wantMatrix("y", yt, r, c)
	o.channels(c, "channels of x "+shapeOf(xt), []string{"gamma", "beta", "runMean"}, gt, bt, rm)
	if !o.done() {
		return
	}
	b.perChanPairs(o.name, "f_comp_apply", nil, rcPush{R: uint32(r), C: uint32(c)}, r, c, yt, xt, gt, bt, rm)
}

// CompensateGrad writes dbeta = Σ_r dy, dgamma = mean·dbeta and
// dx = dy + (gamma·dbeta)/R when train, else dx = dy. dx may alias dy.
func (b *Backend) CompensateGrad(dx, dgamma, dbeta, dy, mean, gamma backend.Tensor, train bool) {
	o := b.fbegin("CompensateGrad")
	dyt := o.input("dy", dy, backend.F32)
	mt := o.input("mean", mean, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	dxt := o.output("dx", dx, backend.F32)
	dg := o.output("dgamma", dgamma, backend.F32)
	db := o.output("dbeta", dbeta, backend.F32)
	r, c := matrixOf(dyt)
	o.wantMatrix("dx", dxt, r, c)
	o.channels(c, "channels of dy "+shapeOf(dyt), []string{"mean", "gamma", "dgamma", "dbeta"}, mt, gt, dg, db)
	o.mayAlias(dxt, dyt)
	if !o.done() {
		return
	}
	part, lanes := b.colSumPart(o.name, r, c, dyt)
	if part == nil {
		return
	}
	b.colFin(o.name, "f_comp_gradsums", nil, clPush{C: uint32(c), Lanes: uint32(lanes)}, c, part, dg, db, part, mt)
	if !train && dxt.st == dyt.st {
		return // dx = dy in place
	}
	b.perChanPairs(o.name, "f_comp_gradx", []uint32{b2u(train)}, rcfPush{R: uint32(r), C: uint32(c), F: float32(r)}, r, c,
		dxt, dyt, gt, db)
}
