package vk

import "github.com/vktrain/vktrain/nn/backend"

var _ backend.FusedStats = (*Backend)(nil)

// convStatsRows is the fewest rows a q_convi invocation walks on GPUs when
// it gathers the statistics (STATS): the lanes f_colstats_fin then adds
// serially are at most R/convStatsRows.
const convStatsRows = 32

// The forms of f_colstats_fin (its MODE).
const (
	colStatsSums    = 0 // partial sums of squared deviations, the mean given
	colStatsContig  = 1 // Welford lanes of contiguous runs of rows
	colStatsStrided = 2 // Welford lanes of rows l, l+L, ...
)

// colStatsPush mirrors f_colstats_fin's push constants.
type colStatsPush struct{ C, Lanes, R uint32 }

// PrefersEpilogueStats reports true: on Vulkan the statistics from the
// convolution's epilogue save the pass over its output that
// CompBNTrain's statistics take (f_colpart_sqdev).
func (b *Backend) PrefersEpilogueStats() bool { return true }

// ConvIDequantStats is ConvIDequant with the statistics of y: where
// q_convi runs, from its epilogue (STATS: each invocation's running mean
// and squared deviations of the rows it stores), which f_colstats_fin
// combines; otherwise ConvIDequant's composed kernels, then passes over
// y (colStats).
func (b *Backend) ConvIDequantStats(y, qx, qw, sw, bias, xstats backend.Tensor, g backend.ConvGeom, xs, ws backend.QuantSpec) {
	d, ok := backend.OpConvIDequantStats.Check(&b.err, b, backend.Params{Conv: g, P: xs, PB: ws}, y, qx, qw, sw, bias, xstats)
	if !ok {
		return
	}
	b.convIDequant("ConvIDequantStats", tensor(y), tensor(qx), tensor(qw), tensor(sw), tensor(bias), tensor(xstats), d.M, d.N, d.K, g, xs, ws)
}

// colStats records the statistics of y [r, c] into xst [2, c] from passes
// over y (colMoments: on CPU drivers Welford lanes, combined by
// f_colstats_fin CONTIG; elsewhere the means into xst's first row and the
// partial sums of squared deviations, added by f_colstats_fin SUMS).
func (b *Backend) colStats(op string, yt, xst *Tensor, r, c int) {
	part, lanes, welford := b.colMoments(op, r, c, yt, xst)
	if part == nil {
		return
	}
	mode := colStatsSums
	if welford {
		mode = colStatsContig
	}
	b.colStatsFin(op, xst, part, mode, c, lanes, r)
}

// colStatsFin records f_colstats_fin in the form mode over the partial
// statistics part of lanes row lanes of a matrix [r, c], into xst.
func (b *Backend) colStatsFin(op string, xst, part *Tensor, mode, c, lanes, r int) {
	b.took("f_colstats_fin", [...]string{"sums", "contig", "strided"}[mode])
	b.elementwise(op, "f_colstats_fin", []uint32{uint32(mode)}, pushOf(colStatsPush{C: uint32(c), Lanes: uint32(lanes), R: uint32(r)}), c, xst, part)
}

// CompBNTrainStats is CompBNTrain with f_bn_stats reading the statistics
// from xstats (as one Welford lane of R rows) instead of partials of a
// pass over x: the statistics pass over the activations is not run.
func (b *Backend) CompBNTrainStats(y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats backend.Tensor, cMomentum, momentum, eps float32, relu bool) {
	d, ok := backend.OpCompBNTrainStats.Check(&b.err, b, backend.Params{CompMomentum: cMomentum, Momentum: momentum, Eps: eps, ReLU: relu},
		y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats)
	if !ok {
		return
	}
	cp := compArgs{cgamma: tensor(cgamma), cbeta: tensor(cbeta), cmean: tensor(cmean), crm: tensor(cRunMean), momentum: cMomentum, xstats: tensor(xstats)}
	b.bnTrain("CompBNTrainStats", d.R, d.C, relu, &cp, tensor(y), tensor(xhat), tensor(x), tensor(mean), tensor(invstd),
		tensor(gamma), tensor(beta), tensor(runMean), tensor(runVar), momentum, eps)
}

// CompBNPoolQuantStats is CompBNPoolQuant with the statistics from xstats
// (see CompBNTrainStats).
func (b *Backend) CompBNPoolQuantStats(y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats backend.Tensor, cMomentum, momentum, eps float32, relu bool, g backend.PoolGeom, p backend.QuantSpec) {
	d, ok := backend.OpCompBNPoolQuantStats.Check(&b.err, b, backend.Params{CompMomentum: cMomentum, Momentum: momentum, Eps: eps, ReLU: relu, Pool: g, P: p},
		y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats)
	if !ok {
		return
	}
	cp := compArgs{cgamma: tensor(cgamma), cbeta: tensor(cbeta), cmean: tensor(cmean), crm: tensor(cRunMean), momentum: cMomentum, xstats: tensor(xstats)}
	b.compBNPoolQuant("CompBNPoolQuantStats", d, &cp, y, arg, q, stats, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps, relu, g, p)
}
