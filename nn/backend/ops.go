package backend

import (
	"math"
)

// The declarations of the op set, one per Backend op method, in the order
// of the interface. Each lists the method's tensor arguments in order
// and checks the rest; what the op computes is documented on the Backend
// method of the same name.

// Operand indices in the rules below follow the declarations' order.

var (
	// OpFill declares Backend.Fill.
	OpFill = &Op{Name: "Fill", Doc: "t = v",
		Operands: []Operand{out("t", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.D.Len = c.length(0)
		}}
	// OpCopy declares Backend.Copy.
	OpCopy = &Op{Name: "Copy", Doc: "dst = src (any dtype, same for both)",
		Operands: []Operand{{Name: "dst", SameAs: "src", Out: true, MayAlias: "src"}, {Name: "src", SameAs: "dst"}},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.sameAs(0, 1)
			c.D.Len = c.length(1)
		}}
	// OpMinMax declares Backend.MinMax.
	OpMinMax = &Op{Name: "MinMax", Doc: "dst = [min, max, non-finite count] of x",
		Operands: []Operand{out("dst", F32), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.wantLen(0, 3, "min, max, non-finite count")
			c.D.Len = c.length(1)
		}}
	// OpHistogram declares Backend.Histogram.
	OpHistogram = &Op{Name: "Histogram", Doc: "counts = histogram of x over [lo, hi)",
		Operands: []Operand{out("counts", I32), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			lo, hi := c.P.Lo, c.P.Hi
			if !(hi > lo) || math.IsInf(float64(lo), 0) || math.IsInf(float64(hi), 0) {
				c.Failf("range [%v, %v]: want finite lo < hi", lo, hi)
				return
			}
			c.free = true
			c.D.Len, c.D.Bins = c.length(1), c.length(0)
		}}
	// OpQuantize declares Backend.Quantize.
	OpQuantize = &Op{Name: "Quantize", Doc: "q = codes of x per p",
		Operands: []Operand{out("q", Q8), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.sameAs(0, 1)
			c.D.Slice = c.spec("p", c.P.P, 1)
			c.D.Len = c.length(1)
		}}
	// OpDequantize declares Backend.Dequantize.
	OpDequantize = &Op{Name: "Dequantize", Doc: "x = scale·(q-zero)",
		Operands: []Operand{out("x", F32), in("q", Q8)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.sameAs(0, 1)
			c.D.Slice = c.spec("p", c.P.P, 1)
			c.D.Len = c.length(1)
		}}
	// OpQuantGrad declares Backend.QuantGrad.
	OpQuantGrad = &Op{Name: "QuantGrad", Doc: "straight-through backward of fake quantization with scale/zero gradients",
		Operands: []Operand{outOpt("dx", F32), out("dScale", F32), out("dZero", F32), in("x", F32), in("dxhat", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.sameAs(4, 3)
			c.sameAs(0, 3)
			c.wantLen(1, len(c.P.P.Scale), "one per scale")
			c.wantLen(2, len(c.P.P.Scale), "one per scale")
			c.D.Slice = c.spec("p", c.P.P, 3)
			c.D.Len = c.length(3)
		}}
	// OpIm2ColI declares Backend.Im2ColI.
	OpIm2ColI = &Op{Name: "Im2ColI", Doc: "cols = im2col of the codes x, padded with pad",
		Operands: []Operand{out("cols", Q8), in("x", Q8)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			g := c.P.Conv
			if c.conv(g, 1) {
				c.wantMatrix(0, g.Rows(), g.K())
				c.D.R, c.D.C = g.Rows(), g.K()
			}
			if pad := c.P.Pad; pad < -128 || pad > 255 {
				c.Failf("pad %d outside [-128, 255] (a q8 code)", pad)
			}
		}}
	// OpGemmI declares Backend.GemmI.
	OpGemmI = &Op{Name: "GemmI", Doc: "acc = a·bᵀ in wrapping int32",
		Operands: []Operand{out("acc", I32), in("a", Q8), in("b", Q8)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			m, k := c.matrix(1)
			n, kb := c.matrix(2)
			if k != kb {
				c.Failf("a is %v, b is %v: inner dimensions differ", c.shape(1), c.shape(2))
				return
			}
			c.wantMatrix(0, m, n)
			c.D.M, c.D.N, c.D.K = m, n, k
		}}
	// OpRowSumI declares Backend.RowSumI.
	OpRowSumI = &Op{Name: "RowSumI", Doc: "s = row sums of the codes a",
		Operands: []Operand{out("s", I32), in("a", Q8)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			m, k := c.matrix(1)
			c.wantLenOf(0, m, "rows of", 1)
			c.D.M, c.D.K = m, k
		}}
	// OpDequant declares Backend.Dequant.
	OpDequant = &Op{Name: "Dequant", Doc: "y = sa·sb·(acc - zero-point terms) + bias",
		Operands: []Operand{out("y", F32), in("acc", I32), in("sa", I32), in("sb", I32), inOpt("bias", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			m, n := c.matrix(1)
			c.wantMatrix(0, m, n)
			c.wantLenOf(2, m, "rows of", 1)
			c.wantLenOf(3, n, "columns of", 1)
			c.wantLenOf(4, n, "columns of", 1)
			if c.failed() {
				return
			}
			if c.P.K <= 0 {
				c.Failf("k = %d, want > 0", c.P.K)
			} else if err := c.P.P.Validate(1); err != nil {
				c.Failf("pa must be per tensor: %v", err)
			} else if err := c.P.PB.Validate(n); err != nil {
				c.Failf("pb for %d columns: %v", n, err)
			}
			c.D.M, c.D.N, c.D.K = m, n, c.P.K
		}}
	// OpGemmIDequant declares FusedGemmIDequant.GemmIDequant.
	OpGemmIDequant = &Op{Name: "GemmIDequant", Doc: "GemmI, RowSumI and Dequant, one op (FusedGemmIDequant)",
		Operands: []Operand{out("y", F32), in("a", Q8), in("b", Q8), in("sb", I32), inOpt("bias", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			m, k := c.matrix(1)
			n, kb := c.matrix(2)
			if k != kb {
				c.Failf("a is %v, b is %v: inner dimensions differ", c.shape(1), c.shape(2))
				return
			}
			c.wantMatrix(0, m, n)
			c.wantLenOf(3, n, "rows of", 2)
			c.wantLenOf(4, n, "rows of", 2)
			if c.failed() {
				return
			}
			if err := c.P.P.Validate(1); err != nil {
				c.Failf("pa must be per tensor: %v", err)
			} else if err := c.P.PB.Validate(n); err != nil {
				c.Failf("pb for %d columns: %v", n, err)
			}
			c.D.M, c.D.N, c.D.K = m, n, k
		}}
	// OpConvIDequant declares FusedConv.ConvIDequant.
	OpConvIDequant = &Op{Name: "ConvIDequant", Doc: "Im2ColI then GemmIDequant, one op without the im2col matrix (FusedConv)",
		Operands: []Operand{out("y", F32), in("qx", Q8), in("qw", Q8), in("sw", I32), inOpt("bias", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			g := c.P.Conv
			if !c.conv(g, 1) {
				return
			}
			n, k := c.matrix(2)
			if k != g.K() {
				c.Failf("qw is %v, want a matrix [Out %d] (K = KH·KW·C of the geometry)", c.shape(2), g.K())
				return
			}
			c.wantMatrix(0, g.Rows(), n)
			c.wantLenOf(3, n, "rows of", 2)
			c.wantLenOf(4, n, "rows of", 2)
			if c.failed() {
				return
			}
			if err := c.P.P.Validate(1); err != nil {
				c.Failf("xs must be per tensor: %v", err)
			} else if err := c.P.PB.Validate(n); err != nil {
				c.Failf("ws for %d channels: %v", n, err)
			}
			c.D.M, c.D.N, c.D.K = g.Rows(), n, k
			c.D.R, c.D.C = g.Rows(), k
		}}
	// OpConvGradWQ declares FusedConv.ConvGradWQ.
	OpConvGradWQ = &Op{Name: "ConvGradWQ", Doc: "weight gradient dyᵀ·x̂cols from the image codes, without the im2col matrix (FusedConv)",
		Operands: []Operand{out("dw", F32), in("dy", F32), in("qx", Q8)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			g := c.P.Conv
			if !c.conv(g, 2) {
				return
			}
			r, n := c.matrix(1)
			if r != g.Rows() {
				c.Failf("dy is %v, want a matrix [%d Out] (the geometry's rows)", c.shape(1), g.Rows())
				return
			}
			c.wantMatrix(0, n, g.K())
			if c.failed() {
				return
			}
			if err := c.P.P.Validate(1); err != nil {
				c.Failf("xs must be per tensor: %v", err)
			}
			c.D.M, c.D.N, c.D.K = n, g.K(), r
			c.D.R, c.D.C = r, g.K()
		}}
	// OpConvGradX declares FusedConv.ConvGradX.
	OpConvGradX = &Op{Name: "ConvGradX", Doc: "input gradient Col2Im(dy·w), without the im2col matrix (FusedConv)",
		Operands: []Operand{out("dx", F32), in("dy", F32), in("w", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			g := c.P.Conv
			if c.failed() {
				return
			}
			if err := g.Validate(); err != nil {
				c.Failf("%v", err)
				return
			}
			r, n := c.matrix(1)
			if r != g.Rows() {
				c.Failf("dy is %v, want a matrix [%d Out] (the geometry's rows)", c.shape(1), g.Rows())
				return
			}
			c.wantMatrix(2, n, g.K())
			c.wantImage(0, g.N, g.H, g.W, g.C)
			c.D.M, c.D.N, c.D.K = r, g.K(), n
			c.D.R, c.D.C = r, g.K()
		}}
	// OpGemm declares Backend.Gemm.
	OpGemm = &Op{Name: "Gemm", Doc: "c = alpha·op(a)·op(b) + beta·c",
		Operands: []Operand{out("c", F32), in("a", F32), in("b", F32)},
		traffic:  trafficGemm,
		rule: func(c *Call) {
			ar, ac := c.matrix(1)
			br, bc := c.matrix(2)
			m, k := ar, ac
			if c.P.TransA {
				m, k = ac, ar
			}
			kb, n := br, bc
			if c.P.TransB {
				kb, n = bc, br
			}
			if k != kb {
				c.Failf("op(a) is [%d %d] (a %v, transA %v), op(b) is [%d %d] (b %v, transB %v): inner dimensions differ",
					m, k, c.shape(1), c.P.TransA, kb, n, c.shape(2), c.P.TransB)
				return
			}
			c.wantMatrix(0, m, n)
			c.D.M, c.D.N, c.D.K = m, n, k
		}}
	// OpIm2Col declares Backend.Im2Col.
	OpIm2Col = &Op{Name: "Im2Col", Doc: "cols = im2col of x, padded with 0",
		Operands: []Operand{out("cols", F32), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			g := c.P.Conv
			if c.conv(g, 1) {
				c.wantMatrix(0, g.Rows(), g.K())
				c.D.R, c.D.C = g.Rows(), g.K()
			}
		}}
	// OpCol2Im declares Backend.Col2Im.
	OpCol2Im = &Op{Name: "Col2Im", Doc: "dx = adjoint of im2col applied to cols",
		Operands: []Operand{out("dx", F32), in("cols", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			g := c.P.Conv
			if c.failed() {
				return
			}
			if err := g.Validate(); err != nil {
				c.Failf("%v", err)
				return
			}
			c.wantMatrix(1, g.Rows(), g.K())
			c.wantImage(0, g.N, g.H, g.W, g.C)
			c.D.R, c.D.C = g.Rows(), g.K()
		}}
	// OpAddBias declares Backend.AddBias.
	OpAddBias = &Op{Name: "AddBias", Doc: "y += bias per column, in place",
		Operands: []Operand{out("y", F32), in("bias", F32)},
		traffic:  trafficUpdating(0), // y is read and written
		rule: func(c *Call) {
			if c.infer {
				c.Failf("y is updated in place; it has no derived shape")
				return
			}
			r, cols := c.matrix(0)
			c.wantLenOf(1, cols, "columns of", 0)
			c.D.R, c.D.C = r, cols
		}}
	// OpColSum declares Backend.ColSum.
	OpColSum = &Op{Name: "ColSum", Doc: "s = column sums of x",
		Operands: []Operand{out("s", F32), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			r, cols := c.matrix(1)
			c.wantLenOf(0, cols, "columns of", 1)
			c.D.R, c.D.C = r, cols
		}}
	// OpReLU declares Backend.ReLU.
	OpReLU = &Op{Name: "ReLU", Doc: "y = max(x, 0)",
		Operands: []Operand{outAlias("y", F32, "x"), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.sameAs(0, 1)
			c.D.Len = c.length(1)
		}}
	// OpReLUGrad declares Backend.ReLUGrad.
	OpReLUGrad = &Op{Name: "ReLUGrad", Doc: "dx = dy where y > 0, else 0",
		Operands: []Operand{outAlias("dx", F32, "dy"), in("dy", F32), in("y", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.sameAs(2, 1)
			c.sameAs(0, 1)
			c.D.Len = c.length(1)
		}}
	// OpMaxPool declares Backend.MaxPool.
	OpMaxPool = &Op{Name: "MaxPool", Doc: "y = window maxima of x, arg = their indices",
		Operands: []Operand{out("y", F32), out("arg", I32), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			g := c.P.Pool
			if !c.pool(g, 2, 0) {
				return
			}
			oh, ow := g.Out()
			c.wantImage(1, g.N, oh, ow, g.C)
		}}
	// OpMaxPoolGrad declares Backend.MaxPoolGrad.
	OpMaxPoolGrad = &Op{Name: "MaxPoolGrad", Doc: "dx = dy routed to the recorded maxima",
		Operands: []Operand{out("dx", F32), in("dy", F32), in("arg", I32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			g := c.P.Pool
			if !c.pool(g, 0, 1) {
				return
			}
			c.wantLenOf(2, c.length(1), "as many as", 1)
		}}
	// OpBatchNormTrain declares Backend.BatchNormTrain.
	OpBatchNormTrain = &Op{Name: "BatchNormTrain", Doc: "batch normalisation with batch statistics, running statistics updated",
		Operands: []Operand{out("y", F32), out("xhat", F32), out("mean", F32), out("invstd", F32),
			in("x", F32), in("gamma", F32), in("beta", F32), out("runMean", F32), out("runVar", F32)},
		traffic: trafficUpdating(7, 8), // runMean, runVar are read and written
		rule: func(c *Call) {
			r, ch := c.matrix(4)
			c.sameMatrix(0, 4)
			c.sameMatrix(1, 4)
			c.channels(ch, 4, 5, 6, 2, 3, 7, 8)
			c.momentum()
			c.eps()
			c.D.R, c.D.C = r, ch
		}}
	// OpBatchNormInfer declares Backend.BatchNormInfer.
	OpBatchNormInfer = &Op{Name: "BatchNormInfer", Doc: "batch normalisation with running statistics",
		Operands: []Operand{out("y", F32), in("x", F32), in("gamma", F32), in("beta", F32), in("runMean", F32), in("runVar", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			r, ch := c.matrix(1)
			c.sameMatrix(0, 1)
			c.channels(ch, 1, 2, 3, 4, 5)
			c.eps()
			c.D.R, c.D.C = r, ch
		}}
	// OpBatchNormGrad declares Backend.BatchNormGrad.
	OpBatchNormGrad = &Op{Name: "BatchNormGrad", Doc: "batch-norm backward",
		Operands: []Operand{out("dx", F32), out("dgamma", F32), out("dbeta", F32), in("dy", F32), in("xhat", F32), in("invstd", F32), in("gamma", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			r, ch := c.matrix(3)
			c.sameMatrix(4, 3)
			c.sameMatrix(0, 3)
			c.channels(ch, 3, 5, 6, 1, 2)
			c.D.R, c.D.C = r, ch
		}}
	// OpBatchNormReLUTrain declares FusedBNReLU.BatchNormReLUTrain.
	OpBatchNormReLUTrain = &Op{Name: "BatchNormReLUTrain", Doc: "BatchNormTrain then ReLU, one op (FusedBNReLU)",
		Operands: OpBatchNormTrain.Operands, traffic: OpBatchNormTrain.traffic, rule: OpBatchNormTrain.rule}
	// OpBatchNormReLUInfer declares FusedBNReLU.BatchNormReLUInfer.
	OpBatchNormReLUInfer = &Op{Name: "BatchNormReLUInfer", Doc: "BatchNormInfer then ReLU, one op (FusedBNReLU)",
		Operands: OpBatchNormInfer.Operands, traffic: OpBatchNormInfer.traffic, rule: OpBatchNormInfer.rule}
	// OpBatchNormReLUGrad declares FusedBNReLU.BatchNormReLUGrad.
	OpBatchNormReLUGrad = &Op{Name: "BatchNormReLUGrad", Doc: "ReLUGrad then BatchNormGrad, one op (FusedBNReLU)",
		Operands: []Operand{out("dx", F32), out("dgamma", F32), out("dbeta", F32), in("dy", F32), in("y", F32), in("xhat", F32), in("invstd", F32), in("gamma", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			r, ch := c.matrix(3)
			c.sameMatrix(4, 3)
			c.sameMatrix(5, 3)
			c.sameMatrix(0, 3)
			c.channels(ch, 3, 6, 7, 1, 2)
			c.D.R, c.D.C = r, ch
		}}
	// OpCompensateTrain declares Backend.CompensateTrain.
	OpCompensateTrain = &Op{Name: "CompensateTrain", Doc: "y = x + gamma·E[x] + beta, running mean updated",
		Operands: []Operand{out("y", F32), out("mean", F32), in("x", F32), in("gamma", F32), in("beta", F32), out("runMean", F32)},
		traffic:  trafficUpdating(5), // runMean is read and written
		rule: func(c *Call) {
			r, ch := c.matrix(2)
			c.sameMatrix(0, 2)
			c.channels(ch, 2, 3, 4, 1, 5)
			c.momentum()
			c.D.R, c.D.C = r, ch
		}}
	// OpCompensateInfer declares Backend.CompensateInfer.
	OpCompensateInfer = &Op{Name: "CompensateInfer", Doc: "y = x + gamma·runMean + beta",
		Operands: []Operand{out("y", F32), in("x", F32), in("gamma", F32), in("beta", F32), in("runMean", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			r, ch := c.matrix(1)
			c.sameMatrix(0, 1)
			c.channels(ch, 1, 2, 3, 4)
			c.D.R, c.D.C = r, ch
		}}
	// OpCompensateGrad declares Backend.CompensateGrad.
	OpCompensateGrad = &Op{Name: "CompensateGrad", Doc: "compensation backward",
		Operands: []Operand{outAlias("dx", F32, "dy"), out("dgamma", F32), out("dbeta", F32), in("dy", F32), in("mean", F32), in("gamma", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			r, ch := c.matrix(3)
			c.sameMatrix(0, 3)
			c.channels(ch, 3, 4, 5, 1, 2)
			c.D.R, c.D.C = r, ch
		}}
	// OpCompBNTrain declares FusedCompBN.CompBNTrain.
	OpCompBNTrain = &Op{Name: "CompBNTrain", Doc: "CompensateTrain then BatchNormTrain (then ReLU), one op without the compensated matrix (FusedCompBN)",
		Operands: []Operand{out("y", F32), outOpt("xhat", F32), out("mean", F32), out("invstd", F32), out("cmean", F32),
			in("x", F32), in("cgamma", F32), in("cbeta", F32), out("cRunMean", F32),
			in("gamma", F32), in("beta", F32), out("runMean", F32), out("runVar", F32)},
		traffic: trafficUpdating(8, 11, 12), // the running statistics are read and written
		rule: func(c *Call) {
			r, ch := c.matrix(5)
			c.sameMatrix(0, 5)
			c.sameMatrix(1, 5)
			c.channels(ch, 5, 6, 7, 9, 10, 2, 3, 4, 8, 11, 12)
			c.momentum()
			c.compMomentum()
			c.eps()
			c.D.R, c.D.C = r, ch
		}}
	// OpCompBNInfer declares FusedCompBN.CompBNInfer.
	OpCompBNInfer = &Op{Name: "CompBNInfer", Doc: "CompensateInfer then BatchNormInfer (then ReLU), one op (FusedCompBN)",
		Operands: []Operand{out("y", F32), in("x", F32), in("cgamma", F32), in("cbeta", F32), in("cRunMean", F32),
			in("gamma", F32), in("beta", F32), in("runMean", F32), in("runVar", F32)},
		traffic: trafficEach,
		rule: func(c *Call) {
			r, ch := c.matrix(1)
			c.sameMatrix(0, 1)
			c.channels(ch, 1, 2, 3, 4, 5, 6, 7, 8)
			c.eps()
			c.D.R, c.D.C = r, ch
		}}
	// OpCompBNGrad declares FusedCompBN.CompBNGrad.
	OpCompBNGrad = &Op{Name: "CompBNGrad", Doc: "(ReLUGrad then) BatchNormGrad then CompensateGrad, one op without the intermediate gradient (FusedCompBN)",
		Operands: []Operand{out("dx", F32), out("dgamma", F32), out("dbeta", F32), out("dcgamma", F32), out("dcbeta", F32),
			in("dy", F32), inOpt("y", F32), in("xhat", F32), in("invstd", F32), in("gamma", F32), in("cmean", F32), in("cgamma", F32)},
		traffic: trafficEach,
		rule: func(c *Call) {
			r, ch := c.matrix(5)
			c.sameMatrix(6, 5)
			c.sameMatrix(7, 5)
			c.sameMatrix(0, 5)
			c.channels(ch, 5, 8, 9, 10, 11, 1, 2, 3, 4)
			c.D.R, c.D.C = r, ch
		}}

	// OpCompBNGradFromX declares FusedCompBN.CompBNGradFromX.
	OpCompBNGradFromX = &Op{Name: "CompBNGradFromX", Doc: "CompBNGrad with xhat (and the ReLU's mask) recomputed from the compensation's input x as CompBNTrain computes them, and optionally ColSum of dx (FusedCompBN)",
		Operands: []Operand{out("dx", F32), out("dgamma", F32), out("dbeta", F32), out("dcgamma", F32), out("dcbeta", F32), outOpt("dxSum", F32),
			in("dy", F32), in("x", F32), in("mean", F32), in("invstd", F32), in("gamma", F32), in("beta", F32),
			in("cmean", F32), in("cgamma", F32), in("cbeta", F32)},
		traffic: trafficEach,
		rule: func(c *Call) {
			r, ch := c.matrix(6)
			c.sameMatrix(7, 6)
			c.sameMatrix(0, 6)
			c.channels(ch, 6, 8, 9, 10, 11, 12, 13, 14, 1, 2, 3, 4, 5)
			c.D.R, c.D.C = r, ch
		}}

	// OpAdd declares Backend.Add.
	OpAdd = &Op{Name: "Add", Doc: "y = a + b (residual add, gradient accumulation)",
		Operands: []Operand{outAlias("y", F32, "a"), in("a", F32), in("b", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.sameAs(2, 1)
			c.sameAs(0, 1)
			c.D.Len = c.length(1)
		}}
	// OpAvgPool declares Backend.AvgPool.
	OpAvgPool = &Op{Name: "AvgPool", Doc: "y = window means of x",
		Operands: []Operand{out("y", F32), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.pool(c.P.Pool, 1, 0)
		}}
	// OpAvgPoolGrad declares Backend.AvgPoolGrad.
	OpAvgPoolGrad = &Op{Name: "AvgPoolGrad", Doc: "dx = dy spread evenly over each window",
		Operands: []Operand{out("dx", F32), in("dy", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.pool(c.P.Pool, 0, 1)
		}}
	// OpDWConvI declares Backend.DWConvI.
	OpDWConvI = &Op{Name: "DWConvI", Doc: "acc = depthwise convolution of zero-point-corrected codes, int32",
		Operands: []Operand{out("acc", I32), in("x", Q8), in("w", Q8)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			g := c.P.Conv
			if !c.depthwise(g, 1, 2, 0) {
				return
			}
			if err := c.P.P.Validate(1); err != nil {
				c.Failf("pa must be per tensor: %v", err)
			} else if err := c.P.PB.Validate(g.C); err != nil {
				c.Failf("pb for %d channels: %v", g.C, err)
			}
		}}
	// OpDWConv declares Backend.DWConv.
	OpDWConv = &Op{Name: "DWConv", Doc: "y = depthwise convolution of x with w (float)",
		Operands: []Operand{out("y", F32), in("x", F32), in("w", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.depthwise(c.P.Conv, 1, 2, 0)
		}}
	// OpDWConvGradX declares Backend.DWConvGradX.
	OpDWConvGradX = &Op{Name: "DWConvGradX", Doc: "dx = input gradient of the depthwise convolution",
		Operands: []Operand{out("dx", F32), in("dy", F32), in("w", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.depthwise(c.P.Conv, 0, 2, 1)
		}}
	// OpDWConvGradW declares Backend.DWConvGradW.
	OpDWConvGradW = &Op{Name: "DWConvGradW", Doc: "dw = weight gradient of the depthwise convolution",
		Operands: []Operand{out("dw", F32), in("dy", F32), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.depthwise(c.P.Conv, 2, 0, 1)
		}}
)

// trafficGemm is Gemm's traffic: a, b read and c written, c read as well
// when beta is not 0.
func trafficGemm(c *Call) int64 {
	n := trafficEach(c)
	if c.P.Beta != 0 {
		n += c.bytesOf(0)
	}
	return n
}

// opList is the op set in declaration order.
var opList = func() []*Op {
	l := []*Op{
		OpFill, OpCopy, OpMinMax, OpHistogram, OpQuantize, OpDequantize, OpQuantGrad,
		OpIm2ColI, OpGemmI, OpRowSumI, OpDequant,
		OpGemm, OpIm2Col, OpCol2Im, OpAddBias, OpColSum, OpReLU, OpReLUGrad, OpMaxPool, OpMaxPoolGrad,
		OpBatchNormTrain, OpBatchNormInfer, OpBatchNormGrad,
		OpBatchNormReLUTrain, OpBatchNormReLUInfer, OpBatchNormReLUGrad, OpGemmIDequant,
		OpCompensateTrain, OpCompensateInfer, OpCompensateGrad,
		OpAdd, OpAvgPool, OpAvgPoolGrad, OpDWConvI, OpDWConv, OpDWConvGradX, OpDWConvGradW,
		OpConvIDequant, OpConvGradWQ, OpConvGradX,
		OpCompBNTrain, OpCompBNInfer, OpCompBNGrad, OpCompBNGradFromX,
		OpQuantizeMinMax, OpMaxPoolQuant, OpReLUQuant, OpCompBNPoolQuant,
		OpQuantizeWeights, OpDenseGradWQ, OpConvGradWQuant,
		OpConvIDequantStats, OpCompBNTrainStats, OpCompBNPoolQuantStats,
	}
	for i, op := range l {
		op.ID = i
		if len(op.Operands) > maxOperands {
			panic("backend: " + op.Name + " has too many operands")
		}
	}
	return l
}()

// pool checks a pooling geometry g, the input image operand x
// ([N, H, W, C] elements) and the output image operand y ([N, OH, OW, C]).
// Either index may be an output (whose shape is then inferred).
func (c *Call) pool(g PoolGeom, x, y int) bool {
	if c.failed() {
		return false
	}
	if err := g.Validate(); err != nil {
		c.Failf("%v", err)
		return false
	}
	if (c.Op.Name == "MaxPool" || c.Op.Name == "MaxPoolGrad") && !g.Square() {
		c.Failf("pool geometry %+v: max-pooling takes square windows", g)
		return false
	}
	oh, ow := g.Out()
	c.wantImage(x, g.N, g.H, g.W, g.C)
	c.wantImage(y, g.N, oh, ow, g.C)
	c.D.Len = g.N * oh * ow * g.C
	return !c.failed()
}

// depthwise checks a depthwise convolution: geometry g (C channels, each
// convolved with its own KH×KW filter), the image x [N, H, W, C], the
// filters w [C, KH, KW] (C·KH·KW elements) and the output y
// [N, OH, OW, C]. Any of them may be the output.
func (c *Call) depthwise(g ConvGeom, x, w, y int) bool {
	if c.failed() {
		return false
	}
	if err := g.Validate(); err != nil {
		c.Failf("%v", err)
		return false
	}
	oh, ow := g.Out()
	c.wantImage(x, g.N, g.H, g.W, g.C)
	if c.failed() || !c.has(w) {
		return !c.failed()
	}
	if c.infer && c.Op.Operands[w].Out {
		c.out[w] = []int{g.C, g.KH, g.KW}
	} else if c.length(w) != g.C*g.KH*g.KW {
		c.Failf("%s is %v, want %d elements ([C KH KW] = [%d %d %d])", c.name(w), c.shape(w), g.C*g.KH*g.KW, g.C, g.KH, g.KW)
		return false
	}
	c.wantImage(y, g.N, oh, ow, g.C)
	c.D.R, c.D.C = g.N*oh*ow, g.C
	c.D.K = g.KH * g.KW
	return !c.failed()
}

// The declarations of FusedQuantize: quantization fused into the op that
// produces its input.
var (
	// OpQuantizeMinMax declares FusedQuantize.QuantizeMinMax.
	OpQuantizeMinMax = &Op{Name: "QuantizeMinMax", Doc: "MinMax then Quantize (per tensor), one op (FusedQuantize)",
		Operands: []Operand{out("q", Q8), out("stats", F32), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.sameAs(0, 2)
			c.quantOut(1)
			c.D.Len = c.length(2)
		}}
	// OpMaxPoolQuant declares FusedQuantize.MaxPoolQuant.
	OpMaxPoolQuant = &Op{Name: "MaxPoolQuant", Doc: "MaxPool then MinMax and Quantize (per tensor) of its output, one op (FusedQuantize)",
		Operands: []Operand{out("y", F32), out("arg", I32), out("q", Q8), out("stats", F32), in("x", F32)},
		traffic:  trafficEach,
		rule:     func(c *Call) { c.poolQuant(4) }}
	// OpCompBNPoolQuant declares FusedQuantize.CompBNPoolQuant.
	OpCompBNPoolQuant = &Op{Name: "CompBNPoolQuant", Doc: "CompBNTrain (then ReLU) without its output, then MaxPoolQuant of that output, one op (FusedQuantize)",
		Operands: []Operand{out("y", F32), out("arg", I32), out("q", Q8), out("stats", F32),
			out("mean", F32), out("invstd", F32), out("cmean", F32), in("x", F32), in("cgamma", F32), in("cbeta", F32), out("cRunMean", F32),
			in("gamma", F32), in("beta", F32), out("runMean", F32), out("runVar", F32)},
		traffic: trafficUpdating(10, 13, 14), // the running statistics are read and written
		rule: func(c *Call) {
			if !c.poolQuant(7) {
				return
			}
			g := c.P.Pool
			c.channels(g.C, 7, 8, 9, 11, 12, 4, 5, 6, 10, 13, 14)
			c.momentum()
			c.compMomentum()
			c.eps()
			c.D.R, c.D.C = g.N*g.H*g.W, g.C
		}}
	// OpReLUQuant declares FusedQuantize.ReLUQuant.
	OpReLUQuant = &Op{Name: "ReLUQuant", Doc: "ReLU then MinMax and Quantize (per tensor) of its output, one op (FusedQuantize)",
		Operands: []Operand{out("y", F32), out("q", Q8), out("stats", F32), in("x", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.sameAs(0, 3)
			c.sameAs(1, 3)
			c.quantOut(2)
			c.D.Len = c.length(3)
		}}
)

// The ops of FusedStats: the statistics xstats [2, C] of a matrix, from
// its producer to the batch norm reading it. Each is the op it extends
// with xstats appended to its operands.
var (
	// OpConvIDequantStats declares FusedStats.ConvIDequantStats.
	OpConvIDequantStats = &Op{Name: "ConvIDequantStats", Doc: "ConvIDequant and the column statistics (mean, squared deviations) of its output, gathered as it is written (FusedStats)",
		Operands: []Operand{out("y", F32), in("qx", Q8), in("qw", Q8), in("sw", I32), inOpt("bias", F32), out("xstats", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			OpConvIDequant.rule(c)
			c.xstats(5, c.D.N)
		}}
	// OpCompBNTrainStats declares FusedStats.CompBNTrainStats.
	OpCompBNTrainStats = &Op{Name: "CompBNTrainStats", Doc: "CompBNTrain with the statistics of x read from xstats instead of computed (FusedStats)",
		Operands: append(append([]Operand(nil), OpCompBNTrain.Operands...), in("xstats", F32)),
		traffic:  trafficUpdating(8, 11, 12),
		rule: func(c *Call) {
			OpCompBNTrain.rule(c)
			c.xstats(13, c.D.C)
		}}
	// OpCompBNPoolQuantStats declares FusedStats.CompBNPoolQuantStats.
	OpCompBNPoolQuantStats = &Op{Name: "CompBNPoolQuantStats", Doc: "CompBNPoolQuant with the statistics of x read from xstats instead of computed (FusedStats)",
		Operands: append(append([]Operand(nil), OpCompBNPoolQuant.Operands...), in("xstats", F32)),
		traffic:  trafficUpdating(10, 13, 14),
		rule: func(c *Call) {
			OpCompBNPoolQuant.rule(c)
			c.xstats(15, c.D.C)
		}}
)

// xstats checks that operand i is the statistics [2, ch] of a matrix of
// ch columns (FusedStats).
func (c *Call) xstats(i, ch int) {
	if c.failed() {
		return
	}
	c.wantMatrix(i, 2, ch)
}

// weightGradQ checks the weight side shared by DenseGradWQ and
// ConvGradWQuant (operands gw, dScale, dZero, dBias, dy, qx, w): for dy
// [r, out], the weights w and gw [out, k], dBias [out], dScale and dZero
// one per scale of the weights' spec PB (per tensor or per row), xs (P)
// per tensor; it sets the dims M = out, N = k, K = r and R = r, C = k.
func (c *Call) weightGradQ(r, out, k int) {
	c.wantMatrix(6, out, k)
	c.sameMatrix(0, 6)
	c.wantLenOf(3, out, "columns of", 4)
	c.wantLen(1, len(c.P.PB.Scale), "one per scale of ws")
	c.wantLen(2, len(c.P.PB.Scale), "one per scale of ws")
	if c.failed() {
		return
	}
	if err := c.P.P.Validate(1); err != nil {
		c.Failf("xs must be per tensor: %v", err)
		return
	}
	c.D.Slice = c.weightSpec("ws", c.P.PB, 6)
	c.D.M, c.D.N, c.D.K = out, k, r
	c.D.R, c.D.C = r, k
}

// poolQuant checks the operands of a max-pool whose output is quantized
// (MaxPoolQuant's first four: y, arg, q, stats) over the image operand x,
// with c.P.Pool's square windows and the per-tensor spec c.P.P; it
// reports whether they passed.
func (c *Call) poolQuant(x int) bool {
	g := c.P.Pool
	if !c.pool(g, x, 0) {
		return false
	}
	if !g.Square() {
		c.Failf("pool geometry %+v: max-pooling takes square windows", g)
		return false
	}
	oh, ow := g.Out()
	c.wantImage(1, g.N, oh, ow, g.C)
	c.wantImage(2, g.N, oh, ow, g.C)
	c.quantOut(3)
	return !c.failed()
}

// quantOut checks the statistics operand stats of a FusedQuantize op
// (MinMax's three values) and its spec P, which must be per tensor.
func (c *Call) quantOut(stats int) {
	c.wantLen(stats, 3, "min, max, non-finite count")
	if c.failed() {
		return
	}
	if err := c.P.P.Validate(1); err != nil {
		c.Failf("p must be per tensor: %v", err)
	}
}

// The declarations of FusedWeightGrad: a quantized layer's weight
// preparation and weight gradient.
var (
	// OpQuantizeWeights declares FusedWeightGrad.QuantizeWeights.
	OpQuantizeWeights = &Op{Name: "QuantizeWeights", Doc: "Quantize, RowSumI and Dequantize of a weight matrix, one op (FusedWeightGrad)",
		Operands: []Operand{out("qw", Q8), outOpt("sw", I32), outOpt("what", F32), in("w", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			c.sameMatrix(0, 3)
			c.sameMatrix(2, 3)
			out, k := c.matrix(3)
			c.wantLenOf(1, out, "rows of", 3)
			c.D.Slice = c.weightSpec("p", c.P.P, 3)
			c.D.M, c.D.K, c.D.Len = out, k, out*k
		}}
	// OpDenseGradWQ declares FusedWeightGrad.DenseGradWQ.
	OpDenseGradWQ = &Op{Name: "DenseGradWQ", Doc: "ColSum, Dequantize, Gemm (dyᵀ·x̂) and QuantGrad of the weights, one op (FusedWeightGrad)",
		Operands: []Operand{out("gw", F32), out("dScale", F32), out("dZero", F32), outOpt("dBias", F32), in("dy", F32), in("qx", Q8), in("w", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			r, out := c.matrix(4)
			rx, k := c.matrix(5)
			if rx != r {
				c.Failf("dy is %v, qx is %v: rows differ", c.shape(4), c.shape(5))
				return
			}
			c.weightGradQ(r, out, k)
		}}
	// OpConvGradWQuant declares FusedWeightGrad.ConvGradWQuant.
	OpConvGradWQuant = &Op{Name: "ConvGradWQuant", Doc: "ColSum, ConvGradWQ and QuantGrad of a conv layer's weights, one op (FusedWeightGrad)",
		Operands: []Operand{out("gw", F32), out("dScale", F32), out("dZero", F32), outOpt("dBias", F32), in("dy", F32), in("qx", Q8), in("w", F32)},
		traffic:  trafficEach,
		rule: func(c *Call) {
			g := c.P.Conv
			if !c.conv(g, 5) {
				return
			}
			r, out := c.matrix(4)
			if r != g.Rows() {
				c.Failf("dy is %v, want a matrix [%d Out] (the geometry's rows)", c.shape(4), g.Rows())
				return
			}
			c.weightGradQ(r, out, g.K())
		}}
)

// weightSpec checks the quantization spec p (named name) of the weight
// matrix operand w [Out, K]: per tensor, or one scale per row, the rows
// being w's dimension 0. It returns the elements per slice.
func (c *Call) weightSpec(name string, p QuantSpec, w int) int {
	slice := c.spec(name, p, w)
	if c.failed() {
		return 0
	}
	if _, k := c.matrix(w); len(p.Scale) > 1 && slice != k {
		c.Failf("%s for %v: per channel, the channels must be the rows of the matrix (dimension 0 of a 2-D shape)", name, c.shape(w))
		return 0
	}
	return slice
}
