package vk

import (
	"fmt"
	"sort"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/shaders"
)

// Kernel paths. The launch rules of an op choose, per dispatch, among the
// code paths of its kernel: a specialization (a GEMM's operand formats and
// vector loads, a quantizer's per-channel layout), a grid (k split over
// workgroups, a grid that loops over m, one chunk or several per slice),
// and, from the sizes, which loops run (the main loop over vectors, the
// tail after it). kernelPaths declares, per kernel, every path its launch
// rules can choose; with Options.RecordPaths each dispatch records the
// paths it took (Backend.PathsTaken), so that a test can run the op suite
// in every configuration and fail on the declared paths no case reached
// (UntakenPaths): a path that no test runs is a path whose bugs no test
// catches.
//
// Which build of the kernel ran is a path dimension of every kernel,
// recorded by dispatch itself: PathStorage, and PathTexel for kernels with
// a texel build (NAME_tex, see shaders/io.glsl).

// The read-mode paths of every kernel.
const (
	// PathStorage: the storage-buffer build ran.
	PathStorage = "reads=storage"
	// PathTexel: the texel build ran (declared for kernels that have one).
	PathTexel = "reads=texel"
)

// kernelPaths declares, for each kernel the backend dispatches (by its
// storage build's name), the paths besides the read mode that its launch
// rules can choose. Recording a path not declared here, or dispatching a
// kernel not listed, fails the op when Options.RecordPaths is on.
//
// Common paths: "x2" and "x1", the two-items-per-iteration loop and its
// single-item tail (some invocation runs each); "k=whole" and "k=split",
// one workgroup along k or k split over several with a second pass adding
// the partial results; "m=grid" and "m=loop", a grid covering m or
// invocations looping over blocks of m (the device's workgroup count
// limit); "a=u8", "a=s8", "a=wide" (and b=, q=, x=, cols=): the Q8 storage
// format of an operand.
var kernelPaths = map[string][]string{
	// Quantization (quant.go).
	"q_minmax":     {"groups=1", "groups>1"},
	"q_histogram":  nil,
	"q_quantize":   {"perch=0", "perch=1", "perch=2", "q=packed", "q=wide", "jmax=1", "jmax=2", "jmax=3", "jmax=4", "vec", "novec", "quads"},
	"q_dequantize": {"perch=0", "perch=1", "perch=2", "q=u8", "q=s8", "q=wide", "jmax=1", "jmax=2", "jmax=3", "jmax=4", "vec", "novec"},
	"q_quantgrad":  {"chunks=1", "chunks>1", "dx", "nodx", "ksum", "noksum", "x2", "x1"},

	// Integer convolution (gemm.go).
	"q_im2coli":         {"x=u8", "x=s8", "x=wide", "cols=u8", "cols=s8", "cols=wide"},
	"q_gemmi":           {"a=u8", "a=s8", "a=wide", "b=u8", "b=s8", "b=wide", "k=whole", "k=split", "m=grid", "m=loop", "acc=vec4", "acc=scalar", "load=vec4", "load=word"},
	"q_gemmi_i8":        {"a=u8", "a=s8", "b=u8", "b=s8", "k=whole", "k=split", "m=grid", "m=loop", "acc=vec4", "acc=scalar"},
	"q_gemmi_dot":       {"a=u8", "a=s8", "b=u8", "b=s8", "k=whole", "k=split", "m=grid", "m=loop", "acc=vec4", "acc=scalar", "load=vec4", "load=word"},
	"q_gemmi_sg":        {"a=u8", "a=s8", "b=u8", "b=s8", "k=whole", "k=split", "m=grid", "m=loop", "acc=vec4", "acc=scalar", "ksteps=one", "ksteps=loop", "rows=broadcast", "rows=own", "out=acc", "out=y/bias", "out=y/nobias"},
	"q_gemmi_tiled":     {"a=u8", "a=s8", "b=u8", "b=s8", "k=whole", "k=split", "m=grid", "m=loop"},
	"q_gemmi_tiled_dot": {"a=u8", "a=s8", "b=u8", "b=s8", "k=whole", "k=split", "m=grid", "m=loop"},
	"q_sumi":            {"x2", "x1"},
	"q_rowsumi":         {"a=u8", "a=s8", "a=wide", "row=short", "row=loop", "split", "whole"},
	"q_dequant":         {"bias", "nobias"},
	"q_dequant2":        {"bias", "nobias", "x2", "x1"},

	// Float GEMM (float.go, gemm.go).
	"f_gemm":      gemmPaths,
	"f_gemm_sg":   gemmPaths,
	"f_gemm_sg64": gemmPaths,
	"f_gemm_rt":   {"a=N", "a=T", "b=N", "b=T", "lanes=m", "lanes=n", "k=whole", "k=split"},
	"f_gemm_ksum": {"beta=0", "beta"},
	"f_gemm_rows": {"b=N", "b=T", "beta=0", "beta", "rows=whole", "rows=ragged"},

	// The other float ops (float.go).
	"f_im2col":            nil,
	"f_col2im":            nil,
	"f_addbias":           {"pairs", "scalar", "x2", "x1"},
	"f_colpart_sum":       colPartPaths,
	"f_colpart_sqdev":     append([]string{"welford", "deviations", "comp"}, colPartPaths...),
	"f_colpart_bngrad":    append([]string{"relu", "norelu", "comp", "recomp", "stored"}, colPartPaths...),
	"f_colpart_sum2":      nil,
	"f_colpart_sqdev2":    {"comp"},
	"f_colpart_bngrad2":   {"relu", "norelu", "comp", "recomp", "stored"},
	"f_colsum":            {"sum", "mean", "part=lanes", "part=rows"},
	"f_relu":              {"x2", "x1"},
	"f_relugrad":          {"x2", "x1"},
	"f_relu2":             {"oct", "pair"},
	"f_relugrad2":         {"oct", "pair"},
	"f_maxpool":           {"v=1", "v=2", "v=4"},
	"f_maxpoolgrad_tiled": {"v=1", "v=2", "v=4", "gaps", "covered"},
	"f_maxpoolgrad":       nil,
	"f_bn_stats":          {"welford", "twopass", "comp", "part=lanes", "part=xstats"},
	"f_colstats_fin":      {"sums", "contig", "strided"},
	"f_bn_apply":          {"relu", "norelu", "comp", "xhat", "noxhat", "x2", "x1"},
	"f_bn_apply2":         {"relu", "norelu", "comp", "xhat", "noxhat", "x2", "x1"},
	"f_bn_infer":          {"relu", "norelu", "comp", "x2", "x1"},
	"f_bn_gradsums":       {"comp", "part=lanes"},
	"f_bn_gradx":          {"relu", "norelu", "comp", "recomp", "stored", "sums", "nosums", "x2", "x1"},
	"f_bn_gradx2":         {"relu", "norelu", "comp", "recomp", "stored", "sums", "nosums", "x2", "x1"},
	"f_comp_stats":        {"bn", "part=lanes", "part=rows"},
	"f_comp_apply":        {"x2", "x1"},
	"f_comp_apply2":       {"x2", "x1"},
	"f_comp_col":          {},
	"f_compgrad_col":      {"train", "infer"},
	"f_comp_gradsums":     {"part=lanes", "part=rows"},
	"f_comp_gradx":        {"train", "infer", "x2", "x1"},
	"f_comp_gradx2":       {"train", "infer", "x2", "x1"},

	// The ops added with the op contract (newops.go).
	"f_add":          {"x2", "x1"},
	"f_add2":         {"oct", "pair"},
	"f_avgpool":      {"chunks=1", "chunks>1"},
	"f_avgpoolgrad":  {"tiled", "overlap"},
	"f_dwconv":       {"segs=1", "segs>1"},
	"f_dwconv_gradx": {"segs=1", "segs>1"},
	"f_dwconv_gradw": {"chunks=1", "chunks>1"},
	"q_dwconvi":      {"x=u8", "x=s8", "x=wide", "x=word", "x=code", "acc=vec4", "acc=scalar", "segs=1", "segs>1"},
	"q_dwconvi_w":    {"w=u8", "w=s8", "w=wide", "zb=tensor", "zb=channel"},

	// The fused convolution (conv.go).
	"q_convi":      {"x=u8", "x=s8", "x=wide", "w=u8", "w=s8", "bias", "nobias", "y=vec4", "y=scalar", "groups=1", "groups>1", "stats", "nostats"},
	"f_convgradw":  {"x=u8", "x=s8", "x=wide"},
	"q_dequantpad": {"x=u8", "x=s8", "x=wide"},
	"f_gemm_rtc":   {"a=T", "b=N", "lanes=m", "lanes=n", "k=whole", "k=split"},

	// The fused weight ops (fusedweights.go).
	"q_wprep":      {"q=u8", "q=s8", "q=wide", "jmax=1", "jmax=2", "jmax=3", "jmax=4", "vec", "novec", "perch=0", "perch=1", "sw", "nosw", "what", "nowhat", "x2", "x1"},
	"q_densegradw": {"x=u8", "x=s8", "x=wide", "ws=channel", "ws=tensor", "vec", "novec", "bias", "nobias", "r=odd", "r=even", "rpasses=1", "rpasses>1"},

	// Quantization fused into the op producing its input (fusedquant.go).
	"q_quantmm": {"prod=id", "prod=relu", "prod=maxpool", "prod=bnpool", "relu", "norelu", "groups=1", "groups>1", "q=packed", "q=wide", "words=one", "words=vec", "words=rows", "pool=vec4", "pool=scalar"},
}

