package vk

// Placeholders for the float ops, which record "not implemented" errors
// until their kernels land. Whoever implements an op deletes it here.

import "github.com/vktrain/vktrain/nn/backend"

func (b *Backend) notYet(op string) { b.failf(op, "not implemented by the Vulkan backend yet") }

// Gemm is not implemented yet.
func (b *Backend) Gemm(c, a, bm backend.Tensor, transA, transB bool, alpha, beta float32) {
	b.notYet("Gemm")
}

// Im2Col is not implemented yet.
func (b *Backend) Im2Col(cols, x backend.Tensor, g backend.ConvGeom) { b.notYet("Im2Col") }

// Col2Im is not implemented yet.
func (b *Backend) Col2Im(dx, cols backend.Tensor, g backend.ConvGeom) { b.notYet("Col2Im") }

// AddBias is not implemented yet.
func (b *Backend) AddBias(y, bias backend.Tensor) { b.notYet("AddBias") }

// ColSum is not implemented yet.
func (b *Backend) ColSum(s, x backend.Tensor) { b.notYet("ColSum") }

// ReLU is not implemented yet.
func (b *Backend) ReLU(y, x backend.Tensor) { b.notYet("ReLU") }

// ReLUGrad is not implemented yet.
func (b *Backend) ReLUGrad(dx, dy, y backend.Tensor) { b.notYet("ReLUGrad") }

// MaxPool is not implemented yet.
func (b *Backend) MaxPool(y, arg, x backend.Tensor, g backend.PoolGeom) { b.notYet("MaxPool") }

// MaxPoolGrad is not implemented yet.
func (b *Backend) MaxPoolGrad(dx, dy, arg backend.Tensor, g backend.PoolGeom) {
	b.notYet("MaxPoolGrad")
}

// BatchNormTrain is not implemented yet.
func (b *Backend) BatchNormTrain(y, xhat, mean, invstd, x, gamma, beta, runMean, runVar backend.Tensor, momentum, eps float32) {
	b.notYet("BatchNormTrain")
}

// BatchNormInfer is not implemented yet.
func (b *Backend) BatchNormInfer(y, x, gamma, beta, runMean, runVar backend.Tensor, eps float32) {
	b.notYet("BatchNormInfer")
}

// BatchNormGrad is not implemented yet.
func (b *Backend) BatchNormGrad(dx, dgamma, dbeta, dy, xhat, invstd, gamma backend.Tensor) {
	b.notYet("BatchNormGrad")
}

// CompensateTrain is not implemented yet.
func (b *Backend) CompensateTrain(y, mean, x, gamma, beta, runMean backend.Tensor, momentum float32) {
	b.notYet("CompensateTrain")
}

// CompensateInfer is not implemented yet.
func (b *Backend) CompensateInfer(y, x, gamma, beta, runMean backend.Tensor) {
	b.notYet("CompensateInfer")
}

// CompensateGrad is not implemented yet.
func (b *Backend) CompensateGrad(dx, dgamma, dbeta, dy, mean, gamma backend.Tensor, train bool) {
	b.notYet("CompensateGrad")
}
