package ref

import "github.com/vktrain/vktrain/nn/backend"

// CompBNPoolQuant is CompBNTrain without xhat into a scratch matrix yb (the
// batch norm's output), then MaxPoolQuant of yb: the composed ops' code on
// the same elements, so bit for bit the composition.
func (b *Backend) CompBNPoolQuant(y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar backend.Tensor, cMomentum, momentum, eps float32, relu bool, g backend.PoolGeom, p backend.QuantSpec) {
	d, ok := backend.OpCompBNPoolQuant.Check(&b.err, b, backend.Params{CompMomentum: cMomentum, Momentum: momentum, Eps: eps, ReLU: relu, Pool: g, P: p},
		y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	sc := b.compBNScratch(d.R*d.C, 2)
	yb, hf := sc[0], sc[1]
	b.compBNTrain(yb, hf, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, d.R, d.C, cMomentum, momentum, eps, relu)
	b.maxPoolQuant(y, arg, q, stats, yb, g, p, d.Len)
}
