package gpu

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Options choose and configure a device.
type Options struct {
	// DeviceIndex is the Info.Index of the device to open; -1 picks the best one:
	// discrete > integrated > virtual > cpu > other, the lowest index among equals.
	DeviceIndex int
	// Validation enables VK_LAYER_KHRONOS_validation and collects its warnings and
	// errors (Device.ValidationMessages). The environment variable
	// VKTRAIN_VALIDATION=1 enables it too. Open fails when the layer is missing.
	Validation bool
	// PipelineCachePath, when set, names a file that seeds the device's pipeline cache
	// at Open (a missing or unusable file is ignored) and receives it at Close.
	PipelineCachePath string
	// InstanceExtensions are instance extensions to enable besides the ones
	// the package enables itself, such as the surface extensions a window
	// system asks for (see NewSwapchain). Open fails, naming them, when the
	// loader lacks one.
	InstanceExtensions []string
	// DeviceExtensions are device extensions to enable, such as
	// VK_KHR_swapchain for presenting. Open fails, naming them, when the
	// chosen device lacks one.
	DeviceExtensions []string
}

// Features are the optional device features that Open enabled (each one only when
// the device supports it; see Info).
type Features struct {
	ShaderInt8         bool
	StorageBuffer8Bit  bool
	ShaderInt16        bool
	ShaderFloat16      bool
	ShaderInt64        bool
	StorageBuffer16Bit bool
	IntegerDotProduct  bool
}

// Device is an open Vulkan device with one compute queue. It owns every Buffer,
// Kernel and Sequence made from it; Close destroys whatever is still open. Its
// methods are safe for concurrent use; the objects it makes are not, unless their
// documentation says so.
type Device struct {
	info     Info
	opts     Options
	inst     *instance
	c        *C.vkt_device
	phys     unsafe.Pointer // VkPhysicalDevice
	queue    unsafe.Pointer
	family   uint32
	tsMask   uint64
	memTypes []memType
	unified  bool // Storage buffers are host-visible and mapped
	features Features

	qmu sync.Mutex // guards queue submission

	work workCounts // commands submitted and host waits (Work)

	// bufGen counts destroyed buffers: a cached descriptor set written before a
	// destruction is rewritten, since a new buffer may reuse the old handle.
	bufGen atomic.Uint64

	mu         sync.Mutex // guards everything below
	closed     bool
	buffers    map[*Buffer]struct{}
	kernels    map[*Kernel]struct{}
	seqs       map[*Sequence]struct{}
	swapchains map[*Swapchain]struct{}
	setLayouts map[layoutKey]C.vkt_handle
	cache      C.vkt_handle

	stageMu sync.Mutex // guards staging
	staging *stager
}

// Open creates a device. The caller must Close it.
func Open(opts Options) (*Device, error) {
	validation := opts.Validation || envTrue("VKTRAIN_VALIDATION")
	opts.Validation = validation
	inst, err := newInstance(validation, opts.InstanceExtensions...)
	if err != nil {
		return nil, err
	}
	devs, err := inst.probe()
	if err != nil {
		inst.close()
		return nil, err
	}
	var pd *physDev
	switch {
	case opts.DeviceIndex == -1:
		for _, d := range devs {
			if d.family >= 0 && (pd == nil || d.info.Type.rank() > pd.info.Type.rank()) {
				pd = d
			}
		}
		if pd == nil {
			inst.close()
			return nil, fmt.Errorf("gpu: no device has a compute queue")
		}
	case opts.DeviceIndex < 0 || opts.DeviceIndex >= len(devs):
		inst.close()
		return nil, fmt.Errorf("gpu: Options.DeviceIndex %d out of range: %d device(s), or -1 for the best", opts.DeviceIndex, len(devs))
	default:
		pd = devs[opts.DeviceIndex]
		if pd.family < 0 {
			inst.close()
			return nil, fmt.Errorf("gpu: device %d (%s) has no compute queue", pd.info.Index, pd.info.Name)
		}
	}
	d, err := createDevice(inst, pd, opts)
	if err != nil {
		inst.close()
		return nil, err
	}
	return d, nil
}

