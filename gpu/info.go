package gpu

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// DeviceType is the kind of a physical device, as the driver reports it.
type DeviceType int

// Device types, in Vulkan's order.
const (
	TypeOther DeviceType = iota
	TypeIntegrated
	TypeDiscrete
	TypeVirtual
	TypeCPU
)

// String returns "discrete", "integrated", "virtual", "cpu" or "other".
func (t DeviceType) String() string {
	switch t {
	case TypeIntegrated:
		return "integrated"
	case TypeDiscrete:
		return "discrete"
	case TypeVirtual:
		return "virtual"
	case TypeCPU:
		return "cpu"
	}
	return "other"
}

// rank orders device types for Options.DeviceIndex = -1: higher is preferred.
func (t DeviceType) rank() int {
	switch t {
	case TypeDiscrete:
		return 4
	case TypeIntegrated:
		return 3
	case TypeVirtual:
		return 2
	case TypeCPU:
		return 1
	}
	return 0
}

// Limits are the device limits that compute kernels must respect.
type Limits struct {
	MaxComputeSharedMemorySize      uint32    // bytes of shared memory per workgroup
	MaxStorageBufferRange           uint32    // bytes one storage-buffer binding may span; NewBuffer refuses more
	MaxPushConstantsSize            uint32    // bytes of push constants
	MaxComputeWorkGroupInvocations  uint32    // invocations per workgroup (x*y*z)
	MaxComputeWorkGroupSize         [3]uint32 // per-dimension workgroup size
	MaxComputeWorkGroupCount        [3]uint32 // per-dimension dispatch size in workgroups
	MaxPerStageStorageBuffers       uint32    // storage buffers one kernel may bind
	MaxTexelBufferElements          uint32    // elements one texel-buffer view may span
	MaxPerStageSampledImages        uint32    // uniform texel buffers (and sampled images) one kernel may bind
	TimestampPeriod                 float32   // nanoseconds per timestamp tick
	MinStorageBufferOffsetAlignment uint64
}

// Info describes one physical device. Optional abilities (ShaderInt8,
// IntegerDotProduct, ...) say what the device supports; Device.Features says what
// was enabled, and a caller must check them before choosing a kernel that needs one.
type Info struct {
	Index         int        // position in the loader's list; Options.DeviceIndex
	Name          string     // e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
	Type          DeviceType // discrete, integrated, virtual, cpu, other
	VendorID      uint32
	DeviceID      uint32
	DriverName    string // VkPhysicalDeviceDriverProperties, empty when not reported
	DriverInfo    string
	DriverVersion uint32 // vendor-specific encoding
	APIVersion    string // highest Vulkan version the device supports, "1.3.230"
	Limits        Limits

	ShaderInt8         bool // 8-bit integer arithmetic in shaders
	StorageBuffer8Bit  bool // 8-bit types in storage buffers
	ShaderInt16        bool
	ShaderFloat16      bool
	ShaderInt64        bool
	StorageBuffer16Bit bool

	// IntegerDotProduct is VK_KHR_shader_integer_dot_product (OpSDot and relatives);
	// the Dot4x8*Accelerated fields say whether packed 4x8-bit dot products run in
	// hardware rather than being emulated.
	IntegerDotProduct         bool
	Dot4x8SignedAccelerated   bool
	Dot4x8UnsignedAccelerated bool
	Dot4x8MixedAccelerated    bool

	SubgroupSize        uint32 // default subgroup size; 0 when unknown
	MinSubgroupSize     uint32 // with subgroup size control, else SubgroupSize
	MaxSubgroupSize     uint32
	SubgroupSizeControl bool // VK_EXT_subgroup_size_control's feature

	// UnifiedMemory: the biggest device-local heap is host-visible, so host and device
	// share memory (integrated GPUs, CPU drivers).
	UnifiedMemory    bool
	DeviceLocalBytes uint64 // size of the biggest device-local heap
	Timestamps       bool   // the compute queue supports timestamp queries
}

