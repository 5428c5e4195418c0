package vk

import (
	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/nn/backend"
)

var (
	_ backend.WorkCounter    = (*Backend)(nil)
	_ backend.TrafficCounter = (*Backend)(nil)
)

// work holds the op counts since ResetWork and the device's command
// counts at ResetWork.
type work struct {
	ops, bytes int64
	base       gpu.Work
}

// OpTraffic implements backend.TrafficCounter: it adds the declared
// traffic of an op call to the work counts.
func (b *Backend) OpTraffic(op *backend.Op, bytes int64) {
	b.work.ops++
	b.work.bytes += bytes
}

// ResetWork implements backend.WorkCounter.
func (b *Backend) ResetWork() {
	b.work = work{base: b.dev.Work()}
}

// ReadWork implements backend.WorkCounter: the op calls and their
// declared traffic since ResetWork, and the dispatches, barriers,
// submissions and host waits of the backend's device (of every user of
// the device, when it was shared through NewOn) since then. Recorded work
// is counted once it is submitted (at Sync, a read, or when the recording
// is full).
func (b *Backend) ReadWork() backend.Work {
	d := b.dev.Work().Sub(b.work.base)
	return backend.Work{
		Ops:         b.work.ops,
		KernelBytes: b.work.bytes,
		Queue:       true,
		Dispatches:  d.Dispatches,
		Barriers:    d.Barriers,
		Submits:     d.Submits,
		HostWaits:   d.HostWaits,
	}
}
