package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/vktrain/vktrain/nn/backend"
)

// Conv2D is a quantized 2-D convolution over NHWC input: quantize input
// and weights (S100), im2col on the integer codes (padding with the input
// zero point, which stands for 0.0), int8×int8→int32 product and exact
// dequantization plus bias (S200). Weights are [Out, KH, KW, C].
//
// On a backend with backend.FusedConv (unless the model is Unfused) the
// quantized passes run without im2col matrices: ConvIDequant forward,
// ConvGradWQ and ConvGradX backward, the same results as the composed ops
// (bit for bit on the reference backend).
type Conv2D struct {
	name        string
	Out, Kernel int
	Stride, Pad int
	inC         int
	*dense
	ws  wsCache[convWS]
	cur *convWS
	dyv viewCache
	// fuseConv: the quantized passes run as backend.FusedConv ops, set by
	// Model.Bind.
	fuseConv bool
	// biasFed: the batch norm after this layer already wrote the bias
	// gradient for this dy (BatchNorm.bias).
	biasFed handOver
	// statsTo: the hand-over of the statistics of this layer's output to
	// the batch norm reading it through a compensation layer, where the
	// backend gathers them in the convolution
	// (backend.FusedStats.ConvIDequantStats); nil otherwise. Set by
	// Model.Bind.
	statsTo *statsFeed
}

type convWS struct {
	g        backend.ConvGeom
	x        backend.Tensor // last input (kept for the quantizer gradient)
	qx       backend.Tensor // I32 input codes
	colsI    backend.Tensor // I32 [R, K] (nil when fused)
	acc, sa  backend.Tensor // I32 [R, out], [R] (nil when fused)
	colsF    backend.Tensor // F32 [R, K]: x̂ (quantized) or x (float) columns (nil when fused)
	y, y4    backend.Tensor // F32 [R, out] and its NHWC view [N, OH, OW, out]
	dcols    backend.Tensor // F32 [R, K] (nil when fused)
	dxhat    backend.Tensor // F32 input shape
	dx       backend.Tensor // F32 input shape
	stats    backend.Tensor // F32 [3] input min/max/non-finite
	hasStats bool
	xstats   backend.Tensor // F32 [2, out]: y's statistics (with statsTo)
}

