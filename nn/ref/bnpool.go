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
	yb := b.bnPoolScratch(d.R, d.C)
	if yb == nil {
		return
	}
	b.CompBNTrain(yb, nil, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, cMomentum, momentum, eps, relu)
	b.MaxPoolQuant(y, arg, q, stats, yb, g, p)
}

// bnPoolScratch returns the reused matrix [r, c] that holds
// CompBNPoolQuant's batch-norm output, made again only when its shape
// changes (nil after recording an error).
func (b *Backend) bnPoolScratch(r, c int) backend.Tensor {
	if t := b.bnPool; t != nil {
		if s := t.Shape(); s[0] == r && s[1] == c {
			return t
		}
		b.Free(t)
		b.bnPool = nil
	}
	t, err := b.New(backend.F32, r, c)
	if err != nil {
		if b.err == nil {
			b.err = err
		}
		return nil
	}
	b.bnPool = t
	return t
}
