package backend

import (
	"errors"
	"fmt"
)

// CheckShape reports whether shape is a valid tensor shape: at least one
// dimension, all positive, and at most 2^62 elements.
func CheckShape(shape []int) error {
	if len(shape) == 0 {
		return errors.New("shape has no dimensions")
	}
	n := 1
	for _, d := range shape {
		if d <= 0 {
			return fmt.Errorf("shape %v: dimensions must be positive", shape)
		}
		if n > (1<<62)/d {
			return fmt.Errorf("shape %v: too many elements", shape)
		}
		n *= d
	}
	return nil
}

// Check validates the arguments of one op for a backend, with the error
// texts that the backends share. It works on shapes and storage
// identities, so each backend resolves its own tensor handles and passes
// their shapes (nil for an argument that failed to resolve; such
// arguments are skipped).
//
// The first failure is stored, as "OP: message", in the error variable
// the backend gave to NewCheck (its sticky error), unless that already
// holds an error; every check does nothing once it does.
type Check struct {
	// Op names the op in error messages.
	Op   string
	err  *error
	ins  []checkArg
	outs []checkArg
}

// checkArg is a tensor argument: its name, the backend's handle and the
// storage the handle views.
type checkArg struct {
	name   string
	handle any
	store  any
}

// NewCheck returns a Check of op that records its first failure in
// *sticky. sticky must not be nil.
func NewCheck(op string, sticky *error) Check {
	return Check{Op: op, err: sticky}
}

// Failed reports whether an error is recorded.
func (c *Check) Failed() bool { return *c.err != nil }

// Failf records "OP: message" unless an error is already recorded.
func (c *Check) Failf(format string, args ...any) {
	if *c.err == nil {
		*c.err = fmt.Errorf(c.Op+": "+format, args...)
	}
}

// Input notes the input argument name, whose handle views storage store
// (both compared with ==, so pointers are best).
func (c *Check) Input(name string, handle, store any) {
	c.ins = append(c.ins, checkArg{name, handle, store})
}

// Output notes the output argument name, as Input does. Outputs must not
// share storage with each other or, except where MayAlias allows it, with
// an input (checked by Done).
func (c *Check) Output(name string, handle, store any) {
	c.outs = append(c.outs, checkArg{name, handle, store})
}

// MayAlias allows the outputs to share storage with the first input noted
// with handle in.
func (c *Check) MayAlias(in any) {
	for i, a := range c.ins {
		if a.handle == in {
			c.ins = append(c.ins[:i:i], c.ins[i+1:]...)
			return
		}
	}
}

// Done checks that no output shares storage with another output or an
// input, and reports whether the op should run: no error is recorded.
func (c *Check) Done() bool {
	if c.Failed() {
		return false
	}
	for i, a := range c.outs {
		for _, b := range c.outs[i+1:] {
			if a.store == b.store {
				c.Failf("outputs %s and %s share storage", a.name, b.name)
				return false
			}
		}
		for _, in := range c.ins {
			if a.store == in.store {
				c.Failf("output %s shares storage with input %s", a.name, in.name)
				return false
			}
		}
	}
	return true
}

func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// matrixDims returns shape's matrix dimensions [R, C]: C is the last
// dimension, R the product of the others.
func matrixDims(shape []int) (r, c int) {
	c = shape[len(shape)-1]
	return shapeLen(shape) / c, c
}

// WantLen checks that the argument name of shape shape has n elements;
// what says where n comes from.
func (c *Check) WantLen(name string, shape []int, n int, what string) {
	if c.Failed() || shape == nil {
		return
	}
	if shapeLen(shape) != n {
		c.Failf("%s is %v, want %d elements (%s)", name, shape, n, what)
	}
}

// WantMatrix checks that the argument name of shape shape is a matrix
// [r, cols] (its last dimension cols, the others making r rows).
func (c *Check) WantMatrix(name string, shape []int, r, cols int) {
	if c.Failed() || shape == nil {
		return
	}
	tr, tc := matrixDims(shape)
	if tr != r || tc != cols {
		c.Failf("%s is %v, want a matrix [%d %d]", name, shape, r, cols)
	}
}

// Gemm checks the matrices of C = op(A)·op(B) (see Backend.Gemm) and
// returns the product's dimensions m×k by k×n. It returns zeros when an
// error is or was recorded, or when a or b is nil.
func (c *Check) Gemm(cm, a, b []int, transA, transB bool) (m, n, k int) {
	if c.Failed() || a == nil || b == nil {
		return 0, 0, 0
	}
	ar, ac := matrixDims(a)
	br, bc := matrixDims(b)
	m, k = ar, ac
	if transA {
		m, k = ac, ar
	}
	kb, n := br, bc
	if transB {
		kb, n = bc, br
	}
	if k != kb {
		c.Failf("op(a) is [%d %d] (a %v, transA %v), op(b) is [%d %d] (b %v, transB %v): inner dimensions differ",
			m, k, a, transA, kb, n, b, transB)
	}
	c.WantMatrix("c", cm, m, n)
	if c.Failed() {
		return 0, 0, 0
	}
	return m, n, k
}

// Conv checks g and the arguments of an im2col or col2im: the image
// imgName of shape img (read as [N, H, W, C]) and the matrix "cols" of
// shape cols [Rows, K].
func (c *Check) Conv(g ConvGeom, imgName string, img, cols []int) {
	if c.Failed() {
		return
	}
	if err := g.Validate(); err != nil {
		c.Failf("%v", err)
		return
	}
	if img != nil && shapeLen(img) != g.N*g.H*g.W*g.C {
		c.Failf("%s is %v, geometry wants [%d %d %d %d]", imgName, img, g.N, g.H, g.W, g.C)
		return
	}
	c.WantMatrix("cols", cols, g.Rows(), g.K())
}

// Pool checks g and the arguments of a max-pool or its gradient: the
// input xName of shape x ([N, H, W, C] elements) and the output yName of
// shape y ([N, OH, OW, C] elements).
func (c *Check) Pool(g PoolGeom, xName string, x []int, yName string, y []int) {
	if c.Failed() {
		return
	}
	if err := g.Validate(); err != nil {
		c.Failf("%v", err)
		return
	}
	oh, ow := g.Out()
	if x != nil && shapeLen(x) != g.N*g.H*g.W*g.C {
		c.Failf("%s is %v, geometry wants [%d %d %d %d]", xName, x, g.N, g.H, g.W, g.C)
		return
	}
	if y != nil && shapeLen(y) != g.N*oh*ow*g.C {
		c.Failf("%s is %v, geometry wants [%d %d %d %d]", yName, y, g.N, oh, ow, g.C)
	}
}

// Spec checks the quantization spec name for a tensor of shape shape
// (slices along dimension 0) and returns the elements per slice of a
// per-channel spec, or the tensor's length for a per-tensor one; 0 when
// an error is or was recorded or shape is nil.
func (c *Check) Spec(name string, p QuantSpec, shape []int) int {
	if c.Failed() || shape == nil {
		return 0
	}
	if err := p.Validate(shape[0]); err != nil {
		c.Failf("%s for %v: %v", name, shape, err)
		return 0
	}
	if len(p.Scale) == 1 {
		return shapeLen(shape)
	}
	return shapeLen(shape) / shape[0]
}
