package ref

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vktrain/vktrain/nn/backend"
)

var (
	_                  backend.Backend           = (*Backend)(nil)
	_                  backend.HostAccess        = (*Backend)(nil)
	_                  backend.Resolver          = (*Backend)(nil)
	_                  backend.OpCounter         = (*Backend)(nil)
	_                  backend.FusedBNReLU       = (*Backend)(nil)
	_                  backend.FusedGemmIDequant = (*Backend)(nil)
	_                  backend.Tensor            = (*Tensor)(nil)
	errClosed                                    = errors.New("backend is closed")
	errForeign                                   = errors.New("belongs to another backend")
	errFreed                                     = errors.New("was freed")
	errNegativeThreads                           = errors.New("ref: Options.Threads must be >= 0")
)

// Options configures a reference backend.
type Options struct {
	// Threads is the number of goroutines the heavy ops use; 0 means
	// runtime.GOMAXPROCS(0). Results do not depend on it.
	Threads int
}

// Backend is the reference backend. The zero value is not usable; call
// New or NewWithOptions.
type Backend struct {
	threads int
	err     error
	closed  bool
	scratch []float32     // GemmI's float copy of b
	parts   []gemmPart    // per-chunk GEMM scratch
	terms   []float32     // QuantGrad's terms of one large slice
	minMax  []minMaxPart  // MinMax's per-chunk results
	deq     dequantConsts // GemmIDequant's epilogue constants
	tapsI   []int32       // the depthwise filters by tap (dwTaps)
	tapsF   []float32
	// convCols is FusedConv's float im2col matrix (or input gradient
	// columns), kept across calls.
	convCols []float32
	// convSrc is ConvIDequant's image, kept here so that the job's pointer
	// to it does not escape to the heap on every call; convXF holds its
	// codes as float32 (ConvIDequant) or its dequantized values
	// (ConvGradWQ), kept across calls.
	convSrc convSrc
	convXF  []float32
	// q8 is the int8 path's scratch (see gemm8.go), kept across calls.
	q8 q8Scratch
	// compBN is FusedCompBN's scratch for xhat and y where they are not
	// stored (compBNScratch), kept across calls.
	compBN []float32
	// compBNParts: compBNScratch's views of compBN.
	compBNParts [][]float32
	// compAddF is FusedCompBN's per-column compensation term (compAdd).
	compAddF []float32
	// weightGrad is DenseGradWQ's and ConvGradWQuant's gradient with
	// respect to the dequantized weights, kept across calls.
	weightGrad []float32
	small      []float32    // per-channel constants of one op (Backend.floats)
	smallI     []int32      // the same for integers (Backend.ints)
	pool       *workers     // helper goroutines, started by the first parallel op
	jobs       jobs         // the operands of the op running, see ranger
	ran        []int        // calls that passed their checks, by backend.Op ID
	work       backend.Work // ResetWork's counts (ops and declared traffic)
}

// New returns a reference backend using all available CPUs.
func New() *Backend {
	return &Backend{threads: runtime.GOMAXPROCS(0), ran: make([]int, len(backend.Ops()))}
}

// NewWithOptions returns a reference backend configured by o, or an error
// for a bad option.
func NewWithOptions(o Options) (*Backend, error) {
	if o.Threads < 0 {
		return nil, errNegativeThreads
	}
	b := New()
	if o.Threads > 0 {
		b.threads = o.Threads
	}
	return b, nil
}

// storage is shared by a tensor and its views; exactly one of f and i is
// non-nil until the storage is freed.
type storage struct {
	f     []float32
	i     []int32
	freed bool
}

// Tensor is a reference tensor: shape, dtype and row-major storage (the
// element at index (i0, i1, ..., in) is at offset
// ((i0·d1 + i1)·d2 + ...)·dn + in). Views made by Reshape share the storage.
type Tensor struct {
	owner *Backend
	shape []int
	dt    backend.DType
	st    *storage
}

// Shape returns the dimensions; callers must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// DType returns the element type.
func (t *Tensor) DType() backend.DType { return t.dt }

// Len returns the number of elements.
func (t *Tensor) Len() int { return product(t.shape) }

func (t *Tensor) String() string { return fmt.Sprintf("%v %v", t.dt, t.shape) }

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Name returns "cpu".
func (b *Backend) Name() string { return "cpu" }

