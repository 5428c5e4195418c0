package nn

import (
	"fmt"

	"github.com/vktrain/vktrain/nn/backend"
)

// channelLayer is the shared plumbing of per-channel layers working on an
// input viewed as a matrix [R, C] (C = last dimension).
type channelLayer struct {
	name string
	C    int
	b    backend.Backend
	ws   wsCache[chanWS]
	cur  *chanWS
	xv   viewCache // x as [rows, C]
	dyv  viewCache // dy as [rows, C]
}

// bind allocates ps (values, and gradients for trainable ones) on b.
func (l *channelLayer) bind(b backend.Backend, ps []*Param) error {
	l.release(ps)
	l.b = b
	for _, p := range ps {
		if err := p.bind(b, true, p.Trainable()); err != nil {
			return err
		}
	}
	return nil
}

// release frees the workspaces and the backend copies of ps.
func (l *channelLayer) release(ps []*Param) {
	l.ws.release()
	l.cur = nil
	if l.b != nil {
		for _, p := range ps {
			p.unbind(l.b)
		}
		l.b = nil
	}
}

func (l *channelLayer) check(in []int) error {
	if len(in) < 2 {
		return fmt.Errorf("%s: input shape %v, want at least [N, C]", l.name, in)
	}
	if in[len(in)-1] != l.C {
		return fmt.Errorf("%s: input %v has %d channels (last dimension), layer expects %d", l.name, in, in[len(in)-1], l.C)
	}
	return nil
}

type chanWS struct {
	y, y2, dx, dx2     backend.Tensor
	xhat, mean, invstd backend.Tensor // xhat nil where the backward recomputes it
	cmean              backend.Tensor // a fused compensation's batch mean (BatchNorm.comp)
	// x2: the input as [R, C] of the last training Forward, which
	// CompBNGradFromX reads (BatchNorm.comp without xhat).
	x2 backend.Tensor
	r  int
}

// The kinds of workspace a channel layer asks for.
const (
	wsPlain  = iota // y and dx
	wsNorm          // a batch norm's too: xhat and its statistics
	wsNormNX        // a batch norm's without xhat (recomputed backward)
)

func (l *channelLayer) workspace(cache *wsCache[chanWS], b backend.Backend, in []int, kind int) (*chanWS, error) {
	if err := l.check(in); err != nil {
		return nil, err
	}
	r := shapeLen(in) / l.C
	return cache.get(in[0], func() (*chanWS, *workspace, error) {
		w := &workspace{b: b}
		s := &chanWS{r: r}
		s.y = w.f32(in...)
		s.y2 = w.view(s.y, r, l.C)
		s.dx = w.f32(in...)
		s.dx2 = w.view(s.dx, r, l.C)
		s.mean = w.f32(l.C)
		if kind != wsPlain {
			if kind == wsNorm {
				s.xhat = w.f32(r, l.C)
			}
			s.invstd = w.f32(l.C)
			s.cmean = w.f32(l.C)
		}
		return s, w, w.err
	})
}

// Compensation is the error-compensation layer of S200.3: per output
// channel c = γ·E + β is added to the dequantized data, where E is the
// batch mean of the channel in training and its running mean in
// inference. γ and β are trained and carry the loss's L2 term.
type Compensation struct {
	channelLayer
	Gamma, Beta, RunMean *Param
	Momentum             float32
	train                bool
	// fused: the batch norm after it runs it inside its ops
	// (backend.FusedCompBN, see BatchNorm.comp), set by Model.Bind;
	// Forward and Backward pass their tensor through.
	fused bool
}

// NewCompensation returns a compensation layer over c channels, starting
// as the identity (γ = β = 0).
func NewCompensation(name string, c int) *Compensation {
	return &Compensation{channelLayer: channelLayer{name: name, C: c},
		Gamma:   newParam(name+".gamma", KindCompGamma, c),
		Beta:    newParam(name+".beta", KindCompBeta, c),
		RunMean: newParam(name+".running_mean", KindBuffer, c), Momentum: 0.1}
}

// Name returns the layer's name.
func (l *Compensation) Name() string { return l.name }

// OutShape is the input shape.
func (l *Compensation) OutShape(in []int) ([]int, error) { return in, l.check(in) }

// Params returns γ, β and the running mean.
func (l *Compensation) Params() []*Param { return []*Param{l.Gamma, l.Beta, l.RunMean} }