// gemmPaths are the paths of f_gemm and its subgroup forms: op(A) and
// op(B) (N: as stored, T: transposed), the dimension invocations walk (the
// longer of m and n), k whole or split into chunks, and vec4 or scalar
// loads of each operand.
var gemmPaths = []string{"a=N", "a=T", "b=N", "b=T", "lanes=m", "lanes=n", "k=whole", "k=split",
	"loadA=vec4", "loadA=scalar", "loadB=vec4", "loadB=scalar"}

// colPartPaths are the paths of the first pass of a column reduction
// (shaders/f_colpart.glsl): rows strided over the lanes or contiguous runs
// per lane, one or four columns per invocation, and the unrolled main loop
// over rows and its remainder.
var colPartPaths = []string{"rows=strided", "rows=contig", "ncol=1", "ncol=2", "ncol=4", "main", "rest"}

// Names of Q8 formats as paths, indexed by qfmt.
var (
	fmtA    = [...]string{"a=u8", "a=s8", "a=wide"}
	fmtB    = [...]string{"b=u8", "b=s8", "b=wide"}
	fmtQ    = [...]string{"q=u8", "q=s8", "q=wide"}
	fmtX    = [...]string{"x=u8", "x=s8", "x=wide"}
	fmtCols = [...]string{"cols=u8", "cols=s8", "cols=wide"}
	// storeWidths names the channels per store of the pooling kernels.
	storeWidths = [...]string{1: "v=1", 2: "v=2", 4: "v=4"}
	perchPaths  = [...]string{"perch=0", "perch=1", "perch=2"}
	jmaxPaths   = [...]string{1: "jmax=1", 2: "jmax=2", 3: "jmax=3", 4: "jmax=4"}
)

