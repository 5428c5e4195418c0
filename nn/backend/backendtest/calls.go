package backendtest

import (
	"fmt"

	"github.com/vktrain/vktrain/nn/backend"
)

// opCall is how the generic (contract-derived) tests call one op: call
// invokes the Backend method with the tensors ts in the order of the op's
// Operands and the scalar arguments in p, and params and shapes are one
// valid call (a sample): shapes holds the inputs' shapes and, only where
// op.OutputShapes cannot derive them, the outputs'.
type opCall struct {
	call   func(b backend.Backend, p backend.Params, ts []backend.Tensor)
	params backend.Params
	shapes [][]int
}

// opCalls returns the calls of every op, keyed by op. An op missing here
// fails TestErrors (which enumerates backend.Ops()).
func opCalls() map[*backend.Op]opCall {
	q := backend.QuantSpec{Scale: []float32{0.1}, Zero: []int32{3}, QMin: -127, QMax: 127}
	qu := backend.QuantSpec{Scale: []float32{0.05}, Zero: []int32{128}, QMin: 0, QMax: 255}
	q2 := backend.QuantSpec{Scale: []float32{0.1, 0.2}, Zero: []int32{0, 1}, QMin: -127, QMax: 127}
	g := backend.ConvGeom{N: 1, H: 5, W: 5, C: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
	pg := backend.PoolGeom{N: 1, H: 4, W: 4, C: 2, Size: 2, Stride: 2}
	oh, ow := g.Out()
	type P = backend.Params
	type T = []backend.Tensor
	type B = backend.Backend
	return map[*backend.Op]opCall{
		backend.OpFill: {func(b B, p P, t T) { b.Fill(t[0], 1.5) }, P{},
			[][]int{{4, 3}}},
		backend.OpCopy: {func(b B, p P, t T) { b.Copy(t[0], t[1]) }, P{},
			[][]int{nil, {4, 3}}},
		backend.OpMinMax: {func(b B, p P, t T) { b.MinMax(t[0], t[1]) }, P{},
			[][]int{nil, {10}}},
		backend.OpHistogram: {func(b B, p P, t T) { b.Histogram(t[0], t[1], p.Lo, p.Hi) }, P{Lo: -1, Hi: 1},
			[][]int{{8}, {10}}},
		backend.OpQuantize: {func(b B, p P, t T) { b.Quantize(t[0], t[1], p.P) }, P{P: q},
			[][]int{nil, {4, 3}}},
		backend.OpDequantize: {func(b B, p P, t T) { b.Dequantize(t[0], t[1], p.P) }, P{P: q2},
			[][]int{nil, {2, 3}}},
		backend.OpQuantGrad: {func(b B, p P, t T) { b.QuantGrad(t[0], t[1], t[2], t[3], t[4], p.P) }, P{P: q2},
			[][]int{nil, nil, nil, {2, 5}, {2, 5}}},
		backend.OpIm2ColI: {func(b B, p P, t T) { b.Im2ColI(t[0], t[1], p.Conv, p.Pad) }, P{Conv: g, Pad: 3},
			[][]int{nil, {1, 5, 5, 2}}},
		backend.OpGemmI: {func(b B, p P, t T) { b.GemmI(t[0], t[1], t[2]) }, P{},
			[][]int{nil, {4, 9}, {3, 9}}},
		backend.OpRowSumI: {func(b B, p P, t T) { b.RowSumI(t[0], t[1]) }, P{},
			[][]int{nil, {4, 9}}},
		backend.OpDequant: {func(b B, p P, t T) { b.Dequant(t[0], t[1], t[2], t[3], p.K, p.P, p.PB, t[4]) }, P{K: 9, P: qu, PB: q},
			[][]int{nil, {4, 3}, {4}, {3}, {3}}},
		backend.OpGemm: {func(b B, p P, t T) { b.Gemm(t[0], t[1], t[2], p.TransA, p.TransB, p.Alpha, p.Beta) }, P{TransA: true, Alpha: 1},
			[][]int{nil, {6, 4}, {6, 5}}},
		backend.OpIm2Col: {func(b B, p P, t T) { b.Im2Col(t[0], t[1], p.Conv) }, P{Conv: g},
			[][]int{nil, {1, 5, 5, 2}}},
		backend.OpCol2Im: {func(b B, p P, t T) { b.Col2Im(t[0], t[1], p.Conv) }, P{Conv: g},
			[][]int{nil, {g.Rows(), g.K()}}},
		backend.OpAddBias: {func(b B, p P, t T) { b.AddBias(t[0], t[1]) }, P{},
			[][]int{{4, 3}, {3}}},
		backend.OpColSum: {func(b B, p P, t T) { b.ColSum(t[0], t[1]) }, P{},
			[][]int{nil, {4, 3}}},
		backend.OpReLU: {func(b B, p P, t T) { b.ReLU(t[0], t[1]) }, P{},
			[][]int{nil, {4, 3}}},
		backend.OpReLUGrad: {func(b B, p P, t T) { b.ReLUGrad(t[0], t[1], t[2]) }, P{},
			[][]int{nil, {4, 3}, {4, 3}}},
		backend.OpMaxPool: {func(b B, p P, t T) { b.MaxPool(t[0], t[1], t[2], p.Pool) }, P{Pool: pg},
			[][]int{nil, nil, {1, 4, 4, 2}}},
		backend.OpMaxPoolGrad: {func(b B, p P, t T) { b.MaxPoolGrad(t[0], t[1], t[2], p.Pool) }, P{Pool: pg},
			[][]int{nil, {1, 2, 2, 2}, {1, 2, 2, 2}}},
		backend.OpBatchNormTrain: {func(b B, p P, t T) {
			b.BatchNormTrain(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], p.Momentum, p.Eps)
		}, P{Momentum: 0.1, Eps: 1e-5},
			[][]int{nil, nil, nil, nil, {6, 3}, {3}, {3}, nil, nil}},
		backend.OpBatchNormInfer: {func(b B, p P, t T) { b.BatchNormInfer(t[0], t[1], t[2], t[3], t[4], t[5], p.Eps) }, P{Eps: 1e-5},
			[][]int{nil, {6, 3}, {3}, {3}, {3}, {3}}},
		backend.OpBatchNormGrad: {func(b B, p P, t T) { b.BatchNormGrad(t[0], t[1], t[2], t[3], t[4], t[5], t[6]) }, P{},
			[][]int{nil, nil, nil, {6, 3}, {6, 3}, {3}, {3}}},
		backend.OpGemmIDequant: {func(b B, p P, t T) {
			b.(backend.FusedGemmIDequant).GemmIDequant(t[0], t[1], t[2], t[3], t[4], p.P, p.PB)
		}, P{P: qu, PB: q2},
			[][]int{nil, {6, 4}, {2, 4}, {2}, {2}}},
		backend.OpConvIDequant: {func(b B, p P, t T) {
			b.(backend.FusedConv).ConvIDequant(t[0], t[1], t[2], t[3], t[4], p.Conv, p.P, p.PB)
		}, P{Conv: g, P: qu, PB: q2},
			[][]int{nil, {1, 5, 5, 2}, {2, g.K()}, {2}, {2}}},
		backend.OpConvGradWQ: {func(b B, p P, t T) {
			b.(backend.FusedConv).ConvGradWQ(t[0], t[1], t[2], p.Conv, p.P)
		}, P{Conv: g, P: qu},
			[][]int{nil, {g.Rows(), 3}, {1, 5, 5, 2}}},
		backend.OpConvGradX: {func(b B, p P, t T) {
			b.(backend.FusedConv).ConvGradX(t[0], t[1], t[2], p.Conv)
		}, P{Conv: g},
			[][]int{nil, {g.Rows(), 3}, {3, g.K()}}},
		backend.OpBatchNormReLUTrain: {func(b B, p P, t T) {
			b.(backend.FusedBNReLU).BatchNormReLUTrain(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], p.Momentum, p.Eps)
		}, P{Momentum: 0.1, Eps: 1e-5},
			[][]int{nil, nil, nil, nil, {6, 3}, {3}, {3}, nil, nil}},
		backend.OpBatchNormReLUInfer: {func(b B, p P, t T) {
			b.(backend.FusedBNReLU).BatchNormReLUInfer(t[0], t[1], t[2], t[3], t[4], t[5], p.Eps)
		}, P{Eps: 1e-5},
			[][]int{nil, {6, 3}, {3}, {3}, {3}, {3}}},
		backend.OpBatchNormReLUGrad: {func(b B, p P, t T) {
			b.(backend.FusedBNReLU).BatchNormReLUGrad(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7])
		}, P{},
			[][]int{nil, nil, nil, {6, 3}, {6, 3}, {6, 3}, {3}, {3}}},
		backend.OpCompBNTrain: {func(b B, p P, t T) {
			b.(backend.FusedCompBN).CompBNTrain(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], p.CompMomentum, p.Momentum, p.Eps, p.ReLU)
		}, P{CompMomentum: 0.2, Momentum: 0.1, Eps: 1e-5, ReLU: true},
			[][]int{nil, nil, nil, nil, nil, {6, 3}, {3}, {3}, nil, {3}, {3}, nil, nil}},
		backend.OpCompBNInfer: {func(b B, p P, t T) {
			b.(backend.FusedCompBN).CompBNInfer(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], p.Eps, p.ReLU)
		}, P{Eps: 1e-5, ReLU: true},
			[][]int{nil, {6, 3}, {3}, {3}, {3}, {3}, {3}, {3}, {3}}},
		backend.OpCompBNGrad: {func(b B, p P, t T) {
			b.(backend.FusedCompBN).CompBNGrad(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11])
		}, P{},
			[][]int{nil, nil, nil, nil, nil, {6, 3}, {6, 3}, {6, 3}, {3}, {3}, {3}, {3}}},
		backend.OpCompBNGradFromX: {func(b B, p P, t T) {
			b.(backend.FusedCompBN).CompBNGradFromX(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13], t[14], p.ReLU)
		}, P{ReLU: true},
			[][]int{nil, nil, nil, nil, nil, nil, {6, 3}, {6, 3}, {3}, {3}, {3}, {3}, {3}, {3}, {3}}},
		backend.OpQuantizeMinMax: {func(b B, p P, t T) {
			b.(backend.FusedQuantize).QuantizeMinMax(t[0], t[1], t[2], p.P)
		}, P{P: qu},
			[][]int{nil, nil, {4, 3}}},
		backend.OpCompBNPoolQuant: {func(b B, p P, t T) {
			b.(backend.FusedQuantize).CompBNPoolQuant(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13], t[14],
				p.CompMomentum, p.Momentum, p.Eps, p.ReLU, p.Pool, p.P)
		}, P{CompMomentum: 0.2, Momentum: 0.1, Eps: 1e-5, ReLU: true, Pool: backend.PoolGeom{N: 2, H: 4, W: 4, C: 3, Size: 2, Stride: 2}, P: qu},
			[][]int{nil, nil, nil, nil, nil, nil, nil, {2, 4, 4, 3}, {3}, {3}, nil, {3}, {3}, nil, nil}},
		backend.OpConvIDequantStats: {func(b B, p P, t T) {
			b.(backend.FusedStats).ConvIDequantStats(t[0], t[1], t[2], t[3], t[4], t[5], p.Conv, p.P, p.PB)
		}, P{Conv: g, P: qu, PB: q2},
			[][]int{nil, {1, 5, 5, 2}, {2, g.K()}, {2}, {2}, nil}},
		backend.OpCompBNTrainStats: {func(b B, p P, t T) {
			b.(backend.FusedStats).CompBNTrainStats(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13],
				p.CompMomentum, p.Momentum, p.Eps, p.ReLU)
		}, P{CompMomentum: 0.2, Momentum: 0.1, Eps: 1e-5, ReLU: true},
			[][]int{nil, nil, nil, nil, nil, {6, 3}, {3}, {3}, nil, {3}, {3}, nil, nil, {2, 3}}},
		backend.OpCompBNPoolQuantStats: {func(b B, p P, t T) {
			b.(backend.FusedStats).CompBNPoolQuantStats(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13], t[14], t[15],
				p.CompMomentum, p.Momentum, p.Eps, p.ReLU, p.Pool, p.P)
		}, P{CompMomentum: 0.2, Momentum: 0.1, Eps: 1e-5, ReLU: true, Pool: backend.PoolGeom{N: 2, H: 4, W: 4, C: 3, Size: 2, Stride: 2}, P: qu},
			[][]int{nil, nil, nil, nil, nil, nil, nil, {2, 4, 4, 3}, {3}, {3}, nil, {3}, {3}, nil, nil, {2, 3}}},
		backend.OpMaxPoolQuant: {func(b B, p P, t T) {
			b.(backend.FusedQuantize).MaxPoolQuant(t[0], t[1], t[2], t[3], t[4], p.Pool, p.P)
		}, P{Pool: pg, P: qu},
			[][]int{nil, nil, nil, nil, {1, 4, 4, 2}}},
		backend.OpReLUQuant: {func(b B, p P, t T) {
			b.(backend.FusedQuantize).ReLUQuant(t[0], t[1], t[2], t[3], p.P)
		}, P{P: qu},
			[][]int{nil, nil, nil, {4, 3}}},
		backend.OpQuantizeWeights: {func(b B, p P, t T) {
			b.(backend.FusedWeightGrad).QuantizeWeights(t[0], t[1], t[2], t[3], p.P)
		}, P{P: q2},
			[][]int{nil, nil, nil, {2, 5}}},
		backend.OpDenseGradWQ: {func(b B, p P, t T) {
			b.(backend.FusedWeightGrad).DenseGradWQ(t[0], t[1], t[2], t[3], t[4], t[5], t[6], p.P, p.PB)
		}, P{P: qu, PB: q2},
			[][]int{nil, nil, nil, nil, {4, 2}, {4, 5}, {2, 5}}},
		backend.OpConvGradWQuant: {func(b B, p P, t T) {
			b.(backend.FusedWeightGrad).ConvGradWQuant(t[0], t[1], t[2], t[3], t[4], t[5], t[6], p.Conv, p.P, p.PB)
		}, P{Conv: g, P: qu, PB: q2},
			[][]int{nil, nil, nil, nil, {g.Rows(), 2}, {1, 5, 5, 2}, {2, g.K()}}},
		backend.OpCompensateTrain: {func(b B, p P, t T) { b.CompensateTrain(t[0], t[1], t[2], t[3], t[4], t[5], p.Momentum) }, P{Momentum: 0.1},
			[][]int{nil, nil, {6, 3}, {3}, {3}, nil}},
		backend.OpCompensateInfer: {func(b B, p P, t T) { b.CompensateInfer(t[0], t[1], t[2], t[3], t[4]) }, P{},
			[][]int{nil, {6, 3}, {3}, {3}, {3}}},
		backend.OpCompensateGrad: {func(b B, p P, t T) { b.CompensateGrad(t[0], t[1], t[2], t[3], t[4], t[5], p.Train) }, P{Train: true},
			[][]int{nil, nil, nil, {6, 3}, {3}, {3}}},
		backend.OpAdd: {func(b B, p P, t T) { b.Add(t[0], t[1], t[2]) }, P{},
			[][]int{nil, {4, 3}, {4, 3}}},
		backend.OpAvgPool: {func(b B, p P, t T) { b.AvgPool(t[0], t[1], p.Pool) }, P{Pool: backend.PoolGeom{N: 1, H: 4, W: 6, C: 2, Size: 2, SizeW: 3, Stride: 2, StrideW: 3}},
			[][]int{nil, {1, 4, 6, 2}}},
		backend.OpAvgPoolGrad: {func(b B, p P, t T) { b.AvgPoolGrad(t[0], t[1], p.Pool) }, P{Pool: pg},
			[][]int{nil, {1, 2, 2, 2}}},
		backend.OpDWConvI: {func(b B, p P, t T) { b.DWConvI(t[0], t[1], t[2], p.Conv, p.P, p.PB) }, P{Conv: g, P: qu, PB: q2},
			[][]int{nil, {1, 5, 5, 2}, {2, 3, 3}}},
		backend.OpDWConv: {func(b B, p P, t T) { b.DWConv(t[0], t[1], t[2], p.Conv) }, P{Conv: g},
			[][]int{nil, {1, 5, 5, 2}, {2, 3, 3}}},
		backend.OpDWConvGradX: {func(b B, p P, t T) { b.DWConvGradX(t[0], t[1], t[2], p.Conv) }, P{Conv: g},
			[][]int{nil, {1, oh, ow, 2}, {2, 3, 3}}},
		backend.OpDWConvGradW: {func(b B, p P, t T) { b.DWConvGradW(t[0], t[1], t[2], p.Conv) }, P{Conv: g},
			[][]int{nil, {1, oh, ow, 2}, {1, 5, 5, 2}}},
	}
}

