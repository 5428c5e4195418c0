// Package gpu is a small Vulkan compute layer: devices, buffers, kernels and recorded
// command sequences, with visible synchronisation. It knows nothing about neural
// networks.
//
// The model, after Kompute:
//
//   - A Device (Open) owns one Vulkan instance, one logical device and one compute
//     queue. Devices lists the physical devices with the facts kernels are chosen by
//     (Info: limits, int8 and integer-dot-product support, subgroup sizes, unified
//     memory). Open enables the optional features the device has (Device.Features);
//     callers must check Info/Features before using a kernel that needs one.
//   - A Buffer (Device.NewBuffer) is a storage buffer with an explicit memory kind.
//     On unified-memory devices Storage buffers are host-visible and persistently
//     mapped; on discrete GPUs they are device-local, and Write/Read go through a
//     staging buffer and wait. Write and Read are explicit transfers, never hidden.
//   - A Kernel (Device.NewKernel) is SPIR-V plus its binding count (storage buffers
//     at set 0, bindings 0..n-1), push-constant size and specialization constants
//     (constant_id 0..m-1), compiled through a per-device pipeline cache.
//   - A Sequence (Device.NewSequence) records Dispatch, Copy and Fill into a command
//     buffer with a full memory barrier between consecutive operations, then runs it
//     (Submit + Wait, or Run). Reset reuses it without creating Vulkan objects.
//     Where the queue supports timestamps, every operation is timed (Timings).
//
// Ownership: each Vulkan handle has exactly one owner, which destroys it in Close;
// every Close is safe to call twice, and Device.Close destroys everything made from
// the device that is still open. There are no finalizers.
//
// Validation: Options.Validation or VKTRAIN_VALIDATION=1 enables
// VK_LAYER_KHRONOS_validation and collects its warnings and errors
// (Device.ValidationMessages); package gpu/gputest opens devices this way for tests.
//
// Loading: the package opens libvulkan.so.1 itself (so only the runtime package is
// needed, not the -dev one) and hands vkGetInstanceProcAddr to vulkan-go, which it
// uses for read-only queries. Everything that passes pointers to Vulkan (create
// infos, pNext chains, descriptor writes, command recording) goes through a small C
// shim in this package that declares the Vulkan structures it needs, so building
// needs no Vulkan headers.
package gpu
