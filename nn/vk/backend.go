package vk

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/shaders"
)

var (
	_ backend.Backend    = (*Backend)(nil)
	_ backend.HostAccess = (*Backend)(nil)
	_ backend.Tensor     = (*Tensor)(nil)
)

// Options configures a Vulkan backend.
type Options struct {
	// Device is the gpu.Info.Index of the device to open; -1 picks the best
	// one (discrete > integrated > virtual > cpu). Used by Open only.
	Device int
	// Validation turns on VK_LAYER_KHRONOS_validation (Open only).
	Validation bool
	// Variant forces the GemmI kernel: "auto" or "" (chosen from the
	// device's features), "packed" (four codes per uint32, portable),
	// "int8" (8-bit storage loads) or "dot" (integer dot product). Asking
	// for a variant the device lacks is an error.
	Variant string
	// Reads chooses how kernels read their inputs: "auto" or "" (texel
	// buffers on CPU drivers, where they were measured several times
	// faster, storage buffers elsewhere), "storage" or "texel". Kernels
	// without a texel build, inputs larger than the device's
	// maxTexelBufferElements and inputs that alias a written binding are
	// read as storage buffers whatever the choice.
	Reads string
	// Timing records per-dispatch device times (see Timings). On lavapipe
	// timestamps serialize the work, so it is off by default.
	Timing bool
	// PipelineCache, when set, names a file that seeds the Vulkan pipeline
	// cache and receives it on Close (Open only), so later runs skip
	// pipeline compilation. Drivers ignore data from another device.
	PipelineCache string
	// InstanceExtensions and DeviceExtensions are Vulkan extensions to
	// enable besides the backend's own (Open only), e.g. for a window that
	// presents on the device (gpu.Options).
	InstanceExtensions, DeviceExtensions []string
	// RecordPaths is for tests: every dispatch records which of its
	// kernel's declared paths (paths.go) the launch rules chose, read by
	// PathsTaken, and checks its push constants against the kernel's
	// declared block. Off, recording costs nothing.
	RecordPaths bool
}

// Variants of the integer GEMM.
const (
	VariantPacked = "packed"
	VariantInt8   = "int8"
	VariantDot    = "dot"
)

// How kernels read their inputs (Options.Reads).
const (
	ReadsStorage = "storage"
	ReadsTexel   = "texel"
)

// Backend executes the op set with Vulkan compute shaders on one device.
// Ops are recorded into a command sequence and run by Sync, the Reads
// and the Writes. It is not safe for concurrent use.
type Backend struct {
	dev     *gpu.Device
	ownDev  bool
	opts    Options
	variant string
	texel   bool                       // read inputs through texel buffers where a kernel has a texel build
	texName map[string]string          // shader -> its texel build NAME_tex, "" when it has none
	pairs   map[string]string          // shader -> its column-pair build NAME2 (pairName)
	keyBuf  []byte                     // kernel's cache-key scratch
	bufs    []*gpu.Buffer              // dispatch's binding scratch
	pushBuf []byte                     // dispatch's push-constant scratch
	host    []byte                     // packed Q8 codes between the host and a buffer (WriteI32, ReadI32)
	gemmDeq shapeCache[gemmDeqScratch] // GemmIDequant's products and row sums, per shape (fusedgemm.go)
	convScr shapeCache[convScratch]    // the composed FusedConv ops' im2col matrices, per shape (conv.go)
	seq     *gpu.Sequence
	pending int           // operations recorded since the last flush
	dead    []*gpu.Buffer // freed while recorded work may still use them
	kernels map[string]*gpu.Kernel
	stores  map[*storage]struct{}
	times   []gpu.KernelTime
	err     error
	closed  bool
	curOp   string // the op being recorded, for errors of groups
	tune    tuning
	ft      floatTuning // launch sizes of the float kernels

	opCounts []int                     // calls per op (backend.Op.ID) that passed the contract's checks
	paths    map[string]map[string]int // RecordPaths: kernel -> path -> dispatches
	// pushBlocks caches, under RecordPaths, the push-constant block of
	// each kernel build (by name), which dispatches are checked against.
	pushBlocks map[string]gpu.PushBlock

	// arena holds small per-op parameters (per-channel scales, zero
	// points), bump-allocated and recycled at each flush; scratch is a
	// reusable device buffer for partial reductions (ops are serialized
	// by barriers, so one suffices).
	arena    *Tensor
	arenaOff int // words used
	scratchT *Tensor

	prof profile // StartProfile's accumulated kernel times
	work work    // ResetWork's counts (backend.WorkCounter)
}

