// shim.h: the C side of package gpu.
//
// vulkan-go ships Vulkan 1.1.88 headers and builds every create-info in memory it
// allocates per call, so package gpu uses it only for simple queries (properties,
// limits, memory types, queue families, extension lists). Everything that passes
// pointers (create infos, pNext chains, descriptor writes, command recording,
// submission) goes through this shim, which calls Vulkan through function pointers
// fetched with vkGetInstanceProcAddr / vkGetDeviceProcAddr. The shim declares the
// few Vulkan structures it needs itself (their layout is fixed by the Vulkan ABI),
// so building needs no Vulkan headers. This header holds declarations only, because
// a cgo file with //export includes it.
#ifndef VKTRAIN_GPU_SHIM_H
#define VKTRAIN_GPU_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include "shim_types.h"

// Results of feature and property queries for one physical device.
typedef struct vkt_devinfo {
	uint32_t has_driver;
	uint32_t driver_id;
	char driver_name[256];
	char driver_info[256];

	uint32_t has_subgroup;
	uint32_t subgroup_size;
	uint32_t subgroup_stages;
	uint32_t subgroup_ops;

	uint32_t has_size_control;
	uint32_t min_subgroup_size;
	uint32_t max_subgroup_size;
	uint32_t size_control;
	uint32_t full_subgroups;

	uint32_t has_f16i8;
	uint32_t shader_float16;
	uint32_t shader_int8;

	uint32_t has_storage8;
	uint32_t storage_buffer8;
	uint32_t uniform_storage8;
	uint32_t push_constant8;

	uint32_t has_storage16;
	uint32_t storage_buffer16;

	uint32_t has_dot;
	uint32_t dot_feature;
	uint32_t dot_accel[30];
} vkt_devinfo;

// Bits for vkt_query_device's and vkt_feature_chain_new's mask: which structures to chain.
enum {
	VKT_CHAIN_DRIVER = 1 << 0,
	VKT_CHAIN_SUBGROUP = 1 << 1,
	VKT_CHAIN_SIZE_CONTROL = 1 << 2,
	VKT_CHAIN_F16I8 = 1 << 3,
	VKT_CHAIN_STORAGE8 = 1 << 4,
	VKT_CHAIN_STORAGE16 = 1 << 5,
	VKT_CHAIN_DOT = 1 << 6
};

// Loader.
void *vkt_dlopen(const char **name);
void *vkt_dlsym(void *lib, const char *sym);

// Instance.
typedef struct vkt_instance vkt_instance;
int32_t vkt_enumerate_instance_version(void *gipa, uint32_t *version);
int32_t vkt_create_instance(void *gipa, uint32_t api_version, const char **layers, uint32_t nlayers,
                            const char **exts, uint32_t nexts, uint32_t flags, uintptr_t debug_handle,
                            uint32_t debug_utils, vkt_instance **out);
void *vkt_instance_handle(vkt_instance *inst);
void vkt_destroy_instance(vkt_instance *inst);
void vkt_query_device(vkt_instance *inst, void *phys, uint32_t use_khr, uint32_t mask, vkt_devinfo *out);

// Device.
typedef struct vkt_device vkt_device;
typedef struct vkt_enable {
	uint32_t shader_int16, shader_int64, shader_float64;
	uint32_t shader_float16, shader_int8;
	uint32_t storage_buffer8, uniform_storage8, push_constant8;
	uint32_t storage_buffer16;
	uint32_t integer_dot;
	uint32_t size_control, full_subgroups;
} vkt_enable;
int32_t vkt_create_device(vkt_instance *inst, void *phys, uint32_t queue_family, const char **exts,
                          uint32_t nexts, uint32_t mask, const vkt_enable *enable, vkt_device **out);
void *vkt_device_handle(vkt_device *d);
void vkt_destroy_device(vkt_device *d);
int32_t vkt_device_wait_idle(vkt_device *d);

// Buffers and memory.
int32_t vkt_create_buffer(vkt_device *d, uint64_t size, vkt_handle *buf, uint64_t *mem_size,
                          uint32_t *mem_bits, uint64_t *align);
int32_t vkt_allocate_bind(vkt_device *d, vkt_handle buf, uint64_t size, uint32_t type_index,
                          uint32_t map, vkt_handle *mem, void **mapped);
void vkt_destroy_buffer(vkt_device *d, vkt_handle buf, vkt_handle mem, uint32_t mapped);