// New allocates a zero-filled tensor. The shape needs at least one
// dimension and all dimensions must be positive.
func (b *Backend) New(dt backend.DType, shape ...int) (backend.Tensor, error) {
	if b.closed {
		return nil, fmt.Errorf("New: %w", errClosed)
	}
	if err := backend.CheckShape(shape); err != nil {
		return nil, fmt.Errorf("New: %w", err)
	}
	st := &storage{}
	switch dt {
	case backend.F32:
		st.f = make([]float32, product(shape))
	case backend.I32, backend.Q8:
		st.i = make([]int32, product(shape))
	default:
		return nil, fmt.Errorf("New: bad dtype %v", dt)
	}
	return &Tensor{owner: b, shape: append([]int(nil), shape...), dt: dt, st: st}, nil
}

// own returns t as a usable tensor of b: an error wrapping backend.ErrNil
// for nil (or a typed nil), errForeign for another backend's tensor and
// errFreed for freed storage. The error does not name the argument.
func (b *Backend) own(t backend.Tensor) (*Tensor, error) {
	rt, ok := t.(*Tensor)
	if t == nil || (ok && rt == nil) {
		return nil, backend.ErrNil
	}
	if !ok || rt.owner != b {
		return nil, errForeign
	}
	if rt.st.freed {
		return nil, errFreed
	}
	return rt, nil
}

// Resolve implements backend.Resolver for the op contract: t's shape,
// dtype and storage identity (shared by t's views), or why t is not
// usable: an error wrapping backend.ErrNil for a nil or typed-nil tensor,
// "backend is closed", "belongs to another backend" or "was freed".
func (b *Backend) Resolve(t backend.Tensor) (shape []int, dt backend.DType, store any, err error) {
	rt, err := b.own(t)
	if err == nil && b.closed {
		err = errClosed
	}
	if err != nil {
		return nil, 0, nil, err
	}
	return rt.shape, rt.dt, rt.st, nil
}

// OpRan implements backend.OpCounter: the contract calls it for every op
// call that passed its checks.
func (b *Backend) OpRan(op *backend.Op) {
	if op.ID >= 0 && op.ID < len(b.ran) {
		b.ran[op.ID]++
	}
}

// OpTraffic implements backend.TrafficCounter: it adds the declared
// traffic of an op call to the work counts.
func (b *Backend) OpTraffic(op *backend.Op, bytes int64) {
	b.work.Ops++
	b.work.KernelBytes += bytes
}

// ResetWork implements backend.WorkCounter.
func (b *Backend) ResetWork() { b.work = backend.Work{} }

// ReadWork implements backend.WorkCounter: the op calls and their
// declared traffic since ResetWork. The reference backend has no device
// queue, so Queue is false and the dispatch, barrier, submission and wait
// counts are 0.
func (b *Backend) ReadWork() backend.Work { return b.work }

// OpCounts returns, indexed by backend.Op ID (the order of backend.Ops),
// how many calls of each op passed their checks on b since it was made
// (including calls that then failed at run time, such as MaxPoolGrad with
// an index outside dx). The test suite uses it to see that every op ran.
// The slice is a copy.
func (b *Backend) OpCounts() []int { return append([]int(nil), b.ran...) }

// Reshape returns a view of t with another shape and the same length.
func (b *Backend) Reshape(t backend.Tensor, shape ...int) (backend.Tensor, error) {
	rt, err := b.own(t)
	if err != nil {
		return nil, fmt.Errorf("Reshape: t %w", err)
	}
	if err := backend.CheckShape(shape); err != nil {
		return nil, fmt.Errorf("Reshape: %w", err)
	}
	if product(shape) != rt.Len() {
		return nil, fmt.Errorf("Reshape: t is %v (%d elements), new shape %v has %d", rt.shape, rt.Len(), shape, product(shape))
	}
	return &Tensor{owner: b, shape: append([]int(nil), shape...), dt: rt.dt, st: rt.st}, nil
}

// Free releases t's storage and that of its views. Freeing nil or twice
// is allowed; freeing another backend's tensor records an error.
func (b *Backend) Free(t backend.Tensor) {
	if t == nil {
		return
	}
	rt, ok := t.(*Tensor)
	if ok && rt == nil {
		return
	}
	if !ok || rt.owner != b {
		b.record(fmt.Errorf("Free: t %w", errForeign))
		return
	}
	rt.st.f, rt.st.i, rt.st.freed = nil, nil, true
}

// WriteF32 copies src into the F32 tensor t.
func (b *Backend) WriteF32(t backend.Tensor, src []float32) error {
	if b.err != nil {
		return b.err
	}
	rt, err := b.own(t)
	if err != nil {
		err = fmt.Errorf("t %w", err)
	} else if rt.dt != backend.F32 {
		err = fmt.Errorf("t is %v, want f32", rt.dt)
	}
	if err == nil && len(src) != rt.Len() {
		err = fmt.Errorf("t is %v, src has %d elements", rt.shape, len(src))
	}
	if err != nil {
		return fmt.Errorf("WriteF32: %w", err)
	}
	copy(rt.st.f, src)
	return nil
}