// tuning holds the device-dependent launch sizes.
type tuning struct {
	wg     uint32 // 1-D workgroup size of elementwise kernels
	red    uint32 // workgroup size of reductions (a power of two)
	gemmWX uint32 // GemmI workgroup: invocations along n
	gemmWY uint32 // GemmI workgroup: invocations along m
	// gemmMaxGY caps GemmI's workgroups along m (the kernels loop over
	// the rest): the device's limit.
	gemmMaxGY int
	// rowInvocations is the number of invocations row-strided 2-D kernels
	// aim for (each loops over its share of rows, loading per-column
	// constants once): enough to fill the device.
	rowInvocations int

	// tiled selects the shared-memory GemmI kernels (GPUs; on CPU drivers
	// direct loads were faster), with workgroups tileX x tileY and tileK
	// words of k staged per step.
	tiled               bool
	tileX, tileY, tileK uint32

	// redGroups is the number of workgroups a MinMax reduction aims for
	// (1024 on GPUs, a few per thread on CPU drivers).
	redGroups int

	// strideGroups, when not 0, caps the workgroups of the grid-stride
	// q_* kernels (CPU drivers: a few per thread).
	strideGroups int

	// splitTarget is the number of GemmI invocations (4x4 blocks) below
	// which k is split over more workgroups; 0 never splits.
	splitTarget int

	// gemmSG, when not 0, is the fixed subgroup size of a CPU driver, where
	// GemmI of packed codes uses q_gemmi_sg (rows loaded once per subgroup
	// and broadcast: loads, not arithmetic, limit CPU drivers).
	gemmSG uint32

	// cpu marks a CPU driver (lavapipe): kernels of few long workgroups,
	// contiguous runs of rows per reduction lane, vector stores.
	cpu bool
}

// Q8 storage formats.
type qfmt uint8

const (
	qU8   qfmt = iota // unsigned codes, four per uint32, rows padded
	qS8               // signed codes, four per uint32, rows padded
	qWide             // one int32 per code (codes of both signs)
)

// storage is shared by a tensor and its views.
type storage struct {
	buf   *gpu.Buffer
	bytes int64 // capacity of buf
	freed bool
	q     qfmt // Q8 only: how the codes are stored

	views    [4]*Tensor // Reshape's latest views, returned again for the same shape
	nextView int        // the slot of views the next new view takes
}

// Tensor is a Vulkan tensor: a shape, a dtype and a storage buffer shared
// with its views. F32 and I32 tensors are plain float/int arrays of Len
// elements. Q8 tensors hold codes packed four to a uint32 (byte 0 least
// significant), each row of the last dimension padded with code 0 to a
// whole word, signed or unsigned as the values written require; codes of
// both signs (as Im2ColI with a pad of the other sign makes) are stored one
// per int32.
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

// cols returns the last dimension.
func (t *Tensor) cols() int { return t.shape[len(t.shape)-1] }

// rows returns the product of all dimensions but the last.
func (t *Tensor) rows() int { return t.Len() / t.cols() }

// rowWords returns the words per row of a packed Q8 tensor.
func (t *Tensor) rowWords() int { return (t.cols() + 3) / 4 }

// packedBytes returns the size of the packed Q8 layout.
func (t *Tensor) packedBytes() int64 { return int64(t.rows()) * int64(t.rowWords()) * 4 }

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Open opens a Vulkan device and returns a backend on it, which owns the
// device (Close closes it).
func Open(opts Options) (*Backend, error) {
	d, err := gpu.Open(gpu.Options{DeviceIndex: opts.Device, Validation: opts.Validation, PipelineCachePath: opts.PipelineCache,
		InstanceExtensions: opts.InstanceExtensions, DeviceExtensions: opts.DeviceExtensions})
	if err != nil {
		return nil, fmt.Errorf("vk: %w", err)
	}
	b, err := New(d, opts)
	if err != nil {
		d.Close()
		return nil, err
	}
	b.ownDev = true
	return b, nil
}

// New returns a backend on an already open device, which the caller keeps
// owning (close the backend before the device).
func New(dev *gpu.Device, opts Options) (*Backend, error) {
	if dev == nil {
		return nil, errors.New("vk: New: nil device")
	}
	b := &Backend{dev: dev, opts: opts, kernels: map[string]*gpu.Kernel{}, stores: map[*storage]struct{}{}}
	b.work.base = dev.Work()
	v, err := chooseVariant(dev, opts.Variant)
	if err != nil {
		return nil, err
	}
	b.variant = v
	switch opts.Reads {
	case "", "auto":
		b.texel = AutoReads(dev.Info()) == ReadsTexel
	case ReadsTexel:
		b.texel = true
	case ReadsStorage:
	default:
		return nil, fmt.Errorf("vk: unknown Reads %q (want auto, storage or texel)", opts.Reads)
	}
	b.texName = map[string]string{}
	b.tune = chooseTuning(dev.Info())
	b.ft = chooseFloatTuning(dev.Info(), dev.Features().ShaderInt64)
	b.opCounts = make([]int, len(backend.Ops()))
	if opts.RecordPaths {
		b.paths = map[string]map[string]int{}
		b.pushBlocks = map[string]gpu.PushBlock{}
	}
	seq, err := dev.NewSequence()
	if err != nil {
		return nil, fmt.Errorf("vk: New: %w", err)
	}
	seq.SetTiming(opts.Timing)
	b.seq = seq
	return b, nil
}

