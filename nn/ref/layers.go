package ref

import (
	"fmt"
	"math"

	"github.com/vktrain/vktrain/internal/qsimd"
	"github.com/vktrain/vktrain/nn/backend"
)

// colGrain is the columns per chunk of the column-parallel column sums:
// at least 8, and the columns one vector of the column-sum kernel holds
// (16 with AVX-512). A vector adds a row of its columns at once, its time
// is one float32 addition's latency per row, or the memory's, whatever
// the columns it holds, so a 16-channel batch norm runs on one goroutine:
// two halves of its rows cannot be summed in parallel (each column's sum
// is one chain over increasing rows), and two halves of its columns read
// the same cache lines (the step measured ~4% slower with 8).
func colGrain() int { return max(8, qsimd.ColSumsWidth()) }

// floats returns n float32 of the backend's small scratch (per-channel
// constants of one op), zeroed; one op at a time.
func (b *Backend) floats(n int) []float32 {
	if cap(b.small) < n {
		b.small = make([]float32, n)
	}
	s := b.small[:n]
	clear(s)
	return s
}

// rowGrain is the rows per chunk of a row-parallel op over rows of c
// elements: about 16 k elements.
func rowGrain(c int) int { return max(1, 1<<14/max(c, 1)) }

type addBiasJob struct {
	y, bias []float32
	c       int
}

func (j *addBiasJob) run(lo, hi, _ int) {
	c := j.c
	for i := lo; i < hi; i++ {
		row := j.y[i*c : (i+1)*c]
		bias := j.bias[:len(row)]
		for k, v := range bias {
			row[k] += v
		}
	}
}

// AddBias adds bias[c] to every row of y, in place.
func (b *Backend) AddBias(y, bias backend.Tensor) {
	d, ok := backend.OpAddBias.Check(&b.err, b, backend.Params{}, y, bias)
	if !ok {
		return
	}
	j := &b.jobs.addBias
	*j = addBiasJob{y: y.(*Tensor).st.f, bias: bias.(*Tensor).st.f, c: d.C}
	b.run(j, d.R, rowGrain(d.C))
	*j = addBiasJob{}
}

// colSumJob sums columns [lo, hi) of x [·, c] into s.
type colSumJob struct {
	s, x []float32
	c    int
}

func (j *colSumJob) run(lo, hi, _ int) { qsimd.ColSums(j.s, j.x, j.c, lo, hi) }

// ColSum writes s[c] = Σ_r x[r,c], summed over increasing r in float32.
func (b *Backend) ColSum(s, x backend.Tensor) {
	d, ok := backend.OpColSum.Check(&b.err, b, backend.Params{}, s, x)
	if !ok {
		return
	}
	b.colSum(s.(*Tensor).st.f, x.(*Tensor).st.f, d.C)
}

// colSum is ColSum's job on the elements: s[k] = Σ_r x[r,k] for the c
// columns of x, in chunks of colGrain columns.
func (b *Backend) colSum(s, x []float32, c int) {
	j := &b.jobs.colSum
	*j = colSumJob{s: s, x: x, c: c}
	b.run(j, c, colGrain())
	*j = colSumJob{}
}

type reluJob struct{ y, x []float32 }

// relu returns v where v > 0, else +0 (NaN and -0 give +0).
func relu(v float32) float32 { return qsimd.Masked(v, v) }

func (j *reluJob) run(lo, hi, _ int) {
	x := j.x[lo:hi]
	y := j.y[lo:hi]
	y = y[:len(x)]
	for i, v := range x {
		y[i] = relu(v)
	}
}

// ReLU writes y = x where x > 0, else 0 (NaN gives 0). y may alias x.
func (b *Backend) ReLU(y, x backend.Tensor) {
	d, ok := backend.OpReLU.Check(&b.err, b, backend.Params{}, y, x)
	if !ok {
		return
	}
	b.reluOf(y.(*Tensor).st.f[:d.Len], x.(*Tensor).st.f[:d.Len])
}