// Kernels.
// vkt_create_buffer_view makes an R32_UINT texel view of buf's first range bytes.
int32_t vkt_create_buffer_view(vkt_device *d, vkt_handle buf, uint64_t range, vkt_handle *out);
void vkt_destroy_buffer_view(vkt_device *d, vkt_handle view);
// Binding i is a uniform texel buffer when bit i of texel_mask is set, else a storage buffer.
int32_t vkt_create_set_layout(vkt_device *d, uint32_t bindings, uint32_t texel_mask, vkt_handle *out);
void vkt_destroy_set_layout(vkt_device *d, vkt_handle l);
int32_t vkt_create_pipeline_cache(vkt_device *d, const void *data, size_t size, vkt_handle *out);
int32_t vkt_pipeline_cache_data(vkt_device *d, vkt_handle cache, void *data, size_t *size);
void vkt_destroy_pipeline_cache(vkt_device *d, vkt_handle cache);
int32_t vkt_create_kernel(vkt_device *d, vkt_handle cache, const void *code, size_t code_size,
                          vkt_handle set_layout, uint32_t push_size, const uint32_t *spec,
                          uint32_t nspec, vkt_handle *layout, vkt_handle *pipeline);
void vkt_destroy_kernel(vkt_device *d, vkt_handle layout, vkt_handle pipeline);

// Descriptors.
int32_t vkt_create_descriptor_pool(vkt_device *d, uint32_t max_sets, uint32_t descriptors, vkt_handle *out);
void vkt_destroy_descriptor_pool(vkt_device *d, vkt_handle pool);
int32_t vkt_allocate_set(vkt_device *d, vkt_handle pool, vkt_handle layout, vkt_handle *out);
void vkt_update_set(vkt_device *d, vkt_handle set, uint32_t n, const vkt_handle *bufs, const uint64_t *ranges,
                    const vkt_handle *views, uint32_t texel_mask);

// Command buffers, fences, queries.
int32_t vkt_create_commands(vkt_device *d, uint32_t family, vkt_handle *pool, void **cb, vkt_handle *fence);
void vkt_destroy_commands(vkt_device *d, vkt_handle pool, void *cb, vkt_handle fence);
int32_t vkt_create_query_pool(vkt_device *d, uint32_t count, vkt_handle *out);
void vkt_destroy_query_pool(vkt_device *d, vkt_handle pool);
int32_t vkt_query_results(vkt_device *d, vkt_handle pool, uint32_t first, uint32_t count, uint64_t *out);

int32_t vkt_begin(vkt_device *d, vkt_handle pool, void *cb);
int32_t vkt_end(vkt_device *d, void *cb);
void vkt_barrier(vkt_device *d, void *cb);
void vkt_reset_queries(vkt_device *d, void *cb, vkt_handle qpool, uint32_t count);
void vkt_timestamp(vkt_device *d, void *cb, vkt_handle qpool, uint32_t query);
void vkt_dispatch(vkt_device *d, void *cb, vkt_handle pipeline, vkt_handle layout, vkt_handle set,
                  const void *push, uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz);
void vkt_copy(vkt_device *d, void *cb, vkt_handle src, uint64_t src_off, vkt_handle dst, uint64_t dst_off,
              uint64_t size);
void vkt_fill(vkt_device *d, void *cb, vkt_handle buf, uint64_t off, uint64_t size, uint32_t value);
int32_t vkt_submit(vkt_device *d, void *queue, void *cb, vkt_handle fence);
int32_t vkt_wait(vkt_device *d, vkt_handle fence, uint64_t timeout_ns);
int32_t vkt_fence_status(vkt_device *d, vkt_handle fence);
void *vkt_queue(vkt_device *d);

// Enumeration. Names are written as consecutive 256-byte C strings; *count is in/out
// as in Vulkan (names == NULL asks for the count).
int32_t vkt_instance_extensions(void *gipa, const char *layer, char *names, uint32_t *count);
int32_t vkt_instance_layers(void *gipa, char *names, uint32_t *count);
int32_t vkt_device_extensions(vkt_instance *inst, void *phys, char *names, uint32_t *count);
int32_t vkt_physical_devices(vkt_instance *inst, void **out, uint32_t *count);

// Validation messages arrive in Go through this exported function.
extern void vktGoDebugMessage(uintptr_t handle, uint32_t severity, char *id, char *msg);

#endif
