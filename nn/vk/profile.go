package vk

import (
	"sort"
	"time"

	"github.com/vktrain/vktrain/nn/backend"
)

var _ backend.Profiler = (*Backend)(nil)

// profile accumulates device time per kernel while profiling is on.
type profile struct {
	on    bool
	calls map[string]int
	total map[string]time.Duration
}

// StartProfile runs the work recorded so far, then times every later
// dispatch with timestamp queries (which serialize work on some drivers,
// lavapipe among them) until StopProfile.
func (b *Backend) StartProfile() {
	if b.closed {
		return
	}
	b.flush()
	b.prof = profile{on: true, calls: map[string]int{}, total: map[string]time.Duration{}}
	b.seq.SetTiming(true)
}

// StopProfile runs the recorded work and returns the device time per
// kernel since StartProfile, the most expensive first (nil when the device
// has no timestamps or profiling was not started).
func (b *Backend) StopProfile() []backend.KernelStat {
	if !b.prof.on || b.closed {
		return nil
	}
	b.flush()
	p := b.prof
	b.prof = profile{}
	b.seq.SetTiming(b.opts.Timing)
	stats := make([]backend.KernelStat, 0, len(p.calls))
	for name, n := range p.calls {
		stats = append(stats, backend.KernelStat{Name: name, Calls: n, Total: p.total[name]})
	}
	sort.Slice(stats, func(i, j int) bool {
		if stats[i].Total != stats[j].Total {
			return stats[i].Total > stats[j].Total
		}
		return stats[i].Name < stats[j].Name
	})
	return stats
}

// account adds the timings of the last run to the profile.
func (b *Backend) account() {
	if !b.prof.on {
		return
	}
	for _, t := range b.times {
		b.prof.calls[t.Name]++
		b.prof.total[t.Name] += t.Duration
	}
}
