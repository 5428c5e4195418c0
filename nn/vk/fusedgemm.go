package vk

import "github.com/vktrain/vktrain/nn/backend"

var _ backend.FusedGemmIDequant = (*Backend)(nil)

// gemmDeqScratch holds the int32 products [m, n] and row sums [m] of one
// GemmIDequant shape.
type gemmDeqScratch struct {
	m, n    int
	acc, sa backend.Tensor
}

// maxGemmDeqShapes bounds the shapes whose scratch GemmIDequant keeps (a
// training batch and an evaluation batch for each layer of a small net).
const maxGemmDeqShapes = 16

// GemmIDequant is GemmI, RowSumI and Dequant in turn (see
// backend.FusedGemmIDequant): on Vulkan their kernels, recorded as one op
// (so both backends count the same work), the products and
// row sums in scratch tensors the backend keeps per shape, so the op
// matches the composition bit for bit and makes no Go allocations once a
// shape has been seen. (A kernel with the dequantization in the GEMM's
// epilogue would save the products' round trip through memory; the CPU
// backend has one.)
func (b *Backend) GemmIDequant(y, a, bm, sb, bias backend.Tensor, pa, pb backend.QuantSpec) {
	d, ok := backend.OpGemmIDequant.Check(&b.err, b, backend.Params{P: pa, PB: pb}, y, a, bm, sb, bias)
	if !ok {
		return
	}
	s := b.gemmDeqScratch(d.M, d.N)
	if s == nil {
		return
	}
	const op = "GemmIDequant"
	acc, sa, at := tensor(s.acc), tensor(s.sa), tensor(a)
	b.gemmI(op, acc, at, tensor(bm), d.M, d.N, d.K)
	b.rowSumI(op, sa, at, d.M)
	b.dequant(op, tensor(y), acc, sa, tensor(sb), tensor(bias), d.M, d.N, d.K, pa, pb)
}

// gemmDeqScratch returns the scratch for products [m, n], making it on the
// first call for the shape (nil after recording an error).
func (b *Backend) gemmDeqScratch(m, n int) *gemmDeqScratch {
	for i := range b.gemmDeq {
		if s := &b.gemmDeq[i]; s.m == m && s.n == n {
			return s
		}
	}
	if len(b.gemmDeq) == maxGemmDeqShapes {
		old := b.gemmDeq[0]
		b.Free(old.acc)
		b.Free(old.sa)
		b.gemmDeq = append(b.gemmDeq[:0], b.gemmDeq[1:]...)
	}
	acc, err := b.New(backend.I32, m, n)
	if err != nil {
		b.record("GemmIDequant", err)
		return nil
	}
	sa, err := b.New(backend.I32, m)
	if err != nil {
		b.Free(acc)
		b.record("GemmIDequant", err)
		return nil
	}
	b.gemmDeq = append(b.gemmDeq, gemmDeqScratch{m: m, n: n, acc: acc, sa: sa})
	return &b.gemmDeq[len(b.gemmDeq)-1]
}
