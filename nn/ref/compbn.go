package ref

import "github.com/vktrain/vktrain/nn/backend"

var _ backend.FusedCompBN = (*Backend)(nil)

// compBNScratch returns k reused matrices of n floats each that stand for
// the compensated activations yc (or their gradient), xhat and y of a
// FusedCompBN op that does not store them: one buffer grown when needed, so
// that steady-state steps allocate nothing. Their contents are left over
// from the last call (every element is written before it is read).
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

// CompBNTrain is CompensateTrain into a scratch matrix yc, then
// BatchNormTrain (BatchNormReLUTrain where relu) of yc: the composed ops'
// code on the same elements, so bit for bit the composition.
func (b *Backend) CompBNTrain(y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar backend.Tensor, cMomentum, momentum, eps float32, relu bool) {
	d, ok := backend.OpCompBNTrain.Check(&b.err, b, backend.Params{CompMomentum: cMomentum, Momentum: momentum, Eps: eps, ReLU: relu},
		y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	r, c := d.R, d.C
	sc := b.compBNScratch(r*c, 2)
	yc, hf := sc[0], sc[1]
	if !isNil(xhat) {
		hf = xhat.(*Tensor).st.f
	}
	b.compTrain(yc, cmean.(*Tensor).st.f, x.(*Tensor).st.f, cgamma.(*Tensor).st.f, cbeta.(*Tensor).st.f, cRunMean.(*Tensor).st.f, r, c, cMomentum)
	b.bnTrain(y.(*Tensor).st.f, hf, mean.(*Tensor).st.f, invstd.(*Tensor).st.f, yc,
		gamma.(*Tensor).st.f, beta.(*Tensor).st.f, runMean.(*Tensor).st.f, runVar.(*Tensor).st.f, r, c, momentum, eps, relu)
}

// CompBNInfer is CompensateInfer into a scratch matrix yc, then
// BatchNormInfer (BatchNormReLUInfer where relu) of yc, bit for bit.
func (b *Backend) CompBNInfer(y, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar backend.Tensor, eps float32, relu bool) {
	d, ok := backend.OpCompBNInfer.Check(&b.err, b, backend.Params{Eps: eps, ReLU: relu},
		y, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	r, c := d.R, d.C
	yc := b.compBNScratch(r*c, 1)[0]
	b.compensate(yc, x.(*Tensor).st.f, cgamma.(*Tensor).st.f, cbeta.(*Tensor).st.f, cRunMean.(*Tensor).st.f, r, c)
	b.bnInfer(y.(*Tensor).st.f, yc, gamma.(*Tensor).st.f, beta.(*Tensor).st.f, runMean.(*Tensor).st.f, runVar.(*Tensor).st.f, r, c, eps, relu)
}

// CompBNGrad is BatchNormGrad (BatchNormReLUGrad where y is given) into a
// scratch matrix dxc, then CompensateGrad of dxc in training mode, bit for
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
	dxc := b.compBNScratch(r*c, 1)[0]
	b.batchNormGrad(d, dxc, dgamma, dbeta, dy.(*Tensor).st.f, yf, xhat, invstd, gamma)
	b.compGrad(dx.(*Tensor).st.f, dcgamma.(*Tensor).st.f, dcbeta.(*Tensor).st.f, dxc, cmean.(*Tensor).st.f, cgamma.(*Tensor).st.f, r, c, true)
}

// CompBNGradFromX recomputes yc = CompensateTrain's output from x with the
// batch mean cmean (compensate: CompBNTrain's code), xhat and y from yc
// (the batch-norm apply pass CompBNTrain runs, with its mean and invstd)
// into scratch matrices, then runs CompBNGrad's code on them: bit for bit
// CompBNGrad with the xhat and y CompBNTrain wrote.
func (b *Backend) CompBNGradFromX(dx, dgamma, dbeta, dcgamma, dcbeta, dy, x, mean, invstd, gamma, beta, cmean, cgamma, cbeta backend.Tensor, relu bool) {
	d, ok := backend.OpCompBNGradFromX.Check(&b.err, b, backend.Params{ReLU: relu}, dx, dgamma, dbeta, dcgamma, dcbeta, dy, x, mean, invstd, gamma, beta, cmean, cgamma, cbeta)
	if !ok {
		return
	}
	r, c := d.R, d.C
	sc := b.compBNScratch(r*c, 3)
	yc, hf, yf := sc[0], sc[1], sc[2]
	mf, cmf, cgf := mean.(*Tensor).st.f, cmean.(*Tensor).st.f, cgamma.(*Tensor).st.f
	b.compensate(yc, x.(*Tensor).st.f, cgf, cbeta.(*Tensor).st.f, cmf, r, c)
	ap := &b.jobs.bnApply
	*ap = bnApplyJob{y: yf, xhat: hf, x: yc, mean: mf, invstd: invstd.(*Tensor).st.f,
		gamma: gamma.(*Tensor).st.f, beta: beta.(*Tensor).st.f, c: c, relu: relu}
	b.run(ap, r, rowGrain(c))
	*ap = bnApplyJob{}
	if !relu {
		yf = nil
	}
	dxc := yc // yc is not read again
	b.bnGrad(d, dxc, dgamma, dbeta, dy.(*Tensor).st.f, yf, hf, invstd, gamma)
	b.compGrad(dx.(*Tensor).st.f, dcgamma.(*Tensor).st.f, dcbeta.(*Tensor).st.f, dxc, cmf, cgf, r, c, true)
}