// reluOf is ReLU's job on the elements: y = ReLU(x), len(y) ≥ len(x).
func (b *Backend) reluOf(y, x []float32) {
	j := &b.jobs.relu
	*j = reluJob{y: y, x: x}
	b.run(j, len(x), 1<<15)
	*j = reluJob{}
}

type reluGradJob struct{ dx, dy, y []float32 }

func (j *reluGradJob) run(lo, hi, _ int) {
	dy := j.dy[lo:hi]
	y := j.y[lo:hi]
	dx := j.dx[lo:hi]
	y, dx = y[:len(dy)], dx[:len(dy)]
	for i, v := range dy {
		dx[i] = qsimd.Masked(v, y[i])
	}
}

// ReLUGrad writes dx = dy where y > 0, else 0. dx may alias dy.
func (b *Backend) ReLUGrad(dx, dy, y backend.Tensor) {
	d, ok := backend.OpReLUGrad.Check(&b.err, b, backend.Params{}, dx, dy, y)
	if !ok {
		return
	}
	j := &b.jobs.reluGrad
	*j = reluGradJob{dx: dx.(*Tensor).st.f[:d.Len], dy: dy.(*Tensor).st.f[:d.Len], y: y.(*Tensor).st.f[:d.Len]}
	b.run(j, d.Len, 1<<15)
	*j = reluGradJob{}
}

type maxPoolJob struct {
	y, x []float32
	arg  []int32
	g    backend.PoolGeom
}

// run pools the output rows (n, py) in [lo, hi).
func (j *maxPoolJob) run(lo, hi, _ int) {
	g := j.g
	if g.Size == 2 {
		j.run2(lo, hi)
		return
	}
	oh, ow := g.Out()
	C := g.C
	for r := lo; r < hi; r++ {
		n, py := r/oh, r%oh
		for px := range ow {
			out := (r*ow + px) * C
			bv := j.y[out : out+C]
			ba := j.arg[out : out+C]
			ba = ba[:len(bv)]
			for ky := range g.Size {
				for kx := range g.Size {
					i0 := ((n*g.H+py*g.Stride+ky)*g.W + px*g.Stride + kx) * C
					src := j.x[i0 : i0+C]
					src = src[:len(bv)]
					if ky == 0 && kx == 0 {
						// The window's first element is kept, even NaN.
						for c, v := range src {
							bv[c], ba[c] = v, int32(i0+c)
						}
						continue
					}
					for c, v := range src {
						if v > bv[c] {
							bv[c], ba[c] = v, int32(i0+c)
						}
					}
				}
			}
		}
	}
}

// run2 is run for 2×2 windows: per channel the four window elements in
// row-major order, the first kept and replaced only by a strictly greater
// one, as in run (qsimd.MaxPool2).
func (j *maxPoolJob) run2(lo, hi int) {
	g := j.g
	qsimd.MaxPool2(j.y, j.arg, j.x, g.H, g.W, g.C, g.Stride, lo, hi)
}

// MaxPool writes the window maxima of x into y and their flat indices into
// arg. Within a window (row-major order) the first element is kept and
// replaced only by a strictly greater one.
func (b *Backend) MaxPool(y, arg, x backend.Tensor, g backend.PoolGeom) {
	if _, ok := backend.OpMaxPool.Check(&b.err, b, backend.Params{Pool: g}, y, arg, x); !ok {
		return
	}
	b.maxPoolOf(y.(*Tensor).st.f, arg.(*Tensor).st.i, x.(*Tensor).st.f, g)
}

// maxPoolOf is MaxPool's job on the checked operands' elements.
func (b *Backend) maxPoolOf(y []float32, arg []int32, x []float32, g backend.PoolGeom) {
	oh, _ := g.Out()
	j := &b.jobs.maxPool
	*j = maxPoolJob{y: y, arg: arg, x: x, g: g}
	b.run(j, g.N*oh, 1)
	*j = maxPoolJob{}
}