// String returns a multi-line human-readable report.
func (i Info) String() string {
	var b strings.Builder
	yes := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	fmt.Fprintf(&b, "device %d: %s (%s, vendor 0x%04x, device 0x%04x)\n", i.Index, i.Name, i.Type, i.VendorID, i.DeviceID)
	drv := i.DriverName
	if drv == "" {
		drv = "(not reported)"
	}
	if i.DriverInfo != "" {
		drv += " " + i.DriverInfo
	}
	fmt.Fprintf(&b, "  driver:            %s\n", drv)
	fmt.Fprintf(&b, "  Vulkan API:        %s\n", i.APIVersion)
	fmt.Fprintf(&b, "  memory:            %s device-local, unified: %s\n", byteSize(i.DeviceLocalBytes), yes(i.UnifiedMemory))
	l := i.Limits
	fmt.Fprintf(&b, "  shared memory:     %s per workgroup\n", byteSize(uint64(l.MaxComputeSharedMemorySize)))
	fmt.Fprintf(&b, "  storage buffer:    %s max binding, %d per kernel\n", byteSize(uint64(l.MaxStorageBufferRange)), l.MaxPerStageStorageBuffers)
	fmt.Fprintf(&b, "  texel buffer:      %d elements max view, %d per kernel\n", l.MaxTexelBufferElements, l.MaxPerStageSampledImages)
	fmt.Fprintf(&b, "  push constants:    %d bytes\n", l.MaxPushConstantsSize)
	fmt.Fprintf(&b, "  workgroup:         %d invocations, size %v, count %v\n", l.MaxComputeWorkGroupInvocations, l.MaxComputeWorkGroupSize, l.MaxComputeWorkGroupCount)
	sg := fmt.Sprint(i.SubgroupSize)
	if i.MinSubgroupSize != i.MaxSubgroupSize {
		sg += fmt.Sprintf(" (%d..%d)", i.MinSubgroupSize, i.MaxSubgroupSize)
	}
	fmt.Fprintf(&b, "  subgroup size:     %s, size control: %s\n", sg, yes(i.SubgroupSizeControl))
	fmt.Fprintf(&b, "  int8:              shader %s, 8-bit storage %s\n", yes(i.ShaderInt8), yes(i.StorageBuffer8Bit))
	fmt.Fprintf(&b, "  int16/fp16/int64:  %s/%s/%s, 16-bit storage %s\n", yes(i.ShaderInt16), yes(i.ShaderFloat16), yes(i.ShaderInt64), yes(i.StorageBuffer16Bit))
	fmt.Fprintf(&b, "  integer dot:       %s, 4x8 accelerated signed %s unsigned %s mixed %s\n",
		yes(i.IntegerDotProduct), yes(i.Dot4x8SignedAccelerated), yes(i.Dot4x8UnsignedAccelerated), yes(i.Dot4x8MixedAccelerated))
	ts := "no"
	if i.Timestamps {
		ts = fmt.Sprintf("yes, %g ns per tick", l.TimestampPeriod)
	}
	fmt.Fprintf(&b, "  timestamps:        %s\n", ts)
	return b.String()
}

func byteSize(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>22&0x7f, v>>12&0x3ff, v&0xfff)
}

// Memory property flags.
const (
	memDeviceLocal  = 0x1
	memHostVisible  = 0x2
	memHostCoherent = 0x4
	memHostCached   = 0x8
	memAvoid        = 0x10 | 0x20 | 0x40 | 0x80 // lazily allocated, protected, AMD device-coherent/uncached
)

type memType struct {
	flags uint32
	heap  uint32
}

// physDev is what probing learned about one physical device.
type physDev struct {
	handle   unsafe.Pointer // VkPhysicalDevice
	info     Info
	exts     map[string]bool
	version  uint32 // effective version: min(device, instance)
	queryKHR bool   // query through the KHR-suffixed *2 functions
	mask     uint32 // structures the device can take in feature/property chains
	memTypes []memType
	family   int // compute queue family, -1 if none
	tsBits   uint32
	// extension structures are present only through their extension
	extFor map[uint32]string
}

func envTrue(name string) bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(name)))
	return v != "" && v != "0" && v != "false" && v != "no" && v != "off"
}

// Devices lists the physical devices the Vulkan loader reports. With opts.Validation
// (or VKTRAIN_VALIDATION=1) the listing runs under the validation layer too.
func Devices(opts Options) ([]Info, error) {
	inst, err := newInstance(opts.Validation || envTrue("VKTRAIN_VALIDATION"))
	if err != nil {
		return nil, err
	}
	defer inst.close()
	devs, err := inst.probe()
	if err != nil {
		return nil, err
	}
	infos := make([]Info, len(devs))
	for i, d := range devs {
		infos[i] = d.info
	}
	return infos, nil
}

