package backend

import (
	"errors"
	"fmt"
	"time"
)

// DType is the element type of a tensor.
type DType uint8

const (
	// F32 tensors hold float32 values.
	F32 DType = iota + 1
	// I32 tensors hold int32 values: accumulators, sums, indices, counts.
	I32
	// Q8 tensors hold quantized integer codes of at most 8 bits, signed
	// ([-128, 127]) or unsigned ([0, 255]). ReadI32/WriteI32 see them as
	// int32; writing a value outside [-128, 255] is an error. A backend may
	// store them packed (four codes to a uint32, rows padded), so a Reshape
	// of a Q8 tensor must keep its last dimension.
	Q8
)

// String returns "f32" or "i32".
func (d DType) String() string {
	switch d {
	case F32:
		return "f32"
	case I32:
		return "i32"
	case Q8:
		return "q8"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Tensor is a handle to storage owned by a Backend. Shapes are row-major:
// the last dimension varies fastest. Image tensors are NHWC (channel
// fastest). A tensor must only be passed to the backend that made it.
type Tensor interface {
	// Shape returns the dimensions; callers must not modify it.
	Shape() []int
	// DType returns the element type.
	DType() DType
	// Len returns the number of elements (the product of Shape).
	Len() int
}

// ErrNonFinite reports NaN or Inf values where finite values are required.
var ErrNonFinite = errors.New("non-finite value (NaN or Inf)")

// QuantSpec describes an affine quantization q = clamp(round(x·(1/Scale))+Zero,
// QMin, QMax), x̂ = Scale*(q-Zero), with the reciprocal and the product each
// rounded to float32 (Vulkan guarantees correctly rounded multiplication,
// not division, so GPU kernels can match bit for bit), round half away
// from zero (as Go's math.Round) and NaN quantizing to Zero. Scale and Zero have one element
// (per tensor) or one element per slice along dimension 0 (per channel:
// for a weight matrix [OC, K], one per output channel). The slices are
// read when the op is recorded; callers may reuse them afterwards.
type QuantSpec struct {
	Scale      []float32
	Zero       []int32
	QMin, QMax int32
}

// Validate checks the spec against a tensor with rows slices along
// dimension 0.
func (p QuantSpec) Validate(rows int) error {
	if len(p.Scale) == 0 || len(p.Scale) != len(p.Zero) {
		return fmt.Errorf("quant spec: %d scales and %d zero points", len(p.Scale), len(p.Zero))
	}
	if len(p.Scale) != 1 && len(p.Scale) != rows {
		return fmt.Errorf("quant spec: %d scales for %d rows (want 1 or %d)", len(p.Scale), rows, rows)
	}
	if p.QMin >= p.QMax || p.QMin < -128 || p.QMax > 255 {
		return fmt.Errorf("quant spec: bad range [%d, %d]", p.QMin, p.QMax)
	}
	for i, s := range p.Scale {
		if !(s > 0) || s > 3.4e38 {
			return fmt.Errorf("quant spec: scale[%d] = %v, want a finite positive value", i, s)
		}
		if p.Zero[i] < p.QMin || p.Zero[i] > p.QMax {
			return fmt.Errorf("quant spec: zero[%d] = %d outside [%d, %d]", i, p.Zero[i], p.QMin, p.QMax)
		}
	}
	return nil
}

// ConvGeom is the geometry of a 2-D convolution over an NHWC input.
//
// Output size: OH = (H+2*PadH-KH)/StrideH + 1, OW likewise.
// The im2col matrix has Rows() = N*OH*OW rows, row r = (n*OH+oh)*OW+ow,
// and K() = KH*KW*C columns, column k = (kh*KW+kw)*C+c. Conv weights are
// [OC, KH, KW, C], i.e. a matrix [OC, K] with the same column order, so
// the convolution is cols · Wᵀ = [Rows, OC], which is NHWC output.
type ConvGeom struct {
	N, H, W, C       int
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
}

// Out returns the output height and width.
func (g ConvGeom) Out() (oh, ow int) {
	return (g.H+2*g.PadH-g.KH)/g.StrideH + 1, (g.W+2*g.PadW-g.KW)/g.StrideW + 1
}

// Rows returns the number of im2col rows, N*OH*OW.
func (g ConvGeom) Rows() int { oh, ow := g.Out(); return g.N * oh * ow }

// K returns the number of im2col columns, KH*KW*C.
func (g ConvGeom) K() int { return g.KH * g.KW * g.C }

// Validate reports a geometry that yields no output or has non-positive sizes.
func (g ConvGeom) Validate() error {
	if g.N <= 0 || g.H <= 0 || g.W <= 0 || g.C <= 0 || g.KH <= 0 || g.KW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 || g.PadH < 0 || g.PadW < 0 {
		return fmt.Errorf("conv geometry %+v: sizes must be positive", g)
	}
	if g.H+2*g.PadH < g.KH || g.W+2*g.PadW < g.KW {
		return fmt.Errorf("conv geometry: kernel %dx%d larger than padded input %dx%d", g.KH, g.KW, g.H+2*g.PadH, g.W+2*g.PadW)
	}
	return nil
}

// PoolGeom is the geometry of a pooling window over an NHWC input, without
// padding: a window Size high (and SizeW wide; 0 means Size) moved Stride
// rows (and StrideW columns; 0 means Stride) at a time, so
// OH = (H-Size)/Stride+1 and OW = (W-SizeW)/StrideW+1. Max-pooling takes
// square windows only (SizeW and StrideW 0 or equal to Size and Stride);
// average pooling also rectangular ones (global average pooling is
// Size = H, SizeW = W).
type PoolGeom struct {
	N, H, W, C     int
	Size, Stride   int
	SizeW, StrideW int
}

// Window returns the window's height and width and the steps between
// windows vertically and horizontally.
func (g PoolGeom) Window() (kh, kw, sh, sw int) {
	kh, kw, sh, sw = g.Size, g.SizeW, g.Stride, g.StrideW
	if kw == 0 {
		kw = kh
	}
	if sw == 0 {
		sw = sh
	}
	return
}

// Square reports whether the window is square with equal steps.
func (g PoolGeom) Square() bool {
	kh, kw, sh, sw := g.Window()
	return kh == kw && sh == sw
}

// Out returns the output height and width.
func (g PoolGeom) Out() (oh, ow int) {
	kh, kw, sh, sw := g.Window()
	return (g.H-kh)/sh + 1, (g.W-kw)/sw + 1
}

// Validate reports an impossible geometry.
func (g PoolGeom) Validate() error {
	kh, kw, sh, sw := g.Window()
	if g.N <= 0 || g.H <= 0 || g.W <= 0 || g.C <= 0 || kh <= 0 || sh <= 0 || kw <= 0 || sw <= 0 || g.SizeW < 0 || g.StrideW < 0 || kh > g.H || kw > g.W {
		return fmt.Errorf("pool geometry %+v: sizes must be positive and the window must fit", g)
	}
	return nil
}

// Backend owns tensor storage and executes the op set. The pure-Go
// reference backend defines what every op means; other backends (Vulkan)
// must agree with it: integer results bit-exact, float results within the
// tolerances declared by package backendtest.
//
// Errors: an op with invalid arguments (wrong dtype, shapes that do not fit,
// a tensor of another backend) records an error instead of running. The
// first recorded error is returned by Err, Sync and every Read, and ops
// after it are skipped until the backend is closed. Ops may run
// asynchronously; Sync and Read wait for all recorded work.
//
// Unless said otherwise an op overwrites its outputs completely and its
// outputs must not alias its inputs. "Matrix [R, C]" means a tensor whose
// last dimension is C and whose other dimensions multiply to R.
type Backend interface {
	// Name names the backend and its device, e.g. "cpu" or "vulkan:0 (llvmpipe)".
	Name() string

	// New allocates a zero-filled tensor.
	New(dt DType, shape ...int) (Tensor, error)
	// Reshape returns a view of t with another shape and the same number
	// of elements, sharing storage.
	Reshape(t Tensor, shape ...int) (Tensor, error)
	// Free releases t's storage (views of it become invalid). Freeing nil
	// or twice is allowed.
	Free(t Tensor)
	// WriteF32 copies src (len == t.Len()) into an F32 tensor.
	WriteF32(t Tensor, src []float32) error
	// WriteI32 copies src (len == t.Len()) into an I32 or Q8 tensor.
	WriteI32(t Tensor, src []int32) error
	// ReadF32 waits for recorded work and copies an F32 tensor into dst.
	ReadF32(t Tensor, dst []float32) error
	// ReadI32 waits for recorded work and copies an I32 or Q8 tensor into dst.
	ReadI32(t Tensor, dst []int32) error
	// Sync waits for all recorded work and returns the first error.
	Sync() error
	// Err returns the first recorded error without waiting.
	Err() error
	// Close releases everything; safe to call twice.
	Close() error

	// Fill sets every element of an F32 tensor to v.
	Fill(t Tensor, v float32)
	// Copy copies src into dst (same dtype and length).
	Copy(dst, src Tensor)

	// MinMax writes [min, max, count of non-finite values] of the F32
	// tensor x into the F32 tensor dst of length 3; min and max are over
	// the finite values (0, 0 when there are none).
	MinMax(dst, x Tensor)
	// Histogram counts the F32 tensor x into the I32 tensor counts of
	// length bins: bin = floor((v-lo)/(hi-lo)*bins), clamped to
	// [0, bins-1]; non-finite values are not counted. hi > lo.
	Histogram(counts, x Tensor, lo, hi float32)

	// Quantize writes the codes of the F32 tensor x into the Q8 tensor q
	// (same shape) per p; per-channel specs index dimension 0.
	Quantize(q, x Tensor, p QuantSpec)
	// Dequantize writes x̂ = Scale*(q-Zero) of the Q8 tensor q into the
	// F32 tensor x (same shape).
	Dequantize(x, q Tensor, p QuantSpec)
	// QuantGrad is the straight-through backward of FakeQuantize(x, p)
	// given the gradient dxhat with respect to x̂ (all F32, x's shape).
	// With u = x·fl32(1/s) (quant.Scaled) and v = round(u)+z for the
	// slice's s and z:
	//   QMin <= v <= QMax: dx = dxhat, dScale += dxhat*(round(u)-u)
	//   v < QMin:          dx = 0,     dScale += dxhat*(QMin-z), dZero += -dxhat*s
	//   v > QMax:          dx = 0,     dScale += dxhat*(QMax-z), dZero += -dxhat*s
	// dScale and dZero are F32 tensors with len(p.Scale) elements
	// (overwritten, not accumulated across calls). dx may be nil.
	QuantGrad(dx, dScale, dZero, x, dxhat Tensor, p QuantSpec)

	// Im2ColI writes the im2col matrix [g.Rows(), g.K()] of the Q8 code
	// tensor x [N, H, W, C] into the Q8 tensor cols, with pad (the zero
	// point) outside the image.
	Im2ColI(cols, x Tensor, g ConvGeom, pad int32)
	// GemmI computes acc[m,n] = Σ_k a[m,k]*b[n,k] in wrapping int32
	// arithmetic for Q8 code matrices a [M, K] and b [N, K] into the I32
	// matrix acc [M, N].
	GemmI(acc, a, b Tensor)
	// RowSumI writes s[m] = Σ_k a[m,k] of the Q8 matrix a [M, K] into the
	// I32 tensor s [M].
	RowSumI(s, a Tensor)
	// Dequant turns int32 products into floats with the exact zero-point
	// correction (K = inner dimension of the product, pa per tensor, pb per
	// tensor or per n):
	//   y[m,n] = pa.Scale·pb.Scale[n]·(acc[m,n] - zb[n]·sa[m] - za·sb[n] + K·za·zb[n]) + bias[n]
	// The integer part is computed in wrapping int32 arithmetic, which is
	// exact whenever the true value Σ(qa-za)(qb-zb) fits in int32
	// (K ≤ 33000 for 8-bit codes). sa [M] and sb [N] are RowSumI results;
	// bias is F32 [N] or nil.
	Dequant(y, acc, sa, sb Tensor, k int, pa, pb QuantSpec, bias Tensor)

	// Gemm computes C = alpha·op(A)·op(B) + beta·C for F32 matrices, where
	// op(X) is X or Xᵀ (as stored, A is [M, K] or [K, M] when transA).
	// With beta == 0, C's old contents are ignored (NaN included).
	Gemm(c, a, b Tensor, transA, transB bool, alpha, beta float32)
	// Im2Col is Im2ColI for F32 tensors, padding with 0.
	Im2Col(cols, x Tensor, g ConvGeom)
	// Col2Im is the adjoint of Im2Col: dx [N, H, W, C] = Σ of cols
	// [g.Rows(), g.K()] entries that read each input element.
	Col2Im(dx, cols Tensor, g ConvGeom)
	// AddBias adds bias [C] to every row of the matrix y [R, C], in place.
	AddBias(y, bias Tensor)
	// ColSum writes s[c] = Σ_r x[r,c] of the matrix x [R, C] into s [C].
	ColSum(s, x Tensor)
	// ReLU writes y = max(x, 0). y may alias x.
	ReLU(y, x Tensor)
	// ReLUGrad writes dx = dy where y > 0, else 0. dx may alias dy.
	ReLUGrad(dx, dy, y Tensor)
	// MaxPool writes y [N, OH, OW, C] and, in the I32 tensor arg (y's
	// shape), the flat index into x of each maximum (the first one in
	// window order, row-major, when tied).
	MaxPool(y, arg, x Tensor, g PoolGeom)
	// MaxPoolGrad writes dx (x's shape, zeroed first) with dy routed to
	// the recorded maxima (accumulating where windows overlap).
	MaxPoolGrad(dx, dy, arg Tensor, g PoolGeom)

	// BatchNormTrain normalises the matrix x [R, C] per channel with batch
	// statistics: mean, biased variance var, invstd = 1/sqrt(var+eps),
	// xhat = (x-mean)·invstd, y = gamma·xhat + beta. It writes y, xhat,
	// mean [C] and invstd [C], and updates the running statistics in place:
	// runMean = (1-momentum)·runMean + momentum·mean, runVar likewise with
	// the unbiased variance var·R/(R-1) (var when R == 1).
	BatchNormTrain(y, xhat, mean, invstd, x, gamma, beta, runMean, runVar Tensor, momentum, eps float32)
	// BatchNormInfer writes y = gamma·(x-runMean)/sqrt(runVar+eps) + beta.
	BatchNormInfer(y, x, gamma, beta, runMean, runVar Tensor, eps float32)
	// BatchNormGrad writes, from dy, xhat [R, C] and invstd, gamma [C]:
	// dbeta = Σ_r dy, dgamma = Σ_r dy·xhat,
	// dx = gamma·invstd/R·(R·dy - dbeta - xhat·dgamma).
	BatchNormGrad(dx, dgamma, dbeta, dy, xhat, invstd, gamma Tensor)

	// CompensateTrain applies the error-compensation layer in training
	// mode to the matrix x [R, C]: mean[c] = Σ_r x[r,c]/R (the expectation
	// E), y = x + gamma·mean + beta per channel, and
	// runMean = (1-momentum)·runMean + momentum·mean in place.
	CompensateTrain(y, mean, x, gamma, beta, runMean Tensor, momentum float32)
	// CompensateInfer writes y = x + gamma·runMean + beta per channel.
	CompensateInfer(y, x, gamma, beta, runMean Tensor)
	// CompensateGrad writes, with s[c] = Σ_r dy[r,c]: dbeta = s,
	// dgamma = mean·s, and dx = dy + gamma·s/R when train (the gradient
	// through the batch mean), dx = dy otherwise. dx may alias dy.
	CompensateGrad(dx, dgamma, dbeta, dy, mean, gamma Tensor, train bool)

	// Add writes y = a + b elementwise (F32, same length): the residual
	// add, and the sum of the gradients of a tensor read twice. y may
	// alias a.
	Add(y, a, b Tensor)
	// AvgPool writes y [N, OH, OW, C] = the mean of each window of x
	// [N, H, W, C]: the float32 sum in window order (row-major) times the
	// float32 1/(window height·width). Global average pooling is a window
	// of the whole image.
	AvgPool(y, x Tensor, g PoolGeom)
	// AvgPoolGrad writes dx (x's shape, zeroed first) = Σ over the windows
	// containing each element of dy·(1/(window height·width)), the terms
	// added in increasing output order.
	AvgPoolGrad(dx, dy Tensor, g PoolGeom)
	// DWConvI is the integer depthwise convolution: channel c of the Q8
	// image x [N, H, W, C] convolved with its own filter of the Q8 tensor w
	// [C, KH, KW] (g.C = C; g.KH, g.KW, strides and padding as for Conv),
	// with the zero points subtracted first:
	//   acc[n,oh,ow,c] = Σ_{kh,kw} (x[n,iy,ix,c]-pa.Zero[0])·(w[c,kh,kw]-pb.Zero[c])
	// in wrapping int32, where a tap outside the image adds nothing (the
	// zero-padded x̂ is 0 there). acc is I32 [N, OH, OW, C]. Only the zero
	// points of pa (per tensor) and pb (per tensor or per channel) are
	// used; Dequant with zero points 0 and zero row sums then gives x̂∗ŵ.
	DWConvI(acc, x, w Tensor, g ConvGeom, pa, pb QuantSpec)
	// DWConv is the float depthwise convolution: y [N, OH, OW, C], each
	// output the float32 sum over (kh, kw) in row-major order of
	// x[n,iy,ix,c]·w[c,kh,kw], taps outside the image skipped.
	DWConv(y, x, w Tensor, g ConvGeom)
	// DWConvGradX writes dx [N, H, W, C] = Σ dy[n,oh,ow,c]·w[c,kh,kw] over
	// the outputs whose window reads x[n,iy,ix,c].
	DWConvGradX(dx, dy, w Tensor, g ConvGeom)
	// DWConvGradW writes dw [C, KH, KW] = Σ_{n,oh,ow} dy[n,oh,ow,c]·
	// x[n,iy,ix,c] (taps outside the image add nothing).
	DWConvGradW(dw, dy, x Tensor, g ConvGeom)
}

// FusedBNReLU is an optional ability (found by type assertion): batch
// normalisation and the ReLU after it as one op, so that the activations
// are written once forward and read once less backward. Its ops are
// declared in the contract like every other (OpBatchNormReLUTrain, ...),
// the suite holds them to the composed ops they replace, and package nn
// uses them where a batch norm's only reader is a ReLU, falling back to
// the composed ops on a backend without the ability.
type FusedBNReLU interface {
	// BatchNormReLUTrain is BatchNormTrain followed by ReLU(y, y): the
	// same statistics, running statistics and xhat, and y = max(BN, 0)
	// (a NaN or non-positive BN output gives +0).
	BatchNormReLUTrain(y, xhat, mean, invstd, x, gamma, beta, runMean, runVar Tensor, momentum, eps float32)
	// BatchNormReLUInfer is BatchNormInfer followed by ReLU.
	BatchNormReLUInfer(y, x, gamma, beta, runMean, runVar Tensor, eps float32)
	// BatchNormReLUGrad is ReLUGrad(dy', dy, y) followed by
	// BatchNormGrad(dx, dgamma, dbeta, dy', xhat, invstd, gamma), where y
	// is the output of BatchNormReLUTrain: dy counts only where y > 0.
	BatchNormReLUGrad(dx, dgamma, dbeta, dy, y, xhat, invstd, gamma Tensor)
}

// FusedCompBN is an optional ability (found by type assertion): the
// error-compensation layer, the batch normalisation that reads its output
// and optionally the ReLU after it as one op, so that the compensated
// activations yc are never written (and, on a device, the passes over the
// activations are fewer). The compensation's operands are prefixed with c
// (cgamma, cbeta, cRunMean, its batch mean cmean); the others are the batch
// norm's. The suite holds each op to the composition it names; package nn
// uses them where a batch norm is the only reader of a compensation layer.
type FusedCompBN interface {
	// CompBNTrain is CompensateTrain(yc, cmean, x, cgamma, cbeta, cRunMean,
	// cMomentum), then BatchNormTrain(y, xhat, mean, invstd, yc, gamma, beta,
	// runMean, runVar, momentum, eps), then ReLU(y, y) where relu, for the
	// matrix x [R, C] and a yc of x's shape that is not stored. xhat may
	// be nil: then it is not stored either (CompBNGradFromX recomputes
	// it).
	CompBNTrain(y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar Tensor, cMomentum, momentum, eps float32, relu bool)
	// CompBNInfer is CompensateInfer(yc, x, cgamma, cbeta, cRunMean), then
	// BatchNormInfer(y, yc, gamma, beta, runMean, runVar, eps), then
	// ReLU(y, y) where relu.
	CompBNInfer(y, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar Tensor, eps float32, relu bool)
	// CompBNGrad is, where y (the output of CompBNTrain with relu) is not
	// nil, ReLUGrad(dy', dy, y), then BatchNormGrad(dxc, dgamma, dbeta, dy',
	// xhat, invstd, gamma) (dy' = dy without y), then CompensateGrad(dx,
	// dcgamma, dcbeta, dxc, cmean, cgamma, true), with dxc [R, C] not
	// stored: dx is the gradient with respect to the compensation's input.
	CompBNGrad(dx, dgamma, dbeta, dcgamma, dcbeta, dy, y, xhat, invstd, gamma, cmean, cgamma Tensor)
	// CompBNGradFromX is CompBNGrad with xhat, and with relu the ReLU's
	// output y, not read but recomputed from the compensation's input x
	// [R, C] and the per-channel operands CompBNTrain used and wrote
	// (mean, invstd, gamma, beta, cmean, cgamma, cbeta) with CompBNTrain's
	// arithmetic: xhat = (((x + cgamma·cmean) + cbeta) − mean)·invstd and
	// y = ReLU(gamma·xhat + beta), each step rounded as CompBNTrain rounds
	// it, so the results are CompBNGrad's with the xhat and y that
	// CompBNTrain writes, bit for bit. It lets CompBNTrain skip writing
	// xhat: one pass over the activations fewer forward and one matrix
	// fewer read backward. Where dxSum [C] is not nil it also gets
	// ColSum(dxSum, dx), the column sums of dx (the bias gradient of the
	// layer before the compensation), within ColSum's tolerance.
	CompBNGradFromX(dx, dgamma, dbeta, dcgamma, dcbeta, dxSum, dy, x, mean, invstd, gamma, beta, cmean, cgamma, cbeta Tensor, relu bool)
}

// FusedGemmIDequant is an optional ability (found by type assertion): the
// integer matrix product of a quantized layer with its exact
// dequantization as the GEMM's epilogue, so that the int32 products and
// the row sums of the codes are never stored. The suite holds it to the
// composed ops; package nn uses it for every quantized conv and fc layer
// when the backend has it.
type FusedGemmIDequant interface {
	// GemmIDequant computes, for the Q8 codes a [M, K] and b [N, K], the
	// weight row sums sb [N] and the optional bias [N]:
	// GemmI(acc, a, b), RowSumI(sa, a) and then
	// Dequant(y, acc, sa, sb, K, pa, pb, bias), bit for bit, into y [M, N].
	GemmIDequant(y, a, b, sb, bias Tensor, pa, pb QuantSpec)
}

// FusedConv is an optional ability (found by type assertion): the passes
// of a quantized convolution run straight from the image, without the
// im2col matrices (of the codes, of their dequantized values and of the
// input gradient) that the composed ops read and write. The suite holds
// each op to its composition; package nn uses them for the quantized conv
// layers when the backend has the ability.
type FusedConv interface {
	// ConvIDequant is the integer convolution of the Q8 NHWC image codes
	// qx [N, H, W, C] with the Q8 weight codes qw [Out, K] (K = g.K(),
	// columns in im2col order) and its exact dequantization:
	// Im2ColI(cols, qx, g, xs.Zero[0]) (padding with the input's zero
	// point), then GemmIDequant(y, cols, qw, sw, bias, xs, ws), bit for bit,
	// into y [g.Rows(), Out]. sw [Out] holds the row sums of qw (RowSumI),
	// bias [Out] is optional; xs is per tensor, ws per tensor or per output
	// channel.
	ConvIDequant(y, qx, qw, sw, bias Tensor, g ConvGeom, xs, ws QuantSpec)
	// ConvGradWQ is the weight gradient read from the input codes:
	// dw [Out, K] = Gemm(dy, x̂cols, transA) with x̂cols =
	// Dequantize(Im2ColI(qx, g, xs.Zero[0]), xs), i.e. dw[o,k] = Σ_r
	// dy[r,o]·x̂cols[r,k] (a padded tap contributes dy·(+0)), for dy
	// [g.Rows(), Out] and the Q8 image codes qx [N, H, W, C]; xs is per
	// tensor. Float results agree with the composition within Gemm's
	// tolerance (the order of the sum over r is the backend's).
	ConvGradWQ(dw, dy, qx Tensor, g ConvGeom, xs QuantSpec)
	// ConvGradX is the input gradient: dx [N, H, W, C] =
	// Col2Im(Gemm(dy, w, false, false, 1, 0), g) for dy [g.Rows(), Out]
	// and the float weights w [Out, K], i.e. dx at each input element the
	// sum, over the taps that read it and the Out channels, of
	// dy[r,o]·w[o,k]. Float results agree with the composition within
	// the tolerance of Gemm and Col2Im.
	ConvGradX(dx, dy, w Tensor, g ConvGeom)
}

// FusedQuantize is an optional ability (found by type assertion): the
// input quantization of a quantized layer (its statistics and its codes)
// in one pass with the op that produces the input, so that the
// activations are read once instead of two or three times. q is a Q8
// tensor with as many elements as the quantized tensor; element i in
// row-major order is code i of q, laid out by q's own shape (which may be
// the consumer's matrix, e.g. [N, H·W·C] for an image y [N, H, W, C]:
// only a backend that packs codes sees the difference). stats [3] is
// MinMax's output; p is per tensor. The suite holds each op to the
// composition it names; package nn uses them for the layers whose output
// only a quantized layer reads, and for the quantized layers' inputs.
type FusedQuantize interface {
	// QuantizeMinMax is MinMax(stats, x), then Quantize(q, x', p) for x'
	// x viewed with q's shape.
	QuantizeMinMax(q, stats, x Tensor, p QuantSpec)
	// MaxPoolQuant is MaxPool(y, arg, x, g), then MinMax(stats, y), then
	// Quantize(q, y', p) for y' y viewed with q's shape: y and arg are
	// written as MaxPool writes them (the backward passes read them).
	MaxPoolQuant(y, arg, q, stats, x Tensor, g PoolGeom, p QuantSpec)
	// ReLUQuant is ReLU(y, x), then MinMax(stats, y), then Quantize(q,
	// y', p) for y' y viewed with q's shape; y is written (ReLUGrad and
	// the consumer's QuantGrad read it). y must not alias x.
	ReLUQuant(y, q, stats, x Tensor, p QuantSpec)
	// CompBNPoolQuant is CompBNTrain(yb, nil, mean, invstd, cmean, x,
	// cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, cMomentum,
	// momentum, eps, relu) for the image x [N, H, W, C] (as the matrix
	// [N·H·W, C]), then MaxPoolQuant(y, arg, q, stats, yb, g, p), with the
	// batch norm's output yb never stored: its elements are computed as
	// the pooling reads them. The backward needs no yb: MaxPoolGrad reads
	// arg, FusedCompBN.CompBNGradFromX recomputes xhat and the ReLU's mask
	// from x.
	CompBNPoolQuant(y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar Tensor, cMomentum, momentum, eps float32, relu bool, g PoolGeom, p QuantSpec)
}

// FusedWeightGrad is an optional ability (found by type assertion): the
// per-step preparation of a quantized layer's weights and their gradient,
// each as one op, so that the weight codes, their row sums and their
// dequantized values come from one pass over the weights, and the
// dequantized input matrix and the gradient with respect to the
// dequantized weights are never stored. The suite holds each op to the
// composition it names; package nn uses them for the quantized conv and
// fc layers (DenseGradWQ for the fc layers, ConvGradWQuant for the conv
// layers) when the backend has the ability.
type FusedWeightGrad interface {
	// QuantizeWeights is Quantize(qw, w, p), then RowSumI(sw, qw) where sw
	// is not nil, then Dequantize(what, qw, p) where what is not nil, bit
	// for bit, for the weights w, a matrix [Out, K] whose rows are
	// dimension 0 (p per tensor or one scale per row), qw [Out, K], sw
	// [Out] and what [Out, K].
	QuantizeWeights(qw, sw, what, w Tensor, p QuantSpec)
	// DenseGradWQ is the weight side of a quantized dense layer's
	// backward, for dy [R, Out], the Q8 input codes qx [R, K] (xs per
	// tensor) and the float weights w [Out, K] (ws per tensor or one scale
	// per row): ColSum(dBias, dy) where dBias is not nil, then
	// x̂ = Dequantize(qx, xs), dWHat = Gemm(dy, x̂, true, false, 1, 0)
	// ([Out, K], not stored) and QuantGrad(gw, dScale, dZero, w, dWHat, ws).
	// gw [Out, K] and the clipping of each element are the composition's;
	// the float sums (over R, and QuantGrad's over each slice) may be in
	// the backend's order: results agree within the tolerances of Gemm,
	// ColSum and QuantGrad.
	DenseGradWQ(gw, dScale, dZero, dBias, dy, qx, w Tensor, xs, ws QuantSpec)
	// ConvGradWQuant is the weight side of a quantized conv layer's
	// backward, DenseGradWQ's analogue with ConvGradWQ's product: for dy
	// [g.Rows(), Out], the Q8 image codes qx [N, H, W, C] (xs per tensor)
	// and the float weights w [Out, K] (K = g.K(); ws per tensor or one
	// scale per row): ColSum(dBias, dy) where dBias is not nil, then
	// dWHat = ConvGradWQ(dy, qx, g, xs) ([Out, K], not stored) and
	// QuantGrad(gw, dScale, dZero, w, dWHat, ws). gw [Out, K] and the
	// clipping of each element are the composition's; the float sums
	// (over the rows, and QuantGrad's over each slice) may be in the
	// backend's order: results agree within the tolerances of ConvGradWQ,
	// ColSum and QuantGrad.
	ConvGradWQuant(gw, dScale, dZero, dBias, dy, qx, w Tensor, g ConvGeom, xs, ws QuantSpec)
}

// Recomputer is an optional ability: where PrefersRecompute reports true,
// the backend would rather recompute an intermediate matrix from an op's
// inputs than store it forward and read it backward, and package nn then
// uses the ops that do (FusedCompBN.CompBNGradFromX, with CompBNTrain not
// writing xhat). Both ways give the same results bit for bit; which is
// faster depends on what costs more, memory traffic (a GPU, and lavapipe,
// whose loads are per SIMD lane) or arithmetic (the reference backend,
// whose recomputation is extra passes over the matrix).
type Recomputer interface {
	// PrefersRecompute reports whether recomputation is the faster way.
	PrefersRecompute() bool
}

// FusedStats is an optional ability (found by type assertion): the
// batch-norm statistics gathered where the activations are produced. A
// quantized convolution writes, with its output y, the column statistics
// of y (in its epilogue, where the backend can), and the compensation +
// batch norm ops that read y take them instead of computing them, so that
// no pass over y is spent on statistics. xstats [2, C] holds, per column
// j of a matrix x [R, C], the mean xstats[0, j] = Σ_r x[r,j] / R and the
// sum of squared deviations from it xstats[1, j] = Σ_r (x[r,j] − mean)²
// (not divided by R). The suite holds each op to the composition it
// names; package nn uses them for a quantized conv read only by a
// compensation layer read only by a batch norm, where the backend prefers
// them (PrefersEpilogueStats).
type FusedStats interface {
	// ConvIDequantStats is FusedConv.ConvIDequant(y, qx, qw, sw, bias, g,
	// xs, ws), y bit for bit, and the statistics of y [g.Rows(), Out] into
	// xstats [2, Out], within the tolerance of BatchNormTrain's statistics
	// (the order of the sums is the backend's).
	ConvIDequantStats(y, qx, qw, sw, bias, xstats Tensor, g ConvGeom, xs, ws QuantSpec)
	// CompBNTrainStats is FusedCompBN.CompBNTrain with the statistics of
	// x taken from xstats (the statistics of x as defined above) instead
	// of computed: the compensation's batch mean cmean = xstats[0], the
	// batch norm's mean float32(float32(m + float32(cgamma·m)) + cbeta)
	// for m = xstats[0] (the mean of the compensated values up to
	// rounding) and its variance xstats[1]/R (a per-channel shift leaves
	// it unchanged), then the running statistics, invstd =
	// 1/float32(sqrt(var+eps)) and the outputs with CompBNTrain's
	// arithmetic. Given the same xstats every backend's results agree
	// bit for bit but for invstd's square root (within 1 ulp).
	CompBNTrainStats(y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats Tensor, cMomentum, momentum, eps float32, relu bool)
	// CompBNPoolQuantStats is FusedQuantize.CompBNPoolQuant with the
	// statistics taken from xstats as CompBNTrainStats takes them:
	// CompBNTrainStats(yb, nil, ..., xstats, ...) then MaxPoolQuant of yb,
	// with yb never stored.
	CompBNPoolQuantStats(y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats Tensor, cMomentum, momentum, eps float32, relu bool, g PoolGeom, p QuantSpec)
	// PrefersEpilogueStats reports whether the statistics from the
	// producer are the faster way on this backend (where the producer
	// gathers them in its epilogue); package nn uses the ops only then.
	PrefersEpilogueStats() bool
}

// HostAccess is an optional ability of backends whose tensors live in
// host-visible memory (the CPU, unified-memory GPUs): direct access to a
// tensor's elements without a copy. A slice stays valid until the tensor
// is freed; the host may read or write it only while no recorded work is
// pending (after Sync or a Read), and its writes are seen by ops recorded
// afterwards. The trainer uses it to update parameters in place.
type HostAccess interface {
	// HostF32 returns the elements of an F32 tensor.
	HostF32(t Tensor) ([]float32, bool)
	// HostI32 returns the elements of an I32 tensor (and of a Q8 tensor
	// where the backend stores codes as int32).
	HostI32(t Tensor) ([]int32, bool)
}

// Profiler is an optional ability of backends that time their kernels on
// the device (the Vulkan backend, through timestamp queries).
type Profiler interface {
	// StartProfile starts accumulating per-kernel device time (and may
	// slow execution down).
	StartProfile()
	// StopProfile stops and returns the time per kernel name.
	StopProfile() []KernelStat
}

// KernelStat is the device time of one kernel summed over its dispatches.
type KernelStat struct {
	Name  string        `json:"name"`
	Calls int           `json:"calls"`
	Total time.Duration `json:"total_ns"`
}
