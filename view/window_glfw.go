//go:build view

package view

import (
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/go-gl/glfw/v3.3/glfw"
	vk "github.com/vulkan-go/vulkan"

	"github.com/vktrain/vktrain/gpu"
)

// WindowBuilt reports whether this build has the window (the view tag).
const WindowBuilt = true

// WindowPrep is GLFW, initialised on a thread of its own, before the
// Vulkan device exists: the device must be opened with InstanceExtensions
// (and gpu.SwapchainExtension) for the window to present on it.
type WindowPrep struct {
	calls  chan func()   // run on the GLFW thread
	done   chan struct{} // closed when the thread has terminated GLFW
	exts   []string
	mu     sync.Mutex // guards closed and the sends on calls
	closed bool
}

// PrepareWindow initialises GLFW on a locked OS thread and asks it which
// Vulkan instance extensions its window surfaces need. It fails, in one
// line, when there is no display or no Vulkan loader.
func PrepareWindow() (*WindowPrep, error) {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return nil, errors.New("no display (DISPLAY is not set)")
	}
	p := &WindowPrep{calls: make(chan func()), done: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // GLFW's calls all come from this thread
		err := guard(func() error {
			if err := glfw.Init(); err != nil {
				return err
			}
			// go-gl/glfw logs a failed glfwInit instead of returning it;
			// a call that needs an initialised GLFW tells.
			glfw.GetTime()
			if !glfw.VulkanSupported() {
				return errors.New("GLFW finds no Vulkan loader")
			}
			p.exts = (*glfw.Window)(nil).GetRequiredInstanceExtensions()
			if len(p.exts) == 0 {
				return errors.New("GLFW finds no Vulkan surface extension for this display")
			}
			return nil
		})
		defer close(p.done)
		errc <- err
		if err != nil {
			return
		}
		for f := range p.calls {
			f()
		}
		_ = guard(func() error { glfw.Terminate(); return nil })
	}()
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("cannot open a window: %v", err)
	}
	return p, nil
}

// guard runs f, turning a panic of go-gl/glfw (which panics on some GLFW
// errors) into an error.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("GLFW: %v", r)
		}
	}()
	return f()
}

// InstanceExtensions are the Vulkan instance extensions GLFW's surfaces need.
func (p *WindowPrep) InstanceExtensions() []string { return append([]string(nil), p.exts...) }

// errGLFWClosed is run's error once Close has ended the GLFW thread.
var errGLFWClosed = errors.New("the GLFW thread has ended")

// run runs f on the GLFW thread and waits for it.
func (p *WindowPrep) run(f func() error) error {
	done := make(chan error, 1)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errGLFWClosed
	}
	p.calls <- func() { done <- guard(f) }
	p.mu.Unlock()
	return <-done
}

// Close ends the GLFW thread (after the window is gone) and waits until
// GLFW has let go of the display.
func (p *WindowPrep) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.calls)
	}
	p.mu.Unlock()
	<-p.done
}

// WindowConfig sets up the window.
type WindowConfig struct {
	Title string
	Size  image.Point // default 1280 × 800
	// Device is the training device, opened with InstanceExtensions and
	// gpu.SwapchainExtension; nil (CPU training), or a device that cannot
	// present to the window, makes the window open a device of its own.
	Device *gpu.Device
	// Log receives one-line notes (closing, errors); nil discards them.
	Log io.Writer
}

// Window is an open dashboard window.
type Window struct {
	p       *WindowPrep
	win     *glfw.Window
	dev     *gpu.Device
	ownDev  bool
	sc      *gpu.Swapchain
	log     io.Writer
	quit    chan struct{}
	quitOne sync.Once
	how     string
	x11     uint64
	mode    string        // the swapchain's present mode
	msgs    []string      // validation messages of a device of the window's own, at its close
	frames  int           // frames presented
	busy    time.Duration // time spent drawing and presenting them
	queue   time.Duration // time presenting held the device's queue
}

