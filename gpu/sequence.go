package gpu

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// KernelTime is the device time one recorded dispatch took.
type KernelTime struct {
	Name     string
	Duration time.Duration
}

type seqState int

const (
	recording seqState = iota
	submitted
	finished
)

// Sequence records dispatches, copies and fills into one command buffer and runs
// them in order. Each recorded operation is separated from the one before by a full
// memory barrier (shader and transfer writes -> shader and transfer reads and
// writes), so every step sees the results of all earlier steps; a final barrier makes
// device writes visible to the host after Wait.
//
// The life cycle is: record, Submit, Wait (or Run = Submit + Wait), then either
// Submit the same recording again or Reset and record anew. Reset reuses the command buffer, descriptor sets and query pools: recording
// the same work again creates no Vulkan objects. A Sequence is not safe for
// concurrent use; different sequences may be used from different goroutines.
type Sequence struct {
	dev   *Device
	pool  C.vkt_handle
	cb    unsafe.Pointer
	fence C.vkt_handle
	state seqState
	ops   int      // operations recorded since the last Reset
	rec   recorded // the commands recorded since the last Reset (Device.Work)

	dpools    []C.vkt_handle
	setsLeft  int // in the newest descriptor pool
	descsLeft int
	sets      map[layoutKey]*setList

	timing     bool // timestamps are written in the current recording
	wantTiming bool // SetTiming's choice, applied at the next recording
	qpools     []C.vkt_handle
	queries    int      // used since Reset
	names      []string // one per timed dispatch
	times      []KernelTime
	raw        []uint64

	handles []C.vkt_handle // scratch for descriptor updates
	ranges  []C.uint64_t
	views   []C.vkt_handle
	closed  bool
}

type setEntry struct {
	set  C.vkt_handle
	bufs []C.vkt_handle // what the set currently points at
	gen  uint64         // Device.bufGen at the last update
}

type setList struct {
	entries []setEntry
	next    int
}

const (
	poolSets        = 64
	poolDescriptors = 512
	queriesPerPool  = 256
)

// NewSequence makes an empty sequence, ready to record.
func (d *Device) NewSequence() (*Sequence, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return nil, err
	}
	s := &Sequence{dev: d, sets: map[layoutKey]*setList{}, wantTiming: true}
	if r := C.vkt_create_commands(d.c, C.uint32_t(d.family), &s.pool, &s.cb, &s.fence); r != 0 {
		return nil, vkErr("vkCreateCommandPool", r)
	}
	if err := s.begin(); err != nil {
		C.vkt_destroy_commands(d.c, s.pool, s.cb, s.fence)
		return nil, err
	}
	d.seqs[s] = struct{}{}
	return s, nil
}

func (s *Sequence) begin() error {
	if r := C.vkt_begin(s.dev.c, s.pool, s.cb); r != 0 {
		return vkErr("vkBeginCommandBuffer", r)
	}
	// Earlier submissions' writes become visible to this one.
	C.vkt_barrier(s.dev.c, s.cb)
	s.state = recording
	s.ops = 0
	s.rec = recorded{barriers: 1}
	s.timing = s.wantTiming && s.dev.info.Timestamps
	s.queries = 0
	s.names = s.names[:0]
	s.times = s.times[:0]
	for _, l := range s.sets {
		l.next = 0
	}
	return nil
}

func (s *Sequence) checkRecording(op string) error {
	if s == nil {
		return fmt.Errorf("gpu: %s on a nil sequence", op)
	}
	if s.closed {
		return fmt.Errorf("gpu: %s on a closed sequence", op)
	}
	if s.dev.closed {
		return errClosed
	}
	if s.state != recording {
		return fmt.Errorf("gpu: %s: the sequence was submitted; Reset it before recording again", op)
	}
	return nil
}

func (s *Sequence) checkBuffer(op string, b *Buffer) error {
	switch {
	case b == nil:
		return fmt.Errorf("gpu: %s: nil buffer", op)
	case b.closed:
		return fmt.Errorf("gpu: %s: closed buffer", op)
	case b.dev != s.dev:
		return fmt.Errorf("gpu: %s: buffer belongs to another device", op)
	}
	return nil
}

// step puts the barrier between consecutive operations.
func (s *Sequence) step() {
	if s.ops > 0 {
		C.vkt_barrier(s.dev.c, s.cb)
		s.rec.barriers++
	}
	s.ops++
}