// Variants returns the GemmI variants the device can run, the portable
// "packed" first.
func Variants(dev *gpu.Device) []string {
	v := []string{VariantPacked}
	f := dev.Features()
	if f.StorageBuffer8Bit && f.ShaderInt8 {
		v = append(v, VariantInt8)
	}
	if f.IntegerDotProduct {
		v = append(v, VariantDot)
	}
	return v
}

func chooseVariant(dev *gpu.Device, want string) (string, error) {
	have := Variants(dev)
	switch want {
	case "", "auto":
		// Integer dot products where the hardware accelerates them;
		// otherwise the packed words, which were the fastest elsewhere.
		info := dev.Info()
		if dev.Features().IntegerDotProduct && (info.Dot4x8MixedAccelerated || info.Dot4x8SignedAccelerated) {
			return VariantDot, nil
		}
		return VariantPacked, nil
	case VariantPacked, VariantInt8, VariantDot:
		for _, h := range have {
			if h == want {
				return want, nil
			}
		}
		return "", fmt.Errorf("vk: GemmI variant %q is not supported by %s (it supports %s)", want, dev.Info().Name, strings.Join(have, ", "))
	}
	return "", fmt.Errorf("vk: unknown GemmI variant %q (want auto, packed, int8 or dot)", want)
}

// vendorARM is Arm's PCI vendor ID (Mali GPUs).
const vendorARM = 0x13B5

func chooseTuning(info gpu.Info) tuning {
	l := info.Limits
	inv := l.MaxComputeWorkGroupInvocations
	t := tuning{wg: 64, red: 64, gemmWX: 8, gemmWY: 8, gemmMaxGY: int(l.MaxComputeWorkGroupCount[1]), rowInvocations: 1 << 15, redGroups: 1024}
	if inv >= 256 && l.MaxComputeWorkGroupSize[0] >= 128 {
		t.wg, t.red = 128, 128
	}
	if t.gemmWX*t.gemmWY > inv {
		t.gemmWX, t.gemmWY = 4, 4
	}
	// Split k where few output blocks would leave a GPU idle: a discrete
	// GPU runs tens of thousands of invocations at once, an integrated one
	// thousands; a CPU driver has a few cores, enough blocks already.
	t.tileX, t.tileY, t.tileK = 8, 8, 8
	if inv >= 256 && l.MaxComputeWorkGroupSize[0] >= 16 && l.MaxComputeWorkGroupSize[1] >= 16 {
		t.tileX, t.tileY = 16, 16
	}
	for t.tileK > 1 && 4*t.tileK*(4*t.tileX+4*t.tileY+2) > l.MaxComputeSharedMemorySize {
		t.tileK /= 2
	}
	// Shared-memory tiles on GPUs; not on CPU drivers (direct loads were
	// faster on lavapipe) nor on Arm Mali, whose shared memory is ordinary
	// cached memory.
	t.tiled = info.Type != gpu.TypeCPU && info.VendorID != vendorARM
	switch info.Type {
	case gpu.TypeDiscrete:
		t.splitTarget = 16384
		t.rowInvocations = 1 << 18
	case gpu.TypeIntegrated, gpu.TypeVirtual, gpu.TypeOther:
		t.splitTarget = 2048
	case gpu.TypeCPU:
		t.cpu = true
		t.rowInvocations = 1 << 12
		t.redGroups = 16
		t.strideGroups = 64
		if sg := info.SubgroupSize; sg >= 4 && sg <= 64 && info.MinSubgroupSize == sg && info.MaxSubgroupSize == sg && sg <= inv {
			t.gemmSG = sg
		}
	}
	return t
}

// Variant returns the GemmI variant in use.
func (b *Backend) Variant() string { return b.variant }

// AutoReads returns how kernels read their inputs on a device when
// Options.Reads is auto: texel buffers on CPU drivers (on lavapipe a
// storage-buffer load is a loop over the SIMD lanes, a texel fetch a
// gather), storage buffers, the portable baseline, elsewhere.
func AutoReads(info gpu.Info) string {
	if info.Type == gpu.TypeCPU {
		return ReadsTexel
	}
	return ReadsStorage
}