func createDevice(inst *instance, pd *physDev, opts Options) (*Device, error) {
	in := pd.info
	var en C.vkt_enable
	f := Features{
		ShaderInt8:         in.ShaderInt8,
		StorageBuffer8Bit:  in.StorageBuffer8Bit,
		ShaderInt16:        in.ShaderInt16,
		ShaderFloat16:      in.ShaderFloat16,
		ShaderInt64:        in.ShaderInt64,
		StorageBuffer16Bit: in.StorageBuffer16Bit,
		IntegerDotProduct:  in.IntegerDotProduct,
	}
	en.shader_int8 = boolC(f.ShaderInt8)
	en.storage_buffer8 = boolC(f.StorageBuffer8Bit)
	en.shader_int16 = boolC(f.ShaderInt16)
	en.shader_float16 = boolC(f.ShaderFloat16)
	en.shader_int64 = boolC(f.ShaderInt64)
	en.storage_buffer16 = boolC(f.StorageBuffer16Bit)
	en.integer_dot = boolC(f.IntegerDotProduct)

	// Chain a feature structure when it is core at the device's version, or when its
	// extension is enabled because something in it is.
	var mask uint32
	var exts []string
	want := map[uint32]bool{
		chainF16I8:     f.ShaderInt8 || f.ShaderFloat16,
		chainStorage8:  f.StorageBuffer8Bit,
		chainStorage16: f.StorageBuffer16Bit,
		chainDot:       f.IntegerDotProduct,
	}
	for bit, on := range want {
		if pd.mask&bit == 0 {
			continue
		}
		ext, viaExt := pd.extFor[bit]
		if !viaExt {
			mask |= bit
			continue
		}
		if on {
			mask |= bit
			exts = append(exts, ext)
			if (bit == chainStorage8 || bit == chainStorage16) && pd.version < makeVersion(1, 1) {
				exts = append(exts, "VK_KHR_storage_buffer_storage_class")
			}
		}
	}
	if pd.exts["VK_KHR_portability_subset"] {
		exts = append(exts, "VK_KHR_portability_subset")
	}
	var missing []string
	for _, e := range opts.DeviceExtensions {
		if !pd.exts[e] {
			missing = append(missing, e)
		}
		exts = append(exts, e)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("gpu: device %d (%s) lacks the device extension(s) %s", in.Index, in.Name, strings.Join(missing, ", "))
	}
	exts = dedup(exts)
	ce := cStrings(exts)
	defer ce.free()
	var cdev *C.vkt_device
	r := C.vkt_create_device(inst.c, pd.handle, C.uint32_t(pd.family), ce.ptr(), C.uint32_t(len(exts)), C.uint32_t(mask), &en, &cdev)
	if r != 0 {
		return nil, fmt.Errorf("gpu: creating a device on %s: %w", in.Name, vkErr("vkCreateDevice", r))
	}
	d := &Device{
		info:       in,
		opts:       opts,
		inst:       inst,
		c:          cdev,
		phys:       pd.handle,
		queue:      C.vkt_queue(cdev),
		family:     uint32(pd.family),
		memTypes:   pd.memTypes,
		features:   f,
		buffers:    map[*Buffer]struct{}{},
		kernels:    map[*Kernel]struct{}{},
		seqs:       map[*Sequence]struct{}{},
		swapchains: map[*Swapchain]struct{}{},
		setLayouts: map[layoutKey]C.vkt_handle{},
	}
	d.tsMask = ^uint64(0)
	if pd.tsBits > 0 && pd.tsBits < 64 {
		d.tsMask = 1<<pd.tsBits - 1
	}
	if in.UnifiedMemory && in.Type != TypeDiscrete {
		_, ok := d.pickMemory(^uint32(0), memDeviceLocal|memHostVisible|memHostCoherent)
		d.unified = ok
	}
	var seed []byte
	if opts.PipelineCachePath != "" {
		seed, _ = os.ReadFile(opts.PipelineCachePath) // missing or unreadable: start empty
	}
	if err := d.createCache(seed); err != nil && len(seed) > 0 {
		err = d.createCache(nil) // the driver refused the file; start empty
		if err != nil {
			d.destroy()
			return nil, err
		}
	} else if err != nil {
		d.destroy()
		return nil, err
	}
	return d, nil
}

func (d *Device) createCache(seed []byte) error {
	var p unsafe.Pointer
	if len(seed) > 0 {
		p = C.CBytes(seed)
		defer C.free(p)
	}
	return vkErr("vkCreatePipelineCache", C.vkt_create_pipeline_cache(d.c, p, C.size_t(len(seed)), &d.cache))
}

