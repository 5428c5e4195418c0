package gpu

import "sync/atomic"

// Work counts the commands a device ran: what its sequences submitted
// (each submission of a recording counts the recording's commands again)
// and the staging transfers of Buffer.Read and Buffer.Write.
type Work struct {
	// Dispatches counts compute dispatches (vkCmdDispatch).
	Dispatches int64
	// Barriers counts pipeline barriers (vkCmdPipelineBarrier).
	Barriers int64
	// Transfers counts copies and fills (vkCmdCopyBuffer, vkCmdFillBuffer).
	Transfers int64
	// Submits counts queue submissions (vkQueueSubmit).
	Submits int64
	// HostWaits counts the times the host blocked on the device
	// (vkWaitForFences, vkDeviceWaitIdle).
	HostWaits int64
}

// Sub returns w - v, field by field.
func (w Work) Sub(v Work) Work {
	return Work{
		Dispatches: w.Dispatches - v.Dispatches,
		Barriers:   w.Barriers - v.Barriers,
		Transfers:  w.Transfers - v.Transfers,
		Submits:    w.Submits - v.Submits,
		HostWaits:  w.HostWaits - v.HostWaits,
	}
}

// workCounts are a device's running counts (safe for concurrent use, as
// sequences may run on several goroutines).
type workCounts struct {
	dispatches, barriers, transfers, submits, hostWaits atomic.Int64
}

// recorded counts the commands of one recording, added to the device's
// counts at each submission of it.
type recorded struct {
	dispatches, barriers, transfers int64
}

// submitted adds one submission of the recording r.
func (c *workCounts) submitted(r recorded) {
	c.dispatches.Add(r.dispatches)
	c.barriers.Add(r.barriers)
	c.transfers.Add(r.transfers)
	c.submits.Add(1)
}

// Work returns the device's counts since it was opened; callers take
// differences (Work.Sub) around the work they measure.
func (d *Device) Work() Work {
	c := &d.work
	return Work{
		Dispatches: c.dispatches.Load(),
		Barriers:   c.barriers.Load(),
		Transfers:  c.transfers.Load(),
		Submits:    c.submits.Load(),
		HostWaits:  c.hostWaits.Load(),
	}
}
