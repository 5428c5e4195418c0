package ref

import (
	"math"

	"github.com/vktrain/vktrain/internal/qsimd"
	"github.com/vktrain/vktrain/nn/backend"
)

var _ backend.FusedStats = (*Backend)(nil)

// PrefersEpilogueStats reports false: the reference backend's
// ConvIDequantStats gathers the statistics in passes of its own after the
// convolution (the specification of the op), so the composed statistics
// of CompBNTrain cost it no more, and package nn keeps them (and the
// reference's training results bit for bit those of earlier releases).
func (b *Backend) PrefersEpilogueStats() bool { return false }

// ConvIDequantStats is ConvIDequant, then the statistics of y: per
// column, mean = (Σ_r y, float32, increasing r) / R and Σ_r (y − mean)²
// (each difference and square rounded, float32, increasing r), the sums
// of BatchNormTrain.
func (b *Backend) ConvIDequantStats(y, qx, qw, sw, bias, xstats backend.Tensor, g backend.ConvGeom, xs, ws backend.QuantSpec) {
	d, ok := backend.OpConvIDequantStats.Check(&b.err, b, backend.Params{Conv: g, P: xs, PB: ws}, y, qx, qw, sw, bias, xstats)
	if !ok {
		return
	}
	b.ConvIDequant(y, qx, qw, sw, bias, g, xs, ws)
	j := &b.jobs.colStats
	*j = colStatsJob{st: xstats.(*Tensor).st.f, x: y.(*Tensor).st.f, r: d.M, c: d.N}
	b.run(j, d.N, colGrain())
	*j = colStatsJob{}
}

// colStatsJob writes, for columns [lo, hi) of x [r, c], st[k] = the mean
// and st[c+k] = the sum of squared deviations from it.
type colStatsJob struct {
	st, x []float32
	r, c  int
}

func (j *colStatsJob) run(lo, hi, _ int) {
	mean, sq := j.st[:j.c], j.st[j.c:2*j.c]
	qsimd.ColSums(mean, j.x, j.c, lo, hi)
	for k := lo; k < hi; k++ {
		mean[k] /= float32(j.r)
	}
	qsimd.ColSumsSqDev(sq, j.x, mean, j.c, lo, hi)
}

// CompBNTrainStats is CompBNTrain with the statistics from xstats (see
// backend.FusedStats): the compensation's mean and running mean, the batch
// norm's mean, variance, invstd and running statistics from xstats with
// f_bn_stats' arithmetic, then CompBNTrain's apply pass.
func (b *Backend) CompBNTrainStats(y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats backend.Tensor, cMomentum, momentum, eps float32, relu bool) {
	d, ok := backend.OpCompBNTrainStats.Check(&b.err, b, backend.Params{CompMomentum: cMomentum, Momentum: momentum, Eps: eps, ReLU: relu},
		y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats)
	if !ok {
		return
	}
	r, c := d.R, d.C
	hf := b.xhatOrScratch(xhat, r*c)
	b.compBNTrainStats(y.(*Tensor).st.f, hf, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats, r, c, cMomentum, momentum, eps, relu)
}

// compBNTrainStats is CompBNTrainStats' work on checked operands over x
// [r, c], writing the batch norm's output into yf and xhat into hf.
func (b *Backend) compBNTrainStats(yf, hf []float32, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats backend.Tensor, r, c int, cMomentum, momentum, eps float32, relu bool) {
	st := xstats.(*Tensor).st.f
	cmf, crm, cgf, cbf := cmean.(*Tensor).st.f[:c], cRunMean.(*Tensor).st.f[:c], cgamma.(*Tensor).st.f[:c], cbeta.(*Tensor).st.f[:c]
	mf, isf, rm, rv := mean.(*Tensor).st.f[:c], invstd.(*Tensor).st.f[:c], runMean.(*Tensor).st.f[:c], runVar.(*Tensor).st.f[:c]
	fr := float32(r)
	unbias := float32(1)
	if r > 1 {
		unbias = fr / float32(r-1)
	}
	for k := range c {
		m := st[k]
		cmf[k] = m
		crm[k] = float32((1-cMomentum)*crm[k]) + float32(cMomentum*m)
		mu := float32(m+float32(cgf[k]*m)) + cbf[k]
		mf[k] = mu
		v := st[c+k] / fr
		isf[k] = 1 / float32(math.Sqrt(float64(v+eps)))
		rm[k] = float32((1-momentum)*rm[k]) + float32(momentum*mu)
		rv[k] = float32((1-momentum)*rv[k]) + float32(momentum*float32(v*unbias))
	}
	add := b.compAdd(cgf, cmf, c)
	b.bnApply(yf, hf, mf, isf, x.(*Tensor).st.f, add, cbf, gamma.(*Tensor).st.f, beta.(*Tensor).st.f, r, c, relu)
}

// CompBNPoolQuantStats is CompBNTrainStats without xhat into a scratch
// matrix yb, then MaxPoolQuant of yb: the composed ops' code on the same
// elements, so bit for bit the composition.
func (b *Backend) CompBNPoolQuantStats(y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats backend.Tensor, cMomentum, momentum, eps float32, relu bool, g backend.PoolGeom, p backend.QuantSpec) {
	d, ok := backend.OpCompBNPoolQuantStats.Check(&b.err, b, backend.Params{CompMomentum: cMomentum, Momentum: momentum, Eps: eps, ReLU: relu, Pool: g, P: p},
		y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats)
	if !ok {
		return
	}
	sc := b.compBNScratch(d.R*d.C, 2)
	yb, hf := sc[0], sc[1]
	b.compBNTrainStats(yb, hf, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats, d.R, d.C, cMomentum, momentum, eps, relu)
	b.maxPoolQuant(y, arg, q, stats, yb, g, p, d.Len)
}
