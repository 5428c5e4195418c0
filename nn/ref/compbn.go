package ref

import "github.com/vktrain/vktrain/nn/backend"

var _ backend.FusedCompBN = (*Backend)(nil)

// compBNScratch returns k reused matrices of n floats each that stand for
// xhat and y of a FusedCompBN op that does not store them: one buffer
// grown when needed, so that steady-state steps allocate nothing. Their
// contents are left over from the last call (every element is written
// before it is read).
func (b *Backend) compBNScratch(n, k int) [][]float32 {
	if cap(b.compBN) < n*k {
		b.compBN = make([]float32, n*k)
	}
	b.compBNParts = b.compBNParts[:0]
	for i := range k {
		b.compBNParts = append(b.compBNParts, b.compBN[i*n:(i+1)*n:(i+1)*n])
	}
	return b.compBNParts
}

// CompBNTrain is CompensateTrain, then BatchNormTrain (BatchNormReLUTrain
// where relu) of its output yc, bit for bit: the compensation's mean is
// CompensateTrain's job, and the batch norm's statistics and apply passes
// compute each element of yc = (x + float32(cgamma·cmean)) + cbeta, the
// same float32 operations, as they read x, so yc is never stored.
func (b *Backend) CompBNTrain(y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar backend.Tensor, cMomentum, momentum, eps float32, relu bool) {
	d, ok := backend.OpCompBNTrain.Check(&b.err, b, backend.Params{CompMomentum: cMomentum, Momentum: momentum, Eps: eps, ReLU: relu},
		y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	r, c := d.R, d.C
	hf := b.xhatOrScratch(xhat, r*c)
	b.compBNTrain(y.(*Tensor).st.f, hf, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, r, c, cMomentum, momentum, eps, relu)
}

// xhatOrScratch returns xhat's elements, or n elements of the
// compensation scratch where xhat is nil (not stored).
func (b *Backend) xhatOrScratch(xhat backend.Tensor, n int) []float32 {
	if !isNil(xhat) {
		return xhat.(*Tensor).st.f
	}
	return b.compBNScratch(n, 1)[0]
}

// compBNTrain is CompBNTrain's work on checked operands over x [r, c],
// writing the batch norm's output into yf and xhat into hf.
func (b *Backend) compBNTrain(yf, hf []float32, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar backend.Tensor, r, c int, cMomentum, momentum, eps float32, relu bool) {
	xf, cmf := x.(*Tensor).st.f, cmean.(*Tensor).st.f
	b.compMean(cmf, xf, cRunMean.(*Tensor).st.f, r, c, cMomentum)
	add := b.compAdd(cgamma.(*Tensor).st.f, cmf, c)
	b.bnTrain(yf, hf, mean.(*Tensor).st.f, invstd.(*Tensor).st.f, xf, add, cbeta.(*Tensor).st.f,
		gamma.(*Tensor).st.f, beta.(*Tensor).st.f, runMean.(*Tensor).st.f, runVar.(*Tensor).st.f, r, c, momentum, eps, relu)
}

// CompBNInfer is CompensateInfer, then BatchNormInfer (BatchNormReLUInfer
// where relu) of its output yc, bit for bit: each element of
// yc = (x + float32(cgamma·cRunMean)) + cbeta is computed as the batch
// norm reads it.
func (b *Backend) CompBNInfer(y, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar backend.Tensor, eps float32, relu bool) {
	d, ok := backend.OpCompBNInfer.Check(&b.err, b, backend.Params{Eps: eps, ReLU: relu},
		y, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	r, c := d.R, d.C
	add := b.compAdd(cgamma.(*Tensor).st.f, cRunMean.(*Tensor).st.f, c)
	b.bnInfer(y.(*Tensor).st.f, x.(*Tensor).st.f, add, cbeta.(*Tensor).st.f, gamma.(*Tensor).st.f, beta.(*Tensor).st.f,
		runMean.(*Tensor).st.f, runVar.(*Tensor).st.f, r, c, eps, relu)
}

// CompBNGrad is BatchNormGrad (BatchNormReLUGrad where y is given) into
// dx as dxc, then CompensateGrad of dxc in training mode in place, bit for
// bit.
func (b *Backend) CompBNGrad(dx, dgamma, dbeta, dcgamma, dcbeta, dy, y, xhat, invstd, gamma, cmean, cgamma backend.Tensor) {
	d, ok := backend.OpCompBNGrad.Check(&b.err, b, backend.Params{}, dx, dgamma, dbeta, dcgamma, dcbeta, dy, y, xhat, invstd, gamma, cmean, cgamma)
	if !ok {
		return
	}
	r, c := d.R, d.C
	var yf []float32
	if !isNil(y) {
		yf = y.(*Tensor).st.f
	}
	// dxc goes to dx, which CompensateGrad then updates in place (each
	// element read once, by the pass that writes it).
	dxc := dx.(*Tensor).st.f
	b.batchNormGrad(d, dxc, dgamma, dbeta, dy.(*Tensor).st.f, yf, xhat, invstd, gamma)
	b.compGrad(dxc, dcgamma.(*Tensor).st.f, dcbeta.(*Tensor).st.f, dxc, cmean.(*Tensor).st.f, cgamma.(*Tensor).st.f, r, c, true)
}

// CompBNGradFromX recomputes xhat and y from x (CompBNTrain's apply pass,
// with the compensation yc = (x + float32(cgamma·cmean)) + cbeta computed
// as x is read, and its mean and invstd) into scratch matrices, then runs
// CompBNGrad's code on them: bit for bit CompBNGrad with the xhat and y
// CompBNTrain wrote; then, where dxSum is given, ColSum of dx.
func (b *Backend) CompBNGradFromX(dx, dgamma, dbeta, dcgamma, dcbeta, dxSum, dy, x, mean, invstd, gamma, beta, cmean, cgamma, cbeta backend.Tensor, relu bool) {
	d, ok := backend.OpCompBNGradFromX.Check(&b.err, b, backend.Params{ReLU: relu}, dx, dgamma, dbeta, dcgamma, dcbeta, dxSum, dy, x, mean, invstd, gamma, beta, cmean, cgamma, cbeta)
	if !ok {
		return
	}
	r, c := d.R, d.C
	sc := b.compBNScratch(r*c, 2)
	hf, yf := sc[0], sc[1]
	mf, cmf, cgf := mean.(*Tensor).st.f, cmean.(*Tensor).st.f, cgamma.(*Tensor).st.f
	add := b.compAdd(cgf, cmf, c)
	ap := &b.jobs.bnApply
	*ap = bnApplyJob{y: yf, xhat: hf, x: x.(*Tensor).st.f, add: add, cbeta: cbeta.(*Tensor).st.f,
		mean: mf, invstd: invstd.(*Tensor).st.f, gamma: gamma.(*Tensor).st.f, beta: beta.(*Tensor).st.f, c: c, relu: relu}
	b.run(ap, r, rowGrain(c))
	*ap = bnApplyJob{}
	if !relu {
		yf = nil
	}
	dxc := dx.(*Tensor).st.f // updated in place by CompensateGrad's pass
	b.bnGrad(d, dxc, dgamma, dbeta, dy.(*Tensor).st.f, yf, hf, invstd, gamma)
	b.compGrad(dxc, dcgamma.(*Tensor).st.f, dcbeta.(*Tensor).st.f, dxc, cmf, cgf, r, c, true)
	if !isNil(dxSum) {
		b.colSum(dxSum.(*Tensor).st.f, dxc, c)
	}
}