// sample returns the dtypes and shapes of every operand of a valid call
// of op: the declared dtypes (F32 where the declaration takes the dtype of
// another operand), the sample's shapes and the output shapes that
// op.OutputShapes derives from them.
func (c opCall) sample(op *backend.Op) (dts []backend.DType, shapes [][]int, err error) {
	if len(c.shapes) != len(op.Operands) {
		return nil, nil, fmt.Errorf("%s: the sample has %d shapes for %d operands", op.Name, len(c.shapes), len(op.Operands))
	}
	shapes = make([][]int, len(op.Operands))
	copy(shapes, c.shapes)
	var derived [][]int
	for i, od := range op.Operands {
		if shapes[i] != nil {
			continue
		}
		if !od.Out {
			return nil, nil, fmt.Errorf("%s: the sample has no shape for input %s", op.Name, od.Name)
		}
		if derived == nil {
			if derived, err = op.OutputShapes(c.params, c.shapes...); err != nil {
				return nil, nil, fmt.Errorf("OutputShapes of the sample: %w", err)
			}
		}
		if derived[i] == nil {
			return nil, nil, fmt.Errorf("%s: OutputShapes derived no shape for output %s and the sample gives none", op.Name, od.Name)
		}
		shapes[i] = derived[i]
	}
	dts = make([]backend.DType, len(op.Operands))
	for i, od := range op.Operands {
		dts[i] = od.DType
		if dts[i] == 0 {
			dts[i] = backend.F32
		}
	}
	return dts, shapes, nil
}