// Reads returns how kernels read their inputs: ReadsTexel or ReadsStorage.
func (b *Backend) Reads() string {
	if b.texel {
		return ReadsTexel
	}
	return ReadsStorage
}

// Device returns the backend's device.
func (b *Backend) Device() *gpu.Device { return b.dev }

// Name returns "vulkan:INDEX (DEVICE NAME)".
func (b *Backend) Name() string {
	i := b.dev.Info()
	return fmt.Sprintf("vulkan:%d (%s)", i.Index, i.Name)
}

// Timings returns the device time of each dispatch of the last flushed
// sequence when Options.Timing is on.
func (b *Backend) Timings() []gpu.KernelTime { return b.times }

// failf records the first error as "OP: message".
func (b *Backend) failf(op, format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf(op+": "+format, args...)
	}
}

// failed reports whether an error is recorded.
func (b *Backend) failed() bool { return b.err != nil }

// wg returns the workgroup size of 1-D elementwise kernels.
func (b *Backend) wg() uint32 { return b.tune.wg }

// groups returns ceil(n/size) workgroups, recording an error (and
// returning 0) when that exceeds the device's limit.
func (b *Backend) groups(n, size int) uint32 {
	g := (n + size - 1) / size
	if g < 1 {
		g = 1
	}
	if lim := int(b.dev.Info().Limits.MaxComputeWorkGroupCount[0]); g > lim {
		b.failf(b.curOp, "%d workgroups of %d exceed the device's limit of %d", g, size, lim)
		return 0
	}
	return uint32(g)
}

// stride returns the workgroups for a grid-stride loop over n items with
// workgroups of size: at most the device's limit. Kernels that loop
// within an item (RowSumI's words, q_sumi's splits) rely on one item per
// invocation where the device allows it.
func (b *Backend) stride(n, size int) uint32 {
	g := (n + size - 1) / size
	lim := int(b.dev.Info().Limits.MaxComputeWorkGroupCount[0])
	return uint32(max(1, min(g, lim)))
}

// fewStride is stride for kernels whose items take at most 4 loop
// iterations each: on CPU drivers (where each workgroup costs
// microseconds) at most tune.strideGroups workgroups, unless an invocation
// would then loop over more than maxLoop/4 items.
func (b *Backend) fewStride(n, size int) uint32 {
	g := int(b.stride(n, size))
	if sg := b.tune.strideGroups; sg > 0 {
		g = min(g, max(sg, (n+size*maxLoop/4-1)/(size*maxLoop/4)))
	}
	return uint32(g)
}

// Errors of Resolve (the contract puts the argument's name in front).
var (
	errForeign = errors.New("belongs to another backend")
	errFreed   = errors.New("was freed")
	errClosed  = errors.New("is unusable: backend is closed")
)

// own resolves t as a live tensor of b.
func (b *Backend) own(t backend.Tensor) (*Tensor, error) {
	vt, ok := t.(*Tensor)
	if t == nil || (ok && vt == nil) {
		return nil, backend.ErrNil
	}
	if b.closed {
		return nil, errClosed
	}
	if !ok || vt.owner != b {
		return nil, errForeign
	}
	if vt.st.freed {
		return nil, errFreed
	}
	return vt, nil
}

// Resolve implements backend.Resolver: t's shape, dtype and storage (shared
// by its views), or why t cannot be used (wrapping backend.ErrNil for a nil
// tensor).
func (b *Backend) Resolve(t backend.Tensor) (shape []int, dt backend.DType, store any, err error) {
	vt, err := b.own(t)
	if err != nil {
		return nil, 0, nil, err
	}
	return vt.shape, vt.dt, vt.st, nil
}

// OpRan implements backend.OpCounter: it counts the op (see OpCounts) and
// names it in the errors of its dispatches.
func (b *Backend) OpRan(op *backend.Op) {
	b.curOp = op.Name
	if op.ID < len(b.opCounts) {
		b.opCounts[op.ID]++
	}
}

// OpCounts returns, indexed by backend.Op.ID, how many calls of each op
// passed the op contract's checks on b since it was made (the counts of
// OpRan; backendtest.OpCountReporter).
func (b *Backend) OpCounts() []int { return append([]int(nil), b.opCounts...) }

// tensor returns t as a tensor of this package (nil for a nil t): for
// arguments that backend.Op.Check has resolved.
func tensor(t backend.Tensor) *Tensor {
	vt, _ := t.(*Tensor)
	return vt
}