// NewConv2D returns a convolution with out filters of size kernel×kernel
// over inC input channels, initialised from rng.
func NewConv2D(name string, inC, out, kernel, stride, pad int, cfg QuantConfig, rng *rand.Rand) (*Conv2D, error) {
	if inC <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || pad < 0 {
		return nil, fmt.Errorf("%s: bad conv parameters (in %d, out %d, kernel %d, stride %d, pad %d)", name, inC, out, kernel, stride, pad)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	k := kernel * kernel * inC
	return &Conv2D{name: name, Out: out, Kernel: kernel, Stride: stride, Pad: pad, inC: inC,
		dense: newDense(name, out, k, []int{out, kernel, kernel, inC}, cfg, rng)}, nil
}

// Name returns the layer's name.
func (l *Conv2D) Name() string { return l.name }

// Params returns weight, bias and quantizer parameters.
func (l *Conv2D) Params() []*Param { return l.dense.params() }

func (l *Conv2D) geom(in []int) (backend.ConvGeom, error) {
	if err := checkRank(l.name, in, 4); err != nil {
		return backend.ConvGeom{}, err
	}
	if in[3] != l.inC {
		return backend.ConvGeom{}, fmt.Errorf("%s: input has %d channels, layer expects %d", l.name, in[3], l.inC)
	}
	g := backend.ConvGeom{N: in[0], H: in[1], W: in[2], C: in[3], KH: l.Kernel, KW: l.Kernel, StrideH: l.Stride, StrideW: l.Stride, PadH: l.Pad, PadW: l.Pad}
	if err := g.Validate(); err != nil {
		return g, fmt.Errorf("%s: %w", l.name, err)
	}
	return g, nil
}

// OutShape returns [N, OH, OW, Out].
func (l *Conv2D) OutShape(in []int) ([]int, error) {
	g, err := l.geom(in)
	if err != nil {
		return nil, err
	}
	oh, ow := g.Out()
	return []int{in[0], oh, ow, l.Out}, nil
}

// Bind allocates parameters on b.
func (l *Conv2D) Bind(b backend.Backend) error {
	l.ws.release()
	l.cur = nil
	return l.dense.bind(b)
}

// Release frees backend state.
func (l *Conv2D) Release() { l.ws.release(); l.cur = nil; l.dense.release() }

func (l *Conv2D) workspace(b backend.Backend, in []int) (*convWS, error) {
	return l.ws.get(in[0], func() (*convWS, *workspace, error) {
		g, err := l.geom(in)
		if err != nil {
			return nil, nil, err
		}
		oh, ow := g.Out()
		r, k := g.Rows(), g.K()
		w := &workspace{b: b}
		s := &convWS{g: g}
		_, fused := l.fusedConv(abilitiesOf(b)) // once per batch size
		if l.wq != nil {
			s.qx = w.q8(in...)
			if !fused {
				s.colsI = w.q8(r, k)
				s.acc = w.i32(r, l.Out)
				s.sa = w.i32(r)
			}
			s.dxhat = w.f32(in...)
		}
		s.stats = w.f32(3)
		if !fused {
			s.colsF = w.f32(r, k)
			s.dcols = w.f32(r, k)
		}
		s.y = w.f32(r, l.Out)
		s.y4 = w.view(s.y, in[0], oh, ow, l.Out)
		if l.statsTo != nil {
			s.xstats = w.f32(2, l.Out)
		}
		s.dx = w.f32(in...)
		return s, w, w.err
	})
}

// fusedConv returns the FusedConv ability of the abilities ab and
// whether the layer's quantized passes use it.
func (l *Conv2D) fusedConv(ab *abilities) (backend.FusedConv, bool) {
	return ab.conv, ab.conv != nil && l.fuseConv && l.wq != nil
}

// Forward runs the convolution.
func (l *Conv2D) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	s, err := l.workspace(c.B, x.Shape())
	if err != nil {
		return nil, err
	}
	s.x = x
	l.cur = s
	if l.statsTo != nil {
		l.statsTo.set(nil, nil) // set again below where this pass writes them
	}
	if err := l.prepareWeights(c); err != nil {
		return nil, err
	}
	b := c.B
	if l.wq == nil {
		b.Im2Col(s.colsF, x, s.g)
		if err := l.forwardFloat(c, s.y, s.colsF); err != nil {
			return nil, err
		}
		return s.y4, nil
	}
	if err := l.prepareInput(c, x); err != nil {
		return nil, err
	}
	s.hasStats = true
	l.quantizeInput(c, s.qx, s.stats, x, x)
	xs := l.xq.Spec()
	if f, ok := l.fusedConv(c.abil()); ok {
		if fs := c.abil().stats; fs != nil && l.statsTo != nil && s.xstats != nil && c.Train {
			fs.ConvIDequantStats(s.y, s.qx, l.qw, l.sw, l.B.Value, s.xstats, s.g, xs, l.wq.Spec())
			l.statsTo.set(s.y4, s.xstats)
			return s.y4, nil
		}
		f.ConvIDequant(s.y, s.qx, l.qw, l.sw, l.B.Value, s.g, xs, l.wq.Spec())
		return s.y4, nil
	}
	b.Im2ColI(s.colsI, s.qx, s.g, xs.Zero[0])
	l.forwardInt(c, s.y, s.acc, s.sa, s.colsI)
	return s.y4, nil
}

