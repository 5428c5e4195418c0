// Package gputest opens Vulkan devices for tests: with validation on, failing the
// test on any validation message.
package gputest

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/gpu"
)

// Open opens the best device with the Khronos validation layer on and registers a
// cleanup that closes it and fails the test if validation reported anything.
//
// When no Vulkan loader or driver exists it skips the test, unless the environment
// variable CI is set, where it fails: CI must run the GPU tests (on lavapipe). A
// missing validation layer is a failure.
func Open(t testing.TB) *gpu.Device {
	t.Helper()
	return OpenWith(t, gpu.Options{DeviceIndex: -1})
}

// OpenWith is Open with explicit options; validation is always enabled.
func OpenWith(t testing.TB, opts gpu.Options) *gpu.Device {
	t.Helper()
	opts.Validation = true
	d, err := gpu.Open(opts)
	if err != nil {
		if (errors.Is(err, gpu.ErrNoVulkan) || errors.Is(err, gpu.ErrNoDevice)) && os.Getenv("CI") == "" {
			t.Skipf("no Vulkan here (%v); set CI=1 to make this a failure", err)
		}
		t.Fatalf("gpu.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("closing the device: %v", err)
		}
		Check(t, d)
	})
	return d
}

// Check fails the test when the device has reported validation messages.
func Check(t testing.TB, d *gpu.Device) {
	t.Helper()
	if msgs := d.ValidationMessages(); len(msgs) > 0 {
		t.Errorf("%d validation message(s):\n%s", len(msgs), strings.Join(msgs, "\n"))
	}
}

// OpenBench opens the best device for a benchmark: without validation (which
// would distort timings), skipping when there is no Vulkan, closed when the
// benchmark ends.
func OpenBench(b *testing.B) *gpu.Device {
	b.Helper()
	d, err := gpu.Open(gpu.Options{DeviceIndex: -1})
	if errors.Is(err, gpu.ErrNoVulkan) || errors.Is(err, gpu.ErrNoDevice) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}
