package backend

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
)

// The op contract: every op of the op set is declared once, here, as an
// *Op value: its tensor operands in the order of the Backend method's
// arguments (with dtype, direction, optionality and the one input an
// output may share storage with) and one rule that checks the shapes and
// scalar arguments and derives the sizes a kernel needs. Backends do not
// validate arguments themselves: each op method begins with
//
//	d, ok := backend.OpReLU.Check(&b.err, b, backend.Params{}, y, x)
//	if !ok {
//		return
//	}
//
// and so every backend rejects the same calls with the same message,
// "Op: what is wrong". The shared test suite (package backendtest)
// enumerates Ops, so an op declared here without test cases fails the
// suite on every backend.

// maxOperands bounds the tensor operands of one op.
const maxOperands = 16

// Operand declares one tensor argument of an op.
type Operand struct {
	// Name is the argument's name in error messages.
	Name string
	// DType is the required element type; 0 means "the dtype of operand
	// SameAs" (Copy).
	DType DType
	// SameAs names the operand whose dtype a DType-0 operand must have.
	SameAs string
	// Out marks an output (written by the op).
	Out bool
	// Optional operands may be nil (and are then skipped).
	Optional bool
	// MayAlias names the input that this output may share storage with.
	MayAlias string
}

// Op is the declaration of one op: its operands and the rule that checks
// shapes and scalar arguments (Params) and derives Dims.
type Op struct {
	// ID indexes the op in Ops (0 for the first).
	ID int
	// Name is the Backend method's name.
	Name string
	// Operands are the tensor arguments in the method's order.
	Operands []Operand
	// Doc says in a line what the op computes.
	Doc string
	// rule checks the call's shapes and params and sets its Dims.
	rule func(c *Call)
	// traffic returns the bytes a checked call reads and writes (its
	// declared memory traffic; see HasTraffic).
	traffic func(c *Call) int64
	// free is a Call that Check reuses (nil while a check holds it).
	free atomic.Pointer[Call]
}

// Params are the scalar arguments of one op call; each op reads the
// fields its Backend method takes and ignores the others.
type Params struct {
	Conv           ConvGeom
	Pool           PoolGeom
	P, PB          QuantSpec // Quantize/Dequantize/QuantGrad: P; Dequant, DWConvI: P (a) and PB (b)
	K              int       // Dequant's inner dimension
	Pad            int32     // Im2ColI's pad code
	TransA, TransB bool      // Gemm
	Train          bool      // CompensateGrad
	ReLU           bool      // CompBNTrain, CompBNInfer: ReLU after the batch norm
	Lo, Hi         float32   // Histogram
	Alpha, Beta    float32   // Gemm
	Momentum, Eps  float32   // BatchNorm, Compensate
	CompMomentum   float32   // CompBNTrain: the compensation's running-mean momentum
}

// Dims are the sizes a kernel needs, derived by an op's rule.
type Dims struct {
	// M, N, K: the product dimensions (GemmI, Gemm, Dequant).
	M, N, K int
	// R, C: the main operand as a matrix [R, C] (rows, channels).
	R, C int
	// Len is the number of elements of the main operand.
	Len int
	// Slice is the number of elements per quantization slice.
	Slice int
	// Bins is Histogram's bin count.
	Bins int
}

// Resolver is the part of a backend the contract needs: the shape, dtype
// and storage identity of a tensor handle. err says why t is not usable
// (ErrNil, another backend's, freed, the backend closed) without naming
// the argument; the contract adds the name in front.
type Resolver interface {
	Resolve(t Tensor) (shape []int, dt DType, store any, err error)
}

// OpCounter is an optional ability of a Resolver: the contract calls
// OpRan for every op call that passed its checks (the test suite uses it to
// see that every op ran).
type OpCounter interface {
	OpRan(op *Op)
}

