package gpu

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// BufferKind chooses the memory behind a Buffer.
type BufferKind int

const (
	// Storage is the memory shaders read fastest. On unified-memory devices
	// (integrated GPUs, CPU drivers) it is also host-visible and persistently mapped;
	// on discrete GPUs it is device memory and Write/Read go through a staging buffer.
	Storage BufferKind = iota
	// HostStorage is always host-visible and mapped (system memory on discrete GPUs,
	// where shaders read it over the bus). For data the host touches every step.
	HostStorage
)

// String returns the kind's Go name.
func (k BufferKind) String() string {
	switch k {
	case Storage:
		return "Storage"
	case HostStorage:
		return "HostStorage"
	}
	return fmt.Sprintf("BufferKind(%d)", int(k))
}

// Buffer is a storage buffer: bound whole at one binding of a kernel. It is owned by
// its Device. Not safe for concurrent use; do not Write, Read or Close it while a
// submitted Sequence that uses it runs.
type Buffer struct {
	dev    *Device
	kind   BufferKind
	buf    C.vkt_handle
	mem    C.vkt_handle
	size   int64
	alloc  int64        // size rounded up to a multiple of 4: the bound range
	view   C.vkt_handle // R32_UINT texel view of the whole buffer, made at its first texel binding
	mapped []byte
	closed bool
}

// NewBuffer makes a storage buffer of size bytes (> 0, at most
// Info().Limits.MaxStorageBufferRange). Its contents start undefined; use
// Sequence.Fill or Write.
func (d *Device) NewBuffer(size int64, kind BufferKind) (*Buffer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return nil, err
	}
	if kind != Storage && kind != HostStorage {
		return nil, fmt.Errorf("gpu: NewBuffer: unknown buffer kind %d", int(kind))
	}
	if size <= 0 {
		return nil, fmt.Errorf("gpu: NewBuffer: size %d must be positive", size)
	}
	alloc := (size + 3) &^ 3
	if max := int64(d.info.Limits.MaxStorageBufferRange); alloc > max {
		return nil, fmt.Errorf("gpu: NewBuffer: %d bytes: %w of %d bytes (%s); split the tensor", size, ErrTooLarge, max, byteSize(uint64(max)))
	}
	b := &Buffer{dev: d, kind: kind, size: size, alloc: alloc}
	if err := b.create(); err != nil {
		return nil, err
	}
	d.buffers[b] = struct{}{}
	return b, nil
}

func (b *Buffer) create() error {
	d := b.dev
	var memSize C.uint64_t
	var bits C.uint32_t
	var align C.uint64_t
	if r := C.vkt_create_buffer(d.c, C.uint64_t(b.alloc), &b.buf, &memSize, &bits, &align); r != 0 {
		return vkErr("vkCreateBuffer", r)
	}
	var need uint32
	mapIt := false
	switch {
	case b.kind == HostStorage:
		need, mapIt = memHostVisible|memHostCoherent, true
	case d.unified:
		need, mapIt = memDeviceLocal|memHostVisible|memHostCoherent, true
	default:
		need = memDeviceLocal
	}
	idx, ok := d.pickMemory(uint32(bits), need)
	if !ok && !mapIt {
		idx, ok = d.pickMemory(uint32(bits), 0)
	}
	if !ok {
		C.vkt_destroy_buffer(d.c, b.buf, 0, 0)
		b.buf = 0
		return fmt.Errorf("gpu: NewBuffer: no memory type fits a %s buffer", b.kind)
	}
	var p unsafe.Pointer
	if r := C.vkt_allocate_bind(d.c, b.buf, memSize, C.uint32_t(idx), boolC(mapIt), &b.mem, &p); r != 0 {
		C.vkt_destroy_buffer(d.c, b.buf, 0, 0)
		b.buf = 0
		return fmt.Errorf("gpu: NewBuffer(%d bytes): %w", b.size, vkErr("vkAllocateMemory", r))
	}
	if mapIt {
		b.mapped = unsafe.Slice((*byte)(p), b.alloc)[:b.size:b.size]
	}
	return nil
}

// makeView creates the buffer's R32_UINT texel view, for kernels that read it as
// a uniform texel buffer.
func (b *Buffer) makeView() error {
	if max := int64(b.dev.info.Limits.MaxTexelBufferElements); b.alloc/4 > max {
		return fmt.Errorf("a buffer of %d 32-bit words is bound as a texel buffer, past the device's maxTexelBufferElements of %d; use the storage-buffer kernels", b.alloc/4, max)
	}
	if r := C.vkt_create_buffer_view(b.dev.c, b.buf, C.uint64_t(b.alloc), &b.view); r != 0 {
		return vkErr("vkCreateBufferView", r)
	}
	return nil
}

// Size returns the size in bytes given to NewBuffer.
func (b *Buffer) Size() int64 { return b.size }

// Kind returns the buffer's memory kind.
func (b *Buffer) Kind() BufferKind { return b.kind }

// Mapped returns the buffer's memory as bytes when it is host-visible (always for
// HostStorage, for Storage on unified-memory devices), else nil. The slice is valid
// until Close; host writes are seen by sequences submitted afterwards, and device
// writes are seen after the sequence's Wait.
func (b *Buffer) Mapped() []byte {
	if b.closed {
		return nil
	}
	return b.mapped
}

// Float32s views the mapped memory as float32s (nil when not mapped).
func (b *Buffer) Float32s() []float32 { return View[float32](b.Mapped()) }

// Int32s views the mapped memory as int32s (nil when not mapped).
func (b *Buffer) Int32s() []int32 { return View[int32](b.Mapped()) }

// Uint32s views the mapped memory as uint32s (nil when not mapped).
func (b *Buffer) Uint32s() []uint32 { return View[uint32](b.Mapped()) }

