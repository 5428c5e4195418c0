package vk

import "github.com/vktrain/vktrain/nn/backend"

// Stubs of the ops added with the op contract; each is replaced by its
// implementation (and this file removed) as the op lands.

func (b *Backend) stub(name string) {
	if b.err == nil {
		b.err = errNotYet(name)
	}
}

type errNotYet string

func (e errNotYet) Error() string { return string(e) + ": not implemented on this backend yet" }

// Add is not implemented yet.
func (b *Backend) Add(y, a, bt backend.Tensor) { b.stub("Add") }

// AvgPool is not implemented yet.
func (b *Backend) AvgPool(y, x backend.Tensor, g backend.PoolGeom) { b.stub("AvgPool") }

// AvgPoolGrad is not implemented yet.
func (b *Backend) AvgPoolGrad(dx, dy backend.Tensor, g backend.PoolGeom) { b.stub("AvgPoolGrad") }

// DWConvI is not implemented yet.
func (b *Backend) DWConvI(acc, x, w backend.Tensor, g backend.ConvGeom, pa, pb backend.QuantSpec) {
	b.stub("DWConvI")
}

// DWConv is not implemented yet.
func (b *Backend) DWConv(y, x, w backend.Tensor, g backend.ConvGeom) { b.stub("DWConv") }

// DWConvGradX is not implemented yet.
func (b *Backend) DWConvGradX(dx, dy, w backend.Tensor, g backend.ConvGeom) { b.stub("DWConvGradX") }

// DWConvGradW is not implemented yet.
func (b *Backend) DWConvGradW(dw, dy, x backend.Tensor, g backend.ConvGeom) { b.stub("DWConvGradW") }