// TrafficCounter is an optional ability of a Resolver: after OpRan, the
// contract calls OpTraffic for every op call that passed its checks, with
// the bytes the call reads and writes by its op's declared traffic (see
// Op.HasTraffic; 0 for an op that declares none, which the test suite
// refuses).
type TrafficCounter interface {
	OpTraffic(op *Op, bytes int64)
}

// Work is what a backend did between ResetWork and ReadWork: the op calls
// and their declared memory traffic, and, on backends with a device
// queue, the commands it recorded and the submissions and waits it made.
type Work struct {
	// Ops counts the op calls that passed the contract's checks.
	Ops int64 `json:"ops"`
	// KernelBytes sums the declared traffic (Op.HasTraffic) of those
	// calls: the bytes their kernels read and write, by the op contract's
	// rule, the same on every backend.
	KernelBytes int64 `json:"kernel_bytes"`
	// Queue reports whether the backend runs its ops through a device
	// queue; without one (the reference backend) the four counts below
	// do not apply and are 0.
	Queue bool `json:"queue"`
	// Dispatches counts the compute dispatches submitted (a recording
	// submitted twice counts twice).
	Dispatches int64 `json:"dispatches"`
	// Barriers counts the pipeline barriers submitted.
	Barriers int64 `json:"barriers"`
	// Submits counts queue submissions.
	Submits int64 `json:"submits"`
	// HostWaits counts the times the host blocked on the device (fence
	// or idle waits).
	HostWaits int64 `json:"host_waits"`
}

// WorkCounter is an optional ability of backends that count their work
// (see Work); bench and tests find it by type assertion.
type WorkCounter interface {
	// ResetWork sets the counts to zero.
	ResetWork()
	// ReadWork returns the counts since the last ResetWork (or since the
	// backend was made). Work recorded but not yet submitted to a device
	// is counted when it is submitted.
	ReadWork() Work
}

// Call is one op call being checked. Rules read shapes through it and
// report failures with Failf; after a successful check, D holds the
// derived sizes.
type Call struct {
	Op *Op
	P  Params
	D  Dims

	shapes  [maxOperands][]int
	dts     [maxOperands]DType
	stores  [maxOperands]any
	present [maxOperands]bool
	err     *error
	// infer: no tensors, only input shapes; Want* on outputs record the
	// shape instead of checking it.
	infer bool
	out   [maxOperands][]int
	free  bool // an output's size is the caller's choice
}

// Check resolves and checks the tensors ts (in the order of op.Operands)
// and the scalar params p of one call of op. The first failure is stored
// as "Op: message" in *sticky unless that already holds an error; Check
// does nothing and returns false when it does. On success it returns the
// derived sizes and true, and tells r that the op ran when r is an
// OpCounter.
func (op *Op) Check(sticky *error, r Resolver, p Params, ts ...Tensor) (Dims, bool) {
	if *sticky != nil {
		return Dims{}, false
	}
	if len(ts) != len(op.Operands) {
		*sticky = fmt.Errorf("%s: %d tensor arguments, want %d (internal error)", op.Name, len(ts), len(op.Operands))
		return Dims{}, false
	}
	// The rule is called through a function value, so its *Call escapes;
	// a Call kept by the op makes the check free of allocations. (Not a
	// sync.Pool: every garbage collection empties those, and refilling
	// one allocates in the middle of a training step.) A check running
	// while another holds the op's Call (backends in several goroutines)
	// makes its own.
	c := op.free.Swap(nil)
	if c == nil {
		c = new(Call)
	}
	*c = Call{Op: op, P: p, err: sticky}
	d, ok := c.check(r, ts)
	*c = Call{} // drop the references to the tensors' storage
	op.free.Store(c)
	return d, ok
}

