package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/vktrain/vktrain/nn/backend"
)

// DepthwiseConv2D is a quantized depthwise convolution over NHWC input:
// each channel is convolved with its own Kernel×Kernel filter. It is
// quantized exactly like Conv2D (S100: per-tensor input codes, per-channel
// weight codes; LSQ+ or statistics-driven ranges), multiplies the codes
// with their zero points subtracted in int32 (DWConvI; padding is x̂ = 0)
// and dequantizes exactly plus bias (S200). Weights are [C, K, K], bias
// [C]. In float mode it runs the float depthwise convolution.
type DepthwiseConv2D struct {
	name             string
	Channels, Kernel int
	Stride, Pad      int
	*dense

	zx, zw []int32 // zero points 0 for the dequantization of x̂∗ŵ
	ws     wsCache[dwWS]
	cur    *dwWS
}

var _ quantLayer = (*DepthwiseConv2D)(nil)

type dwWS struct {
	g        backend.ConvGeom
	x        backend.Tensor // last input
	qx       backend.Tensor // Q8 input codes
	acc      backend.Tensor // I32 [N, OH, OW, C]
	sa, sb   backend.Tensor // I32 [R], [C]: zero row sums
	y        backend.Tensor // F32 [N, OH, OW, C]
	xhat     backend.Tensor // F32 input shape: dequantized codes
	dxhat    backend.Tensor // F32 input shape
	dx       backend.Tensor // F32 input shape
	stats    backend.Tensor // F32 [3] input min/max/non-finite
	hasStats bool
}

// NewDepthwiseConv2D returns a depthwise convolution over channels
// channels with kernel×kernel filters, initialised from rng (He, fan-in
// kernel·kernel).
func NewDepthwiseConv2D(name string, channels, kernel, stride, pad int, cfg QuantConfig, rng *rand.Rand) (*DepthwiseConv2D, error) {
	if channels <= 0 || kernel <= 0 || stride <= 0 || pad < 0 {
		return nil, fmt.Errorf("%s: bad depthwise conv parameters (channels %d, kernel %d, stride %d, pad %d)", name, channels, kernel, stride, pad)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	l := &DepthwiseConv2D{name: name, Channels: channels, Kernel: kernel, Stride: stride, Pad: pad,
		dense: newDense(name, channels, kernel*kernel, []int{channels, kernel, kernel}, cfg, rng)}
	l.noRowSums = true // DWConvI subtracts the zero points itself
	if l.wq != nil {
		l.zx = make([]int32, 1)
		l.zw = make([]int32, l.wq.channels)
	}
	return l, nil
}

// Name returns the layer's name.
func (l *DepthwiseConv2D) Name() string { return l.name }

// Params returns weight, bias and quantizer parameters.
func (l *DepthwiseConv2D) Params() []*Param { return l.dense.params() }

func (l *DepthwiseConv2D) geom(in []int) (backend.ConvGeom, error) {
	if err := checkRank(l.name, in, 4); err != nil {
		return backend.ConvGeom{}, err
	}
	if in[3] != l.Channels {
		return backend.ConvGeom{}, fmt.Errorf("%s: input has %d channels, layer expects %d", l.name, in[3], l.Channels)
	}
	g := backend.ConvGeom{N: in[0], H: in[1], W: in[2], C: in[3], KH: l.Kernel, KW: l.Kernel, StrideH: l.Stride, StrideW: l.Stride, PadH: l.Pad, PadW: l.Pad}
	if err := g.Validate(); err != nil {
		return g, fmt.Errorf("%s: %w", l.name, err)
	}
	return g, nil
}

// OutShape returns [N, OH, OW, C].
func (l *DepthwiseConv2D) OutShape(in []int) ([]int, error) {
	g, err := l.geom(in)
	if err != nil {
		return nil, err
	}
	oh, ow := g.Out()
	return []int{in[0], oh, ow, l.Channels}, nil
}

// Bind allocates parameters on b.
func (l *DepthwiseConv2D) Bind(b backend.Backend) error {
	l.ws.release()
	l.cur = nil
	return l.dense.bind(b)
}

// Release frees backend state.
func (l *DepthwiseConv2D) Release() {
	l.ws.release()
	l.cur = nil
	l.dense.release()
}

func (l *DepthwiseConv2D) workspace(b backend.Backend, in []int) (*dwWS, error) {
	return l.ws.get(in[0], func() (*dwWS, *workspace, error) {
		g, err := l.geom(in)
		if err != nil {
			return nil, nil, err
		}
		oh, ow := g.Out()
		w := &workspace{b: b}
		s := &dwWS{g: g}
		if l.wq != nil {
			s.qx = w.q8(in...)
			s.acc = w.i32(in[0], oh, ow, l.Channels)
			s.sa = w.i32(g.Rows())
			s.sb = w.i32(l.Channels)
			s.xhat = w.f32(in...)
			s.dxhat = w.f32(in...)
		}
		s.stats = w.f32(3)
		s.y = w.f32(in[0], oh, ow, l.Channels)
		s.dx = w.f32(in...)
		return s, w, w.err
	})
}

// zeroSpecs returns the input and weight specs with zero points 0: the
// integer accumulator already holds Σ(qx-zx)(qw-zw).
func (l *DepthwiseConv2D) zeroSpecs(xs, ws backend.QuantSpec) (backend.QuantSpec, backend.QuantSpec) {
	xs.Zero, ws.Zero = l.zx, l.zw
	return xs, ws
}

// Forward runs the depthwise convolution.
func (l *DepthwiseConv2D) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	s, err := l.workspace(c.B, x.Shape())
	if err != nil {
		return nil, err
	}
	s.x = x
	l.cur = s
	b := c.B
	if l.wq == nil {
		b.DWConv(s.y, x, l.W.Value, s.g)
		b.AddBias(s.y, l.B.Value)
		return s.y, nil
	}
	if err := l.prepareWeights(c); err != nil {
		return nil, err
	}
	if err := l.prepareInput(c, x); err != nil {
		return nil, err
	}
	s.hasStats = true
	l.quantizeInput(c, s.qx, s.stats, x, x)
	xs, ws := l.xq.Spec(), l.wq.Spec()
	b.DWConvI(s.acc, s.qx, l.qw, s.g, xs, ws)
	xs0, ws0 := l.zeroSpecs(xs, ws)
	b.Dequant(s.y, s.acc, s.sa, s.sb, l.k, xs0, ws0, l.B.Value)
	return s.y, nil
}