// appendKernelKey appends the cache key of a kernel: shader, specialization,
// push-constant size and binding count.
func appendKernelKey(dst []byte, shader string, spec []uint32, push, binds int) []byte {
	dst = append(dst, shader...)
	for _, s := range spec {
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, uint64(s), 10)
	}
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, int64(push), 10)
	dst = append(dst, '/')
	return strconv.AppendInt(dst, int64(binds), 10)
}

// kernel returns the cached kernel of shader with spec. The lookup builds
// its key in a reused buffer, so a cached kernel costs no allocation.
func (b *Backend) kernel(shader string, spec []uint32, push, binds int) (*gpu.Kernel, error) {
	b.keyBuf = appendKernelKey(b.keyBuf[:0], shader, spec, push, binds)
	if k := b.kernels[string(b.keyBuf)]; k != nil {
		return k, nil
	}
	code, err := shaders.SPIRV(shader)
	if err != nil {
		return nil, err
	}
	k, err := b.dev.NewKernel(code, gpu.KernelSpec{Name: shader, Bindings: binds, PushSize: push, Spec: append([]uint32(nil), spec...)})
	if err != nil {
		return nil, err
	}
	b.kernels[string(b.keyBuf)] = k
	return k, nil
}

// pickKernel returns the texel build of shader (NAME_tex) when the backend
// reads through texel buffers, the shader has one, every texel-bound tensor
// fits the device's maxTexelBufferElements and none shares storage with a
// storage binding (which may be written: a texel view need not see a write
// of the same dispatch); otherwise the storage-buffer build.
func (b *Backend) pickKernel(shader string, spec []uint32, push int, ts []*Tensor) (*gpu.Kernel, error) {
	if b.texel {
		tex, ok := b.texName[shader]
		if !ok {
			if _, err := shaders.SPIRV(shader + "_tex"); err == nil {
				tex = shader + "_tex"
			}
			b.texName[shader] = tex
		}
		if tex != "" {
			k, err := b.kernel(tex, spec, push, len(ts))
			if err != nil {
				return nil, err
			}
			if b.texelFits(k.TexelBindings(), ts) {
				return k, nil
			}
		}
	}
	return b.kernel(shader, spec, push, len(ts))
}

// pairName returns shader+"2", the column-pair build of shader, from a
// cache: recording a dispatch builds no strings.
func (b *Backend) pairName(shader string) string {
	p, ok := b.pairs[shader]
	if !ok {
		p = shader + "2"
		if b.pairs == nil {
			b.pairs = map[string]string{}
		}
		b.pairs[shader] = p
	}
	return p
}

// specMax bounds the specialization constants of a kernel, whose
// dispatches build them in arrays of this size on the stack.
const specMax = 16

// texelFits reports whether the tensors bound where mask has a bit can be
// read through texel views.
func (b *Backend) texelFits(mask uint32, ts []*Tensor) bool {
	limit := int64(b.dev.Info().Limits.MaxTexelBufferElements)
	for i, t := range ts {
		if mask>>uint(i)&1 == 0 {
			continue
		}
		if (t.st.buf.Size()+3)/4 > limit {
			return false
		}
		for j, u := range ts {
			if mask>>uint(j)&1 == 0 && u.st == t.st {
				return false
			}
		}
	}
	return true
}

// dispatch records one dispatch of the embedded shader with the given
// specialization constants, push constants (pushOf a struct of 4-byte
// fields, pushBytes, or noPush) and workgroup counts, binding ts at
// bindings 0..len(ts)-1. It does nothing when an error is recorded, a
// tensor is nil or a count is 0. Recording a dispatch of a cached kernel
// allocates nothing.
func (b *Backend) dispatch(op, shader string, spec []uint32, push pushArg, gx, gy, gz uint32, ts ...*Tensor) {
	b.curOp = op
	if b.err != nil || gx == 0 || gy == 0 || gz == 0 {
		return
	}
	if push.err != nil {
		b.failf(op, "%v", push.err)
		return
	}
	b.bufs = b.bufs[:0]
	for _, t := range ts {
		if t == nil {
			return
		}
		b.bufs = append(b.bufs, t.st.buf)
	}
	k, err := b.pickKernel(shader, spec, push.n, ts)
	if err != nil {
		b.failf(op, "%v", err)
		return
	}
	// The bytes go to the backend's buffer: the stack copy must not escape
	// into the recording call.
	b.pushBuf = append(b.pushBuf[:0], push.bytes()...)
	if b.opts.RecordPaths {
		if b.checkDispatch(shader, k, push.typ, push.raw); b.err != nil {
			return
		}
	}
	if err := b.seq.Dispatch(k, b.bufs, b.pushBuf, gx, gy, gz); err != nil {
		b.failf(op, "%v", err)
		return
	}
	b.pending++
}

