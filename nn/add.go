package nn

import (
	"fmt"
	"slices"

	"github.com/vktrain/vktrain/nn/backend"
)

// Add is the residual add y = a + b of two float tensors of the same shape
// (after dequantization, compensation or batch normalisation). It takes
// two inputs, so it runs through Forward2 and Backward2 (MergeLayer); the
// one-input Forward and Backward report an error.
type Add struct {
	name string
	ws   wsCache[addWS]
	cur  *addWS
}

var _ MergeLayer = (*Add)(nil)

type addWS struct {
	y, db backend.Tensor // F32, the inputs' shape
}

// NewAdd returns a residual add layer.
func NewAdd(name string) *Add { return &Add{name: name} }

// Name returns the layer's name.
func (l *Add) Name() string { return l.name }

// OutShape returns in: both inputs and the output have one shape.
func (l *Add) OutShape(in []int) ([]int, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("%s: empty input shape", l.name)
	}
	return in, nil
}

// Params returns nothing.
func (l *Add) Params() []*Param { return nil }

// Bind resets state.
func (l *Add) Bind(b backend.Backend) error { l.Release(); return nil }

// Release frees backend state.
func (l *Add) Release() { l.ws.release(); l.cur = nil }

// Forward reports an error: Add needs two inputs (Forward2).
func (l *Add) Forward(c *Context, x backend.Tensor) (backend.Tensor, error) {
	return nil, fmt.Errorf("%s: residual add needs two inputs (Forward2), got one", l.name)
}

// Backward reports an error: Add has two inputs (Backward2).
func (l *Add) Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	return nil, fmt.Errorf("%s: residual add has two inputs (Backward2)", l.name)
}

// Forward2 computes y = a + b.
func (l *Add) Forward2(c *Context, a, b backend.Tensor) (backend.Tensor, error) {
	in := a.Shape()
	if !slices.Equal(in, b.Shape()) {
		return nil, fmt.Errorf("%s: adding shapes %v and %v", l.name, in, b.Shape())
	}
	s, err := l.ws.get(in[0], func() (*addWS, *workspace, error) {
		w := &workspace{b: c.B}
		s := &addWS{y: w.f32(in...), db: w.f32(in...)}
		return s, w, w.err
	})
	if err != nil {
		return nil, err
	}
	if !slices.Equal(in, s.y.Shape()) {
		return nil, fmt.Errorf("%s: input shape %v changed for batch size %d (was %v)", l.name, in, in[0], s.y.Shape())
	}
	l.cur = s
	c.B.Add(s.y, a, b)
	return s.y, nil
}

// Backward2 returns the gradients with respect to a and b: dy itself and
// a copy of it (distinct tensors the caller may overwrite).
func (l *Add) Backward2(c *Context, dy backend.Tensor) (da, db backend.Tensor, err error) {
	s := l.cur
	if s == nil || dy.Len() != s.y.Len() {
		return nil, nil, fmt.Errorf("%s: Backward2 without a matching Forward2", l.name)
	}
	c.B.Copy(s.db, dy)
	return dy, s.db, nil
}
