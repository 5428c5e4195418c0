package gpu

/*
#include "shim.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// KernelSpec describes how a compute shader is bound.
type KernelSpec struct {
	// Name labels the kernel in timings and errors.
	Name string
	// Bindings is the number of buffers, at set 0, bindings 0..Bindings-1. Each is
	// bound as a storage buffer, or as a uniform texel buffer where the SPIR-V
	// declares a usamplerBuffer there (read with texelFetch through an R32_UINT view
	// of the whole buffer; on CPU drivers such as lavapipe these reads are several
	// times cheaper than storage-buffer reads). NewKernel reads which from the SPIR-V.
	Bindings int
	// PushSize is the size in bytes of the push-constant block (a multiple of 4, at
	// most Limits.MaxPushConstantsSize; 0 for none). Dispatch takes exactly this many.
	PushSize int
	// Spec holds specialization constants constant_id 0..len(Spec)-1, 32 bits each
	// (use math.Float32bits for floats): workgroup and tile sizes chosen per device.
	Spec []uint32
}

// Kernel is a compute pipeline: SPIR-V with its bindings, push constants and
// specialization constants fixed. It is owned by its Device and may be dispatched
// from any number of sequences.
type Kernel struct {
	dev       *Device
	spec      KernelSpec
	texel     uint32       // bit i: binding i is a uniform texel buffer
	setLayout C.vkt_handle // owned by the device
	layout    C.vkt_handle
	pipeline  C.vkt_handle
	closed    bool
}

// NewKernel compiles a compute pipeline from SPIR-V (entry point "main") through
// the device's pipeline cache. Some drivers compile lazily, at the first dispatch.
func (d *Device) NewKernel(spirv []byte, spec KernelSpec) (*Kernel, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return nil, err
	}
	name := spec.Name
	if name == "" {
		name = "kernel"
	}
	if len(spirv) < 20 || len(spirv)%4 != 0 || binary.LittleEndian.Uint32(spirv) != 0x07230203 {
		return nil, fmt.Errorf("gpu: NewKernel %s: not SPIR-V (%d bytes; want a multiple of 4 starting with 0x07230203)", name, len(spirv))
	}
	lim := d.info.Limits
	if spec.Bindings < 0 || (lim.MaxPerStageStorageBuffers > 0 && spec.Bindings > int(lim.MaxPerStageStorageBuffers)) {
		return nil, fmt.Errorf("gpu: NewKernel %s: %d bindings; the device allows 0..%d storage buffers per kernel", name, spec.Bindings, lim.MaxPerStageStorageBuffers)
	}
	if spec.PushSize < 0 || spec.PushSize%4 != 0 || spec.PushSize > int(lim.MaxPushConstantsSize) {
		return nil, fmt.Errorf("gpu: NewKernel %s: push-constant size %d must be a multiple of 4 in 0..%d (maxPushConstantsSize)", name, spec.PushSize, lim.MaxPushConstantsSize)
	}
	texel, err := texelBindings(spirv)
	if err != nil {
		return nil, fmt.Errorf("gpu: NewKernel %s: %w", name, err)
	}
	if texel>>uint(min(spec.Bindings, 32)) != 0 {
		return nil, fmt.Errorf("gpu: NewKernel %s: the SPIR-V declares a texel buffer at a binding past its %d bindings", name, spec.Bindings)
	}
	spec.Name = name
	spec.Spec = append([]uint32(nil), spec.Spec...)
	k := &Kernel{dev: d, spec: spec, texel: texel}
	if spec.Bindings > 0 {
		l, err := d.setLayout(spec.Bindings, texel)
		if err != nil {
			return nil, err
		}
		k.setLayout = l
	}
	var sp *C.uint32_t
	if len(spec.Spec) > 0 {
		sp = (*C.uint32_t)(unsafe.Pointer(&spec.Spec[0]))
	}
	r := C.vkt_create_kernel(d.c, d.cache, unsafe.Pointer(&spirv[0]), C.size_t(len(spirv)), k.setLayout,
		C.uint32_t(spec.PushSize), sp, C.uint32_t(len(spec.Spec)), &k.layout, &k.pipeline)
	if r != 0 {
		return nil, fmt.Errorf("gpu: NewKernel %s: %w", name, vkErr("vkCreateComputePipelines", r))
	}
	d.kernels[k] = struct{}{}
	return k, nil
}

// Spec returns the kernel's specification.
func (k *Kernel) Spec() KernelSpec {
	s := k.spec
	s.Spec = append([]uint32(nil), s.Spec...)
	return s
}

// TexelBindings returns a mask of the bindings the kernel reads as uniform texel
// buffers (bit i for binding i); the others are storage buffers.
func (k *Kernel) TexelBindings() uint32 { return k.texel }

// Name returns KernelSpec.Name.
func (k *Kernel) Name() string { return k.spec.Name }

// Close destroys the pipeline. Safe to call twice, and after the device's Close;
// do not close a kernel that a submitted sequence still uses.
func (k *Kernel) Close() {
	if k == nil {
		return
	}
	d := k.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	if k.closed || d.closed {
		return
	}
	k.destroy()
	delete(d.kernels, k)
}

func (k *Kernel) destroy() {
	if k.closed {
		return
	}
	k.closed = true
	C.vkt_destroy_kernel(k.dev.c, k.layout, k.pipeline)
	k.layout, k.pipeline = 0, 0
}