// Backward computes weight, bias and quantizer gradients and dx.
func (l *Conv2D) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	s := l.cur
	if s == nil || dy.Len() != s.y.Len() {
		return nil, fmt.Errorf("%s: Backward without a matching training Forward", l.name)
	}
	b := c.B
	dy2, err := l.dyv.reshape(b, dy, s.g.Rows(), l.Out)
	if err != nil {
		return nil, err
	}
	// The batch norm reading this layer (through a compensation) wrote
	// the bias gradient, the column sums of dy, in its backward.
	fed := l.biasFed.take(dy)
	if f, ok := l.fusedConv(c.abil()); ok {
		return l.backwardFused(c, f, s, dy2, needDX, fed), nil
	}
	if l.wq != nil {
		// x̂ columns: the dequantized codes, whose padding (the zero point) is 0.
		b.Dequantize(s.colsF, s.colsI, l.xq.Spec())
	}
	var dcols backend.Tensor
	if needDX || l.learnsInput() {
		dcols = s.dcols // a learned input quantizer's scale/zero need it even for the first layer
	}
	if err := l.backward(c, dy2, s.colsF, dcols); err != nil {
		return nil, err
	}
	if !needDX {
		if l.learnsInput() {
			b.Col2Im(s.dxhat, s.dcols, s.g)
			b.QuantGrad(nil, l.xq.Scale.GradT, l.xq.Zero.GradT, s.x, s.dxhat, l.xq.Spec())
		}
		return nil, nil
	}
	if l.xq == nil {
		b.Col2Im(s.dx, s.dcols, s.g)
		return s.dx, nil
	}
	b.Col2Im(s.dxhat, s.dcols, s.g)
	b.QuantGrad(s.dx, l.xq.Scale.GradT, l.xq.Zero.GradT, s.x, s.dxhat, l.xq.Spec())
	return s.dx, nil
}

// backwardFused is Backward of a quantized layer through the FusedConv
// ops (the bias gradient only where not biasFed): the gradients of
// dense.backward and Backward's input gradient in the same order, with ConvGradWQ reading the input codes where the
// composed ops read the x̂ columns, and ConvGradX writing dxhat where
// they make and fold the column gradients. Where the backend has
// FusedWeightGrad (and the layer fuses weights), ConvGradWQuant is the
// bias sum, ConvGradWQ and the weights' QuantGrad in one op, without
// dWHat.
func (l *Conv2D) backwardFused(c *Context, f backend.FusedConv, s *convWS, dy2 backend.Tensor, needDX, biasFed bool) backend.Tensor {
	b := c.B
	spec := l.wq.Spec()
	if fw := c.abil().weights; fw != nil && l.fuseWeights {
		var db backend.Tensor
		if !biasFed {
			db = l.B.GradT
		}
		fw.ConvGradWQuant(l.gw2, l.wq.Scale.GradT, l.wq.Zero.GradT, db, dy2, s.qx, l.w2, s.g, l.xq.Spec(), spec)
		if !needDX && !l.learnsInput() {
			return nil
		}
		// A learned input quantizer's scale/zero need dxhat even for the first layer.
		l.dequantWeights(b, spec)
		f.ConvGradX(s.dxhat, dy2, l.wHat, s.g)
	} else {
		if !biasFed {
			b.ColSum(l.B.GradT, dy2)
		}
		l.dequantWeights(b, spec)
		f.ConvGradWQ(l.dWHat, dy2, s.qx, s.g, l.xq.Spec())
		if !needDX && !l.learnsInput() {
			b.QuantGrad(l.gw2, l.wq.Scale.GradT, l.wq.Zero.GradT, l.w2, l.dWHat, spec)
			return nil
		}
		// A learned input quantizer's scale/zero need dxhat even for the first layer.
		f.ConvGradX(s.dxhat, dy2, l.wHat, s.g)
		b.QuantGrad(l.gw2, l.wq.Scale.GradT, l.wq.Zero.GradT, l.w2, l.dWHat, spec)
	}
	var dx backend.Tensor
	if needDX {
		dx = s.dx
	}
	b.QuantGrad(dx, l.xq.Scale.GradT, l.xq.Zero.GradT, s.x, s.dxhat, l.xq.Spec())
	return dx
}

// statsTensor returns the input statistics recorded by the last forward.
func (l *Conv2D) statsTensor() backend.Tensor {
	if l.cur == nil || !l.cur.hasStats {
		return nil
	}
	return l.cur.stats
}

// inputLen returns the number of input elements of the last forward.
func (l *Conv2D) inputLen() int {
	if l.cur == nil {
		return 1
	}
	return l.cur.x.Len()
}
