package nn

import (
	"fmt"

	"github.com/vktrain/vktrain/nn/backend"
)

// avgPoolWS is the workspace of the average-pooling layers for one batch
// size.
type avgPoolWS struct {
	g      backend.PoolGeom
	y, out backend.Tensor // F32 [N, OH, OW, C] and the view returned
	dx     backend.Tensor // F32 input shape
}

// avgPoolCore is the plumbing shared by AvgPool and GlobalAvgPool.
type avgPoolCore struct {
	name string
	ws   wsCache[avgPoolWS]
	cur  *avgPoolWS
}

func (p *avgPoolCore) release() { p.ws.release(); p.cur = nil }

// poolShaper gives a pooling layer's geometry and output shape.
type poolShaper interface {
	geom(in []int) (backend.PoolGeom, error)
	OutShape(in []int) ([]int, error)
}

// forward pools x with the geometry l gives for its shape; the layer
// returns a view of [N, OH, OW, C] in its output shape.
func (p *avgPoolCore) forward(c *Context, x backend.Tensor, l poolShaper) (backend.Tensor, error) {
	in := x.Shape()
	s, err := p.ws.get(in[0], func() (*avgPoolWS, *workspace, error) {
		g, err := l.geom(in)
		if err != nil {
			return nil, nil, err
		}
		out, err := l.OutShape(in)
		if err != nil {
			return nil, nil, err
		}
		oh, ow := g.Out()
		w := &workspace{b: c.B}
		s := &avgPoolWS{g: g, y: w.f32(g.N, oh, ow, g.C), dx: w.f32(in...)}
		s.out = s.y
		if len(out) != 4 {
			s.out = w.view(s.y, out...)
		}
		return s, w, w.err
	})
	if err != nil {
		return nil, err
	}
	if x.Len() != s.dx.Len() {
		return nil, fmt.Errorf("%s: input shape %v changed for batch size %d (was %v)", p.name, in, in[0], s.dx.Shape())
	}
	p.cur = s
	c.B.AvgPool(s.y, x, s.g)
	return s.out, nil
}

func (p *avgPoolCore) backward(c *Context, dy backend.Tensor) (backend.Tensor, error) {
	s := p.cur
	if s == nil || dy.Len() != s.y.Len() {
		return nil, fmt.Errorf("%s: Backward without a matching Forward", p.name)
	}
	c.B.AvgPoolGrad(s.dx, dy, s.g)
	return s.dx, nil
}

// AvgPool is an average pool over NHWC input with a square window and no
// padding.
type AvgPool struct {
	avgPoolCore
	Size, Stride int
}

// NewAvgPool returns an average pool with the given window and stride.
func NewAvgPool(name string, size, stride int) (*AvgPool, error) {
	if size <= 0 || stride <= 0 {
		return nil, fmt.Errorf("%s: bad pool size %d / stride %d", name, size, stride)
	}
	return &AvgPool{avgPoolCore: avgPoolCore{name: name}, Size: size, Stride: stride}, nil
}

// Name returns the layer's name.
func (l *AvgPool) Name() string { return l.name }

func (l *AvgPool) geom(in []int) (backend.PoolGeom, error) {
	return squarePool(l.name, in, l.Size, l.Stride)
}

// OutShape returns [N, OH, OW, C].
func (l *AvgPool) OutShape(in []int) ([]int, error) {
	return poolShape(l.geom(in))
}

// Params returns nothing.
func (l *AvgPool) Params() []*Param { return nil }

// Bind resets state.
func (l *AvgPool) Bind(b backend.Backend) error { l.release(); return nil }

// Release frees backend state.
func (l *AvgPool) Release() { l.release() }

// Forward averages each window of x.
func (l *AvgPool) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	return l.forward(c, x, l)
}

// Backward spreads dy evenly over each window.
func (l *AvgPool) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	return l.backward(c, dy)
}

// GlobalAvgPool averages each channel over the whole image:
// [N, H, W, C] -> [N, C].
type GlobalAvgPool struct {
	avgPoolCore
}

// NewGlobalAvgPool returns a global average pool.
func NewGlobalAvgPool(name string) *GlobalAvgPool {
	return &GlobalAvgPool{avgPoolCore{name: name}}
}

// Name returns the layer's name.
func (l *GlobalAvgPool) Name() string { return l.name }

func (l *GlobalAvgPool) geom(in []int) (backend.PoolGeom, error) {
	if err := checkRank(l.name, in, 4); err != nil {
		return backend.PoolGeom{}, err
	}
	g := backend.PoolGeom{N: in[0], H: in[1], W: in[2], C: in[3], Size: in[1], Stride: in[1], SizeW: in[2], StrideW: in[2]}
	if err := g.Validate(); err != nil {
		return g, fmt.Errorf("%s: %w", l.name, err)
	}
	return g, nil
}

// OutShape returns [N, C].
func (l *GlobalAvgPool) OutShape(in []int) ([]int, error) {
	if _, err := l.geom(in); err != nil {
		return nil, err
	}
	return []int{in[0], in[3]}, nil
}

// Params returns nothing.
func (l *GlobalAvgPool) Params() []*Param { return nil }

// Bind resets state.
func (l *GlobalAvgPool) Bind(b backend.Backend) error { l.release(); return nil }

// Release frees backend state.
func (l *GlobalAvgPool) Release() { l.release() }

// Forward averages each channel of x over the image.
func (l *GlobalAvgPool) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	return l.forward(c, x, l)
}

// Backward spreads dy [N, C] evenly over the image.
func (l *GlobalAvgPool) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	return l.backward(c, dy)
}
