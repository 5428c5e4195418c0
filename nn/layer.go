package nn

import (
	"fmt"

	"github.com/vktrain/vktrain/nn/backend"
)

// Layer is one node of a model's graph (see Model). A layer is bound to one
// backend at a time (Bind); Forward and Backward record ops on it.
// Tensors a layer returns stay valid until its next Forward or Backward
// with a batch of the same size.
type Layer interface {
	// Name is unique within a model, e.g. "conv1".
	Name() string
	// OutShape returns the output shape for an input shape whose first
	// dimension is the batch, or an error naming the mismatch.
	OutShape(in []int) ([]int, error)
	// Params returns the layer's parameters and saved buffers.
	Params() []*Param
	// Bind allocates the layer's backend state on b, releasing any older.
	Bind(b backend.Backend) error
	// Forward computes the layer's output; in training mode it keeps what
	// Backward needs. It must not write x, which other layers of the
	// graph may read too.
	Forward(c *Context, x backend.Tensor) (backend.Tensor, error)
	// Backward takes the gradient of the loss with respect to the last
	// Forward's output and writes parameter gradients (to Param.GradT or
	// Param.Grad). It returns the gradient with respect to the input, or
	// nil when needDX is false (the layer reads the model input). It may
	// work in place on dy, which the model hands to this layer alone.
	Backward(c *Context, dy backend.Tensor, needDX bool) (backend.Tensor, error)
	// Release frees the layer's backend state.
	Release()
}

// MergeLayer is a layer with two inputs (the residual add). Its Forward/Backward
// of Layer are not used; the model calls these.
type MergeLayer interface {
	Layer
	Forward2(c *Context, a, b backend.Tensor) (backend.Tensor, error)
	// Backward2 returns the gradients with respect to a and b; they must be distinct
	// tensors that the caller may overwrite (layers' Backward may work in place on dy).
	Backward2(c *Context, dy backend.Tensor) (da, db backend.Tensor, err error)
}

// Context carries the state of one pass through the model.
type Context struct {
	B     backend.Backend
	Train bool
	// Step counts training steps (for error messages).
	Step int
	// Params identifies the parameter values: it changes whenever they may
	// have changed, so layers may reuse work derived from them (the weight
	// codes in inference). nil means unknown: derive everything again.
	Params *ParamsVersion

	// ab caches B's optional abilities (see abil).
	ab *abilities
}

// abilities are a backend's optional abilities (the fused ops), resolved
// once: a type assertion to an interface in every step goes through Go's
// per-call-site caches, which allocate now and then as they fill (about
// once in a thousand misses), so a step would not be free of allocations
// for its first thousands of steps.
type abilities struct {
	b       backend.Backend
	bnReLU  backend.FusedBNReLU
	compBN  backend.FusedCompBN
	gemm    backend.FusedGemmIDequant
	conv    backend.FusedConv
	weights backend.FusedWeightGrad
	quant   backend.FusedQuantize
	// stats: the FusedStats ability where the backend prefers it
	// (PrefersEpilogueStats), else nil.
	stats backend.FusedStats
	// recompute: the backend prefers recomputing to storing
	// (backend.Recomputer).
	recompute bool
}

// abilitiesOf resolves b's abilities.
func abilitiesOf(b backend.Backend) *abilities {
	a := &abilities{b: b}
	a.bnReLU, _ = b.(backend.FusedBNReLU)
	a.compBN, _ = b.(backend.FusedCompBN)
	a.gemm, _ = b.(backend.FusedGemmIDequant)
	a.conv, _ = b.(backend.FusedConv)
	a.weights, _ = b.(backend.FusedWeightGrad)
	a.quant, _ = b.(backend.FusedQuantize)
	if s, ok := b.(backend.FusedStats); ok && s.PrefersEpilogueStats() {
		a.stats = s
	}
	if r, ok := b.(backend.Recomputer); ok {
		a.recompute = r.PrefersRecompute()
	}
	return a
}

// abil returns the abilities of c.B: those the trainer resolved when it
// made c, else resolved now (once per Context).
func (c *Context) abil() *abilities {
	if c.ab == nil || c.ab.b != c.B {
		c.ab = abilitiesOf(c.B)
	}
	return c.ab
}

// workspace owns the tensors a layer allocates for one input shape, so
// that repeated steps allocate nothing.
type workspace struct {
	b       backend.Backend
	tensors []backend.Tensor
	err     error
}

func (w *workspace) alloc(dt backend.DType, shape ...int) backend.Tensor {
	if w.err != nil {
		return nil
	}
	t, err := w.b.New(dt, shape...)
	if err != nil {
		w.err = err
		return nil
	}
	w.tensors = append(w.tensors, t)
	return t
}

func (w *workspace) f32(shape ...int) backend.Tensor { return w.alloc(backend.F32, shape...) }
func (w *workspace) i32(shape ...int) backend.Tensor { return w.alloc(backend.I32, shape...) }
func (w *workspace) q8(shape ...int) backend.Tensor  { return w.alloc(backend.Q8, shape...) }

func (w *workspace) view(t backend.Tensor, shape ...int) backend.Tensor {
	if w.err != nil {
		return nil
	}
	v, err := w.b.Reshape(t, shape...)
	if err != nil {
		w.err = err
		return nil
	}
	return v
}

func (w *workspace) free() {
	for _, t := range w.tensors {
		w.b.Free(t)
	}
	w.tensors = nil
}

// viewCache keeps the last view a layer made of a tensor, so that
// reshaping the same tensor to the same shape every step makes the view
// (and its shape slice) once: a training step allocates nothing in steady
// state. Holding src keeps it from being collected, so a different tensor
// never compares equal to it.
type viewCache struct {
	src, view backend.Tensor
}

// reshape returns t viewed as shape, reusing the last view when t and
// shape are those of the last call.
func (v *viewCache) reshape(b backend.Backend, t backend.Tensor, shape ...int) (backend.Tensor, error) {
	if v.view != nil && v.src == t && sameShape(v.view.Shape(), shape) {
		return v.view, nil
	}
	view, err := b.Reshape(t, append([]int(nil), shape...)...)
	if err != nil {
		return nil, err
	}
	v.src, v.view = t, view
	return view, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// wsCache keeps one workspace per input shape key (batch size).
type wsCache[T any] struct {
	m    map[int]*T
	free []func()
}

func (c *wsCache[T]) get(key int, build func() (*T, *workspace, error)) (*T, error) {
	if v, ok := c.m[key]; ok {
		return v, nil
	}
	v, ws, err := build()
	if err != nil {
		if ws != nil {
			ws.free()
		}
		return nil, err
	}
	if c.m == nil {
		c.m = map[int]*T{}
	}
	c.m[key] = v
	c.free = append(c.free, ws.free)
	return v, nil
}

func (c *wsCache[T]) release() {
	for _, f := range c.free {
		f()
	}
	c.m, c.free = nil, nil
}

func shapeLen(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func checkRank(layer string, in []int, rank int) error {
	if len(in) != rank {
		return fmt.Errorf("%s: input shape %v, want %d dimensions", layer, in, rank)
	}
	for _, d := range in {
		if d <= 0 {
			return fmt.Errorf("%s: input shape %v has a non-positive dimension", layer, in)
		}
	}
	return nil
}