func (b *Buffer) checkRange(op string, offset int64, n int) error {
	if b == nil {
		return fmt.Errorf("gpu: %s on a nil buffer", op)
	}
	if b.closed || b.dev.closed {
		return fmt.Errorf("gpu: %s on a closed buffer", op)
	}
	if offset < 0 || int64(n) > b.size-offset {
		return fmt.Errorf("gpu: %s of %d bytes at offset %d is outside the %d-byte buffer", op, n, offset, b.size)
	}
	return nil
}

// Write copies src into the buffer at offset: a memcpy when the buffer is mapped,
// else a copy through the device's staging buffer that waits for completion.
func (b *Buffer) Write(offset int64, src []byte) error {
	if err := b.checkRange("Write", offset, len(src)); err != nil {
		return err
	}
	if b.mapped != nil {
		copy(b.mapped[offset:], src)
		return nil
	}
	return b.dev.stage(b, offset, src, true)
}

// Read copies the buffer's bytes at offset into dst (see Write).
func (b *Buffer) Read(offset int64, dst []byte) error {
	if err := b.checkRange("Read", offset, len(dst)); err != nil {
		return err
	}
	if b.mapped != nil {
		copy(dst, b.mapped[offset:])
		return nil
	}
	return b.dev.stage(b, offset, dst, false)
}

// Close frees the buffer. Safe to call twice, and after the device's Close.
func (b *Buffer) Close() {
	if b == nil {
		return
	}
	d := b.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	if b.closed || d.closed {
		return
	}
	b.destroy()
	delete(d.buffers, b)
}

func (b *Buffer) destroy() {
	if b.closed {
		return
	}
	b.closed = true
	b.dev.bufGen.Add(1)
	C.vkt_destroy_buffer_view(b.dev.c, b.view)
	b.view = 0
	C.vkt_destroy_buffer(b.dev.c, b.buf, b.mem, boolC(b.mapped != nil))
	b.buf, b.mem, b.mapped = 0, 0, nil
}

// stager copies between the host and device-local buffers.
type stager struct {
	buf    *Buffer
	pool   C.vkt_handle
	cb     unsafe.Pointer
	fence  C.vkt_handle
	closed bool
}

const stagingSize = 16 << 20

func (st *stager) destroy(d *Device) {
	if st.buf != nil {
		st.buf.destroy()
	}
	C.vkt_destroy_commands(d.c, st.pool, st.cb, st.fence)
}

// stage moves data between host memory p and b at offset, in staging-sized chunks.
func (d *Device) stage(b *Buffer, offset int64, p []byte, write bool) error {
	d.stageMu.Lock()
	defer d.stageMu.Unlock()
	if d.closed {
		return errClosed
	}
	if d.staging == nil {
		st := &stager{}
		size := int64(stagingSize)
		if max := int64(d.info.Limits.MaxStorageBufferRange) &^ 3; size > max {
			size = max
		}
		st.buf = &Buffer{dev: d, kind: HostStorage, size: size, alloc: size}
		if err := st.buf.create(); err != nil {
			return err
		}
		if r := C.vkt_create_commands(d.c, C.uint32_t(d.family), &st.pool, &st.cb, &st.fence); r != 0 {
			st.buf.destroy()
			return vkErr("vkCreateCommandPool", r)
		}
		d.staging = st
	}
	st := d.staging
	for done := 0; done < len(p); {
		n := len(p) - done
		if int64(n) > st.buf.size {
			n = int(st.buf.size)
		}
		if write {
			copy(st.buf.mapped, p[done:done+n])
		}
		if r := C.vkt_begin(d.c, st.pool, st.cb); r != 0 {
			return vkErr("vkBeginCommandBuffer", r)
		}
		C.vkt_barrier(d.c, st.cb)
		if write {
			C.vkt_copy(d.c, st.cb, st.buf.buf, 0, b.buf, C.uint64_t(offset)+C.uint64_t(done), C.uint64_t(n))
		} else {
			C.vkt_copy(d.c, st.cb, b.buf, C.uint64_t(offset)+C.uint64_t(done), st.buf.buf, 0, C.uint64_t(n))
		}
		if r := C.vkt_end(d.c, st.cb); r != 0 {
			return vkErr("vkEndCommandBuffer", r)
		}
		d.qmu.Lock()
		r := C.vkt_submit(d.c, d.queue, st.cb, st.fence)
		d.qmu.Unlock()
		if r != 0 {
			return vkErr("vkQueueSubmit", r)
		}
		d.work.submitted(recorded{barriers: 2, transfers: 1}) // vkt_barrier and vkt_end's barrier
		d.work.hostWaits.Add(1)
		if r := C.vkt_wait(d.c, st.fence, C.uint64_t(^uint64(0))); r != 0 {
			return vkErr("vkWaitForFences", r)
		}
		if !write {
			copy(p[done:done+n], st.buf.mapped)
		}
		done += n
	}
	return nil
}

// Scalar is an element type that View and AsBytes can reinterpret memory as.
type Scalar interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 | ~float32 | ~float64
}

// View reinterprets b as a slice of T sharing its memory (nil for empty b). It panics
// when len(b) is not a multiple of T's size or b is not aligned for T: a programmer
// mistake (mapped buffers are always aligned).
func View[T Scalar](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	var z T
	sz := int(unsafe.Sizeof(z))
	if len(b)%sz != 0 || uintptr(unsafe.Pointer(&b[0]))%unsafe.Alignof(z) != 0 {
		panic(errors.New("gpu.View: length or alignment does not fit the element type"))
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/sz)
}

// AsBytes reinterprets s as bytes sharing its memory, for Write and Read.
func AsBytes[T Scalar](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}