func (in *instance) probe() ([]*physDev, error) {
	var count C.uint32_t
	if r := C.vkt_physical_devices(in.c, nil, &count); r < 0 {
		return nil, vkErr("vkEnumeratePhysicalDevices", r)
	}
	if count == 0 {
		return nil, ErrNoDevice
	}
	handles := (*[1 << 16]unsafe.Pointer)(C.calloc(C.size_t(count), C.size_t(unsafe.Sizeof(unsafe.Pointer(nil)))))[:count:count]
	defer C.free(unsafe.Pointer(&handles[0]))
	if r := C.vkt_physical_devices(in.c, &handles[0], &count); r < 0 {
		return nil, vkErr("vkEnumeratePhysicalDevices", r)
	}
	var out []*physDev
	for i := 0; i < int(count); i++ {
		d, err := in.probeOne(i, handles[i])
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Chain bits (shim.h).
const (
	chainDriver      = 1 << 0
	chainSubgroup    = 1 << 1
	chainSizeControl = 1 << 2
	chainF16I8       = 1 << 3
	chainStorage8    = 1 << 4
	chainStorage16   = 1 << 5
	chainDot         = 1 << 6
)

// chainExts: for each chainable structure, the Vulkan version that made it core and
// the extension that provides it before that.
var chainExts = []struct {
	bit  uint32
	core uint32
	ext  string
}{
	{chainDriver, makeVersion(1, 2), "VK_KHR_driver_properties"},
	{chainSubgroup, makeVersion(1, 1), ""},
	{chainSizeControl, makeVersion(1, 3), "VK_EXT_subgroup_size_control"},
	{chainF16I8, makeVersion(1, 2), "VK_KHR_shader_float16_int8"},
	{chainStorage8, makeVersion(1, 2), "VK_KHR_8bit_storage"},
	{chainStorage16, makeVersion(1, 1), "VK_KHR_16bit_storage"},
	{chainDot, makeVersion(1, 3), "VK_KHR_shader_integer_dot_product"},
}

func (in *instance) probeOne(index int, h unsafe.Pointer) (*physDev, error) {
	pd := vk.PhysicalDevice(h)
	d := &physDev{handle: h, exts: map[string]bool{}, family: -1}

	vkgoMu.Lock()
	vk.InitInstance(vk.Instance(C.vkt_instance_handle(in.c)))
	var props vk.PhysicalDeviceProperties
	vk.GetPhysicalDeviceProperties(pd, &props)
	props.Deref()
	props.Limits.Deref()
	var feats vk.PhysicalDeviceFeatures
	vk.GetPhysicalDeviceFeatures(pd, &feats)
	feats.Deref()
	var mem vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(pd, &mem)
	mem.Deref()
	for i := range mem.MemoryTypes {
		mem.MemoryTypes[i].Deref()
	}
	for i := range mem.MemoryHeaps {
		mem.MemoryHeaps[i].Deref()
	}
	var nq uint32
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &nq, nil)
	qf := make([]vk.QueueFamilyProperties, nq)
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf)
	for i := range qf {
		qf[i].Deref()
	}
	props.Free()
	feats.Free()
	mem.Free()
	vkgoMu.Unlock()

	exts, err := enumerate("vkEnumerateDeviceExtensionProperties", func(b *C.char, n *C.uint32_t) C.int32_t {
		return C.vkt_device_extensions(in.c, h, b, n)
	})
	if err != nil {
		return nil, err
	}
	for _, e := range exts {
		d.exts[e] = true
	}

	lim := props.Limits
	info := Info{
		Index:         index,
		Name:          cString(props.DeviceName[:]),
		VendorID:      props.VendorID,
		DeviceID:      props.DeviceID,
		DriverVersion: props.DriverVersion,
		APIVersion:    versionString(props.ApiVersion),
		Limits: Limits{
			MaxComputeSharedMemorySize:      lim.MaxComputeSharedMemorySize,
			MaxStorageBufferRange:           lim.MaxStorageBufferRange,
			MaxPushConstantsSize:            lim.MaxPushConstantsSize,
			MaxComputeWorkGroupInvocations:  lim.MaxComputeWorkGroupInvocations,
			MaxComputeWorkGroupSize:         lim.MaxComputeWorkGroupSize,
			MaxComputeWorkGroupCount:        lim.MaxComputeWorkGroupCount,
			MaxPerStageStorageBuffers:       lim.MaxPerStageDescriptorStorageBuffers,
			MaxTexelBufferElements:          lim.MaxTexelBufferElements,
			MaxPerStageSampledImages:        lim.MaxPerStageDescriptorSampledImages,
			TimestampPeriod:                 lim.TimestampPeriod,
			MinStorageBufferOffsetAlignment: uint64(lim.MinStorageBufferOffsetAlignment),
		},
		ShaderInt16: feats.ShaderInt16 != 0,
		ShaderInt64: feats.ShaderInt64 != 0,
	}
	switch props.DeviceType {
	case vk.PhysicalDeviceTypeIntegratedGpu:
		info.Type = TypeIntegrated
	case vk.PhysicalDeviceTypeDiscreteGpu:
		info.Type = TypeDiscrete
	case vk.PhysicalDeviceTypeVirtualGpu:
		info.Type = TypeVirtual
	case vk.PhysicalDeviceTypeCpu:
		info.Type = TypeCPU
	}

	// Memory: types, the biggest device-local heap, and whether it is host-visible.
	for i := 0; i < int(mem.MemoryTypeCount); i++ {
		d.memTypes = append(d.memTypes, memType{flags: uint32(mem.MemoryTypes[i].PropertyFlags), heap: mem.MemoryTypes[i].HeapIndex})
	}
	bigHeap := -1
	for i := 0; i < int(mem.MemoryHeapCount); i++ {
		hp := mem.MemoryHeaps[i]
		if hp.Flags&1 != 0 && uint64(hp.Size) > info.DeviceLocalBytes { // VK_MEMORY_HEAP_DEVICE_LOCAL_BIT
			info.DeviceLocalBytes = uint64(hp.Size)
			bigHeap = i
		}
	}
	for _, t := range d.memTypes {
		if int(t.heap) == bigHeap && t.flags&(memDeviceLocal|memHostVisible) == memDeviceLocal|memHostVisible && t.flags&memAvoid == 0 {
			info.UnifiedMemory = true
		}
	}

	// A compute queue family; prefer one with timestamps.
	for i, q := range qf {
		if q.QueueFlags&vk.QueueFlags(vk.QueueComputeBit) == 0 || q.QueueCount == 0 {
			continue
		}
		if d.family < 0 || (d.tsBits == 0 && q.TimestampValidBits > 0) {
			d.family = i
			d.tsBits = q.TimestampValidBits
		}
	}
	info.Timestamps = d.family >= 0 && d.tsBits > 0 && lim.TimestampPeriod > 0

	// Extended features and properties through the *2 queries.
	d.version = props.ApiVersion &^ 0xfff
	if d.version > in.apiVersion {
		d.version = in.apiVersion
	}
	canQuery := d.version >= makeVersion(1, 1) || in.khrProps2
	d.queryKHR = d.version < makeVersion(1, 1)
	d.extFor = map[uint32]string{}
	if canQuery {
		for _, c := range chainExts {
			switch {
			case d.version >= c.core:
				d.mask |= c.bit
			case c.ext != "" && d.exts[c.ext]:
				d.mask |= c.bit
				d.extFor[c.bit] = c.ext
			}
		}
		var di C.vkt_devinfo
		C.vkt_query_device(in.c, h, boolC(d.queryKHR), C.uint32_t(d.mask), &di)
		if di.has_driver != 0 {
			info.DriverName = C.GoString(&di.driver_name[0])
			info.DriverInfo = C.GoString(&di.driver_info[0])
		}
		info.SubgroupSize = uint32(di.subgroup_size)
		info.MinSubgroupSize, info.MaxSubgroupSize = info.SubgroupSize, info.SubgroupSize
		if di.has_size_control != 0 && di.min_subgroup_size > 0 {
			info.MinSubgroupSize = uint32(di.min_subgroup_size)
			info.MaxSubgroupSize = uint32(di.max_subgroup_size)
			info.SubgroupSizeControl = di.size_control != 0
		}
		info.ShaderInt8 = di.shader_int8 != 0
		info.ShaderFloat16 = di.shader_float16 != 0
		info.StorageBuffer8Bit = di.storage_buffer8 != 0
		info.StorageBuffer16Bit = di.storage_buffer16 != 0
		info.IntegerDotProduct = di.dot_feature != 0
		info.Dot4x8UnsignedAccelerated = di.dot_accel[3] != 0
		info.Dot4x8SignedAccelerated = di.dot_accel[4] != 0
		info.Dot4x8MixedAccelerated = di.dot_accel[5] != 0
	}
	d.info = info
	return d, nil
}

func boolC(b bool) C.uint32_t {
	if b {
		return 1
	}
	return 0
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
