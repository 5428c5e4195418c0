//go:build !linux

package view

import "time"

// threadCPU reports that per-thread CPU time is not measured here; the
// sinks fall back to wall time.
func threadCPU() (time.Duration, bool) { return 0, false }