// check is Check's work on a prepared Call.
func (c *Call) check(r Resolver, ts []Tensor) (Dims, bool) {
	op := c.Op
	for i, t := range ts {
		od := &op.Operands[i]
		shape, dt, store, err := r.Resolve(t)
		if od.Optional && errors.Is(err, ErrNil) {
			continue
		}
		if err != nil {
			c.Failf("%s %v", od.Name, err)
			return Dims{}, false
		}
		want := od.DType
		if want == 0 {
			if j := op.index(od.SameAs); j >= 0 && c.present[j] {
				want = c.dts[j]
			} else {
				want = dt
			}
		}
		if dt != want {
			c.Failf("%s is %v %v, want %v", od.Name, dt, shape, want)
			return Dims{}, false
		}
		c.shapes[i], c.dts[i], c.stores[i], c.present[i] = shape, dt, store, true
	}
	if !c.aliasing() {
		return Dims{}, false
	}
	op.rule(c)
	if c.failed() {
		return Dims{}, false
	}
	if oc, ok := r.(OpCounter); ok {
		oc.OpRan(op)
	}
	if tc, ok := r.(TrafficCounter); ok {
		var n int64
		if op.traffic != nil {
			n = op.traffic(c)
		}
		tc.OpTraffic(op, n)
	}
	return c.D, true
}

// ErrNil is the error a Resolver returns (possibly wrapped) for a nil
// tensor (nil or a typed nil pointer): optional operands may be nil.
var ErrNil = errors.New("is nil")

// OutputShapes returns the shapes of op's outputs (nil for inputs) for a
// call with inputs of the given shapes (indexed as op.Operands; outputs'
// entries are ignored) and params p, from the same rule that Check applies.
// It fails for an op whose output size is the caller's choice (Histogram).
func (op *Op) OutputShapes(p Params, shapes ...[]int) ([][]int, error) {
	if len(shapes) != len(op.Operands) {
		return nil, fmt.Errorf("%s: %d shapes, want %d", op.Name, len(shapes), len(op.Operands))
	}
	var err error
	c := Call{Op: op, P: p, err: &err, infer: true}
	for i, od := range op.Operands {
		if od.Out || shapes[i] == nil {
			continue
		}
		if e := CheckShape(shapes[i]); e != nil {
			return nil, fmt.Errorf("%s: %s: %w", op.Name, od.Name, e)
		}
		c.shapes[i], c.dts[i], c.present[i] = shapes[i], od.DType, true
	}
	op.rule(&c)
	if err != nil {
		return nil, err
	}
	if c.free {
		return nil, fmt.Errorf("%s: the size of an output is the caller's choice", op.Name)
	}
	out := make([][]int, len(op.Operands))
	for i, od := range op.Operands {
		if od.Out && c.out[i] != nil {
			out[i] = c.out[i]
		}
	}
	return out, nil
}

func (op *Op) index(name string) int {
	for i, od := range op.Operands {
		if od.Name == name {
			return i
		}
	}
	return -1
}

func (c *Call) failed() bool { return *c.err != nil }

// Failf records "Op: message" unless an error is already recorded.
func (c *Call) Failf(format string, args ...any) {
	if *c.err == nil {
		*c.err = fmt.Errorf(c.Op.Name+": "+format, args...)
	}
}

// aliasing checks that no output shares storage with another output or
// with an input other than the one its declaration allows.
func (c *Call) aliasing() bool {
	ops := c.Op.Operands
	for i, a := range ops {
		if !a.Out || !c.present[i] {
			continue
		}
		for j, b := range ops {
			if j == i || !c.present[j] || c.stores[j] != c.stores[i] {
				continue
			}
			switch {
			case b.Out && j > i:
				c.Failf("outputs %s and %s share storage", a.Name, b.Name)
				return false
			case !b.Out && a.MayAlias != b.Name:
				c.Failf("output %s shares storage with input %s", a.Name, b.Name)
				return false
			}
		}
	}
	return true
}

// has reports whether operand i was given (and resolved).
func (c *Call) has(i int) bool { return c.present[i] || (c.infer && c.Op.Operands[i].Out) }

// shape returns operand i's shape (nil when absent or an inferred output).
func (c *Call) shape(i int) []int { return c.shapes[i] }

