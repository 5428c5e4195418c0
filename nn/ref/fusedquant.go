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
	b.quantizeTensor(q.(*Tensor).st.i[:d.Len], xf, p)
}

// MaxPoolQuant is MaxPool(y, arg, x, g), then MinMax(stats, y), then
// Quantize(q, y, p), bit for bit.
func (b *Backend) MaxPoolQuant(y, arg, q, stats, x backend.Tensor, g backend.PoolGeom, p backend.QuantSpec) {
	d, ok := backend.OpMaxPoolQuant.Check(&b.err, b, backend.Params{Pool: g, P: p}, y, arg, q, stats, x)
	if !ok {
		return
	}
	yf := y.(*Tensor).st.f[:d.Len]
	oh, _ := g.Out()
	j := &b.jobs.maxPool
	*j = maxPoolJob{y: yf, arg: arg.(*Tensor).st.i, x: x.(*Tensor).st.f, g: g}
	b.run(j, g.N*oh, 1)
	*j = maxPoolJob{}
	b.minMax3(stats.(*Tensor).st.f, yf)
	b.quantizeTensor(q.(*Tensor).st.i[:d.Len], yf, p)
}

// ReLUQuant is ReLU(y, x), then MinMax(stats, y), then Quantize(q, y, p),
// bit for bit.
func (b *Backend) ReLUQuant(y, q, stats, x backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpReLUQuant.Check(&b.err, b, backend.Params{P: p}, y, q, stats, x)
	if !ok {
		return
	}
	yf := y.(*Tensor).st.f[:d.Len]
	j := &b.jobs.relu
	*j = reluJob{y: yf, x: x.(*Tensor).st.f[:d.Len]}
	b.run(j, d.Len, 1<<15)
	*j = reluJob{}
	b.minMax3(stats.(*Tensor).st.f, yf)
	b.quantizeTensor(q.(*Tensor).st.i[:d.Len], yf, p)
}

// quantizeTensor is Quantize's job for the per-tensor spec p (one slice).
func (b *Backend) quantizeTensor(q []int32, x []float32, p backend.QuantSpec) {
	j := &b.jobs.quantize
	*j = quantizeJob{q: q, x: x, p: p, slice: len(x), invs: b.reciprocals(p)}
	b.run(j, len(x), 1<<14)
	*j = quantizeJob{}
}
