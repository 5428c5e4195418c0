package vk

// The float ops: GEMM, im2col/col2im, bias, column sums, ReLU, max-pool,
// batch norm and the compensation layer. Each checks its arguments with
// its declaration in package backend (backend.OpGemm, ...), as every
// backend does, and records a few dispatches of the shaders/f_*.comp
// kernels.
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
	// rt selects f_gemm_rt for Gemm (CPU drivers with a fixed subgroup
	// size, gemmSG), f_gemm_sg where its grid does not fit the device.
	rt bool
}

// floatTune returns the launch sizes of the float kernels.
func (b *Backend) floatTune() floatTuning { return b.ft }

// chooseFloatTuning returns the float kernels' launch sizes on a device
// (int64: whether it has shaderInt64).
func chooseFloatTuning(info gpu.Info, int64 bool) floatTuning {
	l := info.Limits
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
	t.gemmTile = 8
	t.groups = t.maxGX
	if info.Type == gpu.TypeCPU {
		// Each workgroup costs a CPU driver a few microseconds: fewer,
		// longer ones (grid-stride loops), still several per thread.
		t.groups = 64
		t.gemmTile = 16
		t.pairs = int64
		if sg := info.SubgroupSize; sg > 0 && sg <= 64 && info.MinSubgroupSize == sg && info.MaxSubgroupSize == sg && sg <= t.gemmWX {
			t.gemmSG = sg
			t.rt = true
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
	d, ok := backend.OpGemm.Check(&b.err, b, backend.Params{TransA: transA, TransB: transB, Alpha: alpha, Beta: beta}, c, a, bm)
	if !ok {
		return
	}
	b.gemm("Gemm", tensor(c), tensor(a), tensor(bm), d.M, d.N, d.K, transA, transB, alpha, beta)
}

// gemm records Gemm's kernels (operands checked by the caller's op).
func (b *Backend) gemm(op string, ct, at, bt *Tensor, m, n, k int, transA, transB bool, alpha, beta float32) {
	if b.gemmRT(op, ct, at, bt, m, n, k, transA, transB, alpha, beta) {
		return // CPU drivers: f_gemm_rt (gemm.go)
	}
	p := b.planGemm(m, n, k, transA, transB)
	if p.chunks == 1 {
		b.recordGemm(op, p, ct, at, bt, m, n, k, transA, transB, alpha, beta)
		return
	}
	pt := b.scratch(op, p.chunks*m*n) // partial products; reused, no allocation per step
	if pt == nil {
		return
	}
	b.recordGemm(op, p, pt, at, bt, m, n, k, transA, transB, alpha, beta)
	b.gemmKSum(op, ct, pt, m*n, p.chunks, alpha, beta)
}

// gemmKSum records f_gemm_ksum: c = alpha·(the sum of the chunks of part)
// + beta·c over mn elements.
func (b *Backend) gemmKSum(op string, ct, pt *Tensor, mn, chunks int, alpha, beta float32) {
	b.took("f_gemm_ksum", pick(beta == 0, "beta=0", "beta"))
	b.elementwise(op, "f_gemm_ksum", nil, pushOf(ksumPush{MN: uint32(mn), Chunks: uint32(chunks), Alpha: alpha, Beta: beta}), mn, ct, pt)
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

// elementwise dispatches a 1-D grid-stride kernel over n items.
func (b *Backend) elementwise(op, shader string, extraSpec []uint32, push pushArg, n int, ts ...*Tensor) {
	wg := b.wg()
	var sb [specMax]uint32
	spec := append(append(sb[:0], wg), extraSpec...)
	g := countFor(n, int(wg), b.floatTune().groups)
	b.tookLoop2(shader, n, int(g*wg))
	b.dispatch(op, shader, spec, push, g, 1, 1, ts...)
}

// rcfPush mirrors the push constants {uint r, c; float f}.
type rcfPush struct {
	R, C uint32
	F    float32
}

// perChan dispatches a per-channel elementwise kernel (shaders/f_perchan.glsl)
// over the matrix [r, c]: workgroups of up to 8 columns by rows.
func (b *Backend) perChan(op, shader string, extraSpec []uint32, push pushArg, r, c int, ts ...*Tensor) {
	tu := b.floatTune()
	cw := 1
	for cw < c && cw < 8 {
		cw *= 2
	}
	rw := max(1, min(int(b.wg())/cw, int(tu.maxWY)))
	var sb [specMax]uint32
	spec := append(append(sb[:0], uint32(cw), uint32(rw)), extraSpec...)
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
func (b *Backend) perChanRows(op, shader string, extraSpec []uint32, push pushArg, r, c int, ts ...*Tensor) {
	cw, rw, gx, gy := b.perChanGrid(r, c)
	var sb [specMax]uint32
	spec := append(append(sb[:0], uint32(cw), uint32(rw)), extraSpec...)
	b.tookLoop2(shader, r, int(gy)*rw)
	b.dispatch(op, shader, spec, push, gx, gy, 1, ts...)
}

// perChanGrid returns perChanRows's workgroup shape (cw columns by rw
// rows) and grid (gx by gy workgroups) over the matrix [r, c]: gy·rw row
// lanes.
func (b *Backend) perChanGrid(r, c int) (cw, rw int, gx, gy uint32) {
	tu := b.floatTune()
	cw = max(1, min(c, int(b.wg()), int(tu.maxWX)))
	rw = max(1, min(int(b.wg())/cw, int(tu.maxWY)))
	gx = countFor(c, cw, tu.maxGX)
	gy = countFor(r, rw, min(tu.maxGY, max(tu.groups/gx, uint32(ceilDiv(r, rw<<14)))))
	return cw, rw, gx, gy
}

// perChanPairs is perChanRows for a kernel with a column-pair variant
// (shader+"2", f_pair.glsl), used where the device takes 64-bit words
// (floatTuning.pairs) and c is even. The pair form also wins with texel
// reads (two fetches per pair, but half the stores).
func (b *Backend) perChanPairs(op, shader string, extraSpec []uint32, push pushArg, r, c int, ts ...*Tensor) {
	shader, cols := b.perChanLaunch(shader, c)
	b.perChanRows(op, shader, extraSpec, push, r, cols, ts...)
}

// perChanLaunch returns the kernel perChanPairs launches for shader over c
// columns and the columns (or column pairs) its invocations walk.
func (b *Backend) perChanLaunch(shader string, c int) (string, int) {
	if b.pairCols(c) {
		return b.pairName(shader), c / 2
	}
	return shader, c
}

// pairCols reports whether perChanPairs takes the column-pair kernels
// over c columns.
func (b *Backend) pairCols(c int) bool { return b.floatTune().pairs && c%2 == 0 }

// pairShader returns the kernel perChanPairs launches for shader over c
// columns.
func (b *Backend) pairShader(shader string, c int) string {
	shader, _ = b.perChanLaunch(shader, c)
	return shader
}

// perChanLanes returns the row lanes of perChanPairs's launch over the
// matrix [r, c] (perChanGrid's gy·rw).
func (b *Backend) perChanLanes(r, c int) int {
	cols := c
	if b.pairCols(c) {
		cols = c / 2
	}
	_, rw, _, gy := b.perChanGrid(r, cols)
	return int(gy) * rw
}

// elementwisePairs is elementwise for a kernel with a variant over groups
// of eight elements (shader+"2": four 64-bit pairs per invocation step,
// and the pairs after the last group), used where the device takes 64-bit
// words and n is even. The grid gives an invocation about 6 steps: on
// lavapipe long grid-stride walks of 32-byte lanes ran markedly slower
// (about 1.8x at 21 steps).
func (b *Backend) elementwisePairs(op, shader string, push pushArg, n int, ts ...*Tensor) {
	if tu := b.floatTune(); tu.pairs && n%2 == 0 {
		pair := b.pairName(shader)
		wg := int(b.wg())
		items := max(n/8, 3) // invocations 0..2 also write the last pairs
		g := countFor(items, wg, min(tu.maxGX, max(tu.groups, uint32(ceilDiv(items, 6*wg)))))
		if n >= 8 {
			b.took(pair, "oct") // the main loop over groups of eight
		}
		if n/2%4 != 0 {
			b.took(pair, "pair") // the pairs after the last group
		}
		b.dispatch(op, pair, []uint32{uint32(wg)}, push, g, 1, 1, ts...)
		return
	}
	b.elementwise(op, shader, nil, push, n, ts...)
}

// Im2Col writes the im2col matrix of the F32 tensor x into cols, with 0
// outside the image (bit-exact copies).
func (b *Backend) Im2Col(cols, x backend.Tensor, g backend.ConvGeom) {
	if _, ok := backend.OpIm2Col.Check(&b.err, b, backend.Params{Conv: g}, cols, x); !ok {
		return
	}
	// f_im2col: one invocation per (output pixel, channel) writes its window.
	n := g.Rows() * g.C
	b.elementwise("Im2Col", "f_im2col", nil, pushOf(newConvPush(g, n)), n, tensor(cols), tensor(x))
}

// Col2Im writes dx = the sum of the cols entries that read each input
// element, in the reference's order of additions.
func (b *Backend) Col2Im(dx, cols backend.Tensor, g backend.ConvGeom) {
	if _, ok := backend.OpCol2Im.Check(&b.err, b, backend.Params{Conv: g}, dx, cols); !ok {
		return
	}
	b.col2im("Col2Im", tensor(dx), tensor(cols), g)
}

// col2im records Col2Im's kernel (operands checked by the caller's op).
func (b *Backend) col2im(op string, dxt, ct *Tensor, g backend.ConvGeom) {
	n := g.N * g.H * g.W * g.C
	b.elementwise(op, "f_col2im", []uint32{uint32(g.StrideH), uint32(g.StrideW)}, pushOf(newConvPush(g, n)), n, dxt, ct)
}

// AddBias adds bias[c] to every row of the matrix y, in place.
func (b *Backend) AddBias(y, bias backend.Tensor) {
	d, ok := backend.OpAddBias.Check(&b.err, b, backend.Params{}, y, bias)
	if !ok {
		return
	}
	const op = "AddBias"
	yt, bt := tensor(y), tensor(bias)
	r, c := d.R, d.C
	// f_addbias writes y = x + bias with x bound to y itself (the storage
	// build: a texel view need not see the writes). Reading through texel
	// views, y is first copied to the scratch buffer, read as x: on CPU
	// drivers the copy and the texel reads cost about a third of reading y
	// back through a storage buffer.
	xt := yt
	if b.texel {
		if s := b.scratch(op, r*c); s != nil && b.texelFits(1, []*Tensor{s}) {
			b.record(op, b.seq.Copy(s.st.buf, yt.st.buf, int64(r*c)*4))
			xt = s
		}
	}
	// PAIRS (one uvec2 store per two columns) pays with texel reads; with
	// storage-buffer reads the loads dominate and the scalar form is as fast.
	if xt != yt && c%2 == 0 {
		b.took("f_addbias", "pairs")
		b.perChanRows(op, "f_addbias", []uint32{1}, pushOf(rcPush{R: uint32(r), C: uint32(c)}), r, c/2, yt, bt, xt)
		return
	}
	b.took("f_addbias", "scalar")
	b.perChanRows(op, "f_addbias", []uint32{0}, pushOf(rcPush{R: uint32(r), C: uint32(c)}), r, c, yt, bt, xt)
}

// rcPush mirrors the push constants {uint r, c} of the column reductions.
type rcPush struct{ R, C uint32 }

// colPart records the first pass of a column reduction over the matrix
// [r, c] (shaders/f_colpart.glsl): the kernel shader writes sets arrays of
// lanes x c partial sums into the backend's scratch tensor, which it
// returns with lanes; the caller records the second pass
// (shaders/f_colfin.glsl). It returns nil after recording an error.
func (b *Backend) colPart(op, shader string, r, c, sets int, ins ...*Tensor) (*Tensor, int) {
	return b.colPartSpec(op, shader, nil, false, r, c, sets, ins...)
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
	return b.tune.cpu && !b.colPairs(c, ins)
}

// colPartSpec is colPart with extra specialization constants from
// constant 4 on: for the CONTIG launch only (see colContig) where
// contigOnly, else for every launch (constants 2 and 3 then get the
// launch's CONTIG and NCOL, or their defaults in the pair kernels).
func (b *Backend) colPartSpec(op, shader string, extra []uint32, contigOnly bool, r, c, sets int, ins ...*Tensor) (*Tensor, int) {
	tu := b.floatTune()
	cpu := b.tune.cpu
	pc := c // columns (or column pairs) walked by invocations
	pairs := b.colPairs(c, ins)
	if contigOnly && !b.colContig(c, ins...) {
		b.failf(op, "internal error: %s specialized for the CONTIG launch", shader)
		return nil, 0
	}
	if pairs {
		shader = b.pairName(shader)
		pc = c / 2
	}
	cw := 1
	for cw < pc && cw < 8 {
		cw *= 2
	}
	rw := max(1, min(int(b.wg())/cw, int(tu.maxWY)))
	// At most about 1024 row lanes: the second pass adds them serially.
	maxLanes := 1024
	var sb [specMax]uint32
	spec := append(sb[:0], 0, 0)
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
			if c <= 16 {
				// Two columns per invocation over 9 to 16: with four,
				// half of a SIMD group's fetches would repeat the last
				// column (measured at the MNIST stem's [36864 x 16]).
				ncol = min(ncol, 2)
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
	if len(spec) == 2 && extra != nil {
		spec = append(append(spec, 0, 1), extra...) // CONTIG, NCOL: the defaults
	}
	spec[0], spec[1] = uint32(cw), uint32(rw)
	gy := countFor(r, rw, min(tu.maxGY, tu.groups, uint32(max(1, maxLanes/rw))))
	lanes := int(gy) * rw
	pt := b.scratch(op, sets*lanes*c) // reused across ops and steps: no allocation per step
	if pt == nil {
		return nil, 0
	}
	if b.opts.RecordPaths && !pairs {
		b.tookColPart(shader, r, lanes, cpu, ncol, len(extra) > 0 && extra[0] == 1)
	}
	var tb [16]*Tensor
	b.dispatch(op, shader, spec, pushOf(rcPush{R: uint32(r), C: uint32(c)}),
		countFor(pc, cw*ncol, tu.maxGX), gy, 1, append(append(tb[:0], pt), ins...)...)
	return pt, lanes
}

// colSumPart is colPart for the column sums of x (f_colpart_sum). On CPU
// drivers, for matrices of at most 512 rows, it records nothing and
// returns x itself with lanes = r: the second pass then adds the rows of
// x directly (its partial sums are laid out as a matrix [lanes, c]), one
// dispatch instead of two, whose fixed cost dominates at these sizes.
func (b *Backend) colSumPart(op string, r, c int, x *Tensor) (*Tensor, int) {
	if b.colDirect(r) {
		return x, r
	}
	return b.colPart(op, "f_colpart_sum", r, c, 1, x)
}

// colDirect reports whether column sums over r rows are read straight
// from the matrix (colSumPart): on CPU drivers, where an invocation's own
// loop over up to 512 rows costs less than a partial-sums pass.
func (b *Backend) colDirect(r int) bool { return b.tune.cpu && r <= 512 }

// colFin records the second pass of a column reduction: one invocation
// per column, reading the partial sums part (the backend's scratch buffer,
// or the matrix itself from colSumPart).
func (b *Backend) colFin(op, shader string, extraSpec []uint32, push pushArg, c int, part *Tensor, ts ...*Tensor) {
	b.took(shader, pick(part == b.scratchT, "part=lanes", "part=rows"))
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
	d, ok := backend.OpColSum.Check(&b.err, b, backend.Params{}, s, x)
	if !ok {
		return
	}
	const op = "ColSum"
	r, c := d.R, d.C
	part, lanes := b.colSumPart(op, r, c, tensor(x))
	if part == nil {
		return
	}
	b.took("f_colsum", "sum")
	b.colFin(op, "f_colsum", []uint32{0}, pushOf(clfPush{C: uint32(c), Lanes: uint32(lanes), F: float32(r)}), c, part, tensor(s), part)
}

// nPush mirrors the push constants {uint n}.
type nPush struct{ N uint32 }

// ReLU writes y = x where x > 0, else +0 (NaN gives 0), bit for bit. y may
// alias x.
func (b *Backend) ReLU(y, x backend.Tensor) {
	d, ok := backend.OpReLU.Check(&b.err, b, backend.Params{}, y, x)
	if !ok {
		return
	}
	b.elementwisePairs("ReLU", "f_relu", pushOf(nPush{N: uint32(d.Len)}), d.Len, tensor(y), tensor(x))
}

// ReLUGrad writes dx = dy where y > 0, else +0, bit for bit. dx may alias
// dy.
func (b *Backend) ReLUGrad(dx, dy, y backend.Tensor) {
	d, ok := backend.OpReLUGrad.Check(&b.err, b, backend.Params{}, dx, dy, y)
	if !ok {
		return
	}
	b.elementwisePairs("ReLUGrad", "f_relugrad", pushOf(nPush{N: uint32(d.Len)}), d.Len, tensor(dx), tensor(dy), tensor(y))
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

// MaxPool writes the window maxima of x into y and their flat indices into
// arg: the first maximum in row-major window order (bit for bit).
func (b *Backend) MaxPool(y, arg, x backend.Tensor, g backend.PoolGeom) {
	if _, ok := backend.OpMaxPool.Check(&b.err, b, backend.Params{Pool: g}, y, arg, x); !ok {
		return
	}
	oh, _ := g.Out()
	// V channels per invocation, one uvec2/uvec4 store of y and of arg per
	// output position.
	v := b.storeChannels(g.C)
	b.took("f_maxpool", storeWidths[v])
	b.perChanRows("MaxPool", "f_maxpool", []uint32{uint32(g.Size), uint32(v)}, pushOf(newPoolPush(g)), g.N*oh, g.C/v, tensor(y), tensor(arg), tensor(x))
}

// storeChannels returns how many neighbouring channels (of c) one
// invocation of the pooling kernels owns, storing them as one vector: 4 or
// 2 on CPU drivers, where a store is a loop over the SIMD lanes and one
// pass stores a whole vector; 1 elsewhere.
func (b *Backend) storeChannels(c int) int {
	if b.tune.cpu {
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
	if _, ok := backend.OpMaxPoolGrad.Check(&b.err, b, backend.Params{Pool: g}, dx, dy, arg); !ok {
		return
	}
	const op = "MaxPoolGrad"
	dxt, dyt, at := tensor(dx), tensor(dy), tensor(arg)
	oh, ow := g.Out()
	if g.Stride >= g.Size {
		const k = "f_maxpoolgrad_tiled"
		if (oh-1)*g.Stride+g.Size < g.H || (ow-1)*g.Stride+g.Size < g.W || g.Stride > g.Size {
			b.took(k, "gaps")
			b.record(op, b.seq.Fill(dxt.st.buf, 0)) // elements in no window
		} else {
			b.took(k, "covered")
		}
		// V channels per invocation, one uvec2/uvec4 store per window
		// position.
		v := b.storeChannels(g.C)
		b.took(k, storeWidths[v])
		b.perChanRows(op, k, []uint32{uint32(g.Size), uint32(v)}, pushOf(newPoolPush(g)), g.N*oh, g.C/v, dxt, dyt, at)
		return
	}
	b.perChanRows(op, "f_maxpoolgrad", []uint32{uint32(g.Size), uint32(g.Stride)}, pushOf(newPoolPush(g)), g.N*g.H, g.C, dxt, dyt, at)
}

// bnStatsPush mirrors the push constants of f_bn_stats.
type bnStatsPush struct {
	C, Lanes                  uint32
	RF, Unbias, Momentum, Eps float32
	R                         uint32
	CMomentum                 float32 // COMP (CompBNTrain): the compensation's momentum
}

// BatchNormTrain normalises x per channel with batch statistics (see
// backend.Backend): the column reductions for mean, invstd and the running
// statistics (on CPU drivers one pass over x, Welford/Chan partials; else
// the sum, then the squared deviations from the mean), then one
// elementwise dispatch for xhat and y.
func (b *Backend) BatchNormTrain(y, xhat, mean, invstd, x, gamma, beta, runMean, runVar backend.Tensor, momentum, eps float32) {
	b.batchNormTrain(backend.OpBatchNormTrain, false, y, xhat, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

// batchNormTrain is BatchNormTrain as the op bop, with y written as
// ReLU(y) by the elementwise pass where relu (BatchNormReLUTrain).
func (b *Backend) batchNormTrain(bop *backend.Op, relu bool, y, xhat, mean, invstd, x, gamma, beta, runMean, runVar backend.Tensor, momentum, eps float32) {
	d, ok := bop.Check(&b.err, b, backend.Params{Momentum: momentum, Eps: eps},
		y, xhat, mean, invstd, x, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	b.bnTrain(bop.Name, d.R, d.C, relu, nil, tensor(y), tensor(xhat), tensor(x), tensor(mean), tensor(invstd),
		tensor(gamma), tensor(beta), tensor(runMean), tensor(runVar), momentum, eps)
}

// bnTrain records BatchNormTrain's dispatches for the op op over the
// matrix x [r, c] (the operands checked), y written as ReLU(y) where relu.
// With cp (CompBNTrain) x is the input of the error-compensation layer
// cp: the kernels' COMP forms add its term to x as they read it (see
// CompBNTrain); without it they bind other operands of the op in the
// compensation's places and do not read them.
func (b *Backend) bnTrain(op string, r, c int, relu bool, cp *compArgs, yt, ht, xt, mt, it, gt, bt, rm, rv *Tensor, momentum, eps float32) {
	b.bnStats(op, r, c, cp, xt, mt, it, rm, rv, momentum, eps)
	comp := cp != nil
	// The compensation's operands of the elementwise pass, or stand-ins.
	cg, cb, cm := gt, gt, gt
	if comp {
		cg, cb, cm = cp.cgamma, cp.cbeta, cp.cmean
	}
	shader := b.pairShader("f_bn_apply", c)
	b.took(shader, pick(relu, "relu", "norelu"))
	if comp {
		b.took(shader, "comp")
	}
	// Without ht (CompBNTrain for CompBNGradFromX) xhat is not written
	// (XHAT false, y bound in its place).
	b.took(shader, pick(ht != nil, "xhat", "noxhat"))
	if ht == nil {
		ht = yt
	}
	b.perChanPairs(op, "f_bn_apply", []uint32{b2u(relu), b2u(comp), b2u(ht != yt)}, pushOf(rcPush{R: uint32(r), C: uint32(c)}), r, c,
		yt, ht, xt, mt, it, gt, bt, cg, cb, cm)
}

// bnStats records the statistics passes of BatchNormTrain (bnTrain) over
// x [r, c]: mean, invstd and the running statistics (with cp the
// compensation's batch mean and running mean too, see CompBNTrain).
func (b *Backend) bnStats(op string, r, c int, cp *compArgs, xt, mt, it, rm, rv *Tensor, momentum, eps float32) {
	fr := float32(r)
	unbias := float32(1)
	if r > 1 {
		unbias = fr / float32(r-1)
	}
	push := bnStatsPush{RF: fr, Unbias: unbias, Momentum: momentum, Eps: eps, R: uint32(r)}
	comp := cp != nil
	if comp && cp.xstats != nil {
		// The statistics of x given (FusedStats): f_bn_stats WELFORD
		// COMP reads them as one lane of r rows, whose combination is
		// the lane itself (mean + 0, squared deviations + 0).
		push.C, push.Lanes, push.CMomentum = uint32(c), 1, cp.momentum
		b.took("f_bn_stats", "welford")
		b.took("f_bn_stats", "comp")
		b.took("f_bn_stats", "part=xstats")
		b.elementwise(op, "f_bn_stats", []uint32{1, 1}, pushOf(push), c, it, rm, rv, cp.xstats, mt, cp.cmean, cp.crm, cp.cgamma, cp.cbeta)
		return
	}
	var part *Tensor
	var lanes int
	welford := false
	if comp && !b.colContig(c, xt, mt) {
		if part, lanes = b.colSumPart(op, r, c, xt); part == nil {
			return
		}
		// The compensation's statistics and, from them, the batch
		// norm's mean (f_comp_stats BN); then the squared deviations
		// of the compensated values (COMP).
		b.took("f_comp_stats", "bn")
		b.colFin(op, "f_comp_stats", []uint32{1}, pushOf(compStatsPush{C: uint32(c), Lanes: uint32(lanes), RF: fr, Momentum: cp.momentum}), c, part,
			cp.cmean, cp.crm, part, cp.cgamma, cp.cbeta, mt)
		cg, cb, cm := cp.cgamma, cp.cbeta, cp.cmean
		b.took(pick(b.colPairs(c, []*Tensor{xt, mt, cg, cb, cm}), "f_colpart_sqdev2", "f_colpart_sqdev"), "comp")
		part, lanes = b.colPartSpec(op, "f_colpart_sqdev", []uint32{0, 1}, false, r, c, 1, xt, mt, cg, cb, cm)
	} else {
		part, lanes, welford = b.colMoments(op, r, c, xt, mt)
	}
	if part == nil {
		return
	}
	push.C, push.Lanes = uint32(c), uint32(lanes)
	switch {
	case welford && comp:
		// With COMP the combined mean of x is the compensation's batch
		// mean, the batch norm's mean follows from it and the variance
		// is x's.
		push.CMomentum = cp.momentum
		b.took("f_bn_stats", "welford")
		b.took("f_bn_stats", "comp")
		b.colFin(op, "f_bn_stats", []uint32{1, 1}, pushOf(push), c, part, it, rm, rv, part, mt, cp.cmean, cp.crm, cp.cgamma, cp.cbeta)
	case welford:
		b.took("f_bn_stats", "welford")
		b.colFin(op, "f_bn_stats", []uint32{1, 0}, pushOf(push), c, part, it, rm, rv, part, mt, it, rm, part, part)
	default:
		b.took("f_bn_stats", "twopass")
		b.colFin(op, "f_bn_stats", []uint32{0, 0}, pushOf(push), c, part, it, rm, rv, part, mt, it, rm, part, part)
	}
}

// colMoments records the first passes of the column statistics of x
// [r, c], for BatchNormTrain (bnStats) and FusedStats' colStats: on CPU
// drivers (colContig) one pass giving each row lane's mean and squared
// deviations (f_colpart_sqdev WELFORD; mt is not written, welford true),
// elsewhere the column means into mt (f_colsum MEAN) and then partial sums
// of the squared deviations from them (f_colpart_sqdev). It returns the
// partials and their lanes (part nil after an error).
func (b *Backend) colMoments(op string, r, c int, xt, mt *Tensor) (part *Tensor, lanes int, welford bool) {
	if b.colContig(c, xt, mt) {
		part, lanes = b.colPartSpec(op, "f_colpart_sqdev", []uint32{1}, true, r, c, 2, xt, mt, mt, mt, mt)
		return part, lanes, true
	}
	if part, lanes = b.colSumPart(op, r, c, xt); part == nil {
		return nil, 0, false
	}
	b.took("f_colsum", "mean")
	b.colFin(op, "f_colsum", []uint32{1}, pushOf(clfPush{C: uint32(c), Lanes: uint32(lanes), F: float32(r)}), c, part, mt, part)
	part, lanes = b.colPart(op, "f_colpart_sqdev", r, c, 1, xt, mt, mt, mt, mt)
	return part, lanes, false
}

// BatchNormInfer writes y = gamma·(x-runMean)/sqrt(runVar+eps) + beta.
func (b *Backend) BatchNormInfer(y, x, gamma, beta, runMean, runVar backend.Tensor, eps float32) {
	b.batchNormInfer(backend.OpBatchNormInfer, false, y, x, gamma, beta, runMean, runVar, eps)
}

// batchNormInfer is BatchNormInfer as the op bop, with y written as
// ReLU(y) where relu (BatchNormReLUInfer).
func (b *Backend) batchNormInfer(bop *backend.Op, relu bool, y, x, gamma, beta, runMean, runVar backend.Tensor, eps float32) {
	d, ok := bop.Check(&b.err, b, backend.Params{Eps: eps}, y, x, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	b.bnInfer(bop.Name, d.R, d.C, relu, nil, tensor(y), tensor(x), tensor(gamma), tensor(beta), tensor(runMean), tensor(runVar), eps)
}

// bnInfer records BatchNormInfer's dispatch (f_bn_infer) for the op op
// over the matrix x [r, c], ReLU where relu, x compensated as it is read
// (COMP) with cp (CompBNInfer: its cmean is the compensation's running
// mean).
func (b *Backend) bnInfer(op string, r, c int, relu bool, cp *compArgs, yt, xt, gt, bt, rm, rv *Tensor, eps float32) {
	cg, cb, cm := gt, gt, gt
	b.took("f_bn_infer", pick(relu, "relu", "norelu"))
	if cp != nil {
		cg, cb, cm = cp.cgamma, cp.cbeta, cp.cmean
		b.took("f_bn_infer", "comp")
	}
	b.perChanRows(op, "f_bn_infer", []uint32{b2u(relu), b2u(cp != nil)}, pushOf(rcfPush{R: uint32(r), C: uint32(c), F: eps}), r, c,
		yt, xt, gt, bt, rm, rv, cg, cb, cm)
}

// BatchNormGrad writes dbeta = Σ_r dy, dgamma = Σ_r dy·xhat and
// dx = (gamma·invstd/R)·((R·dy - dbeta) - xhat·dgamma).
func (b *Backend) BatchNormGrad(dx, dgamma, dbeta, dy, xhat, invstd, gamma backend.Tensor) {
	d, ok := backend.OpBatchNormGrad.Check(&b.err, b, backend.Params{}, dx, dgamma, dbeta, dy, xhat, invstd, gamma)
	if !ok {
		return
	}
	b.batchNormGrad("BatchNormGrad", d.R, d.C, false, tensor(dx), tensor(dgamma), tensor(dbeta), tensor(dy), tensor(xhat), tensor(invstd), tensor(gamma), nil, nil, nil, nil, nil, recompArgs{})
}

// batchNormGrad records the dispatches of BatchNormGrad for the op op
// over the matrix [r, c] (the operands checked). With yt (not nil,
// BatchNormReLUGrad) the kernels read dy only where yt > 0, else +0
// (RELU); without it they bind dy in yt's place and do not read it. With
// cg (CompBNGrad) the kernels' COMP forms also give the gradient sums of
// the error-compensation layer before the batch norm (its gamma cg and
// batch mean cm) into dcg and dcb and add its term to dx. With rc.mean
// (CompBNGradFromX) ht is the batch norm's input x, from which the
// kernels' RECOMP forms recompute xhat and, with relu, the output's sign
// (yt is then not read).
func (b *Backend) batchNormGrad(op string, r, c int, relu bool, dxt, dg, db, dyt, ht, it, gt, yt *Tensor, cg *Tensor, cm, dcg, dcb *Tensor, rc recompArgs) {
	b.batchNormGradSum(op, r, c, relu, dxt, dg, db, dyt, ht, it, gt, yt, cg, cm, dcg, dcb, rc, nil)
}

// batchNormGradSum is batchNormGrad that, where dxs is not nil, also
// writes ColSum(dxs, dx): the kernel writing dx adds up what it writes per
// row lane and column (f_bn_gradx SUMS) and f_colsum adds the lanes.
func (b *Backend) batchNormGradSum(op string, r, c int, relu bool, dxt, dg, db, dyt, ht, it, gt, yt *Tensor, cg *Tensor, cm, dcg, dcb *Tensor, rc recompArgs, dxs *Tensor) {
	if yt == nil {
		yt = dyt
	}
	comp := cg != nil
	recomp := rc.mean != nil
	rs := []uint32{b2u(relu), b2u(comp), b2u(recomp), b2u(dxs != nil)} // f_bn_gradx's SUMS last
	rp := pick(relu, "relu", "norelu")
	// The recomputation's per-channel operands, or stand-ins.
	mt, bt, cb, cmc := it, it, it, it
	if recomp {
		mt, bt = rc.mean, rc.beta
		if comp {
			cb, cmc = rc.cbeta, cm
		}
	}
	cgc := it
	if comp {
		cgc = cg
	}
	sets := 2
	colShader := pick(b.colPairs(c, []*Tensor{dyt, ht, yt, mt, it, gt, bt, cgc, cb, cmc}), "f_colpart_bngrad2", "f_colpart_bngrad")
	b.took(colShader, rp)
	b.took(colShader, pick(recomp, "recomp", "stored"))
	if comp {
		b.took(colShader, "comp")
		sets = 3 // and the column sums of xhat
	}
	part, lanes := b.colPartSpec(op, "f_colpart_bngrad", rs[:3], false, r, c, sets, dyt, ht, yt, mt, it, gt, bt, cgc, cb, cmc)
	if part == nil {
		return
	}
	push := pushOf(clfPush{C: uint32(c), Lanes: uint32(lanes), F: float32(r)})
	if comp {
		b.took("f_bn_gradsums", "comp")
		b.colFin(op, "f_bn_gradsums", []uint32{1}, push, c, part, dg, db, part, dcg, dcb, gt, it, cm)
	} else {
		b.colFin(op, "f_bn_gradsums", []uint32{0}, push, c, part, dg, db, part, dg, db, part, part, part)
	}
	shader := b.pairShader("f_bn_gradx", c)
	b.took(shader, rp)
	b.took(shader, pick(recomp, "recomp", "stored"))
	cgx, cbx := cg, dcb
	if comp {
		b.took(shader, "comp")
	} else {
		cgx, cbx = gt, gt
	}
	sums := dxs != nil
	b.took(shader, pick(sums, "sums", "nosums"))
	part = dxt // bound, not written, without sums
	lanes = 0
	if sums {
		lanes = b.perChanLanes(r, c)
		if part = b.scratch(op, lanes*c); part == nil {
			return
		}
	}
	b.perChanPairs(op, "f_bn_gradx", rs, pushOf(rcfPush{R: uint32(r), C: uint32(c), F: float32(r)}), r, c,
		dxt, dyt, ht, it, gt, dg, db, yt, cgx, cbx, mt, bt, cb, cmc, part)
	if sums {
		b.took("f_colsum", "sum")
		b.colFin(op, "f_colsum", []uint32{0}, pushOf(clfPush{C: uint32(c), Lanes: uint32(lanes), F: float32(r)}), c, part, dxs, part)
	}
}

// recompArgs are the per-channel operands that the RECOMP forms of the
// batch-norm backward kernels read besides CompBNGrad's to recompute xhat
// and the output's sign from the batch norm's input (CompBNGradFromX);
// the zero value: none (the kernels read xhat and y).
type recompArgs struct {
	mean, beta, cbeta *Tensor
}

// compStatsPush mirrors the push constants of f_comp_stats.
type compStatsPush struct {
	C, Lanes     uint32
	RF, Momentum float32
}

// compColPush mirrors the push constants of f_comp_col.
type compColPush struct {
	R, C         uint32
	RF, Momentum float32
}

// CompensateTrain writes mean = Σ_r x/R, y = (x + gamma·mean) + beta and
// updates runMean in place.
func (b *Backend) CompensateTrain(y, mean, x, gamma, beta, runMean backend.Tensor, momentum float32) {
	d, ok := backend.OpCompensateTrain.Check(&b.err, b, backend.Params{Momentum: momentum}, y, mean, x, gamma, beta, runMean)
	if !ok {
		return
	}
	const op = "CompensateTrain"
	xt, mt, gt, bt := tensor(x), tensor(mean), tensor(gamma), tensor(beta)
	r, c := d.R, d.C
	if b.colDirect(r) {
		// Each invocation sums its column and then applies it: one
		// dispatch, the same float steps as the two kernels below.
		b.elementwise(op, "f_comp_col", nil, pushOf(compColPush{R: uint32(r), C: uint32(c), RF: float32(r), Momentum: momentum}), c,
			tensor(y), xt, gt, bt, mt, tensor(runMean))
		return
	}
	part, lanes := b.colSumPart(op, r, c, xt)
	if part == nil {
		return
	}
	b.colFin(op, "f_comp_stats", []uint32{0}, pushOf(compStatsPush{C: uint32(c), Lanes: uint32(lanes), RF: float32(r), Momentum: momentum}), c, part,
		mt, tensor(runMean), part, part, part, mt)
	b.perChanPairs(op, "f_comp_apply", nil, pushOf(rcPush{R: uint32(r), C: uint32(c)}), r, c, tensor(y), xt, gt, bt, mt)
}

// CompensateInfer writes y = (x + gamma·runMean) + beta.
func (b *Backend) CompensateInfer(y, x, gamma, beta, runMean backend.Tensor) {
	d, ok := backend.OpCompensateInfer.Check(&b.err, b, backend.Params{}, y, x, gamma, beta, runMean)
	if !ok {
		return
	}
	b.perChanPairs("CompensateInfer", "f_comp_apply", nil, pushOf(rcPush{R: uint32(d.R), C: uint32(d.C)}), d.R, d.C,
		tensor(y), tensor(x), tensor(gamma), tensor(beta), tensor(runMean))
}

// CompensateGrad writes dbeta = Σ_r dy, dgamma = mean·dbeta and
// dx = dy + (gamma·dbeta)/R when train, else dx = dy. dx may alias dy.
func (b *Backend) CompensateGrad(dx, dgamma, dbeta, dy, mean, gamma backend.Tensor, train bool) {
	d, ok := backend.OpCompensateGrad.Check(&b.err, b, backend.Params{Train: train}, dx, dgamma, dbeta, dy, mean, gamma)
	if !ok {
		return
	}
	const op = "CompensateGrad"
	dxt, dyt, db := tensor(dx), tensor(dy), tensor(dbeta)
	r, c := d.R, d.C
	if b.colDirect(r) && (train || dxt.st != dyt.st) {
		// Each invocation sums its column of dy and then writes its dx:
		// one dispatch, the same float steps as the two kernels below.
		b.took("f_compgrad_col", pick(train, "train", "infer"))
		b.elementwise(op, "f_compgrad_col", []uint32{b2u(train)}, pushOf(rcfPush{R: uint32(r), C: uint32(c), F: float32(r)}), c,
			dxt, dyt, tensor(gamma), tensor(mean), tensor(dgamma), db)
		return
	}
	part, lanes := b.colSumPart(op, r, c, dyt)
	if part == nil {
		return
	}
	b.colFin(op, "f_comp_gradsums", nil, pushOf(clPush{C: uint32(c), Lanes: uint32(lanes)}), c, part, tensor(dgamma), db, part, tensor(mean))
	if !train && dxt.st == dyt.st {
		return // dx = dy in place
	}
	shader := b.pairShader("f_comp_gradx", c)
	b.took(shader, pick(train, "train", "infer"))
	b.perChanPairs(op, "f_comp_gradx", []uint32{b2u(train)}, pushOf(rcfPush{R: uint32(r), C: uint32(c), F: float32(r)}), r, c,
		dxt, dyt, tensor(gamma), db)
}
