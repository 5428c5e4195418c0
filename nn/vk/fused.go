package vk

import "github.com/vktrain/vktrain/nn/backend"

var _ backend.FusedBNReLU = (*Backend)(nil)

// BatchNormReLUTrain is BatchNormTrain with ReLU applied to y as the
// elementwise pass writes it (f_bn_apply, f_bn_apply2 with RELU): bit for
// bit BatchNormTrain then ReLU(y, y), one dispatch fewer.
func (b *Backend) BatchNormReLUTrain(y, xhat, mean, invstd, x, gamma, beta, runMean, runVar backend.Tensor, momentum, eps float32) {
	b.batchNormTrain(backend.OpBatchNormReLUTrain, true, y, xhat, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps)
}

// BatchNormReLUInfer is BatchNormInfer with ReLU applied to y as it is
// written (f_bn_infer with RELU).
func (b *Backend) BatchNormReLUInfer(y, x, gamma, beta, runMean, runVar backend.Tensor, eps float32) {
	b.batchNormInfer(backend.OpBatchNormReLUInfer, true, y, x, gamma, beta, runMean, runVar, eps)
}

// BatchNormReLUGrad is ReLUGrad then BatchNormGrad with the mask applied
// where dy is read: BatchNormGrad's dispatches with RELU
// (f_colpart_bngrad, f_bn_gradx and their pair forms), which count dy
// only where y > 0 (f_relugrad's test), else as +0: bit for bit the
// composed ops, one dispatch and the masked matrix fewer.
func (b *Backend) BatchNormReLUGrad(dx, dgamma, dbeta, dy, y, xhat, invstd, gamma backend.Tensor) {
	d, ok := backend.OpBatchNormReLUGrad.Check(&b.err, b, backend.Params{}, dx, dgamma, dbeta, dy, y, xhat, invstd, gamma)
	if !ok {
		return
	}
	b.batchNormGrad("BatchNormReLUGrad", d.R, d.C, true, tensor(dx), tensor(dgamma), tensor(dbeta), tensor(dy), tensor(xhat), tensor(invstd), tensor(gamma), tensor(y), nil, nil, nil, nil, recompArgs{})
}