// pick returns a when c holds, else b.
func pick(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

// took records that a dispatch of kernel (its storage build's name) took
// path, when Options.RecordPaths is on; otherwise it costs a nil check.
func (b *Backend) took(kernel, path string) {
	if b.paths == nil {
		return
	}
	b.takePath(kernel, path)
}

// takePath records path of kernel, failing the current op where the
// path is not declared.
func (b *Backend) takePath(kernel, path string) {
	if !declared(kernel, path) {
		b.failf(b.curOp, "internal error: kernel %s took path %q, which paths.go does not declare", kernel, path)
		return
	}
	m := b.paths[kernel]
	if m == nil {
		m = map[string]int{}
		b.paths[kernel] = m
	}
	m[path]++
}

// storageOnly lists the kernels with a texel build that the launch rules
// never choose: the column-pair reductions, taken only where the inputs
// are read through storage buffers (colPairs).
var storageOnly = map[string]bool{"f_colpart_sum2": true, "f_colpart_sqdev2": true, "f_colpart_bngrad2": true}

// declared reports whether kernelPaths (or the read modes) declare path
// for kernel.
func declared(kernel, path string) bool {
	ps, ok := kernelPaths[kernel]
	if !ok {
		return false
	}
	switch path {
	case PathStorage:
		return true
	case PathTexel:
		return hasTexel(kernel)
	}
	for _, p := range ps {
		if p == path {
			return true
		}
	}
	return false
}

// hasTexel reports whether kernel has a texel build that its launch rules
// may choose.
func hasTexel(kernel string) bool {
	if storageOnly[kernel] {
		return false
	}
	_, err := shaders.SPIRV(kernel + "_tex")
	return err == nil
}

// PathsTaken returns, per kernel (by its storage build's name), how many
// dispatches took each path since the backend was made; nil unless
// Options.RecordPaths is on. Every dispatch records its read mode
// (PathStorage or PathTexel) and the paths its launch rules chose among
// those DeclaredPaths lists. The maps are a copy.
func (b *Backend) PathsTaken() map[string]map[string]int {
	if b.paths == nil {
		return nil
	}
	out := make(map[string]map[string]int, len(b.paths))
	for k, m := range b.paths {
		c := make(map[string]int, len(m))
		for p, n := range m {
			c[p] = n
		}
		out[k] = c
	}
	return out
}

// DeclaredPaths returns, per kernel the backend dispatches (by its storage
// build's name), every path its launch rules can choose, sorted, read
// modes included: PathStorage, and PathTexel where the kernel has a texel
// build.
func DeclaredPaths() map[string][]string {
	out := make(map[string][]string, len(kernelPaths))
	for k, ps := range kernelPaths {
		all := append([]string{PathStorage}, ps...)
		if hasTexel(k) {
			all = append(all, PathTexel)
		}
		sort.Strings(all)
		out[k] = all
	}
	return out
}

// UntakenPaths returns, sorted, "kernel: path" for every declared path
// (DeclaredPaths) that none of records (PathsTaken of several backends)
// took.
func UntakenPaths(records ...map[string]map[string]int) []string {
	var miss []string
	for k, ps := range DeclaredPaths() {
		for _, p := range ps {
			taken := false
			for _, r := range records {
				if r[k][p] > 0 {
					taken = true
					break
				}
			}
			if !taken {
				miss = append(miss, fmt.Sprintf("%s: %s", k, p))
			}
		}
	}
	sort.Strings(miss)
	return miss
}

// checkDispatch runs under Options.RecordPaths before each dispatch of
// shader as kernel k: it records the read mode and checks the push
// constants against the block k's SPIR-V declares, failing the op on a
// mismatch: the Go type typ they were encoded from (pushArg.typ), or when
// raw their length (b.pushBuf holds them).
func (b *Backend) checkDispatch(shader string, k *gpu.Kernel, typ any, raw bool) {
	if _, ok := kernelPaths[shader]; !ok {
		b.failf(b.curOp, "internal error: kernel %s is not declared in paths.go", shader)
		return
	}
	b.took(shader, pick(k.Name() != shader, PathTexel, PathStorage))
	blk, ok := b.pushBlocks[k.Name()]
	if !ok {
		code, err := shaders.SPIRV(k.Name())
		if err == nil {
			blk, err = gpu.PushLayout(code)
		}
		if err != nil {
			b.failf(b.curOp, "kernel %s: %v", k.Name(), err)
			return
		}
		b.pushBlocks[k.Name()] = blk
	}
	push := typ
	if raw {
		push = b.pushBuf
	}
	if err := gpu.CheckPush(blk, push); err != nil {
		b.failf(b.curOp, "kernel %s: push constants: %v", k.Name(), err)
	}
}

// tookLoop2 records the paths of a kernel whose invocations walk items
// items, lanes invocations apart, two per loop iteration ("x2") with a
// single last one ("x1"), where the kernel declares them.
func (b *Backend) tookLoop2(kernel string, items, lanes int) {
	if b.paths == nil || items <= 0 || lanes <= 0 || !declared(kernel, "x2") {
		return
	}
	// Invocations below r take q+1 items, the others q.
	q, r := items/lanes, items%lanes
	if items > lanes {
		b.took(kernel, "x2")
	}
	if q%2 == 1 || (r > 0 && q%2 == 0) {
		b.took(kernel, "x1")
	}
}

// tookColPart records the paths of a first pass of a column reduction
// (f_colpart.glsl, scalar kernels) over r rows in lanes row lanes:
// contiguous runs of rows per lane (contig) or strided rows, ncol columns
// per invocation, for f_colpart_sqdev welford or not, and whether some lane
// runs the unrolled main loop ("main") and some its remainder ("rest").
func (b *Backend) tookColPart(shader string, r, lanes int, contig bool, ncol int, welford bool) {
	b.took(shader, pick(contig, "rows=contig", "rows=strided"))
	switch ncol {
	case 4:
		b.took(shader, "ncol=4")
	case 2:
		b.took(shader, "ncol=2")
	default:
		b.took(shader, "ncol=1")
	}
	// Rows per step of the main loop.
	u := 4
	switch {
	case shader == "f_colpart_sqdev":
		b.took(shader, pick(welford, "welford", "deviations"))
		if welford || ncol > 1 {
			u = 2
		}
	case shader == "f_colpart_bngrad":
		u = 2
		if ncol > 1 {
			u = 1
		}
	case ncol > 1:
		u = 2
	}
	if u == 1 {
		return
	}
	main, rest := false, false
	chunk := ceilDiv(r, lanes)
	for l := range lanes {
		var n int
		if contig {
			i0 := min(l*chunk, r)
			n = min(i0+chunk, r) - i0
		} else if l < r {
			n = ceilDiv(r-l, lanes)
		}
		main = main || n >= u
		rest = rest || n%u != 0
	}
	if main {
		b.took(shader, "main")
	}
	if rest {
		b.took(shader, "rest")
	}
}

// tookGemm records the paths of a float GEMM kernel: op(A), op(B), the
// dimension its invocations walk and whether k is split.
func (b *Backend) tookGemm(shader string, transA, transB, lanesM bool, chunks int) {
	b.took(shader, pick(transA, "a=T", "a=N"))
	b.took(shader, pick(transB, "b=T", "b=N"))
	b.took(shader, pick(lanesM, "lanes=m", "lanes=n"))
	b.took(shader, pick(chunks > 1, "k=split", "k=whole"))
}

// tookGemmI records the paths of an integer GEMM kernel: the operands'
// formats, whether k is split and whether invocations loop over m.
func (b *Backend) tookGemmI(shader string, fa, fb qfmt, splits int, loopM bool) {
	b.took(shader, fmtA[fa])
	b.took(shader, fmtB[fb])
	b.took(shader, pick(splits > 1, "k=split", "k=whole"))
	b.took(shader, pick(loopM, "m=loop", "m=grid"))
}
