package vk

import "github.com/vktrain/vktrain/nn/backend"

// MinMax is not implemented yet.
func (b *Backend) MinMax(dst, x backend.Tensor) { b.notYet("MinMax") }

// Histogram is not implemented yet.
func (b *Backend) Histogram(counts, x backend.Tensor, lo, hi float32) { b.notYet("Histogram") }

// Quantize is not implemented yet.
func (b *Backend) Quantize(q, x backend.Tensor, p backend.QuantSpec) { b.notYet("Quantize") }

// Dequantize is not implemented yet.
func (b *Backend) Dequantize(x, q backend.Tensor, p backend.QuantSpec) { b.notYet("Dequantize") }

// QuantGrad is not implemented yet.
func (b *Backend) QuantGrad(dx, dScale, dZero, x, dxhat backend.Tensor, p backend.QuantSpec) {
	b.notYet("QuantGrad")
}

// Im2ColI is not implemented yet.
func (b *Backend) Im2ColI(cols, x backend.Tensor, g backend.ConvGeom, pad int32) { b.notYet("Im2ColI") }

// GemmI is not implemented yet.
func (b *Backend) GemmI(acc, a, bm backend.Tensor) { b.notYet("GemmI") }

// RowSumI is not implemented yet.
func (b *Backend) RowSumI(s, a backend.Tensor) { b.notYet("RowSumI") }

// Dequant is not implemented yet.
func (b *Backend) Dequant(y, acc, sa, sb backend.Tensor, k int, pa, pb backend.QuantSpec, bias backend.Tensor) {
	b.notYet("Dequant")
}