// Open creates the window and its swapchain.
func (p *WindowPrep) Open(cfg WindowConfig) (*Window, error) {
	if cfg.Size == (image.Point{}) {
		cfg.Size = Size()
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	w := &Window{p: p, log: cfg.Log, quit: make(chan struct{})}
	err := p.run(func() error {
		glfw.WindowHint(glfw.ClientAPI, glfw.NoAPI)
		glfw.WindowHint(glfw.Resizable, glfw.True)
		win, err := glfw.CreateWindow(cfg.Size.X, cfg.Size.Y, cfg.Title, nil, nil)
		if err != nil {
			return err
		}
		w.win = win
		w.x11 = uint64(win.GetX11Window())
		win.SetKeyCallback(func(_ *glfw.Window, key glfw.Key, _ int, action glfw.Action, _ glfw.ModifierKey) {
			if key == glfw.KeyQ && action == glfw.Press {
				w.quitOne.Do(func() { close(w.quit) })
			}
		})
		var shared error
		if cfg.Device != nil {
			if shared = w.attach(cfg.Device); shared == nil {
				w.how = "on the training device"
				return nil
			}
		}
		own, err := gpu.Open(gpu.Options{DeviceIndex: -1, InstanceExtensions: p.exts, DeviceExtensions: []string{gpu.SwapchainExtension}})
		if err != nil {
			return fmt.Errorf("opening a Vulkan device to present with: %w", err)
		}
		if err := w.attach(own); err != nil {
			own.Close()
			return err
		}
		w.ownDev = true
		w.how = fmt.Sprintf("on a Vulkan device of its own for presenting (%s)", own.Info().Name)
		if shared != nil {
			w.how += fmt.Sprintf("; the training device cannot present: %v", shared)
		}
		return nil
	})
	if err != nil {
		w.destroy()
		return nil, err
	}
	return w, nil
}

// attach makes a surface on dev's instance and a swapchain on it. GLFW thread.
func (w *Window) attach(dev *gpu.Device) error {
	inst := dev.InstanceHandle()
	if inst == nil {
		return errors.New("the device has no instance")
	}
	p, err := w.win.CreateWindowSurface((*byte)(inst), nil)
	if err != nil {
		return fmt.Errorf("glfwCreateWindowSurface: %v", err)
	}
	// go-gl/glfw returns the address of the VkSurfaceKHR, not the handle.
	surface := uint64(uintptr(unsafe.Pointer(vk.SurfaceFromPointer(p))))
	fw, fh := w.win.GetFramebufferSize()
	sc, err := dev.NewSwapchain(surface, fw, fh)
	if err != nil {
		return err
	}
	w.dev, w.sc, w.mode = dev, sc, sc.PresentMode()
	return nil
}

// How says where the window presents (the training device or its own).
func (w *Window) How() string { return w.how + ", present mode " + w.mode }

// Quit is closed when q is pressed in the window.
func (w *Window) Quit() <-chan struct{} { return w.quit }

// X11Window returns the window's X11 id (0 when not on X11), for tests that
// take a screenshot of it.
func (w *Window) X11Window() uint64 { return w.x11 }

// Sink returns the window's drawing loop for a Hub: a frame when the
// snapshot or the size changed, paced to at most 4 per second and 4 % of a
// core; nothing at all while the window is minimised or zero-sized. Closing
// the window ends the loop (training goes on); the run's end closes it.
func (w *Window) Sink() SinkFunc {
	return func(in <-chan *Snapshot, stop <-chan struct{}) {
		_ = w.p.run(func() error {
			w.loop(in, stop)
			return nil
		})
		w.destroy()
	}
}

func (w *Window) loop(in <-chan *Snapshot, stop <-chan struct{}) {
	r := NewRenderer()
	pace := Pacer{Period: 250 * time.Millisecond, Share: 0.04, QueueShare: 0.02}
	var img *image.RGBA
	var cur, drawn *Snapshot
	stale := true // the window needs a frame whatever the snapshot
	frame := func() {
		sw, sh := w.sc.Size()
		if sw == 0 || sh == 0 {
			return
		}
		c := startFrame()
		held0 := w.sc.QueueTime()
		if img == nil || img.Bounds().Dx() != sw || img.Bounds().Dy() != sh {
			img = image.NewRGBA(image.Rect(0, 0, sw, sh))
		}
		r.Render(img, cur)
		err := w.sc.Present(img)
		if errors.Is(err, gpu.ErrOutOfDate) {
			fw, fh := w.win.GetFramebufferSize()
			err = w.sc.Rebuild(fw, fh)
			stale = true
		} else {
			drawn, stale = cur, false
		}
		cost := c.cost()
		pace.Drew(c.wall, cost)
		pace.Held(c.wall, w.sc.QueueTime()-held0)
		w.frames++
		w.busy += cost
		if err != nil {
			fmt.Fprintf(w.log, "view     window: %v; closing it, training goes on\n", err)
			w.win.SetShouldClose(true)
		}
	}
	for {
		wait := 250 * time.Millisecond
		select {
		case s := <-in:
			if s != nil {
				cur = s
			}
		case <-stop:
			cur = latest(in, cur)
			if !w.hidden() {
				frame()
			}
			return
		default:
		}
		glfw.PollEvents()
		if w.win.ShouldClose() {
			fmt.Fprintf(w.log, "view     window closed; training goes on\n")
			return
		}
		if w.hidden() {
			glfw.WaitEventsTimeout(0.5) // minimised: no drawing, no presenting
			continue
		}
		fw, fh := w.win.GetFramebufferSize()
		if sw, sh := w.sc.Size(); sw != fw || sh != fh {
			if err := w.sc.Rebuild(fw, fh); err != nil {
				fmt.Fprintf(w.log, "view     window: %v; closing it, training goes on\n", err)
				return
			}
			stale = true
		}
		now := time.Now()
		if (stale || cur != drawn) && pace.Ready(now) {
			frame()
		}
		if d := pace.Until(time.Now()); d > 0 && d < wait {
			wait = d
		}
		glfw.WaitEventsTimeout(wait.Seconds())
	}
}

// hidden reports whether the window is minimised or has no area. GLFW
// thread.
func (w *Window) hidden() bool {
	if w.win.GetAttrib(glfw.Iconified) == glfw.True || w.win.GetAttrib(glfw.Visible) == glfw.False {
		return true
	}
	fw, fh := w.win.GetFramebufferSize()
	return fw == 0 || fh == 0
}

// destroy releases the swapchain (and surface), the window and a device of
// the window's own.
func (w *Window) destroy() {
	if w.sc != nil {
		w.queue = w.sc.QueueTime()
		w.sc.Close()
		w.sc = nil
	}
	if w.win != nil {
		win := w.win
		w.win = nil
		_ = w.p.run(func() error { win.Destroy(); return nil })
	}
	if w.ownDev && w.dev != nil {
		w.msgs = w.dev.ValidationMessages()
		w.dev.Close()
		w.dev = nil
	}
}

// Stats returns the frames the window presented and the CPU time its
// thread spent drawing and presenting them (wall time where the system does
// not report a thread's CPU time); call it after the Hub is closed.
// queue is the time the swapchain held the device's queue (submit and
// present, waits for the lock included).
func (w *Window) Stats() (frames int, busy, queue time.Duration) { return w.frames, w.busy, w.queue }

// ValidationMessages returns the validation messages of the device the
// window presents on (nil without validation).
func (w *Window) ValidationMessages() []string {
	if w.dev == nil {
		return w.msgs
	}
	return w.dev.ValidationMessages()
}
