package gpu

/*
#include <stdlib.h>
#include "swapchain.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"time"
	"unsafe"
)

// SwapchainExtension is the device extension NewSwapchain needs
// (Options.DeviceExtensions).
const SwapchainExtension = "VK_KHR_swapchain"

// ErrOutOfDate reports that a Swapchain no longer matches its surface (the
// window was resized); Rebuild it.
var ErrOutOfDate = errors.New("gpu: the swapchain is out of date with its surface")

// InstanceHandle returns the device's VkInstance, for window-system code
// that makes a surface on it (glfw.Window.CreateWindowSurface). The handle is
// valid until Close.
func (d *Device) InstanceHandle() unsafe.Pointer {
	if d == nil || d.inst == nil || d.inst.c == nil {
		return nil
	}
	return C.vkt_instance_handle(d.inst.c)
}

// Swapchain presents host-drawn images in a window: each Present copies an
// RGBA image into a staging buffer, records a buffer-to-image copy into the
// acquired swapchain image (UNDEFINED → TRANSFER_DST_OPTIMAL → PRESENT_SRC_KHR),
// submits it on the device's queue and presents it there. Synchronisation is
// by fences waited on the host, so one frame is in flight at a time and the
// queue is held only for the submit and the present, never while waiting. A
// Swapchain is not safe for concurrent use; the device it is made from is.
type Swapchain struct {
	d       *Device
	c       *C.vkt_swapchain
	w, h    int
	bgr     bool
	mode    uint32
	staging *Buffer
	closed  bool
	held    time.Duration // time Present held the device's queue
}

// NewSwapchain makes a swapchain on surface (a VkSurfaceKHR created on
// InstanceHandle's instance), sized from the surface or, where the surface
// leaves the size open, width × height. The Swapchain takes ownership of the
// surface, also when it fails: the surface is destroyed then. The device must
// have been opened with SwapchainExtension and its queue family must be able
// to present to the surface.
func (d *Device) NewSwapchain(surface uint64, width, height int) (*Swapchain, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	lib, _ := loadVulkan()
	if err := d.check(); err != nil {
		return nil, err
	}
	if surface == 0 {
		return nil, errors.New("gpu: NewSwapchain: null surface")
	}
	var c *C.vkt_swapchain
	if r := C.vkt_swapchain_new(lib.gipa, d.inst.c, d.c, d.phys, C.uint32_t(d.family), C.vkt_handle(surface), &c); r != 0 {
		C.vkt_destroy_surface(lib.gipa, d.inst.c, C.vkt_handle(surface))
		if r == C.VKT_ERROR_EXTENSION_NOT_PRESENT {
			return nil, fmt.Errorf("gpu: NewSwapchain: the device lacks the swapchain or surface functions (open it with Options.DeviceExtensions = [%s] and the window system's instance extensions)", SwapchainExtension)
		}
		return nil, vkErr("creating the swapchain's command pool", r)
	}
	s := &Swapchain{d: d, c: c}
	if err := s.build(width, height); err != nil {
		s.destroy()
		return nil, err
	}
	d.swapchains[s] = struct{}{}
	return s, nil
}

// build (re)creates the swapchain and its staging buffer. d.mu is held.
func (s *Swapchain) build(width, height int) error {
	var w, h, bgr, mode C.uint32_t
	var why *C.char
	r := C.vkt_swapchain_build(s.c, C.uint32_t(max(width, 1)), C.uint32_t(max(height, 1)), &w, &h, &bgr, &mode, &why)
	if r == C.VKT_SWAPCHAIN_UNSUPPORTED {
		return fmt.Errorf("gpu: cannot present on %s: %s", s.d.info.Name, C.GoString(why))
	}
	if r != 0 {
		return vkErr("vkCreateSwapchainKHR", r)
	}
	s.w, s.h, s.bgr, s.mode = int(w), int(h), bgr != 0, uint32(mode)
	need := int64(s.w) * int64(s.h) * 4
	if s.staging != nil && (need == 0 || s.staging.Size() < need) {
		s.staging.destroy()
		delete(s.d.buffers, s.staging)
		s.staging = nil
	}
	if s.staging == nil && need > 0 {
		b := &Buffer{dev: s.d, kind: HostStorage, size: need, alloc: need}
		if err := b.create(); err != nil {
			return fmt.Errorf("gpu: the swapchain's staging buffer: %w", err)
		}
		s.staging = b
	}
	return nil
}

// Size returns the size of the swapchain's images (0 × 0 while the window is
// minimised).
func (s *Swapchain) Size() (width, height int) { return s.w, s.h }

// PresentMode names the present mode in use: immediate or mailbox (present
// never waits for a vertical blank) where the surface offers them, else fifo.
func (s *Swapchain) PresentMode() string {
	switch s.mode {
	case 0:
		return "immediate"
	case 1:
		return "mailbox"
	case 2:
		return "fifo"
	}
	return fmt.Sprintf("mode %d", s.mode)
}

// Rebuild recreates the swapchain for the surface's current size (or
// width × height where the surface leaves it open), after ErrOutOfDate or a
// resize.
func (s *Swapchain) Rebuild(width, height int) error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if err := s.d.check(); err != nil {
		return err
	}
	if s.closed {
		return errors.New("gpu: Rebuild on a closed swapchain")
	}
	return s.build(width, height)
}

// Present shows img, which must be Size() large, in the window. It returns
// ErrOutOfDate when the surface changed size (Rebuild, then draw again), and
// does nothing while the window is minimised (Size() is 0 × 0).
func (s *Swapchain) Present(img *image.RGBA) error {
	if s.closed {
		return errors.New("gpu: Present on a closed swapchain")
	}
	if s.w == 0 || s.h == 0 {
		return nil
	}
	if b := img.Bounds(); b.Dx() != s.w || b.Dy() != s.h {
		return fmt.Errorf("gpu: Present: a %dx%d image for a %dx%d swapchain", b.Dx(), b.Dy(), s.w, s.h)
	}
	d := s.d
	if err := d.check(); err != nil {
		return err
	}
	const second = uint64(1e9)
	var index C.uint32_t
	r := C.vkt_swapchain_acquire(s.c, C.uint64_t(second), &index)
	switch {
	case r == C.VKT_ERROR_OUT_OF_DATE:
		return ErrOutOfDate
	case r == 2 || r == 1: // VK_TIMEOUT, VK_NOT_READY: no image free; skip the frame
		return nil
	case r < 0:
		return vkErr("vkAcquireNextImageKHR", r)
	}
	suboptimal := r == C.VKT_SUBOPTIMAL
	copyPixels(s.staging.mapped, img, s.w, s.h, s.bgr)
	if r := C.vkt_swapchain_record(s.c, index, s.staging.buf); r != 0 {
		return vkErr("recording the swapchain copy", r)
	}
	t0 := time.Now()
	d.qmu.Lock()
	r = C.vkt_swapchain_submit(s.c)
	d.qmu.Unlock()
	s.held += time.Since(t0)
	if r != 0 {
		return vkErr("vkQueueSubmit (swapchain copy)", r)
	}
	if r := C.vkt_swapchain_wait(s.c, C.uint64_t(10*second)); r != 0 {
		return vkErr("vkWaitForFences (swapchain copy)", r)
	}
	t0 = time.Now()
	d.qmu.Lock()
	r = C.vkt_swapchain_present(s.c, index)
	d.qmu.Unlock()
	s.held += time.Since(t0)
	switch {
	case r == C.VKT_ERROR_OUT_OF_DATE || r == C.VKT_SUBOPTIMAL || suboptimal:
		return ErrOutOfDate
	case r != 0:
		return vkErr("vkQueuePresentKHR", r)
	}
	return nil
}

// QueueTime returns how long Present has held (or waited for) the device's
// queue, which the device's other users (training) then could not submit to.
func (s *Swapchain) QueueTime() time.Duration { return s.held }

// copyPixels writes img's w × h pixels tightly packed into dst, swapping red
// and blue for BGRA images.
func copyPixels(dst []byte, img *image.RGBA, w, h int, bgr bool) {
	b := img.Bounds()
	for y := 0; y < h; y++ {
		src := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
		row := dst[4*w*y:][:4*w]
		if !bgr {
			copy(row, src)
			continue
		}
		for x := 0; x < 4*w; x += 4 {
			row[x], row[x+1], row[x+2], row[x+3] = src[x+2], src[x+1], src[x], 255
		}
	}
}

// Close waits for the device to finish with the swapchain and destroys it,
// its staging buffer and its surface. It is safe to call twice.
func (s *Swapchain) Close() {
	if s == nil {
		return
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.closed || d.closed {
		return
	}
	d.qmu.Lock()
	C.vkt_device_wait_idle(d.c)
	d.qmu.Unlock()
	s.destroy()
	delete(d.swapchains, s)
}

// destroy releases everything; the device must be idle.
func (s *Swapchain) destroy() {
	if s.closed {
		return
	}
	s.closed = true
	if s.staging != nil {
		s.staging.destroy()
		s.staging = nil
	}
	C.vkt_swapchain_free(s.c)
	s.c = nil
}