// Dispatch records kernel k over gx*gy*gz workgroups with bufs bound at bindings
// 0..len(bufs)-1 and push as its push constants (exactly KernelSpec.PushSize bytes).
func (s *Sequence) Dispatch(k *Kernel, bufs []*Buffer, push []byte, gx, gy, gz uint32) error {
	if err := s.checkRecording("Dispatch"); err != nil {
		return err
	}
	if k == nil || k.closed || k.dev != s.dev {
		return errors.New("gpu: Dispatch: nil, closed or foreign kernel")
	}
	name := k.spec.Name
	if len(bufs) != k.spec.Bindings {
		return fmt.Errorf("gpu: Dispatch %s: %d buffers for %d bindings", name, len(bufs), k.spec.Bindings)
	}
	if len(push) != k.spec.PushSize {
		return fmt.Errorf("gpu: Dispatch %s: %d bytes of push constants, the kernel takes %d", name, len(push), k.spec.PushSize)
	}
	lim := s.dev.info.Limits.MaxComputeWorkGroupCount
	for i, g := range [3]uint32{gx, gy, gz} {
		if g == 0 || g > lim[i] {
			return fmt.Errorf("gpu: Dispatch %s: workgroup count %d,%d,%d outside 1..%v", name, gx, gy, gz, lim)
		}
	}
	for i, b := range bufs {
		if b == nil || b.closed || b.dev != s.dev {
			return s.checkBuffer(fmt.Sprintf("Dispatch %s binding %d", name, i), b)
		}
	}
	var set C.vkt_handle
	if len(bufs) > 0 {
		var err error
		if set, err = s.descriptorSet(k, bufs); err != nil {
			return fmt.Errorf("gpu: Dispatch %s: %w", name, err)
		}
	}
	var pp unsafe.Pointer
	if len(push) > 0 {
		pp = unsafe.Pointer(&push[0])
	}
	s.step()
	q, timed := s.timestamp(name)
	s.rec.dispatches++
	C.vkt_dispatch(s.dev.c, s.cb, k.pipeline, k.layout, set, pp, C.uint32_t(len(push)), C.uint32_t(gx), C.uint32_t(gy), C.uint32_t(gz))
	if timed {
		s.writeTimestamp(q + 1)
	}
	return nil
}

// descriptorSet returns a set pointing at bufs: the next cached set for this
// binding layout, updated only when it pointed elsewhere.
func (s *Sequence) descriptorSet(k *Kernel, bufs []*Buffer) (C.vkt_handle, error) {
	n := len(bufs)
	key := layoutKey{n, k.texel}
	l := s.sets[key]
	if l == nil {
		l = &setList{}
		s.sets[key] = l
	}
	for i, b := range bufs {
		if k.texel>>uint(i)&1 != 0 && b.view == 0 {
			if err := b.makeView(); err != nil {
				return 0, fmt.Errorf("binding %d: %w", i, err)
			}
		}
	}
	if l.next == len(l.entries) {
		set, err := s.allocateSet(k.setLayout, n)
		if err != nil {
			return 0, err
		}
		l.entries = append(l.entries, setEntry{set: set, bufs: make([]C.vkt_handle, n)})
	}
	e := &l.entries[l.next]
	l.next++
	gen := s.dev.bufGen.Load()
	same := e.gen == gen
	for i, b := range bufs {
		same = same && e.bufs[i] == b.buf
	}
	if !same {
		e.gen = gen
		s.handles = s.handles[:0]
		s.ranges = s.ranges[:0]
		s.views = s.views[:0]
		for i, b := range bufs {
			e.bufs[i] = b.buf
			s.handles = append(s.handles, b.buf)
			s.ranges = append(s.ranges, C.uint64_t(b.alloc))
			s.views = append(s.views, b.view)
		}
		C.vkt_update_set(s.dev.c, e.set, C.uint32_t(n), &s.handles[0], &s.ranges[0], &s.views[0], C.uint32_t(k.texel))
	}
	return e.set, nil
}

func (s *Sequence) allocateSet(layout C.vkt_handle, n int) (C.vkt_handle, error) {
	if s.setsLeft == 0 || s.descsLeft < n {
		descs := poolDescriptors
		if descs < n {
			descs = n
		}
		var p C.vkt_handle
		if r := C.vkt_create_descriptor_pool(s.dev.c, poolSets, C.uint32_t(descs), &p); r != 0 {
			return 0, vkErr("vkCreateDescriptorPool", r)
		}
		s.dpools = append(s.dpools, p)
		s.setsLeft, s.descsLeft = poolSets, descs
	}
	var set C.vkt_handle
	if r := C.vkt_allocate_set(s.dev.c, s.dpools[len(s.dpools)-1], layout, &set); r != 0 {
		return 0, vkErr("vkAllocateDescriptorSets", r)
	}
	s.setsLeft--
	s.descsLeft -= n
	return set, nil
}