// flush runs the recorded work and waits for it.
func (b *Backend) flush() error {
	if b.pending == 0 {
		b.closeDead()
		b.arenaOff = 0
		return nil
	}
	b.pending = 0
	defer func() { b.arenaOff = 0 }()
	err := b.seq.Run()
	if err == nil {
		b.times = b.seq.AppendTimings(b.times[:0])
		b.account()
	}
	if rerr := b.seq.Reset(); err == nil {
		err = rerr
	}
	b.closeDead()
	if err != nil {
		b.failf("Sync", "%v", err)
	}
	return err
}

// upload copies words into the parameter arena and returns it with the
// word offset of the copy.
func (b *Backend) upload(op string, words []uint32) (*Tensor, uint32) {
	w, t, off := b.reserve(op, len(words))
	copy(w, words)
	return t, off
}

// reserve returns n words of the parameter arena for the caller to fill
// before the recorded work runs, the arena and the word offset of the
// words (nil after recording an error).
func (b *Backend) reserve(op string, nw int) ([]uint32, *Tensor, uint32) {
	if b.err != nil {
		return nil, nil, 0
	}
	if b.arena == nil || b.arenaOff+nw > int(b.arena.st.bytes/4) {
		n := max(1<<14, 2*nw)
		buf, err := b.dev.NewBuffer(int64(n)*4, gpu.HostStorage)
		if err != nil {
			b.failf(op, "parameter buffer: %v", err)
			return nil, nil, 0
		}
		if b.arena != nil {
			b.dead = append(b.dead, b.arena.st.buf)
		}
		b.arena = &Tensor{owner: b, shape: []int{n}, dt: backend.I32, st: &storage{buf: buf, bytes: int64(n) * 4}}
		b.arenaOff = 0
	}
	off := b.arenaOff
	b.arenaOff += nw
	return b.arena.st.buf.Uint32s()[off : off+nw], b.arena, uint32(off)
}

// scratch returns a device buffer of at least words 32-bit words, whose
// contents are undefined.
func (b *Backend) scratch(op string, words int) *Tensor {
	if b.err != nil {
		return nil
	}
	if b.scratchT == nil || int(b.scratchT.st.bytes/4) < words {
		n := max(1<<12, words)
		buf, err := b.dev.NewBuffer(int64(n)*4, gpu.Storage)
		if err != nil {
			b.failf(op, "scratch buffer: %v", err)
			return nil
		}
		if b.scratchT != nil {
			b.dead = append(b.dead, b.scratchT.st.buf)
		}
		b.scratchT = &Tensor{owner: b, shape: []int{n}, dt: backend.I32, st: &storage{buf: buf, bytes: int64(n) * 4}}
	}
	return b.scratchT
}

func (b *Backend) closeDead() {
	for _, buf := range b.dead {
		buf.Close()
	}
	b.dead = b.dead[:0]
}

// New allocates a zero-filled tensor.
func (b *Backend) New(dt backend.DType, shape ...int) (backend.Tensor, error) {
	if b.closed {
		return nil, errors.New("New: backend is closed")
	}
	if err := backend.CheckShape(shape); err != nil {
		return nil, fmt.Errorf("New: %w", err)
	}
	t := &Tensor{owner: b, shape: append([]int(nil), shape...), dt: dt, st: &storage{}}
	var size int64
	switch dt {
	case backend.F32, backend.I32:
		size = int64(t.Len()) * 4
	case backend.Q8:
		size = t.packedBytes()
	default:
		return nil, fmt.Errorf("New: bad dtype %v", dt)
	}
	if err := b.alloc(t.st, size); err != nil {
		return nil, fmt.Errorf("New(%v, %v): %w", dt, shape, err)
	}
	b.stores[t.st] = struct{}{}
	return t, nil
}

// alloc gives st a zero-filled buffer of size bytes.
func (b *Backend) alloc(st *storage, size int64) error {
	if lim := int64(b.dev.Info().Limits.MaxStorageBufferRange); size > lim {
		return fmt.Errorf("%d bytes: %w of %d bytes", size, gpu.ErrTooLarge, lim)
	}
	buf, err := b.dev.NewBuffer(size, gpu.Storage)
	if err != nil {
		return err
	}
	if m := buf.Mapped(); m != nil {
		clear(m)
	} else if err := b.seq.Fill(buf, 0); err != nil {
		buf.Close()
		return err
	} else {
		b.pending++
	}
	st.buf, st.bytes = buf, size
	return nil
}