// Bind allocates parameters on b.
func (l *Compensation) Bind(b backend.Backend) error { return l.bind(b, l.Params()) }

// Release frees backend state.
func (l *Compensation) Release() { l.release(l.Params()) }

// Forward adds the compensation term.
func (l *Compensation) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	if l.fused {
		return x, nil
	}
	s, err := l.workspace(&l.ws, c.B, x.Shape(), wsPlain)
	if err != nil {
		return nil, err
	}
	x2, err := l.xv.reshape(c.B, x, s.r, l.C)
	if err != nil {
		return nil, err
	}
	l.cur, l.train = s, c.Train
	if c.Train {
		c.B.CompensateTrain(s.y2, s.mean, x2, l.Gamma.Value, l.Beta.Value, l.RunMean.Value, l.Momentum)
	} else {
		c.B.CompensateInfer(s.y2, x2, l.Gamma.Value, l.Beta.Value, l.RunMean.Value)
	}
	return s.y, nil
}

// Backward computes γ, β gradients and dx.
func (l *Compensation) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if l.fused {
		return dy, nil
	}
	s := l.cur
	if s == nil || dy.Len() != s.y.Len() {
		return nil, fmt.Errorf("%s: Backward without a matching Forward", l.name)
	}
	dy2, err := l.dyv.reshape(c.B, dy, s.r, l.C)
	if err != nil {
		return nil, err
	}
	c.B.CompensateGrad(s.dx2, l.Gamma.GradT, l.Beta.GradT, dy2, s.mean, l.Gamma.Value, l.train)
	return s.dx, nil
}

// BatchNorm is the normal-distribution adjustment of S200.4: per channel
// (last dimension) batch statistics in training, running statistics in
// inference, with a learned affine.
type BatchNorm struct {
	channelLayer
	Gamma, Beta, RunMean, RunVar *Param
	Momentum, Eps                float32
	train                        bool
	// relu: the ReLU that reads this layer's output runs inside its ops
	// (backend.FusedBNReLU), set by Model.Bind.
	relu bool
	// comp: the compensation layer whose output only this layer reads
	// runs inside its ops (backend.FusedCompBN), set by Model.Bind: the
	// layer's input is then the compensation's input.
	comp *Compensation
	// pool: the max-pool that alone reads this layer's output (through
	// the ReLU inside it, if any) and writes its quantized reader's input
	// codes; with comp on a backend that recomputes (backend.Recomputer),
	// the training forward runs it inside this layer's op
	// (backend.FusedQuantize.CompBNPoolQuant), so the batch norm's output
	// is never stored. Set by Model.Bind.
	pool *MaxPool
	// bias: the conv that alone feeds the compensation inside this
	// layer's op; where the backward recomputes (CompBNGradFromX) it also
	// writes the conv's bias gradient, the column sums of its dx, and
	// hands it over (Conv2D.biasFed). Set by Model.Bind.
	bias *Conv2D
	// xstats: the statistics of this layer's input from that conv
	// (Conv2D.statsTo), where the backend prefers them
	// (backend.FusedStats). Set up by Model.Bind.
	xstats statsFeed
}

// NewBatchNorm returns batch normalisation over c channels.
func NewBatchNorm(name string, c int) *BatchNorm {
	l := &BatchNorm{channelLayer: channelLayer{name: name, C: c},
		Gamma:   newParam(name+".gamma", KindNormGamma, c),
		Beta:    newParam(name+".beta", KindNormBeta, c),
		RunMean: newParam(name+".running_mean", KindBuffer, c),
		RunVar:  newParam(name+".running_var", KindBuffer, c), Momentum: 0.1, Eps: DefaultBatchNormEps}
	for i := range l.Gamma.Data {
		l.Gamma.Data[i] = 1
		l.RunVar.Data[i] = 1
	}
	return l
}

// Name returns the layer's name.
func (l *BatchNorm) Name() string { return l.name }

// OutShape is the input shape.
func (l *BatchNorm) OutShape(in []int) ([]int, error) { return in, l.check(in) }

// Params returns the affine and the running statistics.
func (l *BatchNorm) Params() []*Param { return []*Param{l.Gamma, l.Beta, l.RunMean, l.RunVar} }

// Bind allocates parameters on b.
func (l *BatchNorm) Bind(b backend.Backend) error { return l.bind(b, l.Params()) }

// Release frees backend state.
func (l *BatchNorm) Release() { l.release(l.Params()) }