// MaxPoolGrad zeroes dx and adds dy[i] to dx[arg[i]] for i in increasing
// order. An index outside dx records an error (without touching dx).
func (b *Backend) MaxPoolGrad(dx, dy, arg backend.Tensor, g backend.PoolGeom) {
	if _, ok := backend.OpMaxPoolGrad.Check(&b.err, b, backend.Params{Pool: g}, dx, dy, arg); !ok {
		return
	}
	dxt, dyt, at := dx.(*Tensor), dy.(*Tensor), arg.(*Tensor)
	// The op-specific runtime check: indices are data, not shapes.
	n := int32(dxt.Len())
	for i, a := range at.st.i {
		if a < 0 || a >= n {
			b.record(fmt.Errorf("MaxPoolGrad: arg[%d] = %d outside dx %v", i, a, dxt.shape))
			return
		}
	}
	dxf := dxt.st.f[:n]
	clear(dxf)
	dyf := dyt.st.f[:len(at.st.i)]
	for i, a := range at.st.i {
		dxf[a] += dyf[i]
	}
}

// bnStatsJob computes, for columns [lo, hi), BatchNormTrain's batch mean,
// 1/std and running statistics.
type bnStatsJob struct {
	mean, invstd, x, runMean, runVar, vs []float32
	// add and cbeta, when not nil, make the statistics those of the
	// compensated matrix (x + add) + cbeta (see qsimd.ColSumsComp).
	add, cbeta    []float32
	r, c          int
	momentum, eps float32
}

func (j *bnStatsJob) run(lo, hi, _ int) {
	r, c := j.r, j.c
	fr := float32(r)
	unbias := float32(1)
	if r > 1 {
		unbias = fr / float32(r-1)
	}
	mu := j.mean[lo:hi]
	is := j.invstd[lo:hi]
	vs := j.vs[lo:hi]
	if j.add != nil {
		qsimd.ColSumsComp(j.mean, j.x, j.add, j.cbeta, nil, c, lo, hi)
	} else {
		qsimd.ColSums(j.mean, j.x, c, lo, hi)
	}
	for k := range mu {
		mu[k] /= fr
	}
	if j.add != nil {
		qsimd.ColSumsComp(j.vs, j.x, j.add, j.cbeta, j.mean, c, lo, hi)
	} else {
		qsimd.ColSumsSqDev(j.vs, j.x, j.mean, c, lo, hi)
	}
	m := j.momentum
	for k := range vs {
		vs[k] /= fr
		is[k] = 1 / float32(math.Sqrt(float64(vs[k]+j.eps)))
		rm, rv := &j.runMean[lo+k], &j.runVar[lo+k]
		*rm = float32((1-m)**rm) + float32(m*mu[k])
		*rv = float32((1-m)**rv) + float32(m*float32(vs[k]*unbias))
	}
}

// bnApplyJob writes, for rows [lo, hi), xhat = (x-mean)·invstd and
// y = gamma·xhat + beta.
type bnApplyJob struct {
	y, xhat, x, mean, invstd, gamma, beta []float32
	// add and cbeta, when not nil, stand for x the compensated matrix
	// (x + add) + cbeta, computed as each element is read.
	add, cbeta []float32
	c          int
	relu       bool // y = ReLU(BN) (BatchNormReLUTrain)
}

func (j *bnApplyJob) run(lo, hi, _ int) {
	qsimd.BNApply(j.y, j.xhat, j.x, j.add, j.cbeta, j.mean, j.invstd, j.gamma, j.beta, j.c, lo, hi, j.relu)
}

// reluRow applies ReLU to y in place (see reluJob).
func reluRow(y []float32) {
	for i, v := range y {
		y[i] = relu(v)
	}
}

