package ref

import "github.com/vktrain/vktrain/nn/backend"

var _ backend.FusedCompBN = (*Backend)(nil)

// compBNScratch returns the reused matrix of n floats that stands for the
// compensated activations yc (or their gradient) of a FusedCompBN op: grown
// when needed, so that steady-state steps allocate nothing. Its contents
// are left over from the last call (every element is written before it is
// read).
func (b *Backend) compBNScratch(n int) []float32 {
	if cap(b.compBN) < n {
		b.compBN = make([]float32, n)
	}
	return b.compBN[:n]
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
	yc := b.compBNScratch(r * c)
	b.compTrain(yc, cmean.(*Tensor).st.f, x.(*Tensor).st.f, cgamma.(*Tensor).st.f, cbeta.(*Tensor).st.f, cRunMean.(*Tensor).st.f, r, c, cMomentum)
	b.bnTrain(y.(*Tensor).st.f, xhat.(*Tensor).st.f, mean.(*Tensor).st.f, invstd.(*Tensor).st.f, yc,
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
	yc := b.compBNScratch(r * c)
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
	dxc := b.compBNScratch(r * c)
	b.batchNormGrad(d, dxc, dgamma, dbeta, dy.(*Tensor).st.f, yf, xhat, invstd, gamma)
	b.compGrad(dx.(*Tensor).st.f, dcgamma.(*Tensor).st.f, dcbeta.(*Tensor).st.f, dxc, cmean.(*Tensor).st.f, cgamma.(*Tensor).st.f, r, c, true)
}