// Forward normalises x.
func (l *BatchNorm) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	f := c.abil().compBN
	fused := f != nil && l.comp != nil
	kind := wsNorm
	if fused && c.abil().recompute {
		kind = wsNormNX // CompBNGradFromX recomputes xhat
	}
	s, err := l.workspace(&l.ws, c.B, x.Shape(), kind)
	if err != nil {
		return nil, err
	}
	x2, err := l.xv.reshape(c.B, x, s.r, l.C)
	if err != nil {
		return nil, err
	}
	l.cur, l.train = s, c.Train
	if fused {
		cl := l.comp
		if c.Train && l.pool != nil && kind == wsNormNX {
			if done, err := l.poolQuant(c, s, x, x2); done || err != nil {
				return s.y, err
			}
		}
		if c.Train {
			s.x2 = x2
			if xst, ok := l.xstats.take(x); ok {
				c.abil().stats.CompBNTrainStats(s.y2, s.xhat, s.mean, s.invstd, s.cmean, x2, cl.Gamma.Value, cl.Beta.Value, cl.RunMean.Value,
					l.Gamma.Value, l.Beta.Value, l.RunMean.Value, l.RunVar.Value, xst, cl.Momentum, l.Momentum, l.Eps, l.relu)
				return s.y, nil
			}
			f.CompBNTrain(s.y2, s.xhat, s.mean, s.invstd, s.cmean, x2, cl.Gamma.Value, cl.Beta.Value, cl.RunMean.Value,
				l.Gamma.Value, l.Beta.Value, l.RunMean.Value, l.RunVar.Value, cl.Momentum, l.Momentum, l.Eps, l.relu)
		} else {
			f.CompBNInfer(s.y2, x2, cl.Gamma.Value, cl.Beta.Value, cl.RunMean.Value, l.Gamma.Value, l.Beta.Value, l.RunMean.Value, l.RunVar.Value, l.Eps, l.relu)
		}
		return s.y, nil
	}
	if f := c.abil().bnReLU; f != nil && l.relu {
		if c.Train {
			f.BatchNormReLUTrain(s.y2, s.xhat, s.mean, s.invstd, x2, l.Gamma.Value, l.Beta.Value, l.RunMean.Value, l.RunVar.Value, l.Momentum, l.Eps)
		} else {
			f.BatchNormReLUInfer(s.y2, x2, l.Gamma.Value, l.Beta.Value, l.RunMean.Value, l.RunVar.Value, l.Eps)
		}
		return s.y, nil
	}
	if c.Train {
		c.B.BatchNormTrain(s.y2, s.xhat, s.mean, s.invstd, x2, l.Gamma.Value, l.Beta.Value, l.RunMean.Value, l.RunVar.Value, l.Momentum, l.Eps)
	} else {
		c.B.BatchNormInfer(s.y2, x2, l.Gamma.Value, l.Beta.Value, l.RunMean.Value, l.RunVar.Value, l.Eps)
	}
	return s.y, nil
}

// poolQuant runs the training forward as CompBNPoolQuant: the batch norm
// (with its compensation and ReLU), the max-pool l.pool and its reader's
// input quantization in one op, writing the pool's output, arg and the
// reader's codes and statistics (handed over to both), never this layer's
// output s.y, which the pool receives and passes by. done is false, with
// nothing run, where the reader's quantizer cannot take codes yet.
func (l *BatchNorm) poolQuant(c *Context, s *chanWS, x, x2 backend.Tensor) (done bool, err error) {
	pl, cl := l.pool, l.comp
	ps, err := pl.workspace(c.B, x.Shape())
	if err != nil {
		return false, err
	}
	f, q, st, p, ok, err := quantTarget(c, pl.quant, ps.y.Shape())
	if !ok || err != nil {
		return false, err
	}
	s.x2 = x2
	if xst, ok := l.xstats.take(x); ok {
		c.abil().stats.CompBNPoolQuantStats(ps.y, ps.arg, q, st, s.mean, s.invstd, s.cmean, x, cl.Gamma.Value, cl.Beta.Value, cl.RunMean.Value,
			l.Gamma.Value, l.Beta.Value, l.RunMean.Value, l.RunVar.Value, xst, cl.Momentum, l.Momentum, l.Eps, l.relu, ps.g, p)
	} else {
		f.CompBNPoolQuant(ps.y, ps.arg, q, st, s.mean, s.invstd, s.cmean, x, cl.Gamma.Value, cl.Beta.Value, cl.RunMean.Value,
			l.Gamma.Value, l.Beta.Value, l.RunMean.Value, l.RunVar.Value, cl.Momentum, l.Momentum, l.Eps, l.relu, ps.g, p)
	}
	pl.quant.feed().set(ps.y, q, st)
	pl.pre.set(s.y)
	return true, nil
}