// BatchNormTrain normalises x per channel with batch statistics, see
// backend.Backend. Sums run over increasing rows in float32; mean = sum/R,
// var = Σ(x-mean)²/R, invstd = 1/float32(sqrt(var+eps)).
func (b *Backend) BatchNormTrain(y, xhat, mean, invstd, x, gamma, beta, runMean, runVar backend.Tensor, momentum, eps float32) {
	b.batchNormTrain(backend.OpBatchNormTrain, y, xhat, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

// BatchNormReLUTrain is BatchNormTrain with ReLU applied to y as it is
// written: bit for bit BatchNormTrain then ReLU(y, y).
func (b *Backend) BatchNormReLUTrain(y, xhat, mean, invstd, x, gamma, beta, runMean, runVar backend.Tensor, momentum, eps float32) {
	b.batchNormTrain(backend.OpBatchNormReLUTrain, y, xhat, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

func (b *Backend) batchNormTrain(op *backend.Op, y, xhat, mean, invstd, x, gamma, beta, runMean, runVar backend.Tensor, momentum, eps float32) {
	d, ok := op.Check(&b.err, b, backend.Params{Momentum: momentum, Eps: eps},
		y, xhat, mean, invstd, x, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	b.bnTrain(y.(*Tensor).st.f, xhat.(*Tensor).st.f, mean.(*Tensor).st.f, invstd.(*Tensor).st.f, x.(*Tensor).st.f, nil, nil,
		gamma.(*Tensor).st.f, beta.(*Tensor).st.f, runMean.(*Tensor).st.f, runVar.(*Tensor).st.f,
		d.R, d.C, momentum, eps, op == backend.OpBatchNormReLUTrain)
}

// bnTrain is BatchNormTrain (then ReLU where relu) on the checked operands'
// elements, x [r, c], or, when add is not nil, on the compensated matrix
// (x + add) + cbeta, computed as it is read.
func (b *Backend) bnTrain(y, xhat, mf, isf, xf, add, cbeta, gamma, beta, runMean, runVar []float32, r, c int, momentum, eps float32, relu bool) {
	st := &b.jobs.bnStats
	*st = bnStatsJob{mean: mf, invstd: isf, x: xf, runMean: runMean, runVar: runVar, add: add, cbeta: cbeta,
		vs: b.floats(c), r: r, c: c, momentum: momentum, eps: eps}
	b.run(st, c, colGrain())
	*st = bnStatsJob{}
	b.bnApply(y, xhat, mf, isf, xf, add, cbeta, gamma, beta, r, c, relu)
}

// bnApply is bnTrain's pass after the statistics: xhat and y (see
// bnApplyJob) from x [r, c] and the statistics mf, isf.
func (b *Backend) bnApply(y, xhat, mf, isf, xf, add, cbeta, gamma, beta []float32, r, c int, relu bool) {
	ap := &b.jobs.bnApply
	*ap = bnApplyJob{y: y, xhat: xhat, x: xf, mean: mf, invstd: isf, add: add, cbeta: cbeta,
		gamma: gamma, beta: beta, c: c, relu: relu}
	b.run(ap, r, rowGrain(c))
	*ap = bnApplyJob{}
}

// bnInferJob writes y = float32(gamma·(x-m))/sd + beta for rows [lo, hi).
type bnInferJob struct {
	y, x, gamma, beta, runMean, sd []float32
	// add and cbeta, when not nil, stand for x the compensated matrix
	// (x + add) + cbeta, computed as each element is read.
	add, cbeta []float32
	c          int
	relu       bool
}

func (j *bnInferJob) run(lo, hi, _ int) {
	c := j.c
	g, be, rm, sd := j.gamma[:c], j.beta[:c], j.runMean[:c], j.sd[:c]
	var ad, cb []float32
	if j.add != nil {
		ad, cb = j.add[:c], j.cbeta[:c]
	}
	for i := lo; i < hi; i++ {
		x := j.x[i*c : (i+1)*c]
		y := j.y[i*c : (i+1)*c]
		x, y = x[:c], y[:c]
		if ad != nil {
			for k, v := range x {
				y[k] = float32(g[k]*(((v+ad[k])+cb[k])-rm[k]))/sd[k] + be[k]
			}
		} else {
			for k, v := range x {
				y[k] = float32(g[k]*(v-rm[k]))/sd[k] + be[k]
			}
		}
		if j.relu {
			reluRow(y)
		}
	}
}

// BatchNormInfer writes y = gamma·(x-runMean)/sqrt(runVar+eps) + beta,
// computed as float32(gamma·(x-m))/float32(sqrt(v+eps)) + beta.
func (b *Backend) BatchNormInfer(y, x, gamma, beta, runMean, runVar backend.Tensor, eps float32) {
	b.batchNormInfer(backend.OpBatchNormInfer, y, x, gamma, beta, runMean, runVar, eps)
}

// BatchNormReLUInfer is BatchNormInfer then ReLU, bit for bit.
func (b *Backend) BatchNormReLUInfer(y, x, gamma, beta, runMean, runVar backend.Tensor, eps float32) {
	b.batchNormInfer(backend.OpBatchNormReLUInfer, y, x, gamma, beta, runMean, runVar, eps)
}

func (b *Backend) batchNormInfer(op *backend.Op, y, x, gamma, beta, runMean, runVar backend.Tensor, eps float32) {
	d, ok := op.Check(&b.err, b, backend.Params{Eps: eps}, y, x, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	b.bnInfer(y.(*Tensor).st.f, x.(*Tensor).st.f, nil, nil, gamma.(*Tensor).st.f, beta.(*Tensor).st.f,
		runMean.(*Tensor).st.f, runVar.(*Tensor).st.f, d.R, d.C, eps, op == backend.OpBatchNormReLUInfer)
}

// bnInfer is BatchNormInfer (then ReLU where relu) on the checked operands'
// elements, x [r, c], or, when add is not nil, on the compensated matrix
// (x + add) + cbeta, computed as it is read.
func (b *Backend) bnInfer(y, x, add, cbeta, gamma, beta, runMean, rv []float32, r, c int, eps float32, relu bool) {
	sd := b.floats(c)
	for k := range sd {
		sd[k] = float32(math.Sqrt(float64(rv[k] + eps)))
	}
	j := &b.jobs.bnInfer
	*j = bnInferJob{y: y, x: x, add: add, cbeta: cbeta, gamma: gamma, beta: beta, runMean: runMean, sd: sd, c: c, relu: relu}
	b.run(j, r, rowGrain(c))
	*j = bnInferJob{}
}

// bnGradSumsJob writes dbeta = Σ_r dy and dgamma = Σ_r dy·xhat for
// columns [lo, hi).
type bnGradSumsJob struct {
	dgamma, dbeta, dy, xhat []float32
	y                       []float32 // not nil: dy counts where y > 0 (BatchNormReLUGrad)
	r, c                    int
}

func (j *bnGradSumsJob) run(lo, hi, _ int) {
	if j.y != nil {
		qsimd.ColSumsMasked(j.dbeta, j.dgamma, j.dy, j.xhat, j.y, j.c, lo, hi)
		return
	}
	qsimd.ColSums(j.dbeta, j.dy, j.c, lo, hi)
	qsimd.ColSumsProd(j.dgamma, j.dy, j.xhat, j.c, lo, hi)
}

// bnGradDXJob writes dx = kk·((R·dy - dbeta) - xhat·dgamma) for rows
// [lo, hi), kk = float32(gamma·invstd)/R.
type bnGradDXJob struct {
	dx, dy, xhat, dgamma, dbeta, kk []float32
	y                               []float32 // not nil: dy masked by y > 0
	r, c                            int
}

func (j *bnGradDXJob) run(lo, hi, _ int) {
	qsimd.BNGradDX(j.dx, j.dy, j.xhat, j.y, j.kk, j.dbeta, j.dgamma, float32(j.r), j.c, lo, hi)
}

// BatchNormGrad writes dbeta = Σ_r dy, dgamma = Σ_r dy·xhat (float32,
// increasing r) and dx = (gamma·invstd/R)·((R·dy - dbeta) - xhat·dgamma).
func (b *Backend) BatchNormGrad(dx, dgamma, dbeta, dy, xhat, invstd, gamma backend.Tensor) {
	d, ok := backend.OpBatchNormGrad.Check(&b.err, b, backend.Params{}, dx, dgamma, dbeta, dy, xhat, invstd, gamma)
	if !ok {
		return
	}
	b.batchNormGrad(d, dx.(*Tensor).st.f, dgamma, dbeta, dy.(*Tensor).st.f, nil, xhat, invstd, gamma)
}

// BatchNormReLUGrad is ReLUGrad then BatchNormGrad, bit for bit: both
// passes of the batch-norm backward read dy masked by y > 0 as they go
// (ReLUGrad's output is never written).
func (b *Backend) BatchNormReLUGrad(dx, dgamma, dbeta, dy, y, xhat, invstd, gamma backend.Tensor) {
	d, ok := backend.OpBatchNormReLUGrad.Check(&b.err, b, backend.Params{}, dx, dgamma, dbeta, dy, y, xhat, invstd, gamma)
	if !ok {
		return
	}
	b.batchNormGrad(d, dx.(*Tensor).st.f, dgamma, dbeta, dy.(*Tensor).st.f, y.(*Tensor).st.f, xhat, invstd, gamma)
}

// batchNormGrad runs BatchNormGrad on dyf, masked by y > 0 when y is not
// nil, into dxf.
func (b *Backend) batchNormGrad(d backend.Dims, dxf []float32, dgamma, dbeta backend.Tensor, dyf, y []float32, xhat, invstd, gamma backend.Tensor) {
	b.bnGrad(d, dxf, dgamma, dbeta, dyf, y, xhat.(*Tensor).st.f, invstd, gamma)
}

// bnGrad is batchNormGrad with xhat's elements hf.
func (b *Backend) bnGrad(d backend.Dims, dxf []float32, dgamma, dbeta backend.Tensor, dyf, y, hf []float32, invstd, gamma backend.Tensor) {
	r, c := d.R, d.C
	dg, db := dgamma.(*Tensor).st.f, dbeta.(*Tensor).st.f
	sums := &b.jobs.bnGradSums
	*sums = bnGradSumsJob{dgamma: dg, dbeta: db, dy: dyf, xhat: hf, y: y, r: r, c: c}
	b.run(sums, c, colGrain())
	*sums = bnGradSumsJob{}
	gf, isf := gamma.(*Tensor).st.f, invstd.(*Tensor).st.f
	kk := b.floats(c)
	fr := float32(r)
	for k := range kk {
		kk[k] = float32(gf[k]*isf[k]) / fr
	}
	dj := &b.jobs.bnGradDX
	*dj = bnGradDXJob{dx: dxf, dy: dyf, xhat: hf, dgamma: dg, dbeta: db, kk: kk, y: y, r: r, c: c}
	b.run(dj, r, rowGrain(c))
	*dj = bnGradDXJob{}
}

// compMeanJob writes mean = Σ_r x/R for columns [lo, hi) and updates
// their running mean.
type compMeanJob struct {
	mean, x, runMean []float32
	r, c             int
	momentum         float32
}

func (j *compMeanJob) run(lo, hi, _ int) {
	qsimd.ColSums(j.mean, j.x, j.c, lo, hi)
	m := j.momentum
	for k := lo; k < hi; k++ {
		j.mean[k] /= float32(j.r)
		j.runMean[k] = float32((1-m)*j.runMean[k]) + float32(m*j.mean[k])
	}
}

// rowAddJob writes y = (x + add) + beta (beta may be nil: y = x + add)
// for rows [lo, hi) of c elements.
type rowAddJob struct {
	y, x, add, beta []float32
	c               int
}

func (j *rowAddJob) run(lo, hi, _ int) {
	qsimd.RowAdd(j.y, j.x, j.add, j.beta, j.c, lo, hi)
}

// CompensateTrain writes mean = Σ_r x/R (float32, increasing r),
// y = (x + gamma·mean) + beta and updates runMean, see backend.Backend.
func (b *Backend) CompensateTrain(y, mean, x, gamma, beta, runMean backend.Tensor, momentum float32) {
	d, ok := backend.OpCompensateTrain.Check(&b.err, b, backend.Params{Momentum: momentum}, y, mean, x, gamma, beta, runMean)
	if !ok {
		return
	}
	b.compTrain(y.(*Tensor).st.f, mean.(*Tensor).st.f, x.(*Tensor).st.f, gamma.(*Tensor).st.f, beta.(*Tensor).st.f,
		runMean.(*Tensor).st.f, d.R, d.C, momentum)
}

// compTrain is CompensateTrain on the checked operands' elements, x [r, c].
func (b *Backend) compTrain(y, mf, xf, gamma, beta, runMean []float32, r, c int, momentum float32) {
	b.compMean(mf, xf, runMean, r, c, momentum)
	b.compensate(y, xf, gamma, beta, mf, r, c)
}

// compMean is CompensateTrain's mean and running mean update.
func (b *Backend) compMean(mf, xf, runMean []float32, r, c int, momentum float32) {
	j := &b.jobs.compMean
	*j = compMeanJob{mean: mf, x: xf, runMean: runMean, r: r, c: c, momentum: momentum}
	b.run(j, c, colGrain())
	*j = compMeanJob{}
}

// compAdd returns compensate's per-column term float32(gamma·mean) in
// the backend's compensation scratch (which, unlike Backend.floats, the
// batch-norm code that reads it does not reuse).
func (b *Backend) compAdd(gamma, mean []float32, c int) []float32 {
	b.compAddF = grow(b.compAddF, c)
	add := b.compAddF
	for k := range add {
		add[k] = float32(gamma[k] * mean[k])
	}
	return add
}

// compensate writes y = (x + float32(gamma·mean)) + beta.
func (b *Backend) compensate(y, x, gamma, beta, mean []float32, r, c int) {
	add := b.floats(c)
	for k := range add {
		add[k] = float32(gamma[k] * mean[k])
	}
	j := &b.jobs.rowAdd
	*j = rowAddJob{y: y, x: x, add: add, beta: beta, c: c}
	b.run(j, r, rowGrain(c))
	*j = rowAddJob{}
}

// CompensateInfer writes y = (x + gamma·runMean) + beta.
func (b *Backend) CompensateInfer(y, x, gamma, beta, runMean backend.Tensor) {
	d, ok := backend.OpCompensateInfer.Check(&b.err, b, backend.Params{}, y, x, gamma, beta, runMean)
	if !ok {
		return
	}
	b.compensate(y.(*Tensor).st.f, x.(*Tensor).st.f, gamma.(*Tensor).st.f, beta.(*Tensor).st.f, runMean.(*Tensor).st.f, d.R, d.C)
}

// CompensateGrad writes s = Σ_r dy (float32, increasing r), dbeta = s,
// dgamma = mean·s and dx = dy + (gamma·s)/R when train, else dx = dy.
// dx may alias dy.
func (b *Backend) CompensateGrad(dx, dgamma, dbeta, dy, mean, gamma backend.Tensor, train bool) {
	d, ok := backend.OpCompensateGrad.Check(&b.err, b, backend.Params{Train: train}, dx, dgamma, dbeta, dy, mean, gamma)
	if !ok {
		return
	}
	b.compGrad(dx.(*Tensor).st.f, dgamma.(*Tensor).st.f, dbeta.(*Tensor).st.f, dy.(*Tensor).st.f,
		mean.(*Tensor).st.f, gamma.(*Tensor).st.f, d.R, d.C, train)
}

// compGrad is CompensateGrad on the checked operands' elements, dy [r, c].
func (b *Backend) compGrad(dxf, dg, db, dyf, mf, gf []float32, r, c int, train bool) {
	b.colSum(db, dyf, c)
	for k := range c {
		dg[k] = mf[k] * db[k]
	}
	if !train {
		copy(dxf, dyf)
		return
	}
	add := b.floats(c)
	for k := range add {
		add[k] = float32(gf[k]*db[k]) / float32(r)
	}
	j := &b.jobs.rowAdd
	*j = rowAddJob{y: dxf, x: dyf, add: add, c: c}
	b.run(j, r, rowGrain(c))
	*j = rowAddJob{}
}