func dedup(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// pickMemory returns the index of a memory type allowed by bits that has all of
// need, preferring host-cached types when need includes host visibility.
func (d *Device) pickMemory(bits uint32, need uint32) (uint32, bool) {
	best, found := uint32(0), false
	score := -1
	for i, t := range d.memTypes {
		if bits&(1<<uint(i)) == 0 || t.flags&need != need || t.flags&memAvoid != 0 {
			continue
		}
		s := 0
		if need&memHostVisible != 0 && t.flags&memHostCached != 0 {
			s += 2
		}
		if need&memDeviceLocal == 0 && need&memHostVisible != 0 && t.flags&memDeviceLocal == 0 {
			s++ // host memory for host buffers on discrete devices
		}
		if s > score {
			best, found, score = uint32(i), true, s
		}
	}
	return best, found
}

// Info describes the device.
func (d *Device) Info() Info { return d.info }

// Features reports the optional features enabled at Open.
func (d *Device) Features() Features { return d.features }

// UnifiedMemory reports whether Storage buffers are host-visible and mapped, so
// Write and Read are plain copies and Buffer.Mapped is non-nil.
func (d *Device) UnifiedMemory() bool { return d.unified }

// ValidationMessages returns every validation warning and error reported so far
// (nil without validation).
func (d *Device) ValidationMessages() []string {
	if d.inst == nil || d.inst.sink == nil {
		return nil
	}
	return d.inst.sink.list()
}

// Validation reports whether the validation layer is on.
func (d *Device) Validation() bool { return d.opts.Validation }

var errClosed = errors.New("gpu: device is closed")

func (d *Device) check() error {
	if d == nil {
		return errors.New("gpu: nil device")
	}
	if d.closed {
		return errClosed
	}
	return nil
}

// layoutKey identifies a descriptor-set layout: n bindings, those in texel uniform
// texel buffers and the rest storage buffers.
type layoutKey struct {
	n     int
	texel uint32
}

// setLayout returns the device's descriptor-set layout for n bindings with the
// given texel-buffer mask (shared by all kernels with the same bindings, so
// descriptor sets are interchangeable). d.mu must be held.
func (d *Device) setLayout(n int, texel uint32) (C.vkt_handle, error) {
	key := layoutKey{n, texel}
	if l, ok := d.setLayouts[key]; ok {
		return l, nil
	}
	var l C.vkt_handle
	if r := C.vkt_create_set_layout(d.c, C.uint32_t(n), C.uint32_t(texel), &l); r != 0 {
		return 0, vkErr("vkCreateDescriptorSetLayout", r)
	}
	d.setLayouts[key] = l
	return l, nil
}

// WaitIdle blocks until the device has finished all submitted work.
func (d *Device) WaitIdle() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return err
	}
	d.qmu.Lock()
	defer d.qmu.Unlock()
	d.work.hostWaits.Add(1)
	return vkErr("vkDeviceWaitIdle", C.vkt_device_wait_idle(d.c))
}

// Close waits for the device to finish, destroys every object made from it that is
// still open, writes the pipeline cache file when Options.PipelineCachePath is set,
// and releases the device. It is safe to call twice; the error reports a failure to
// save the pipeline cache.
func (d *Device) Close() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()

	d.qmu.Lock()
	C.vkt_device_wait_idle(d.c)
	d.qmu.Unlock()
	for s := range d.swapchains {
		s.destroy()
	}
	for s := range d.seqs {
		s.destroy()
	}
	for k := range d.kernels {
		k.destroy()
	}
	for b := range d.buffers {
		b.destroy()
	}
	d.seqs, d.kernels, d.buffers, d.swapchains = nil, nil, nil, nil
	d.stageMu.Lock()
	if d.staging != nil {
		d.staging.destroy(d)
		d.staging = nil
	}
	d.stageMu.Unlock()
	err := d.saveCache()
	d.destroy()
	return err
}

func (d *Device) saveCache() error {
	if d.opts.PipelineCachePath == "" || d.cache == 0 {
		return nil
	}
	var n C.size_t
	if r := C.vkt_pipeline_cache_data(d.c, d.cache, nil, &n); r != 0 {
		return vkErr("vkGetPipelineCacheData", r)
	}
	if n == 0 {
		return nil
	}
	p := C.malloc(n)
	defer C.free(p)
	if r := C.vkt_pipeline_cache_data(d.c, d.cache, p, &n); r < 0 {
		return vkErr("vkGetPipelineCacheData", r)
	}
	data := C.GoBytes(p, C.int(n))
	path := d.opts.PipelineCachePath
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("gpu: saving the pipeline cache: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("gpu: saving the pipeline cache: %w", err)
	}
	return nil
}

// destroy releases the cache, layouts, device and instance.
func (d *Device) destroy() {
	if d.cache != 0 {
		C.vkt_destroy_pipeline_cache(d.c, d.cache)
		d.cache = 0
	}
	for n, l := range d.setLayouts {
		C.vkt_destroy_set_layout(d.c, l)
		delete(d.setLayouts, n)
	}
	if d.c != nil {
		C.vkt_destroy_device(d.c)
		d.c = nil
	}
	d.inst.close()
}