// grow makes st's buffer at least size bytes, dropping its contents
// (recorded work is run first).
func (b *Backend) grow(st *storage, size int64) error {
	if st.bytes >= size {
		return nil
	}
	if err := b.flush(); err != nil {
		return err
	}
	old := st.buf
	if err := b.alloc(st, size); err != nil {
		return err
	}
	old.Close()
	return b.flush() // the zero fill of a staged buffer
}

// Reshape returns a view of t with another shape and the same length. A
// Q8 view must keep the last dimension unless both are multiples of 4
// (rows are padded to whole words).
func (b *Backend) Reshape(t backend.Tensor, shape ...int) (backend.Tensor, error) {
	if b.closed {
		return nil, errors.New("Reshape: backend is closed")
	}
	vt, err := b.own(t)
	if err != nil {
		return nil, fmt.Errorf("Reshape: t %w", err)
	}
	if err := backend.CheckShape(shape); err != nil {
		return nil, fmt.Errorf("Reshape: %w", err)
	}
	if product(shape) != vt.Len() {
		return nil, fmt.Errorf("Reshape: t is %v (%d elements), new shape %v has %d", vt.shape, vt.Len(), shape, product(shape))
	}
	if nc := shape[len(shape)-1]; vt.dt == backend.Q8 && vt.cols() != nc && (vt.cols()%4 != 0 || nc%4 != 0) {
		return nil, fmt.Errorf("Reshape: q8 tensor %v to %v: the last dimension must stay (or both be multiples of 4)", vt.shape, shape)
	}
	// Views are immutable but for the storage they share: the storage
	// keeps its last few, so that a training step viewing the same
	// tensors in the same shapes allocates nothing.
	st := vt.st
	for _, v := range st.views {
		if v != nil && v.dt == vt.dt && slices.Equal(v.shape, shape) {
			return v, nil
		}
	}
	nt := &Tensor{owner: b, shape: append([]int(nil), shape...), dt: vt.dt, st: st}
	st.views[st.nextView] = nt
	st.nextView = (st.nextView + 1) % len(st.views)
	return nt, nil
}

// Free releases t's storage and that of its views.
func (b *Backend) Free(t backend.Tensor) {
	if t == nil {
		return
	}
	vt, ok := t.(*Tensor)
	if ok && vt == nil {
		return
	}
	if !ok || vt.owner != b {
		b.failf("Free", "t belongs to another backend")
		return
	}
	st := vt.st
	if st.freed {
		return
	}
	st.freed = true
	delete(b.stores, st)
	if b.pending > 0 {
		b.dead = append(b.dead, st.buf)
	} else {
		st.buf.Close()
	}
	st.buf = nil
}