// timestamp records the start timestamp of a timed operation and returns its query
// index. Query pools are reset inside the command buffer when first used.
func (s *Sequence) timestamp(name string) (int, bool) {
	if !s.timing {
		return 0, false
	}
	q := s.queries
	if q%queriesPerPool == 0 {
		if q/queriesPerPool == len(s.qpools) {
			var p C.vkt_handle
			if r := C.vkt_create_query_pool(s.dev.c, queriesPerPool, &p); r != 0 {
				s.timing = false // timings are best effort; recording goes on
				return 0, false
			}
			s.qpools = append(s.qpools, p)
		}
		C.vkt_reset_queries(s.dev.c, s.cb, s.qpools[q/queriesPerPool], queriesPerPool)
	}
	s.queries += 2
	s.names = append(s.names, name)
	s.writeTimestamp(q)
	return q, true
}

func (s *Sequence) writeTimestamp(q int) {
	C.vkt_timestamp(s.dev.c, s.cb, s.qpools[q/queriesPerPool], C.uint32_t(q%queriesPerPool))
}

// Copy records a copy of the first size bytes of src into dst.
func (s *Sequence) Copy(dst, src *Buffer, size int64) error {
	return s.CopyRegion(dst, 0, src, 0, size)
}

// CopyRegion records a copy of size bytes from src at srcOff to dst at dstOff.
func (s *Sequence) CopyRegion(dst *Buffer, dstOff int64, src *Buffer, srcOff, size int64) error {
	if err := s.checkRecording("Copy"); err != nil {
		return err
	}
	if err := s.checkBuffer("Copy destination", dst); err != nil {
		return err
	}
	if err := s.checkBuffer("Copy source", src); err != nil {
		return err
	}
	if size <= 0 || srcOff < 0 || dstOff < 0 || size > src.size-srcOff || size > dst.size-dstOff {
		return fmt.Errorf("gpu: Copy of %d bytes from offset %d of a %d-byte buffer to offset %d of a %d-byte buffer is out of range", size, srcOff, src.size, dstOff, dst.size)
	}
	if src == dst && srcOff < dstOff+size && dstOff < srcOff+size {
		return errors.New("gpu: Copy: source and destination regions overlap")
	}
	s.step()
	q, timed := s.timestamp("copy")
	s.rec.transfers++
	C.vkt_copy(s.dev.c, s.cb, src.buf, C.uint64_t(srcOff), dst.buf, C.uint64_t(dstOff), C.uint64_t(size))
	if timed {
		s.writeTimestamp(q + 1)
	}
	return nil
}

// Fill records setting every 32-bit word of buf to value (bytes past Size in the
// last word included).
func (s *Sequence) Fill(buf *Buffer, value uint32) error {
	if err := s.checkRecording("Fill"); err != nil {
		return err
	}
	if err := s.checkBuffer("Fill", buf); err != nil {
		return err
	}
	s.step()
	q, timed := s.timestamp("fill")
	s.rec.transfers++
	C.vkt_fill(s.dev.c, s.cb, buf.buf, 0, C.uint64_t(buf.alloc), C.uint32_t(value))
	if timed {
		s.writeTimestamp(q + 1)
	}
	return nil
}

// SetTiming turns per-operation timestamps on or off (on by default where the
// device supports them). Timestamps cost little on most GPUs, but on lavapipe they
// serialize the stream and add tens of microseconds per operation, so training loops
// may turn them off. The choice applies from the next Reset, or at once when nothing
// has been recorded yet.
func (s *Sequence) SetTiming(on bool) {
	s.wantTiming = on
	if s.state == recording && s.ops == 0 {
		s.timing = on && s.dev.info.Timestamps
	}
}

// Submit ends recording and submits the work; it returns without waiting. After
// Wait, Submit may be called again without Reset to run the same recorded work once
// more (buffer contents may change between runs; bindings and push constants are
// as recorded).
func (s *Sequence) Submit() error {
	if s != nil && !s.closed && !s.dev.closed && s.state == finished {
		return s.submit()
	}
	if err := s.checkRecording("Submit"); err != nil {
		return err
	}
	if r := C.vkt_end(s.dev.c, s.cb); r != 0 {
		return vkErr("vkEndCommandBuffer", r)
	}
	s.rec.barriers++ // vkt_end's barrier to the host
	return s.submit()
}

