//go:build !view

package view

import (
	"errors"
	"image"
	"io"
	"time"

	"github.com/vktrain/vktrain/gpu"
)

// WindowBuilt reports whether this build has the window (the view tag).
const WindowBuilt = false

// ErrNotBuilt is PrepareWindow's error in a build without the view tag.
var ErrNotBuilt = errors.New("built without the view tag; rebuild with -tags view (go build -tags view ./cmd/vktrain; needs cgo and the X11 development packages, see tools/setup.sh)")

// WindowPrep is GLFW initialised before the Vulkan device exists; this build
// has no window, so there is none.
type WindowPrep struct{}

// PrepareWindow returns ErrNotBuilt: this build has no window.
func PrepareWindow() (*WindowPrep, error) { return nil, ErrNotBuilt }

// InstanceExtensions returns nil.
func (p *WindowPrep) InstanceExtensions() []string { return nil }

// Close does nothing.
func (p *WindowPrep) Close() {}

// WindowConfig sets up the window.
type WindowConfig struct {
	Title  string
	Size   image.Point
	Device *gpu.Device
	Log    io.Writer
}

// Window is an open dashboard window; this build has none.
type Window struct{}

// Open returns ErrNotBuilt.
func (p *WindowPrep) Open(cfg WindowConfig) (*Window, error) { return nil, ErrNotBuilt }

// How returns "".
func (w *Window) How() string { return "" }

// Quit returns nil (a channel that never closes).
func (w *Window) Quit() <-chan struct{} { return nil }

// X11Window returns 0.
func (w *Window) X11Window() uint64 { return 0 }

// Sink returns a sink that draws nothing.
func (w *Window) Sink() SinkFunc {
	return func(in <-chan *Snapshot, stop <-chan struct{}) { <-stop }
}

// Stats returns zeros.
func (w *Window) Stats() (frames int, busy, queue time.Duration) { return 0, 0, 0 }

// ValidationMessages returns nil.
func (w *Window) ValidationMessages() []string { return nil }