// length returns operand i's element count.
func (c *Call) length(i int) int { return shapeLen(c.shapes[i]) }

// matrix returns operand i as a matrix [R, C].
func (c *Call) matrix(i int) (r, cols int) { return matrixDims(c.shapes[i]) }

// name returns operand i's name.
func (c *Call) name(i int) string { return c.Op.Operands[i].Name }

// wantLen checks that operand i has n elements; what says where n
// comes from. An absent operand is skipped.
func (c *Call) wantLen(i, n int, what string) { c.wantLenOf(i, n, what, -1) }

// wantMatrix checks that operand i is a matrix [r, cols].
func (c *Call) wantMatrix(i, r, cols int) {
	if c.failed() || !c.has(i) {
		return
	}
	if c.infer && c.Op.Operands[i].Out {
		c.out[i] = []int{r, cols}
		return
	}
	tr, tc := c.matrix(i)
	if tr != r || tc != cols {
		c.Failf("%s is %v, want a matrix [%d %d]", c.name(i), c.shapes[i], r, cols)
	}
}

// wantImage checks that operand i has n·h·w·ch elements (an NHWC image).
func (c *Call) wantImage(i, n, h, w, ch int) {
	if c.failed() || !c.has(i) {
		return
	}
	if c.infer && c.Op.Operands[i].Out {
		c.out[i] = []int{n, h, w, ch}
		return
	}
	if c.length(i) != n*h*w*ch {
		c.Failf("%s is %v, geometry wants [%d %d %d %d]", c.name(i), c.shapes[i], n, h, w, ch)
	}
}

// sameAs checks that operand i has as many elements as operand j and,
// inferring, gives it j's shape.
func (c *Call) sameAs(i, j int) {
	if c.failed() || !c.has(i) || !c.present[j] {
		return
	}
	if c.infer && c.Op.Operands[i].Out {
		c.out[i] = append([]int(nil), c.shapes[j]...)
		return
	}
	if c.length(i) != c.length(j) {
		c.Failf("%s is %v, want %d elements (%s is %v)", c.name(i), c.shapes[i], c.length(j), c.name(j), c.shapes[j])
	}
}

// sameMatrix checks that operand i is the same matrix [R, C] as operand j.
func (c *Call) sameMatrix(i, j int) {
	if c.failed() || !c.has(i) || !c.present[j] {
		return
	}
	if c.infer && c.Op.Operands[i].Out {
		c.out[i] = append([]int(nil), c.shapes[j]...)
		return
	}
	r, cols := c.matrix(j)
	c.wantMatrix(i, r, cols)
}

// channels checks that each operand of is has c elements, one per channel
// of operand of.
func (c *Call) channels(ch, of int, is ...int) {
	for _, i := range is {
		c.wantLenOf(i, ch, "channels of", of)
	}
}

// wantLenOf checks that operand i has n elements, n being "what of"
// operand of (e.g. "rows of" acc), or what alone when of < 0: the message
// is formatted only on failure, so a passing check does not allocate.
func (c *Call) wantLenOf(i, n int, what string, of int) {
	if c.failed() || !c.has(i) {
		return
	}
	if c.infer && c.Op.Operands[i].Out {
		c.out[i] = []int{n}
		return
	}
	if c.length(i) == n {
		return
	}
	if of < 0 {
		c.Failf("%s is %v, want %d elements (%s)", c.name(i), c.shapes[i], n, what)
		return
	}
	c.Failf("%s is %v, want %d elements (%s %s %v)", c.name(i), c.shapes[i], n, what, c.name(of), c.shapes[of])
}

// spec checks the quantization spec p (named name) for operand i (slices
// along dimension 0) and returns the elements per slice.
func (c *Call) spec(name string, p QuantSpec, i int) int {
	if c.failed() || !c.present[i] {
		return 0
	}
	shape := c.shapes[i]
	if err := p.Validate(shape[0]); err != nil {
		c.Failf("%s for %v: %v", name, shape, err)
		return 0
	}
	if len(p.Scale) == 1 {
		return shapeLen(shape)
	}
	return shapeLen(shape) / shape[0]
}

