package vk

import (
	"math"

	"github.com/vktrain/vktrain/nn/backend"
)

var _ backend.FusedQuantize = (*Backend)(nil)

// The FusedQuantize ops run q_quantmm: one pass that produces the
// quantized tensor y (x itself, ReLU(x) or the window maxima of x), writes
// it, its codes and the min/max partials of its workgroups, followed by
// q_minmax PASS 1 where there is more than one workgroup; a single
// workgroup writes the statistics itself. The composition runs 2-3
// dispatches for MinMax and Quantize (plus the producer's) and reads y
// twice more. Codes and statistics are those of q_quantize and q_minmax bit
// for bit (the same arithmetic, the same integer reduction), y and arg
// those of f_relu and f_maxpool.

// Producers of q_quantmm (its PROD specialization constant).
const (
	prodIdentity = 0
	prodReLU     = 1
	prodMaxPool  = 2
	prodBNPool   = 3 // the batch norm's output, computed as read, max-pooled
)

// prodPaths names the producers as paths of q_quantmm.
var prodPaths = [...]string{prodIdentity: "prod=id", prodReLU: "prod=relu", prodMaxPool: "prod=maxpool", prodBNPool: "prod=bnpool"}

// bnPoolArgs are the batch norm's (and its compensation's) per-channel
// operands that q_quantmm PROD 3 reads to normalise x as it pools it.
type bnPoolArgs struct {
	mean, invstd, gamma, beta *Tensor
	comp                      *compArgs // nil: no compensation
	relu                      bool
}

// quantmmPush mirrors the push constants of q_quantmm.
type quantmmPush struct {
	N, Cols, RowWords, Items uint32
	QMin, QMax               int32
	Inv0                     uint32
	Z0                       int32
	H, W, C, Stride, OH, OW  uint32
}

// QuantizeMinMax is MinMax(stats, x) then Quantize(q, x, p) in one pass
// over x (q_quantmm PROD 0).
func (b *Backend) QuantizeMinMax(q, stats, x backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpQuantizeMinMax.Check(&b.err, b, backend.Params{P: p}, q, stats, x)
	if !ok {
		return
	}
	b.quantmm("QuantizeMinMax", prodIdentity, d.Len, tensor(q), tensor(stats), tensor(x), nil, nil, backend.PoolGeom{}, p, nil)
}

// MaxPoolQuant is MaxPool(y, arg, x, g), MinMax(stats, y) and Quantize(q,
// y, p) in one pass over x (q_quantmm PROD 2).
func (b *Backend) MaxPoolQuant(y, arg, q, stats, x backend.Tensor, g backend.PoolGeom, p backend.QuantSpec) {
	d, ok := backend.OpMaxPoolQuant.Check(&b.err, b, backend.Params{Pool: g, P: p}, y, arg, q, stats, x)
	if !ok {
		return
	}
	b.quantmm("MaxPoolQuant", prodMaxPool, d.Len, tensor(q), tensor(stats), tensor(x), tensor(y), tensor(arg), g, p, nil)
}