func (s *Sequence) submit() error {
	s.dev.qmu.Lock()
	r := C.vkt_submit(s.dev.c, s.dev.queue, s.cb, s.fence)
	s.dev.qmu.Unlock()
	if r != 0 {
		return vkErr("vkQueueSubmit", r)
	}
	s.dev.work.submitted(s.rec)
	s.state = submitted
	return nil
}

// Wait blocks until the submitted work has finished and collects its timings.
// Waiting again is a no-op.
func (s *Sequence) Wait() error {
	if s == nil || s.closed {
		return errors.New("gpu: Wait on a nil or closed sequence")
	}
	switch s.state {
	case recording:
		return errors.New("gpu: Wait: the sequence was not submitted")
	case finished:
		return nil
	}
	s.dev.work.hostWaits.Add(1)
	if r := C.vkt_wait(s.dev.c, s.fence, C.uint64_t(^uint64(0))); r != 0 {
		return vkErr("vkWaitForFences", r)
	}
	s.state = finished
	return s.collectTimes()
}

// Done reports whether submitted work has finished, without blocking.
func (s *Sequence) Done() bool {
	if s.state != submitted {
		return s.state == finished
	}
	return C.vkt_fence_status(s.dev.c, s.fence) == 0
}

func (s *Sequence) collectTimes() error {
	s.times = s.times[:0]
	if s.queries == 0 {
		return nil
	}
	if cap(s.raw) < s.queries {
		s.raw = make([]uint64, s.queries)
	}
	s.raw = s.raw[:s.queries]
	for first := 0; first < s.queries; first += queriesPerPool {
		n := s.queries - first
		if n > queriesPerPool {
			n = queriesPerPool
		}
		r := C.vkt_query_results(s.dev.c, s.qpools[first/queriesPerPool], 0, C.uint32_t(n), (*C.uint64_t)(unsafe.Pointer(&s.raw[first])))
		if r != 0 {
			return vkErr("vkGetQueryPoolResults", r)
		}
	}
	period := float64(s.dev.info.Limits.TimestampPeriod)
	for i, name := range s.names {
		ticks := (s.raw[2*i+1] - s.raw[2*i]) & s.dev.tsMask
		s.times = append(s.times, KernelTime{Name: name, Duration: time.Duration(float64(ticks) * period)})
	}
	return nil
}

// Run submits the sequence and waits for it.
func (s *Sequence) Run() error {
	if err := s.Submit(); err != nil {
		return err
	}
	return s.Wait()
}

// Timings returns the device time of every dispatch, copy and fill of the last
// run, in recording order; empty when the device has no timestamps (Info.Timestamps).
func (s *Sequence) Timings() []KernelTime {
	return append([]KernelTime(nil), s.times...)
}

// AppendTimings appends the timings Timings returns to dst and returns the
// extended slice: without allocating when dst has room.
func (s *Sequence) AppendTimings(dst []KernelTime) []KernelTime {
	return append(dst, s.times...)
}

// Reset waits for submitted work, then empties the sequence for recording again.
func (s *Sequence) Reset() error {
	if s == nil || s.closed {
		return errors.New("gpu: Reset on a nil or closed sequence")
	}
	if s.dev.closed {
		return errClosed
	}
	if s.state == submitted {
		if err := s.Wait(); err != nil {
			return err
		}
	}
	return s.begin() // resets the command pool, also mid-recording
}

// Close waits for submitted work and frees the sequence. Safe to call twice, and
// after the device's Close.
func (s *Sequence) Close() {
	if s == nil {
		return
	}
	d := s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.closed || d.closed {
		return
	}
	s.destroy()
	delete(d.seqs, s)
}

func (s *Sequence) destroy() {
	if s.closed {
		return
	}
	s.closed = true
	c := s.dev.c
	if s.state == submitted {
		C.vkt_wait(c, s.fence, C.uint64_t(^uint64(0)))
	}
	for _, p := range s.qpools {
		C.vkt_destroy_query_pool(c, p)
	}
	for _, p := range s.dpools {
		C.vkt_destroy_descriptor_pool(c, p)
	}
	C.vkt_destroy_commands(c, s.pool, s.cb, s.fence)
	s.qpools, s.dpools, s.sets = nil, nil, nil
}
