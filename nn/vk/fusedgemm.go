package vk

import "github.com/vktrain/vktrain/nn/backend"

var _ backend.FusedGemmIDequant = (*Backend)(nil)

// gemmDeqScratch holds the int32 products [m, n] and row sums [m] of one
// GemmIDequant shape.
type gemmDeqScratch struct {
	acc, sa backend.Tensor
}

// maxGemmDeqShapes bounds the shapes whose scratch GemmIDequant keeps (a
// training batch and an evaluation batch for each layer of a small net).
const maxGemmDeqShapes = 16

// GemmIDequant is GemmI, RowSumI and Dequant in one op (see
// backend.FusedGemmIDequant), bit for bit the composition. On CPU drivers
// with a fixed subgroup size (packed variant, packed codes) where k is not
// split, q_gemmi_sg computes the products, the row sums of the a codes it
// reads anyway and q_dequant's dequantization in its epilogue (DEQ) in
// one dispatch, writing y directly. Elsewhere the three ops' kernels are
// recorded in turn, the products and row sums in scratch tensors the
// backend keeps per shape, so the op makes no Go allocations once a shape
// has been seen.
func (b *Backend) GemmIDequant(y, a, bm, sb, bias backend.Tensor, pa, pb backend.QuantSpec) {
	d, ok := backend.OpGemmIDequant.Check(&b.err, b, backend.Params{P: pa, PB: pb}, y, a, bm, sb, bias)
	if !ok {
		return
	}
	b.gemmIDequant("GemmIDequant", tensor(y), tensor(a), tensor(bm), tensor(sb), tensor(bias), d.M, d.N, d.K, pa, pb)
}

// gemmIDequant records GemmIDequant's kernels for y [m, n] from the codes
// at [m, k] and bt [n, k] (operands checked by the caller's op; biast may
// be nil): q_gemmi_sg with its DEQ epilogue where it applies (see
// GemmIDequant), else GemmI, RowSumI and Dequant over per-shape scratch.
func (b *Backend) gemmIDequant(op string, yt, at, bt, sbt, biast *Tensor, m, n, k int, pa, pb backend.QuantSpec) {
	if b.tune.gemmSG > 0 && b.variant != VariantDot && b.variant != VariantInt8 && at.st.q != qWide && bt.st.q != qWide {
		if p, ok := b.planISG(m, n, k); ok && p.splits == 1 {
			prm, off := b.dequantParams(op, n, k, pa, pb)
			if prm == nil {
				return
			}
			deq := sgDeq{sb: sbt, bias: biast, prm: prm, za: pa.Zero[0], off: off}
			if b.gemmISG(op, yt, at, bt, m, n, k, b2u(n%4 == 0), &deq) {
				return
			}
		}
	}
	s := b.gemmDeqScratch(m, n)
	if s == nil {
		return
	}
	acc, sa := tensor(s.acc), tensor(s.sa)
	b.gemmI(op, acc, at, bt, m, n, k)
	b.rowSumI(op, sa, at, m)
	b.dequant(op, yt, acc, sa, sbt, biast, m, n, k, pa, pb)
}

// gemmDeqScratch returns the scratch for products [m, n], making it on the
// first call for the shape (nil after recording an error).
func (b *Backend) gemmDeqScratch(m, n int) *gemmDeqScratch {
	s, fresh := b.gemmDeq.get(m, n, func(old *gemmDeqScratch) {
		b.Free(old.acc)
		b.Free(old.sa)
	})
	if !fresh {
		return s
	}
	acc, err := b.New(backend.I32, m, n)
	if err != nil {
		b.gemmDeq.pop()
		b.record("GemmIDequant", err)
		return nil
	}
	sa, err := b.New(backend.I32, m)
	if err != nil {
		b.Free(acc)
		b.gemmDeq.pop()
		b.record("GemmIDequant", err)
		return nil
	}
	*s = gemmDeqScratch{acc: acc, sa: sa}
	return s
}