// io validates a Write or Read of t with n elements.
func (b *Backend) io(op string, t backend.Tensor, n int, ints bool) (*Tensor, error) {
	if b.err != nil {
		return nil, b.err
	}
	if b.closed {
		return nil, fmt.Errorf("%s: backend is closed", op)
	}
	vt, err := b.own(t)
	if err != nil {
		err = fmt.Errorf("t %w", err)
	} else {
		switch {
		case ints && vt.dt != backend.I32 && vt.dt != backend.Q8:
			err = fmt.Errorf("t is %v, want i32 or q8", vt.dt)
		case !ints && vt.dt != backend.F32:
			err = fmt.Errorf("t is %v, want f32", vt.dt)
		case n != vt.Len():
			err = fmt.Errorf("t is %v, %d elements given", vt.shape, n)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := b.flush(); err != nil {
		return nil, err
	}
	return vt, nil
}

// WriteF32 copies src into the F32 tensor t.
func (b *Backend) WriteF32(t backend.Tensor, src []float32) error {
	vt, err := b.io("WriteF32", t, len(src), false)
	if err != nil {
		return err
	}
	return wrap("WriteF32", vt.st.buf.Write(0, gpu.AsBytes(src)))
}

// WriteI32 copies src into the I32 or Q8 tensor t; Q8 values must lie in
// [-128, 255].
func (b *Backend) WriteI32(t backend.Tensor, src []int32) error {
	vt, err := b.io("WriteI32", t, len(src), true)
	if err != nil {
		return err
	}
	if vt.dt == backend.I32 {
		return wrap("WriteI32", vt.st.buf.Write(0, gpu.AsBytes(src)))
	}
	neg, big := false, false
	for i, v := range src {
		if v < -128 || v > 255 {
			return fmt.Errorf("WriteI32: q8 tensor: src[%d] = %d outside [-128, 255]", i, v)
		}
		neg = neg || v < 0
		big = big || v > 127
	}
	if neg && big {
		if err := b.grow(vt.st, int64(len(src))*4); err != nil {
			return wrap("WriteI32", err)
		}
		vt.st.q = qWide
		return wrap("WriteI32", vt.st.buf.Write(0, gpu.AsBytes(src)))
	}
	vt.st.q = qU8
	if neg {
		vt.st.q = qS8
	}
	b.host = packQ8(b.host, src, vt.cols())
	return wrap("WriteI32", vt.st.buf.Write(0, b.host))
}

// packQ8 packs codes in rows of cols, each padded to a whole word, into
// buf (reused when large enough).
func packQ8(buf []byte, src []int32, cols int) []byte {
	rw := (cols + 3) / 4 * 4
	rows := len(src) / cols
	out := hostBytes(buf, rows*rw)
	clear(out)
	for r := range rows {
		row := out[r*rw:]
		for c, v := range src[r*cols : (r+1)*cols] {
			row[c] = byte(v)
		}
	}
	return out
}

// hostBytes returns n bytes of buf, reallocated when it is shorter.
func hostBytes(buf []byte, n int) []byte {
	if cap(buf) < n {
		return make([]byte, n)
	}
	return buf[:n]
}

func wrap(op string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// ReadF32 waits for recorded work and copies the F32 tensor t into dst.
func (b *Backend) ReadF32(t backend.Tensor, dst []float32) error {
	vt, err := b.io("ReadF32", t, len(dst), false)
	if err != nil {
		return err
	}
	return wrap("ReadF32", vt.st.buf.Read(0, gpu.AsBytes(dst)))
}

// ReadI32 waits for recorded work and copies the I32 or Q8 tensor t into
// dst.
func (b *Backend) ReadI32(t backend.Tensor, dst []int32) error {
	vt, err := b.io("ReadI32", t, len(dst), true)
	if err != nil {
		return err
	}
	if vt.dt == backend.I32 || vt.st.q == qWide {
		return wrap("ReadI32", vt.st.buf.Read(0, gpu.AsBytes(dst)))
	}
	b.host = hostBytes(b.host, int(vt.packedBytes()))
	raw := b.host
	if err := vt.st.buf.Read(0, raw); err != nil {
		return wrap("ReadI32", err)
	}
	cols := vt.cols()
	rw := vt.rowWords() * 4
	for r := range vt.rows() {
		row := raw[r*rw:]
		out := dst[r*cols : (r+1)*cols]
		if vt.st.q == qS8 {
			for c := range out {
				out[c] = int32(int8(row[c]))
			}
		} else {
			for c := range out {
				out[c] = int32(row[c])
			}
		}
	}
	return nil
}

// Sync runs the recorded work, waits for it and returns the first error.
func (b *Backend) Sync() error {
	if b.closed {
		return b.err
	}
	ferr := b.flush()
	if b.err != nil {
		return b.err
	}
	return ferr
}

// Err returns the first recorded error without waiting.
func (b *Backend) Err() error { return b.err }

// Close waits for recorded work, releases every tensor and kernel (and the
// device when Open made it) and returns the first recorded error. Safe to
// call twice.
func (b *Backend) Close() error {
	if b.closed {
		return b.err
	}
	b.flush()
	b.closed = true
	for st := range b.stores {
		st.freed = true
		st.buf.Close()
		st.buf = nil
	}
	b.stores = nil
	for _, k := range b.kernels {
		k.Close()
	}
	b.kernels = nil
	for _, t := range []*Tensor{b.arena, b.scratchT} {
		if t != nil {
			t.st.buf.Close()
		}
	}
	b.arena, b.scratchT = nil, nil
	b.seq.Close()
	if b.ownDev {
		if err := b.dev.Close(); err != nil && b.err == nil {
			b.err = err
		}
	}
	return b.err
}

// HostF32 returns the elements of an F32 tensor in host-visible memory.
// Call Sync first.
func (b *Backend) HostF32(t backend.Tensor) ([]float32, bool) {
	vt, err := b.own(t)
	if err != nil || vt.dt != backend.F32 || b.closed {
		return nil, false
	}
	f := vt.st.buf.Float32s()
	if f == nil {
		return nil, false
	}
	return f[:vt.Len()], true
}

// HostI32 returns the elements of an I32 tensor (or a Q8 tensor stored one
// code per int32) in host-visible memory. Call Sync first.
func (b *Backend) HostI32(t backend.Tensor) ([]int32, bool) {
	vt, err := b.own(t)
	if err != nil || b.closed || !(vt.dt == backend.I32 || (vt.dt == backend.Q8 && vt.st.q == qWide)) {
		return nil, false
	}
	v := vt.st.buf.Int32s()
	if v == nil {
		return nil, false
	}
	return v[:vt.Len()], true
}