// conv checks the geometry and the image operand img ([N, H, W, C]).
func (c *Call) conv(g ConvGeom, img int) bool {
	if c.failed() {
		return false
	}
	if err := g.Validate(); err != nil {
		c.Failf("%v", err)
		return false
	}
	c.wantImage(img, g.N, g.H, g.W, g.C)
	return !c.failed()
}

// momentum checks a running-average momentum.
func (c *Call) momentum() {
	if m := c.P.Momentum; !(m >= 0 && m <= 1) {
		c.Failf("momentum = %v, want within [0, 1]", m)
	}
}

// compMomentum checks CompBNTrain's compensation momentum.
func (c *Call) compMomentum() {
	if m := c.P.CompMomentum; !(m >= 0 && m <= 1) {
		c.Failf("compensation momentum = %v, want within [0, 1]", m)
	}
}

// eps checks a batch-norm epsilon.
func (c *Call) eps() {
	if e := c.P.Eps; !(e >= 0) || math.IsInf(float64(e), 0) {
		c.Failf("eps = %v, want finite and >= 0", e)
	}
}

// HasTraffic reports whether op declares its memory traffic: the bytes a
// call reads and writes, derived from its operands' sizes and dtypes
// (Bytes per element) and params. Every op of Ops declares one (the test
// suite's coverage check fails otherwise); backends sum it through
// TrafficCounter.
func (op *Op) HasTraffic() bool { return op.traffic != nil }

// Bytes returns the size of one element as the op contract counts it:
// 4 for F32 and I32, 1 for Q8 (however a backend stores the codes), 0 for
// an unknown dtype.
func (d DType) Bytes() int {
	switch d {
	case F32, I32:
		return 4
	case Q8:
		return 1
	}
	return 0
}

// bytesOf returns the size of operand i in bytes (0 when absent).
func (c *Call) bytesOf(i int) int64 {
	if !c.present[i] {
		return 0
	}
	return int64(c.length(i)) * int64(c.dts[i].Bytes())
}

// trafficEach is the traffic rule of ops that read each input and write
// each output once: the sum of the operands' sizes.
func trafficEach(c *Call) int64 {
	var n int64
	for i := range c.Op.Operands {
		n += c.bytesOf(i)
	}
	return n
}

// trafficUpdating returns the traffic rule of ops that also read the
// outputs at indices upd before writing them (in-place updates, running
// statistics): every operand once, and those twice.
func trafficUpdating(upd ...int) func(c *Call) int64 {
	return func(c *Call) int64 {
		n := trafficEach(c)
		for _, i := range upd {
			n += c.bytesOf(i)
		}
		return n
	}
}

// Operand constructors, to keep the declarations short.
func in(name string, dt DType) Operand  { return Operand{Name: name, DType: dt} }
func out(name string, dt DType) Operand { return Operand{Name: name, DType: dt, Out: true} }
func inOpt(name string, dt DType) Operand {
	return Operand{Name: name, DType: dt, Optional: true}
}
func outOpt(name string, dt DType) Operand {
	return Operand{Name: name, DType: dt, Out: true, Optional: true}
}
func outAlias(name string, dt DType, alias string) Operand {
	return Operand{Name: name, DType: dt, Out: true, MayAlias: alias}
}

// errNoOp is returned by OpByName for an unknown name.
var errNoOp = errors.New("no such op")

// OpByName returns the declared op called name.
func OpByName(name string) (*Op, error) {
	for _, op := range opList {
		if op.Name == name {
			return op, nil
		}
	}
	return nil, fmt.Errorf("%q: %w", name, errNoOp)
}

// Ops returns every declared op, in declaration order (Op.ID). The slice
// is a copy; the ops are shared.
func Ops() []*Op { return append([]*Op(nil), opList...) }