// Backward computes the affine gradients and dx.
func (l *BatchNorm) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	s := l.cur
	if s == nil || dy.Len() != s.y.Len() || !l.train {
		return nil, fmt.Errorf("%s: Backward needs a matching training-mode Forward (frozen-statistics backward is not supported)", l.name)
	}
	dy2, err := l.dyv.reshape(c.B, dy, s.r, l.C)
	if err != nil {
		return nil, err
	}
	if f := c.abil().compBN; f != nil && l.comp != nil {
		cl := l.comp
		if s.xhat != nil {
			var y backend.Tensor // nil: no ReLU
			if l.relu {
				y = s.y2
			}
			f.CompBNGrad(s.dx2, l.Gamma.GradT, l.Beta.GradT, cl.Gamma.GradT, cl.Beta.GradT, dy2, y, s.xhat, s.invstd, l.Gamma.Value, s.cmean, cl.Gamma.Value)
			return s.dx, nil
		}
		var dxSum backend.Tensor // nil: the conv sums its own dy
		if l.bias != nil {
			dxSum = l.bias.B.GradT
			l.bias.biasFed.set(s.dx)
		}
		f.CompBNGradFromX(s.dx2, l.Gamma.GradT, l.Beta.GradT, cl.Gamma.GradT, cl.Beta.GradT, dxSum, dy2, s.x2, s.mean, s.invstd,
			l.Gamma.Value, l.Beta.Value, s.cmean, cl.Gamma.Value, cl.Beta.Value, l.relu)
		return s.dx, nil
	}
	if f := c.abil().bnReLU; f != nil && l.relu {
		f.BatchNormReLUGrad(s.dx2, l.Gamma.GradT, l.Beta.GradT, dy2, s.y2, s.xhat, s.invstd, l.Gamma.Value)
		return s.dx, nil
	}
	c.B.BatchNormGrad(s.dx2, l.Gamma.GradT, l.Beta.GradT, dy2, s.xhat, s.invstd, l.Gamma.Value)
	return s.dx, nil
}

// ReLU is max(x, 0).
type ReLU struct {
	name string
	ws   wsCache[[2]backend.Tensor]
	cur  *[2]backend.Tensor
	// fused: the batch norm before it applies it (see BatchNorm.relu);
	// Forward and Backward pass their tensor through.
	fused bool
	// quant: the quantized layer that alone reads this layer's output,
	// whose input statistics and codes Forward writes
	// (backend.FusedQuantize), set by Model.Bind; nil: none.
	quant quantConsumer
}

// NewReLU returns a ReLU layer.
func NewReLU(name string) *ReLU { return &ReLU{name: name} }

// Name returns the layer's name.
func (l *ReLU) Name() string { return l.name }

// OutShape is the input shape.
func (l *ReLU) OutShape(in []int) ([]int, error) { return in, nil }

// Params returns nothing.
func (l *ReLU) Params() []*Param { return nil }

// Bind resets state.
func (l *ReLU) Bind(b backend.Backend) error { l.Release(); return nil }

// Release frees backend state.
func (l *ReLU) Release() { l.ws.release(); l.cur = nil }

// Forward computes max(x, 0).
func (l *ReLU) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	if l.fused {
		return x, nil
	}
	in := x.Shape()
	s, err := l.ws.get(in[0], func() (*[2]backend.Tensor, *workspace, error) {
		w := &workspace{b: c.B}
		s := &[2]backend.Tensor{w.f32(in...), w.f32(in...)}
		return s, w, w.err
	})
	if err != nil {
		return nil, err
	}
	l.cur = s
	f, q, st, p, ok, err := quantTarget(c, l.quant, in)
	if err != nil {
		return nil, err
	}
	if ok {
		f.ReLUQuant(s[0], q, st, x, p)
		l.quant.feed().set(s[0], q, st)
		return s[0], nil
	}
	c.B.ReLU(s[0], x)
	return s[0], nil
}

