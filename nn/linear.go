package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/vktrain/vktrain/nn/backend"
)

// Linear is a quantized fully connected layer: input [N, ...] is flattened
// to [N, In]; weights are [Out, In]. It goes through the same quantize /
// integer product / exact dequantization path as Conv2D.
type Linear struct {
	name    string
	In, Out int
	*dense
	ws  wsCache[linearWS]
	cur *linearWS
	xv  viewCache
}

type linearWS struct {
	x, x2    backend.Tensor // input and its [N, In] view
	qx       backend.Tensor // I32 [N, In]
	acc, sa  backend.Tensor
	xhat     backend.Tensor // F32 [N, In]
	y        backend.Tensor // F32 [N, Out]
	dxhat    backend.Tensor // F32 [N, In]
	dx, dx4  backend.Tensor // F32 [N, In] and its view in the input shape
	stats    backend.Tensor
	hasStats bool
}

// NewLinear returns a fully connected layer from in to out features.
func NewLinear(name string, in, out int, cfg QuantConfig, rng *rand.Rand) (*Linear, error) {
	if in <= 0 || out <= 0 {
		return nil, fmt.Errorf("%s: bad linear sizes (in %d, out %d)", name, in, out)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Linear{name: name, In: in, Out: out, dense: newDense(name, out, in, []int{out, in}, cfg, rng)}, nil
}

// Name returns the layer's name.
func (l *Linear) Name() string { return l.name }

// Params returns weight, bias and quantizer parameters.
func (l *Linear) Params() []*Param { return l.dense.params() }

// OutShape returns [N, Out].
func (l *Linear) OutShape(in []int) ([]int, error) {
	if err := l.checkIn(in); err != nil {
		return nil, err
	}
	return []int{in[0], l.Out}, nil
}

// checkIn reports an input shape the layer cannot take.
func (l *Linear) checkIn(in []int) error {
	if len(in) < 2 {
		return fmt.Errorf("%s: input shape %v, want a batch of vectors or images", l.name, in)
	}
	if f := shapeLen(in[1:]); f != l.In {
		return fmt.Errorf("%s: input %v has %d features per example, layer expects %d", l.name, in, f, l.In)
	}
	return nil
}

// Bind allocates parameters on b.
func (l *Linear) Bind(b backend.Backend) error {
	l.ws.release()
	l.cur = nil
	return l.dense.bind(b)
}

// Release frees backend state.
func (l *Linear) Release() { l.ws.release(); l.cur = nil; l.dense.release() }

// Forward runs the layer.
func (l *Linear) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	in := x.Shape()
	if err := l.checkIn(in); err != nil {
		return nil, err
	}
	n := in[0]
	s, err := l.workspace(c.B, in)
	if err != nil {
		return nil, err
	}
	l.cur = s
	s.x = x
	if s.x2, err = l.xv.reshape(c.B, x, n, l.In); err != nil {
		return nil, err
	}
	if err := l.prepareWeights(c); err != nil {
		return nil, err
	}
	if l.wq == nil {
		return s.y, l.forwardFloat(c, s.y, s.x2)
	}
	if err := l.prepareInput(c, x); err != nil {
		return nil, err
	}
	s.hasStats = true
	l.quantizeInput(c, s.qx, s.stats, x, s.x2)
	l.forwardInt(c, s.y, s.acc, s.sa, s.qx)
	return s.y, nil
}

// workspace returns the layer's tensors for inputs of shape in (made once
// per batch size).
func (l *Linear) workspace(b backend.Backend, in []int) (*linearWS, error) {
	n := in[0]
	return l.ws.get(n, func() (*linearWS, *workspace, error) {
		w := &workspace{b: b}
		s := &linearWS{}
		if l.wq != nil {
			s.qx = w.q8(n, l.In)
			s.acc = w.i32(n, l.Out)
			s.sa = w.i32(n)
			s.xhat = w.f32(n, l.In)
			s.dxhat = w.f32(n, l.In)
		}
		s.stats = w.f32(3)
		s.y = w.f32(n, l.Out)
		s.dx = w.f32(n, l.In)
		s.dx4 = w.view(s.dx, in...)
		return s, w, w.err
	})
}

// Backward computes parameter gradients and dx.
func (l *Linear) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	s := l.cur
	if s == nil || dy.Len() != s.y.Len() {
		return nil, fmt.Errorf("%s: Backward without a matching training Forward", l.name)
	}
	b := c.B
	if l.wq == nil {
		var dx backend.Tensor
		if needDX {
			dx = s.dx
		}
		if err := l.backward(c, dy, s.x2, dx); err != nil {
			return nil, err
		}
		if !needDX {
			return nil, nil
		}
		return s.dx4, nil
	}
	xs := l.xq.Spec()
	if f := c.abil().weights; f != nil && l.fuseWeights {
		// The weight side of dense.backward from the input codes (no x̂
		// matrix), then its input gradient.
		spec := l.wq.Spec()
		f.DenseGradWQ(l.gw2, l.wq.Scale.GradT, l.wq.Zero.GradT, l.B.GradT, dy, s.qx, l.w2, xs, spec)
		if needDX || l.learnsInput() {
			l.dequantWeights(b, spec)
			b.Gemm(s.dxhat, dy, l.wHat, false, false, 1, 0)
		}
	} else {
		var dxhat backend.Tensor
		if needDX || l.learnsInput() {
			dxhat = s.dxhat
		}
		b.Dequantize(s.xhat, s.qx, xs)
		if err := l.backward(c, dy, s.xhat, dxhat); err != nil {
			return nil, err
		}
	}
	if !needDX {
		if l.learnsInput() {
			b.QuantGrad(nil, l.xq.Scale.GradT, l.xq.Zero.GradT, s.x2, s.dxhat, xs)
		}
		return nil, nil
	}
	b.QuantGrad(s.dx, l.xq.Scale.GradT, l.xq.Zero.GradT, s.x2, s.dxhat, xs)
	return s.dx4, nil
}

func (l *Linear) statsTensor() backend.Tensor {
	if l.cur == nil || !l.cur.hasStats {
		return nil
	}
	return l.cur.stats
}

func (l *Linear) inputLen() int {
	if l.cur == nil {
		return 1
	}
	return l.cur.x.Len()
}