// WriteI32 copies src into the I32 tensor t.
func (b *Backend) WriteI32(t backend.Tensor, src []int32) error {
	if b.err != nil {
		return b.err
	}
	rt, err := b.own(t)
	if err != nil {
		err = fmt.Errorf("t %w", err)
	} else if rt.dt != backend.I32 && rt.dt != backend.Q8 {
		err = fmt.Errorf("t is %v, want i32 or q8", rt.dt)
	}
	if err == nil && len(src) != rt.Len() {
		err = fmt.Errorf("t is %v, src has %d elements", rt.shape, len(src))
	}
	if err == nil && rt.dt == backend.Q8 {
		for i, v := range src {
			if v < -128 || v > 255 {
				err = fmt.Errorf("q8 tensor: src[%d] = %d outside [-128, 255]", i, v)
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("WriteI32: %w", err)
	}
	copy(rt.st.i, src)
	return nil
}

// ReadF32 copies the F32 tensor t into dst. It returns the sticky error,
// if any, without copying.
func (b *Backend) ReadF32(t backend.Tensor, dst []float32) error {
	if b.err != nil {
		return b.err
	}
	rt, err := b.own(t)
	if err != nil {
		err = fmt.Errorf("t %w", err)
	} else if rt.dt != backend.F32 {
		err = fmt.Errorf("t is %v, want f32", rt.dt)
	}
	if err == nil && len(dst) != rt.Len() {
		err = fmt.Errorf("t is %v, dst has %d elements", rt.shape, len(dst))
	}
	if err != nil {
		return fmt.Errorf("ReadF32: %w", err)
	}
	copy(dst, rt.st.f)
	return nil
}

// ReadI32 copies the I32 tensor t into dst. It returns the sticky error,
// if any, without copying.
func (b *Backend) ReadI32(t backend.Tensor, dst []int32) error {
	if b.err != nil {
		return b.err
	}
	rt, err := b.own(t)
	if err != nil {
		err = fmt.Errorf("t %w", err)
	} else if rt.dt != backend.I32 && rt.dt != backend.Q8 {
		err = fmt.Errorf("t is %v, want i32 or q8", rt.dt)
	}
	if err == nil && len(dst) != rt.Len() {
		err = fmt.Errorf("t is %v, dst has %d elements", rt.shape, len(dst))
	}
	if err != nil {
		return fmt.Errorf("ReadI32: %w", err)
	}
	copy(dst, rt.st.i)
	return nil
}

// Sync returns the first recorded error; ops are synchronous.
func (b *Backend) Sync() error { return b.err }

// Err returns the first recorded error.
func (b *Backend) Err() error { return b.err }

// Close marks the backend closed (later ops record an error) and returns
// the first recorded error. Safe to call twice.
func (b *Backend) Close() error {
	b.closed = true
	b.scratch, b.parts = nil, nil
	b.convCols, b.convXF = nil, nil
	b.q8 = q8Scratch{}
	b.compBN, b.compBNParts, b.weightGrad = nil, nil, nil
	if b.pool != nil {
		b.pool.stop()
		b.pool = nil
	}
	return b.err
}

// HostF32 returns the elements of an F32 tensor of b.
func (b *Backend) HostF32(t backend.Tensor) ([]float32, bool) {
	rt, err := b.own(t)
	if err != nil || rt.dt != backend.F32 {
		return nil, false
	}
	return rt.st.f, true
}

// HostI32 returns the elements of an I32 tensor of b.
func (b *Backend) HostI32(t backend.Tensor) ([]int32, bool) {
	rt, err := b.own(t)
	if err != nil || (rt.dt != backend.I32 && rt.dt != backend.Q8) {
		return nil, false
	}
	return rt.st.i, true
}

func (b *Backend) record(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Fill sets every element of the F32 tensor t to v.
func (b *Backend) Fill(t backend.Tensor, v float32) {
	d, ok := backend.OpFill.Check(&b.err, b, backend.Params{}, t)
	if !ok {
		return
	}
	f := t.(*Tensor).st.f[:d.Len]
	for i := range f {
		f[i] = v
	}
}

// Copy copies src into dst (same dtype and length).
func (b *Backend) Copy(dst, src backend.Tensor) {
	d, ok := backend.OpCopy.Check(&b.err, b, backend.Params{}, dst, src)
	if !ok {
		return
	}
	dt, st := dst.(*Tensor), src.(*Tensor)
	if st.dt == backend.F32 {
		copy(dt.st.f[:d.Len], st.st.f)
	} else {
		copy(dt.st.i[:d.Len], st.st.i)
	}
}
