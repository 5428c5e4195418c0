package vk

import "github.com/vktrain/vktrain/nn/backend"

var (
	_ backend.FusedCompBN = (*Backend)(nil)
	_ backend.Recomputer  = (*Backend)(nil)
)

// PrefersRecompute reports true: on a GPU, and on lavapipe, a pass's loads
// and stores cost more than the few operations that recompute xhat and the
// ReLU's mask (CompBNGradFromX saves a write of the activations forward and
// a read backward).
func (b *Backend) PrefersRecompute() bool { return true }

// compArgs are the operands of the error-compensation layer that a
// FusedCompBN op applies before its batch norm: gamma, beta, the mean its
// term uses (the batch mean, written by CompBNTrain, or the running mean
// for CompBNInfer), the running mean CompBNTrain updates and its
// momentum.
type compArgs struct {
	cgamma, cbeta, cmean, crm *Tensor
	momentum                  float32
	// xstats, where not nil, holds the statistics of x (FusedStats):
	// bnStats reads them instead of a pass over x.
	xstats *Tensor
}

// CompBNTrain is CompensateTrain then BatchNormTrain (then ReLU) without
// the compensated matrix yc = (x + cgamma·cmean) + cbeta, which the
// kernels compute from x as they read it. On CPU drivers (Welford lanes):
// one pass over x gives its mean, which is the compensation's batch mean
// cmean, and its variance, which is yc's (a per-channel shift does not
// change it); f_bn_stats COMP writes cmean, the compensation's running
// mean, the batch norm's mean (cmean + cgamma·cmean) + cbeta and its other
// statistics; f_bn_apply COMP writes xhat and y: 2 passes over the
// activations instead of the composition's 4. Elsewhere: the column sums
// of x (f_comp_stats BN: cmean, its running mean and the batch norm's
// mean), the squared deviations of the compensated values
// (f_colpart_sqdev COMP) and the apply pass: 3 passes instead of 5. The
// results agree with the composition up to rounding (the batch norm's mean
// is computed from x's, not summed over yc).
func (b *Backend) CompBNTrain(y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar backend.Tensor, cMomentum, momentum, eps float32, relu bool) {
	d, ok := backend.OpCompBNTrain.Check(&b.err, b, backend.Params{CompMomentum: cMomentum, Momentum: momentum, Eps: eps, ReLU: relu},
		y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	cp := compArgs{cgamma: tensor(cgamma), cbeta: tensor(cbeta), cmean: tensor(cmean), crm: tensor(cRunMean), momentum: cMomentum}
	b.bnTrain("CompBNTrain", d.R, d.C, relu, &cp, tensor(y), tensor(xhat), tensor(x), tensor(mean), tensor(invstd),
		tensor(gamma), tensor(beta), tensor(runMean), tensor(runVar), momentum, eps)
}

// CompBNInfer is CompensateInfer then BatchNormInfer (then ReLU) in one
// pass (f_bn_infer COMP), bit for bit the composition.
func (b *Backend) CompBNInfer(y, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar backend.Tensor, eps float32, relu bool) {
	d, ok := backend.OpCompBNInfer.Check(&b.err, b, backend.Params{Eps: eps, ReLU: relu},
		y, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	cp := compArgs{cgamma: tensor(cgamma), cbeta: tensor(cbeta), cmean: tensor(cRunMean)}
	b.bnInfer("CompBNInfer", d.R, d.C, relu, &cp, tensor(y), tensor(x), tensor(gamma), tensor(beta), tensor(runMean), tensor(runVar), eps)
}

// CompBNGrad is (ReLUGrad then) BatchNormGrad then CompensateGrad without
// the batch norm's input gradient dxc: one pass for the column sums of dy
// and dy·xhat (the batch norm's) and of xhat (f_colpart_bngrad COMP), from
// which f_bn_gradsums COMP derives the compensation's sum of dxc,
// s = -(k·(dgamma·Σxhat)) with k = (gamma·invstd)/R, and one pass writing
// dx = dxc + (cgamma·s)/R (f_bn_gradx COMP): 2 passes over the
// activations instead of the composition's 4. s agrees with the
// composition's sum of the rounded dxc up to rounding.
func (b *Backend) CompBNGrad(dx, dgamma, dbeta, dcgamma, dcbeta, dy, y, xhat, invstd, gamma, cmean, cgamma backend.Tensor) {
	d, ok := backend.OpCompBNGrad.Check(&b.err, b, backend.Params{}, dx, dgamma, dbeta, dcgamma, dcbeta, dy, y, xhat, invstd, gamma, cmean, cgamma)
	if !ok {
		return
	}
	var yt *Tensor
	if t, ok := y.(*Tensor); ok && t != nil {
		yt = t
	}
	b.batchNormGrad("CompBNGrad", d.R, d.C, yt != nil, tensor(dx), tensor(dgamma), tensor(dbeta), tensor(dy), tensor(xhat), tensor(invstd), tensor(gamma), yt,
		tensor(cgamma), tensor(cmean), tensor(dcgamma), tensor(dcbeta), recompArgs{})
}

// CompBNGradFromX is CompBNGrad's two passes in their RECOMP forms
// (f_colpart_bngrad, f_bn_gradx and their pair forms): each reads x where
// CompBNGrad reads xhat and recomputes xhat, and with relu the output's
// sign, with CompBNTrain's arithmetic (shaders/f_bnhat.glsl), so neither
// xhat nor y is read; the same results as CompBNGrad with CompBNTrain's
// xhat and y, bit for bit. dxSum's column sums come from the pass writing
// dx (its SUMS form: partial sums per row lane, then f_colsum), not from a
// pass of their own.
func (b *Backend) CompBNGradFromX(dx, dgamma, dbeta, dcgamma, dcbeta, dxSum, dy, x, mean, invstd, gamma, beta, cmean, cgamma, cbeta backend.Tensor, relu bool) {
	d, ok := backend.OpCompBNGradFromX.Check(&b.err, b, backend.Params{ReLU: relu}, dx, dgamma, dbeta, dcgamma, dcbeta, dxSum, dy, x, mean, invstd, gamma, beta, cmean, cgamma, cbeta)
	if !ok {
		return
	}
	b.batchNormGradSum("CompBNGradFromX", d.R, d.C, relu, tensor(dx), tensor(dgamma), tensor(dbeta), tensor(dy), tensor(x), tensor(invstd), tensor(gamma), nil,
		tensor(cgamma), tensor(cmean), tensor(dcgamma), tensor(dcbeta), recompArgs{mean: tensor(mean), beta: tensor(beta), cbeta: tensor(cbeta)}, tensor(dxSum))
}