// CompBNPoolQuant is CompBNTrain's statistics passes (bnStats), then one
// pass that normalises x's elements as the pooling windows read them
// (f_bn_apply's arithmetic: the same bits), max-pools, quantizes and takes
// the min/max (q_quantmm PROD 3): the batch norm's output is never stored,
// the apply pass and its write of the activations are saved.
func (b *Backend) CompBNPoolQuant(y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar backend.Tensor, cMomentum, momentum, eps float32, relu bool, g backend.PoolGeom, p backend.QuantSpec) {
	d, ok := backend.OpCompBNPoolQuant.Check(&b.err, b, backend.Params{CompMomentum: cMomentum, Momentum: momentum, Eps: eps, ReLU: relu, Pool: g, P: p},
		y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	cp := compArgs{cgamma: tensor(cgamma), cbeta: tensor(cbeta), cmean: tensor(cmean), crm: tensor(cRunMean), momentum: cMomentum}
	b.compBNPoolQuant("CompBNPoolQuant", d, &cp, y, arg, q, stats, mean, invstd, x, gamma, beta, runMean, runVar, momentum, eps, relu, g, p)
}

// compBNPoolQuant records CompBNPoolQuant (and CompBNPoolQuantStats, cp
// with xstats) on checked operands.
func (b *Backend) compBNPoolQuant(op string, d backend.Dims, cp *compArgs, y, arg, q, stats, mean, invstd, x, gamma, beta, runMean, runVar backend.Tensor, momentum, eps float32, relu bool, g backend.PoolGeom, p backend.QuantSpec) {
	b.bnStats(op, d.R, d.C, cp, tensor(x), tensor(mean), tensor(invstd), tensor(runMean), tensor(runVar), momentum, eps)
	b.quantmm(op, prodBNPool, d.Len, tensor(q), tensor(stats), tensor(x), tensor(y), tensor(arg), g, p,
		&bnPoolArgs{mean: tensor(mean), invstd: tensor(invstd), gamma: tensor(gamma), beta: tensor(beta), comp: cp, relu: relu})
}

// ReLUQuant is ReLU(y, x), MinMax(stats, y) and Quantize(q, y, p) in one
// pass over x (q_quantmm PROD 1).
func (b *Backend) ReLUQuant(y, q, stats, x backend.Tensor, p backend.QuantSpec) {
	d, ok := backend.OpReLUQuant.Check(&b.err, b, backend.Params{P: p}, y, q, stats, x)
	if !ok {
		return
	}
	b.quantmm("ReLUQuant", prodReLU, d.Len, tensor(q), tensor(stats), tensor(x), tensor(y), nil, backend.PoolGeom{}, p, nil)
}

// quantmm records q_quantmm for the producer prod of the n elements of y
// (x itself for prodIdentity; y and arg nil where prod does not write
// them), their codes qt per the per-tensor spec p and their statistics st
// (operands checked by the caller's op); bn: the batch norm's operands for
// prodBNPool (nil otherwise). The workgroups are MinMax's (its rule over
// the n elements): one writes st directly, several write partials that
// q_minmax PASS 1 reduces.
func (b *Backend) quantmm(op string, prod int, n int, qt, st, xt, yt, at *Tensor, g backend.PoolGeom, p backend.QuantSpec, bn *bnPoolArgs) {
	f := b.outQ8(op, qt, p.QMin, p.QMax)
	if b.failed() {
		return
	}
	wg := int(b.tune.red)
	groups := min(b.stride(n, wg*8), uint32(max(b.tune.redGroups, (n+wg*maxLoop-1)/(wg*maxLoop))), 1024)
	if b.tune.strideGroups > 0 {
		groups = min(groups, max(b.stride(n, wg*256), uint32((n+wg*maxLoop-1)/(wg*maxLoop))))
	}
	part := b.scratch(op, 4*int(groups)) // a uvec4 per workgroup
	if part == nil {
		return
	}
	items := qt.rows() * qt.rowWords()
	if f == qWide {
		items = n
	}
	var oh, ow int
	pool := prod == prodMaxPool || prod == prodBNPool
	if pool {
		oh, ow = g.Out()
	}
	push := quantmmPush{N: uint32(n), Cols: uint32(qt.cols()), RowWords: uint32(qt.rowWords()), Items: uint32(items),
		QMin: p.QMin, QMax: p.QMax, Inv0: math.Float32bits(1 / p.Scale[0]), Z0: p.Zero[0],
		H: uint32(g.H), W: uint32(g.W), C: uint32(g.C), Stride: uint32(g.Stride), OH: uint32(oh), OW: uint32(ow)}
	jmax, vec := wordCodes(qt, f), f != qWide && qt.cols()%4 == 0
	size := uint32(max(g.Size, 1))
	src := xt // the tensor MinMax reads (bound, unread, by q_minmax PASS 1)
	if yt != nil {
		src = yt
	} else {
		yt = part // bound, not written
	}
	if at == nil {
		at = part
	}
	// PV4: a word's four codes are four channels of one pooled pixel.
	pv4 := pool && vec && g.C%4 == 0
	if b.paths != nil {
		const k = "q_quantmm"
		b.took(k, prodPaths[prod])
		b.took(k, pick(groups > 1, "groups>1", "groups=1"))
		b.took(k, pick(f == qWide, "q=wide", "q=packed"))
		if pool {
			b.took(k, pick(pv4, "pool=vec4", "pool=scalar"))
		}
		if bn != nil {
			b.took(k, pick(bn.relu, "relu", "norelu"))
		}
		if f != qWide {
			switch {
			case jmax == 1:
				b.took(k, "words=one")
			case vec:
				b.took(k, "words=vec")
			default:
				b.took(k, "words=rows")
			}
		}
	}
	// The batch norm's operands (PROD 3), or stand-ins: x, read through a
	// texel view already (the scratch part may be too large for one, and a
	// tensor the dispatch writes makes pickKernel take the storage build).
	mt, it, gt, bt, cg, cb, cm := xt, xt, xt, xt, xt, xt, xt
	relu, comp := false, false
	if bn != nil {
		mt, it, gt, bt, relu = bn.mean, bn.invstd, bn.gamma, bn.beta, bn.relu
		if bn.comp != nil {
			cg, cb, cm, comp = bn.comp.cgamma, bn.comp.cbeta, bn.comp.cmean, true
		}
	}
	spec := []uint32{uint32(wg), uint32(prod), 0, b2u(f == qWide), jmax, b2u(vec), size, b2u(pv4), b2u(relu), b2u(comp)}
	if groups == 1 { // one workgroup writes the statistics: one dispatch
		spec[2] = 1
		b.dispatch(op, "q_quantmm", spec, pushOf(push), 1, 1, 1, xt, yt, at, qt, part, st, mt, it, gt, bt, cg, cb, cm)
		return
	}
	b.dispatch(op, "q_quantmm", spec, pushOf(push), groups, 1, 1, xt, yt, at, qt, part, st, mt, it, gt, bt, cg, cb, cm)
	b.took("q_minmax", "groups>1")
	b.dispatch(op, "q_minmax", []uint32{uint32(wg), 1}, pushOf(struct{ N, Groups uint32 }{uint32(n), groups}), 1, 1, 1, src, part, st)
}