// Backward computes weight, bias and quantizer gradients and dx: with x̂
// and ŵ the dequantized codes, dx̂ = DWConvGradX(dy, ŵ) and
// dŵ = DWConvGradW(dy, x̂), passed through the straight-through
// quantizer gradients (S300).
func (l *DepthwiseConv2D) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	s := l.cur
	if s == nil || dy.Len() != s.y.Len() {
		return nil, fmt.Errorf("%s: Backward without a matching training Forward", l.name)
	}
	b := c.B
	b.ColSum(l.B.GradT, dy)
	if l.wq == nil {
		b.DWConvGradW(l.W.GradT, dy, s.x, s.g)
		if !needDX {
			return nil, nil
		}
		b.DWConvGradX(s.dx, dy, l.W.Value, s.g)
		return s.dx, nil
	}
	xs, ws := l.xq.Spec(), l.wq.Spec()
	b.Dequantize(s.xhat, s.qx, xs)
	l.dequantWeights(b, ws)
	b.DWConvGradW(l.dWHat, dy, s.xhat, s.g)
	b.QuantGrad(l.gw2, l.wq.Scale.GradT, l.wq.Zero.GradT, l.w2, l.dWHat, ws)
	if !needDX && !l.learnsInput() {
		return nil, nil
	}
	// A learned input quantizer's scale/zero need dx̂ even for the first layer.
	b.DWConvGradX(s.dxhat, dy, l.wHat, s.g)
	if !needDX {
		b.QuantGrad(nil, l.xq.Scale.GradT, l.xq.Zero.GradT, s.x, s.dxhat, xs)
		return nil, nil
	}
	b.QuantGrad(s.dx, l.xq.Scale.GradT, l.xq.Zero.GradT, s.x, s.dxhat, xs)
	return s.dx, nil
}

// statsTensor returns the input statistics recorded by the last forward.
func (l *DepthwiseConv2D) statsTensor() backend.Tensor {
	if l.cur == nil || !l.cur.hasStats {
		return nil
	}
	return l.cur.stats
}

// inputLen returns the number of input elements of the last forward.
func (l *DepthwiseConv2D) inputLen() int {
	if l.cur == nil {
		return 1
	}
	return l.cur.x.Len()
}
