package ref

import "github.com/vktrain/vktrain/nn/backend"

var _ backend.FusedQuantize = (*Backend)(nil)

// The FusedQuantize ops run the composed ops' code on the same elements
// (MaxPool's or ReLU's job, then MinMax's, then Quantize's), so they are
// bit for bit the composition; only the checks and the op counts are
// those of one op. Codes are stored one int32 per element in row-major
// order, so q's shape does not matter here.

// QuantizeMinMax is MinMax(stats, x) then Quantize(q, x, p), bit for bit.
func (b *Backend) QuantizeMinMax(q, stats, x backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpQuantizeMinMax.Check(&b.err, b, backend.Params{P: p}, q, stats, x)
	if !ok {
		return
	}
	xf := x.(*Tensor).st.f[:d.Len]
	b.minMax3(stats.(*Tensor).st.f, xf)
	b.quantize(q.(*Tensor).st.i[:d.Len], xf, p, d.Len)
}

// MaxPoolQuant is MaxPool(y, arg, x, g), then MinMax(stats, y), then
// Quantize(q, y, p), bit for bit.
func (b *Backend) MaxPoolQuant(y, arg, q, stats, x backend.Tensor, g backend.PoolGeom, p backend.QuantSpec) {
	d, ok := backend.OpMaxPoolQuant.Check(&b.err, b, backend.Params{Pool: g, P: p}, y, arg, q, stats, x)
	if !ok {
		return
	}
	b.maxPoolQuant(y, arg, q, stats, x.(*Tensor).st.f, g, p, d.Len)
}

// maxPoolQuant is MaxPoolQuant's work on checked operands, the input's
// elements xf, n pooled outputs.
func (b *Backend) maxPoolQuant(y, arg, q, stats backend.Tensor, xf []float32, g backend.PoolGeom, p backend.QuantSpec, n int) {
	yf := y.(*Tensor).st.f[:n]
	b.maxPoolOf(yf, arg.(*Tensor).st.i, xf, g)
	b.minMax3(stats.(*Tensor).st.f, yf)
	b.quantize(q.(*Tensor).st.i[:n], yf, p, n)
}

// ReLUQuant is ReLU(y, x), then MinMax(stats, y), then Quantize(q, y, p),
// bit for bit.
func (b *Backend) ReLUQuant(y, q, stats, x backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpReLUQuant.Check(&b.err, b, backend.Params{P: p}, y, q, stats, x)
	if !ok {
		return
	}
	yf := y.(*Tensor).st.f[:d.Len]
	b.reluOf(yf, x.(*Tensor).st.f[:d.Len])
	b.minMax3(stats.(*Tensor).st.f, yf)
	b.quantize(q.(*Tensor).st.i[:d.Len], yf, p, d.Len)
}