// Backward masks dy.
func (l *ReLU) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if l.fused {
		return dy, nil
	}
	s := l.cur
	if s == nil || dy.Len() != s[0].Len() {
		return nil, fmt.Errorf("%s: Backward without a matching Forward", l.name)
	}
	c.B.ReLUGrad(s[1], dy, s[0])
	return s[1], nil
}

// MaxPool is a max-pool over NHWC input with a square window.
type MaxPool struct {
	name         string
	Size, Stride int
	ws           wsCache[poolWS]
	cur          *poolWS
	// quant: the quantized layer that alone reads this layer's output,
	// whose input statistics and codes Forward writes
	// (backend.FusedQuantize), set by Model.Bind; nil: none.
	quant quantConsumer
	// pre: the batch norm before this layer already wrote its output,
	// arg and quant's codes for this input in this pass (BatchNorm.pool,
	// backend.FusedQuantize.CompBNPoolQuant).
	pre handOver
}

type poolWS struct {
	g          backend.PoolGeom
	y, arg, dx backend.Tensor
}

// NewMaxPool returns a max-pool with the given window and stride.
func NewMaxPool(name string, size, stride int) (*MaxPool, error) {
	if size <= 0 || stride <= 0 {
		return nil, fmt.Errorf("%s: bad pool size %d / stride %d", name, size, stride)
	}
	return &MaxPool{name: name, Size: size, Stride: stride}, nil
}

// Name returns the layer's name.
func (l *MaxPool) Name() string { return l.name }

func (l *MaxPool) geom(in []int) (backend.PoolGeom, error) {
	return squarePool(l.name, in, l.Size, l.Stride)
}

// OutShape returns [N, OH, OW, C].
func (l *MaxPool) OutShape(in []int) ([]int, error) {
	return poolShape(l.geom(in))
}

// squarePool returns the geometry of a size×size pooling window moved by
// stride over the NHWC input shape in, of the layer called name.
func squarePool(name string, in []int, size, stride int) (backend.PoolGeom, error) {
	if err := checkRank(name, in, 4); err != nil {
		return backend.PoolGeom{}, err
	}
	g := backend.PoolGeom{N: in[0], H: in[1], W: in[2], C: in[3], Size: size, Stride: stride}
	if err := g.Validate(); err != nil {
		return g, fmt.Errorf("%s: %w", name, err)
	}
	return g, nil
}

// poolShape returns the output shape [N, OH, OW, C] of a pooling geometry.
func poolShape(g backend.PoolGeom, err error) ([]int, error) {
	if err != nil {
		return nil, err
	}
	oh, ow := g.Out()
	return []int{g.N, oh, ow, g.C}, nil
}

// Params returns nothing.
func (l *MaxPool) Params() []*Param { return nil }

// Bind resets state.
func (l *MaxPool) Bind(b backend.Backend) error { l.Release(); return nil }

// Release frees backend state.
func (l *MaxPool) Release() { l.ws.release(); l.cur = nil }

// Forward pools x.
func (l *MaxPool) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	s, err := l.workspace(c.B, x.Shape())
	if err != nil {
		return nil, err
	}
	l.cur = s
	if l.pre.take(x) { // the batch norm before pooled x (CompBNPoolQuant)
		return s.y, nil
	}
	f, q, st, p, ok, err := quantTarget(c, l.quant, s.y.Shape())
	if err != nil {
		return nil, err
	}
	if ok {
		f.MaxPoolQuant(s.y, s.arg, q, st, x, s.g, p)
		l.quant.feed().set(s.y, q, st)
		return s.y, nil
	}
	c.B.MaxPool(s.y, s.arg, x, s.g)
	return s.y, nil
}

// workspace returns the layer's tensors for the input shape in.
func (l *MaxPool) workspace(b backend.Backend, in []int) (*poolWS, error) {
	if _, err := l.geom(in); err != nil {
		return nil, err
	}
	return l.ws.get(in[0], func() (*poolWS, *workspace, error) {
		g, _ := l.geom(in)
		out, _ := l.OutShape(in)
		w := &workspace{b: b}
		s := &poolWS{g: g, y: w.f32(out...), arg: w.i32(out...), dx: w.f32(in...)}
		return s, w, w.err
	})
}

// Backward routes dy to the maxima.
func (l *MaxPool) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	s := l.cur
	if s == nil || dy.Len() != s.y.Len() {
		return nil, fmt.Errorf("%s: Backward without a matching Forward", l.name)
	}
	c.B.MaxPoolGrad(s.dx, dy, s.arg, s.g)
	return s.dx, nil
}
