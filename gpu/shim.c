// shim.c: see shim.h.
#include "shim.h"
#include "shim_types.h"

#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#endif

typedef void(VKT_CALL *vkt_pfn_void)(void);
typedef vkt_pfn_void(VKT_CALL *vkt_pfn_gipa)(void *instance, const char *name);

// ---------------------------------------------------------------- loader

void *vkt_dlopen(const char **name) {
#if defined(_WIN32)
	static const char *names[] = {"vulkan-1.dll", NULL};
#elif defined(__APPLE__)
	static const char *names[] = {"libvulkan.1.dylib", "libvulkan.dylib", "libMoltenVK.dylib", NULL};
#else
	static const char *names[] = {"libvulkan.so.1", "libvulkan.so", NULL};
#endif
	for (int i = 0; names[i] != NULL; i++) {
#if defined(_WIN32)
		void *lib = (void *)LoadLibraryA(names[i]);
#else
		void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
#endif
		if (lib != NULL) {
			*name = names[i];
			return lib;
		}
	}
	return NULL;
}

void *vkt_dlsym(void *lib, const char *sym) {
#if defined(_WIN32)
	return (void *)GetProcAddress((HMODULE)lib, sym);
#else
	return dlsym(lib, sym);
#endif
}

// ---------------------------------------------------------------- instance

typedef int32_t(VKT_CALL *vkt_pfn_enumerate_instance_version)(uint32_t *);
typedef int32_t(VKT_CALL *vkt_pfn_create_instance)(const vkt_instance_create_info *, const void *, void **);
typedef void(VKT_CALL *vkt_pfn_destroy_instance)(void *, const void *);
typedef void(VKT_CALL *vkt_pfn_get_features2)(void *, vkt_features2 *);
typedef void(VKT_CALL *vkt_pfn_get_properties2)(void *, vkt_properties2 *);
typedef int32_t(VKT_CALL *vkt_pfn_create_messenger)(void *, const vkt_debug_utils_messenger_create_info *,
                                                    const void *, vkt_handle *);
typedef void(VKT_CALL *vkt_pfn_destroy_messenger)(void *, vkt_handle, const void *);
typedef int32_t(VKT_CALL *vkt_pfn_create_device)(void *, const vkt_device_create_info *, const void *, void **);
typedef vkt_pfn_void(VKT_CALL *vkt_pfn_gdpa)(void *, const char *);

struct vkt_instance {
	vkt_pfn_gipa gipa;
	void *instance;
	vkt_handle messenger;
	vkt_pfn_destroy_instance destroy_instance;
	vkt_pfn_destroy_messenger destroy_messenger;
	vkt_pfn_create_device create_device;
	vkt_pfn_gdpa gdpa;
	vkt_debug_utils_messenger_create_info dbg;
};

static VKT_ATTR vkt_bool VKT_CALL vkt_debug_callback(uint32_t severity, uint32_t types,
                                                     const vkt_debug_utils_messenger_callback_data *data,
                                                     void *user) {
	(void)types;
	vktGoDebugMessage((uintptr_t)user, severity,
	                  (char *)(data && data->pMessageIdName ? data->pMessageIdName : ""),
	                  (char *)(data && data->pMessage ? data->pMessage : ""));
	return 0;
}

int32_t vkt_enumerate_instance_version(void *gipa, uint32_t *version) {
	vkt_pfn_enumerate_instance_version f =
	    (vkt_pfn_enumerate_instance_version)((vkt_pfn_gipa)gipa)(NULL, "vkEnumerateInstanceVersion");
	if (f == NULL) {
		*version = (1u << 22); // Vulkan 1.0 loaders lack the function.
		return VKT_SUCCESS;
	}
	return f(version);
}

int32_t vkt_create_instance(void *gipa_, uint32_t api_version, const char **layers, uint32_t nlayers,
                            const char **exts, uint32_t nexts, uint32_t flags, uintptr_t debug_handle,
                            uint32_t debug_utils, vkt_instance **out) {
	vkt_pfn_gipa gipa = (vkt_pfn_gipa)gipa_;
	*out = NULL;
	vkt_pfn_create_instance create = (vkt_pfn_create_instance)gipa(NULL, "vkCreateInstance");
	if (create == NULL) {
		return VKT_ERROR_INITIALIZATION_FAILED;
	}
	vkt_instance *inst = calloc(1, sizeof *inst);
	if (inst == NULL) {
		return -1; // VK_ERROR_OUT_OF_HOST_MEMORY
	}
	inst->gipa = gipa;
	inst->dbg.sType = VKT_ST_DEBUG_UTILS_MESSENGER_CREATE_INFO;
	inst->dbg.messageSeverity = VKT_DEBUG_SEVERITY_WARNING | VKT_DEBUG_SEVERITY_ERROR;
	inst->dbg.messageType = VKT_DEBUG_TYPE_GENERAL | VKT_DEBUG_TYPE_VALIDATION | VKT_DEBUG_TYPE_PERFORMANCE;
	inst->dbg.pfnUserCallback = vkt_debug_callback;
	inst->dbg.pUserData = (void *)debug_handle;

	vkt_application_info app = {0};
	app.sType = VKT_ST_APPLICATION_INFO;
	app.pApplicationName = "vktrain";
	app.pEngineName = "vktrain";
	app.apiVersion = api_version;
	vkt_instance_create_info ci = {0};
	ci.sType = VKT_ST_INSTANCE_CREATE_INFO;
	ci.pNext = debug_utils ? &inst->dbg : NULL; // messages from instance creation too
	ci.flags = flags;
	ci.pApplicationInfo = &app;
	ci.enabledLayerCount = nlayers;
	ci.ppEnabledLayerNames = layers;
	ci.enabledExtensionCount = nexts;
	ci.ppEnabledExtensionNames = exts;
	int32_t r = create(&ci, NULL, &inst->instance);
	if (r != VKT_SUCCESS) {
		free(inst);
		return r;
	}
	inst->destroy_instance = (vkt_pfn_destroy_instance)gipa(inst->instance, "vkDestroyInstance");
	inst->create_device = (vkt_pfn_create_device)gipa(inst->instance, "vkCreateDevice");
	inst->gdpa = (vkt_pfn_gdpa)gipa(inst->instance, "vkGetDeviceProcAddr");
	if (debug_utils) {
		vkt_pfn_create_messenger cm =
		    (vkt_pfn_create_messenger)gipa(inst->instance, "vkCreateDebugUtilsMessengerEXT");
		inst->destroy_messenger =
		    (vkt_pfn_destroy_messenger)gipa(inst->instance, "vkDestroyDebugUtilsMessengerEXT");
		if (cm == NULL || inst->destroy_messenger == NULL) {
			inst->destroy_instance(inst->instance, NULL);
			free(inst);
			return VKT_ERROR_EXTENSION_NOT_PRESENT;
		}
		r = cm(inst->instance, &inst->dbg, NULL, &inst->messenger);
		if (r != VKT_SUCCESS) {
			inst->destroy_instance(inst->instance, NULL);
			free(inst);
			return r;
		}
	}
	*out = inst;
	return VKT_SUCCESS;
}

void *vkt_instance_handle(vkt_instance *inst) { return inst->instance; }

void vkt_destroy_instance(vkt_instance *inst) {
	if (inst == NULL) {
		return;
	}
	if (inst->messenger != 0) {
		inst->destroy_messenger(inst->instance, inst->messenger, NULL);
	}
	inst->destroy_instance(inst->instance, NULL);
	free(inst);
}

// A chain of the optional feature structures, in one allocation.
typedef struct vkt_feature_chain {
	vkt_features2 f2;
	vkt_float16_int8_features f16i8;
	vkt_8bit_storage_features s8;
	vkt_16bit_storage_features s16;
	vkt_integer_dot_product_features dot;
	vkt_subgroup_size_control_features sc;
} vkt_feature_chain;

static void *vkt_link_features(vkt_feature_chain *c, uint32_t mask) {
	void *head = NULL;
	c->f16i8.sType = VKT_ST_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES;
	c->s8.sType = VKT_ST_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES;
	c->s16.sType = VKT_ST_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES;
	c->dot.sType = VKT_ST_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES;
	c->sc.sType = VKT_ST_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES;
	if (mask & VKT_CHAIN_F16I8) {
		c->f16i8.pNext = head;
		head = &c->f16i8;
	}
	if (mask & VKT_CHAIN_STORAGE8) {
		c->s8.pNext = head;
		head = &c->s8;
	}
	if (mask & VKT_CHAIN_STORAGE16) {
		c->s16.pNext = head;
		head = &c->s16;
	}
	if (mask & VKT_CHAIN_DOT) {
		c->dot.pNext = head;
		head = &c->dot;
	}
	if (mask & VKT_CHAIN_SIZE_CONTROL) {
		c->sc.pNext = head;
		head = &c->sc;
	}
	return head;
}

void vkt_query_device(vkt_instance *inst, void *phys, uint32_t use_khr, uint32_t mask, vkt_devinfo *out) {
	memset(out, 0, sizeof *out);
	vkt_pfn_get_features2 gf = (vkt_pfn_get_features2)inst->gipa(
	    inst->instance, use_khr ? "vkGetPhysicalDeviceFeatures2KHR" : "vkGetPhysicalDeviceFeatures2");
	vkt_pfn_get_properties2 gp = (vkt_pfn_get_properties2)inst->gipa(
	    inst->instance, use_khr ? "vkGetPhysicalDeviceProperties2KHR" : "vkGetPhysicalDeviceProperties2");
	if (gf == NULL || gp == NULL) {
		return;
	}

	vkt_feature_chain fc;
	memset(&fc, 0, sizeof fc);
	fc.f2.sType = VKT_ST_PHYSICAL_DEVICE_FEATURES_2;
	fc.f2.pNext = vkt_link_features(&fc, mask);
	gf(phys, &fc.f2);
	if (mask & VKT_CHAIN_F16I8) {
		out->has_f16i8 = 1;
		out->shader_float16 = fc.f16i8.shaderFloat16;
		out->shader_int8 = fc.f16i8.shaderInt8;
	}
	if (mask & VKT_CHAIN_STORAGE8) {
		out->has_storage8 = 1;
		out->storage_buffer8 = fc.s8.storageBuffer8BitAccess;
		out->uniform_storage8 = fc.s8.uniformAndStorageBuffer8BitAccess;
		out->push_constant8 = fc.s8.storagePushConstant8;
	}
	if (mask & VKT_CHAIN_STORAGE16) {
		out->has_storage16 = 1;
		out->storage_buffer16 = fc.s16.storageBuffer16BitAccess;
	}
	if (mask & VKT_CHAIN_DOT) {
		out->has_dot = 1;
		out->dot_feature = fc.dot.shaderIntegerDotProduct;
	}
	if (mask & VKT_CHAIN_SIZE_CONTROL) {
		out->size_control = fc.sc.subgroupSizeControl;
		out->full_subgroups = fc.sc.computeFullSubgroups;
	}

	vkt_properties2 p2;
	vkt_driver_properties drv;
	vkt_subgroup_properties sg;
	vkt_subgroup_size_control_properties scp;
	vkt_integer_dot_product_properties dotp;
	memset(&p2, 0, sizeof p2);
	memset(&drv, 0, sizeof drv);
	memset(&sg, 0, sizeof sg);
	memset(&scp, 0, sizeof scp);
	memset(&dotp, 0, sizeof dotp);
	p2.sType = VKT_ST_PHYSICAL_DEVICE_PROPERTIES_2;
	drv.sType = VKT_ST_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
	sg.sType = VKT_ST_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
	scp.sType = VKT_ST_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES;
	dotp.sType = VKT_ST_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES;
	void *head = NULL;
	if (mask & VKT_CHAIN_DRIVER) {
		drv.pNext = head;
		head = &drv;
	}
	if (mask & VKT_CHAIN_SUBGROUP) {
		sg.pNext = head;
		head = &sg;
	}
	if (mask & VKT_CHAIN_SIZE_CONTROL) {
		scp.pNext = head;
		head = &scp;
	}
	if (mask & VKT_CHAIN_DOT) {
		dotp.pNext = head;
		head = &dotp;
	}
	p2.pNext = head;
	gp(phys, &p2);
	if (mask & VKT_CHAIN_DRIVER) {
		out->has_driver = 1;
		out->driver_id = drv.driverID;
		memcpy(out->driver_name, drv.driverName, sizeof out->driver_name);
		memcpy(out->driver_info, drv.driverInfo, sizeof out->driver_info);
		out->driver_name[255] = 0;
		out->driver_info[255] = 0;
	}
	if (mask & VKT_CHAIN_SUBGROUP) {
		out->has_subgroup = 1;
		out->subgroup_size = sg.subgroupSize;
		out->subgroup_stages = sg.supportedStages;
		out->subgroup_ops = sg.supportedOperations;
	}
	if (mask & VKT_CHAIN_SIZE_CONTROL) {
		out->has_size_control = 1;
		out->min_subgroup_size = scp.minSubgroupSize;
		out->max_subgroup_size = scp.maxSubgroupSize;
	}
	if (mask & VKT_CHAIN_DOT) {
		memcpy(out->dot_accel, dotp.accelerated, sizeof out->dot_accel);
	}
}

// ---------------------------------------------------------------- device

#define VKT_DEVICE_FUNCS(X)                                                                                     \
	X(DestroyDevice, void, (void *, const void *))                                                          \
	X(DeviceWaitIdle, int32_t, (void *))                                                                    \
	X(GetDeviceQueue, void, (void *, uint32_t, uint32_t, void **))                                          \
	X(CreateBuffer, int32_t, (void *, const vkt_buffer_create_info *, const void *, vkt_handle *))         \
	X(DestroyBuffer, void, (void *, vkt_handle, const void *))                                              \
	X(CreateBufferView, int32_t, (void *, const vkt_buffer_view_create_info *, const void *, vkt_handle *)) \
	X(DestroyBufferView, void, (void *, vkt_handle, const void *))                                          \
	X(GetBufferMemoryRequirements, void, (void *, vkt_handle, vkt_memory_requirements *))                   \
	X(AllocateMemory, int32_t, (void *, const vkt_memory_allocate_info *, const void *, vkt_handle *))     \
	X(FreeMemory, void, (void *, vkt_handle, const void *))                                                 \
	X(BindBufferMemory, int32_t, (void *, vkt_handle, vkt_handle, uint64_t))                                \
	X(MapMemory, int32_t, (void *, vkt_handle, uint64_t, uint64_t, uint32_t, void **))                     \
	X(UnmapMemory, void, (void *, vkt_handle))                                                              \
	X(CreateDescriptorSetLayout, int32_t,                                                                   \
	  (void *, const vkt_descriptor_set_layout_create_info *, const void *, vkt_handle *))                 \
	X(DestroyDescriptorSetLayout, void, (void *, vkt_handle, const void *))                                 \
	X(CreatePipelineCache, int32_t, (void *, const vkt_pipeline_cache_create_info *, const void *, vkt_handle *)) \
	X(GetPipelineCacheData, int32_t, (void *, vkt_handle, size_t *, void *))                                \
	X(DestroyPipelineCache, void, (void *, vkt_handle, const void *))                                       \
	X(CreateShaderModule, int32_t, (void *, const vkt_shader_module_create_info *, const void *, vkt_handle *)) \
	X(DestroyShaderModule, void, (void *, vkt_handle, const void *))                                        \
	X(CreatePipelineLayout, int32_t,                                                                        \
	  (void *, const vkt_pipeline_layout_create_info *, const void *, vkt_handle *))                       \
	X(DestroyPipelineLayout, void, (void *, vkt_handle, const void *))                                      \
	X(CreateComputePipelines, int32_t,                                                                      \
	  (void *, vkt_handle, uint32_t, const vkt_compute_pipeline_create_info *, const void *, vkt_handle *))  \
	X(DestroyPipeline, void, (void *, vkt_handle, const void *))                                            \
	X(CreateDescriptorPool, int32_t,                                                                        \
	  (void *, const vkt_descriptor_pool_create_info *, const void *, vkt_handle *))                       \
	X(DestroyDescriptorPool, void, (void *, vkt_handle, const void *))                                      \
	X(AllocateDescriptorSets, int32_t, (void *, const vkt_descriptor_set_allocate_info *, vkt_handle *))    \
	X(UpdateDescriptorSets, void, (void *, uint32_t, const vkt_write_descriptor_set *, uint32_t, const void *)) \
	X(CreateCommandPool, int32_t, (void *, const vkt_command_pool_create_info *, const void *, vkt_handle *)) \
	X(DestroyCommandPool, void, (void *, vkt_handle, const void *))                                         \
	X(ResetCommandPool, int32_t, (void *, vkt_handle, uint32_t))                                            \
	X(AllocateCommandBuffers, int32_t, (void *, const vkt_command_buffer_allocate_info *, void **))         \
	X(FreeCommandBuffers, void, (void *, vkt_handle, uint32_t, void *const *))                              \
	X(BeginCommandBuffer, int32_t, (void *, const vkt_command_buffer_begin_info *))                         \
	X(EndCommandBuffer, int32_t, (void *))                                                                  \
	X(CreateFence, int32_t, (void *, const vkt_fence_create_info *, const void *, vkt_handle *))           \
	X(DestroyFence, void, (void *, vkt_handle, const void *))                                               \
	X(ResetFences, int32_t, (void *, uint32_t, const vkt_handle *))                                         \
	X(WaitForFences, int32_t, (void *, uint32_t, const vkt_handle *, vkt_bool, uint64_t))                  \
	X(GetFenceStatus, int32_t, (void *, vkt_handle))                                                        \
	X(CreateQueryPool, int32_t, (void *, const vkt_query_pool_create_info *, const void *, vkt_handle *))  \
	X(DestroyQueryPool, void, (void *, vkt_handle, const void *))                                           \
	X(GetQueryPoolResults, int32_t, (void *, vkt_handle, uint32_t, uint32_t, size_t, void *, uint64_t, uint32_t)) \
	X(QueueSubmit, int32_t, (void *, uint32_t, const vkt_submit_info *, vkt_handle))                        \
	X(CmdBindPipeline, void, (void *, uint32_t, vkt_handle))                                                \
	X(CmdBindDescriptorSets, void,                                                                          \
	  (void *, uint32_t, vkt_handle, uint32_t, uint32_t, const vkt_handle *, uint32_t, const uint32_t *))   \
	X(CmdPushConstants, void, (void *, vkt_handle, uint32_t, uint32_t, uint32_t, const void *))            \
	X(CmdDispatch, void, (void *, uint32_t, uint32_t, uint32_t))                                            \
	X(CmdPipelineBarrier, void,                                                                             \
	  (void *, uint32_t, uint32_t, uint32_t, uint32_t, const vkt_memory_barrier *, uint32_t, const void *,  \
	   uint32_t, const void *))                                                                             \
	X(CmdResetQueryPool, void, (void *, vkt_handle, uint32_t, uint32_t))                                    \
	X(CmdWriteTimestamp, void, (void *, uint32_t, vkt_handle, uint32_t))                                    \
	X(CmdCopyBuffer, void, (void *, vkt_handle, vkt_handle, uint32_t, const vkt_buffer_copy *))            \
	X(CmdFillBuffer, void, (void *, vkt_handle, uint64_t, uint64_t, uint32_t))

struct vkt_device {
	void *device;
	void *queue;
#define VKT_FIELD(name, ret, args) ret(VKT_CALL *name) args;
	VKT_DEVICE_FUNCS(VKT_FIELD)
#undef VKT_FIELD
};

int32_t vkt_create_device(vkt_instance *inst, void *phys, uint32_t queue_family, const char **exts,
                          uint32_t nexts, uint32_t mask, const vkt_enable *en, vkt_device **out) {
	*out = NULL;
	vkt_feature_chain fc;
	memset(&fc, 0, sizeof fc);
	void *chain = vkt_link_features(&fc, mask);
	fc.f16i8.shaderFloat16 = en->shader_float16;
	fc.f16i8.shaderInt8 = en->shader_int8;
	fc.s8.storageBuffer8BitAccess = en->storage_buffer8;
	fc.s8.uniformAndStorageBuffer8BitAccess = en->uniform_storage8;
	fc.s8.storagePushConstant8 = en->push_constant8;
	fc.s16.storageBuffer16BitAccess = en->storage_buffer16;
	fc.dot.shaderIntegerDotProduct = en->integer_dot;
	fc.sc.subgroupSizeControl = en->size_control;
	fc.sc.computeFullSubgroups = en->full_subgroups;
	vkt_bool base[VKT_FEATURE_COUNT];
	memset(base, 0, sizeof base);
	base[VKT_FEATURE_SHADER_INT16] = en->shader_int16;
	base[VKT_FEATURE_SHADER_INT64] = en->shader_int64;
	base[VKT_FEATURE_SHADER_FLOAT64] = en->shader_float64;

	float priority = 1.0f;
	vkt_device_queue_create_info qci = {0};
	qci.sType = VKT_ST_DEVICE_QUEUE_CREATE_INFO;
	qci.queueFamilyIndex = queue_family;
	qci.queueCount = 1;
	qci.pQueuePriorities = &priority;
	vkt_device_create_info ci = {0};
	ci.sType = VKT_ST_DEVICE_CREATE_INFO;
	ci.pNext = chain;
	ci.queueCreateInfoCount = 1;
	ci.pQueueCreateInfos = &qci;
	ci.enabledExtensionCount = nexts;
	ci.ppEnabledExtensionNames = exts;
	ci.pEnabledFeatures = base;

	vkt_device *d = calloc(1, sizeof *d);
	if (d == NULL) {
		return -1;
	}
	int32_t r = inst->create_device(phys, &ci, NULL, &d->device);
	if (r != VKT_SUCCESS) {
		free(d);
		return r;
	}
#define VKT_LOAD(name, ret, args) d->name = (ret(VKT_CALL *) args)inst->gdpa(d->device, "vk" #name);
	VKT_DEVICE_FUNCS(VKT_LOAD)
#undef VKT_LOAD
#define VKT_CHECK(name, ret, args) ok = ok && d->name != NULL;
	int ok = 1;
	VKT_DEVICE_FUNCS(VKT_CHECK)
#undef VKT_CHECK
	if (!ok) {
		if (d->DestroyDevice != NULL) {
			d->DestroyDevice(d->device, NULL);
		}
		free(d);
		return VKT_ERROR_INITIALIZATION_FAILED;
	}
	d->GetDeviceQueue(d->device, queue_family, 0, &d->queue);
	*out = d;
	return VKT_SUCCESS;
}

void *vkt_device_handle(vkt_device *d) { return d->device; }
void *vkt_queue(vkt_device *d) { return d->queue; }

void vkt_destroy_device(vkt_device *d) {
	if (d == NULL) {
		return;
	}
	d->DestroyDevice(d->device, NULL);
	free(d);
}

int32_t vkt_device_wait_idle(vkt_device *d) { return d->DeviceWaitIdle(d->device); }

// ---------------------------------------------------------------- buffers

int32_t vkt_create_buffer(vkt_device *d, uint64_t size, vkt_handle *buf, uint64_t *mem_size,
                          uint32_t *mem_bits, uint64_t *align) {
	vkt_buffer_create_info ci = {0};
	ci.sType = VKT_ST_BUFFER_CREATE_INFO;
	ci.size = size;
	ci.usage = VKT_BUFFER_USAGE_STORAGE | VKT_BUFFER_USAGE_UNIFORM_TEXEL | VKT_BUFFER_USAGE_TRANSFER_SRC |
	           VKT_BUFFER_USAGE_TRANSFER_DST;
	int32_t r = d->CreateBuffer(d->device, &ci, NULL, buf);
	if (r != VKT_SUCCESS) {
		return r;
	}
	vkt_memory_requirements req;
	memset(&req, 0, sizeof req);
	d->GetBufferMemoryRequirements(d->device, *buf, &req);
	*mem_size = req.size;
	*mem_bits = req.memoryTypeBits;
	*align = req.alignment;
	return VKT_SUCCESS;
}

int32_t vkt_allocate_bind(vkt_device *d, vkt_handle buf, uint64_t size, uint32_t type_index, uint32_t map,
                          vkt_handle *mem, void **mapped) {
	vkt_memory_allocate_info ai = {0};
	ai.sType = VKT_ST_MEMORY_ALLOCATE_INFO;
	ai.allocationSize = size;
	ai.memoryTypeIndex = type_index;
	*mem = 0;
	*mapped = NULL;
	int32_t r = d->AllocateMemory(d->device, &ai, NULL, mem);
	if (r != VKT_SUCCESS) {
		return r;
	}
	r = d->BindBufferMemory(d->device, buf, *mem, 0);
	if (r == VKT_SUCCESS && map) {
		r = d->MapMemory(d->device, *mem, 0, ~0ull /* VK_WHOLE_SIZE */, 0, mapped);
	}
	if (r != VKT_SUCCESS) {
		d->FreeMemory(d->device, *mem, NULL);
		*mem = 0;
		*mapped = NULL;
	}
	return r;
}

void vkt_destroy_buffer(vkt_device *d, vkt_handle buf, vkt_handle mem, uint32_t mapped) {
	if (buf != 0) {
		d->DestroyBuffer(d->device, buf, NULL);
	}
	if (mem != 0) {
		if (mapped) {
			d->UnmapMemory(d->device, mem);
		}
		d->FreeMemory(d->device, mem, NULL);
	}
}

int32_t vkt_create_buffer_view(vkt_device *d, vkt_handle buf, uint64_t range, vkt_handle *out) {
	vkt_buffer_view_create_info ci = {0};
	ci.sType = VKT_ST_BUFFER_VIEW_CREATE_INFO;
	ci.buffer = buf;
	ci.format = VKT_FORMAT_R32_UINT;
	ci.offset = 0;
	ci.range = range;
	return d->CreateBufferView(d->device, &ci, NULL, out);
}

void vkt_destroy_buffer_view(vkt_device *d, vkt_handle view) {
	if (view != 0) {
		d->DestroyBufferView(d->device, view, NULL);
	}
}

// ---------------------------------------------------------------- kernels

static uint32_t binding_type(uint32_t texel_mask, uint32_t i) {
	return (texel_mask >> i) & 1 ? VKT_DESCRIPTOR_UNIFORM_TEXEL_BUFFER : VKT_DESCRIPTOR_STORAGE_BUFFER;
}

int32_t vkt_create_set_layout(vkt_device *d, uint32_t n, uint32_t texel_mask, vkt_handle *out) {
	vkt_descriptor_set_layout_binding *b = calloc(n ? n : 1, sizeof *b);
	if (b == NULL) {
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		b[i].binding = i;
		b[i].descriptorType = binding_type(texel_mask, i);
		b[i].descriptorCount = 1;
		b[i].stageFlags = VKT_SHADER_STAGE_COMPUTE;
	}
	vkt_descriptor_set_layout_create_info ci = {0};
	ci.sType = VKT_ST_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
	ci.bindingCount = n;
	ci.pBindings = b;
	int32_t r = d->CreateDescriptorSetLayout(d->device, &ci, NULL, out);
	free(b);
	return r;
}

void vkt_destroy_set_layout(vkt_device *d, vkt_handle l) {
	if (l != 0) {
		d->DestroyDescriptorSetLayout(d->device, l, NULL);
	}
}

int32_t vkt_create_pipeline_cache(vkt_device *d, const void *data, size_t size, vkt_handle *out) {
	vkt_pipeline_cache_create_info ci = {0};
	ci.sType = VKT_ST_PIPELINE_CACHE_CREATE_INFO;
	ci.initialDataSize = size;
	ci.pInitialData = size ? data : NULL;
	return d->CreatePipelineCache(d->device, &ci, NULL, out);
}

int32_t vkt_pipeline_cache_data(vkt_device *d, vkt_handle cache, void *data, size_t *size) {
	return d->GetPipelineCacheData(d->device, cache, size, data);
}

void vkt_destroy_pipeline_cache(vkt_device *d, vkt_handle cache) {
	if (cache != 0) {
		d->DestroyPipelineCache(d->device, cache, NULL);
	}
}

int32_t vkt_create_kernel(vkt_device *d, vkt_handle cache, const void *code, size_t code_size,
                          vkt_handle set_layout, uint32_t push_size, const uint32_t *spec, uint32_t nspec,
                          vkt_handle *layout, vkt_handle *pipeline) {
	*layout = 0;
	*pipeline = 0;
	// Copy the code: it must be 4-byte aligned and Go's []byte need not be.
	uint32_t *words = malloc(code_size);
	if (words == NULL) {
		return -1;
	}
	memcpy(words, code, code_size);
	vkt_shader_module_create_info mci = {0};
	mci.sType = VKT_ST_SHADER_MODULE_CREATE_INFO;
	mci.codeSize = code_size;
	mci.pCode = words;
	vkt_handle module = 0;
	int32_t r = d->CreateShaderModule(d->device, &mci, NULL, &module);
	free(words);
	if (r != VKT_SUCCESS) {
		return r;
	}

	vkt_push_constant_range pcr = {VKT_SHADER_STAGE_COMPUTE, 0, push_size};
	vkt_pipeline_layout_create_info lci = {0};
	lci.sType = VKT_ST_PIPELINE_LAYOUT_CREATE_INFO;
	lci.setLayoutCount = set_layout != 0 ? 1 : 0;
	lci.pSetLayouts = set_layout != 0 ? &set_layout : NULL;
	lci.pushConstantRangeCount = push_size > 0 ? 1 : 0;
	lci.pPushConstantRanges = push_size > 0 ? &pcr : NULL;
	r = d->CreatePipelineLayout(d->device, &lci, NULL, layout);
	if (r != VKT_SUCCESS) {
		d->DestroyShaderModule(d->device, module, NULL);
		*layout = 0;
		return r;
	}

	vkt_specialization_map_entry *entries = calloc(nspec ? nspec : 1, sizeof *entries);
	uint32_t *data = calloc(nspec ? nspec : 1, sizeof *data);
	if (entries == NULL || data == NULL) {
		free(entries);
		free(data);
		d->DestroyShaderModule(d->device, module, NULL);
		d->DestroyPipelineLayout(d->device, *layout, NULL);
		*layout = 0;
		return -1;
	}
	for (uint32_t i = 0; i < nspec; i++) {
		entries[i].constantID = i;
		entries[i].offset = 4 * i;
		entries[i].size = 4;
		data[i] = spec[i];
	}
	vkt_specialization_info si = {0};
	si.mapEntryCount = nspec;
	si.pMapEntries = entries;
	si.dataSize = 4 * (size_t)nspec;
	si.pData = data;

	vkt_compute_pipeline_create_info pci = {0};
	pci.sType = VKT_ST_COMPUTE_PIPELINE_CREATE_INFO;
	pci.stage.sType = VKT_ST_PIPELINE_SHADER_STAGE_CREATE_INFO;
	pci.stage.stage = VKT_SHADER_STAGE_COMPUTE;
	pci.stage.module = module;
	pci.stage.pName = "main";
	pci.stage.pSpecializationInfo = nspec > 0 ? &si : NULL;
	pci.layout = *layout;
	pci.basePipelineIndex = -1;
	r = d->CreateComputePipelines(d->device, cache, 1, &pci, NULL, pipeline);
	free(entries);
	free(data);
	d->DestroyShaderModule(d->device, module, NULL);
	if (r != VKT_SUCCESS) {
		d->DestroyPipelineLayout(d->device, *layout, NULL);
		*layout = 0;
		*pipeline = 0;
	}
	return r;
}

void vkt_destroy_kernel(vkt_device *d, vkt_handle layout, vkt_handle pipeline) {
	if (pipeline != 0) {
		d->DestroyPipeline(d->device, pipeline, NULL);
	}
	if (layout != 0) {
		d->DestroyPipelineLayout(d->device, layout, NULL);
	}
}

// ---------------------------------------------------------------- descriptors

int32_t vkt_create_descriptor_pool(vkt_device *d, uint32_t max_sets, uint32_t descriptors, vkt_handle *out) {
	vkt_descriptor_pool_size sizes[2] = {{VKT_DESCRIPTOR_STORAGE_BUFFER, descriptors},
	                                     {VKT_DESCRIPTOR_UNIFORM_TEXEL_BUFFER, descriptors}};
	vkt_descriptor_pool_create_info ci = {0};
	ci.sType = VKT_ST_DESCRIPTOR_POOL_CREATE_INFO;
	ci.maxSets = max_sets;
	ci.poolSizeCount = 2;
	ci.pPoolSizes = sizes;
	return d->CreateDescriptorPool(d->device, &ci, NULL, out);
}

void vkt_destroy_descriptor_pool(vkt_device *d, vkt_handle pool) {
	if (pool != 0) {
		d->DestroyDescriptorPool(d->device, pool, NULL);
	}
}

int32_t vkt_allocate_set(vkt_device *d, vkt_handle pool, vkt_handle layout, vkt_handle *out) {
	vkt_descriptor_set_allocate_info ai = {0};
	ai.sType = VKT_ST_DESCRIPTOR_SET_ALLOCATE_INFO;
	ai.descriptorPool = pool;
	ai.descriptorSetCount = 1;
	ai.pSetLayouts = &layout;
	return d->AllocateDescriptorSets(d->device, &ai, out);
}

void vkt_update_set(vkt_device *d, vkt_handle set, uint32_t n, const vkt_handle *bufs, const uint64_t *ranges,
                    const vkt_handle *views, uint32_t texel_mask) {
	vkt_descriptor_buffer_info info[16];
	vkt_write_descriptor_set w[16];
	for (uint32_t base = 0; base < n; base += 16) {
		uint32_t m = n - base < 16 ? n - base : 16;
		for (uint32_t i = 0; i < m; i++) {
			info[i].buffer = bufs[base + i];
			info[i].offset = 0;
			info[i].range = ranges[base + i];
			memset(&w[i], 0, sizeof w[i]);
			w[i].sType = VKT_ST_WRITE_DESCRIPTOR_SET;
			w[i].dstSet = set;
			w[i].dstBinding = base + i;
			w[i].descriptorCount = 1;
			w[i].descriptorType = binding_type(texel_mask, base + i);
			if (w[i].descriptorType == VKT_DESCRIPTOR_UNIFORM_TEXEL_BUFFER) {
				w[i].pTexelBufferView = &views[base + i];
			} else {
				w[i].pBufferInfo = &info[i];
			}
		}
		d->UpdateDescriptorSets(d->device, m, w, 0, NULL);
	}
}

// ---------------------------------------------------------------- commands

int32_t vkt_create_commands(vkt_device *d, uint32_t family, vkt_handle *pool, void **cb, vkt_handle *fence) {
	*pool = 0;
	*cb = NULL;
	*fence = 0;
	vkt_command_pool_create_info pci = {0};
	pci.sType = VKT_ST_COMMAND_POOL_CREATE_INFO;
	pci.queueFamilyIndex = family;
	int32_t r = d->CreateCommandPool(d->device, &pci, NULL, pool);
	if (r != VKT_SUCCESS) {
		return r;
	}
	vkt_command_buffer_allocate_info ai = {0};
	ai.sType = VKT_ST_COMMAND_BUFFER_ALLOCATE_INFO;
	ai.commandPool = *pool;
	ai.level = 0; // primary
	ai.commandBufferCount = 1;
	r = d->AllocateCommandBuffers(d->device, &ai, cb);
	if (r == VKT_SUCCESS) {
		vkt_fence_create_info fci = {0};
		fci.sType = VKT_ST_FENCE_CREATE_INFO;
		r = d->CreateFence(d->device, &fci, NULL, fence);
	}
	if (r != VKT_SUCCESS) {
		d->DestroyCommandPool(d->device, *pool, NULL);
		*pool = 0;
		*cb = NULL;
		*fence = 0;
	}
	return r;
}

void vkt_destroy_commands(vkt_device *d, vkt_handle pool, void *cb, vkt_handle fence) {
	if (fence != 0) {
		d->DestroyFence(d->device, fence, NULL);
	}
	if (pool != 0) {
		if (cb != NULL) {
			d->FreeCommandBuffers(d->device, pool, 1, &cb);
		}
		d->DestroyCommandPool(d->device, pool, NULL);
	}
}

int32_t vkt_create_query_pool(vkt_device *d, uint32_t count, vkt_handle *out) {
	vkt_query_pool_create_info ci = {0};
	ci.sType = VKT_ST_QUERY_POOL_CREATE_INFO;
	ci.queryType = VKT_QUERY_TYPE_TIMESTAMP;
	ci.queryCount = count;
	return d->CreateQueryPool(d->device, &ci, NULL, out);
}

void vkt_destroy_query_pool(vkt_device *d, vkt_handle pool) {
	if (pool != 0) {
		d->DestroyQueryPool(d->device, pool, NULL);
	}
}

int32_t vkt_query_results(vkt_device *d, vkt_handle pool, uint32_t first, uint32_t count, uint64_t *out) {
	return d->GetQueryPoolResults(d->device, pool, first, count, (size_t)count * 8, out, 8,
	                              VKT_QUERY_RESULT_64 | VKT_QUERY_RESULT_WAIT);
}

int32_t vkt_begin(vkt_device *d, vkt_handle pool, void *cb) {
	int32_t r = d->ResetCommandPool(d->device, pool, 0);
	if (r != VKT_SUCCESS) {
		return r;
	}
	vkt_command_buffer_begin_info bi = {0};
	bi.sType = VKT_ST_COMMAND_BUFFER_BEGIN_INFO;
	bi.flags = 0; // not one-time: a finished sequence may be submitted again
	return d->BeginCommandBuffer(cb, &bi);
}

int32_t vkt_end(vkt_device *d, void *cb) {
	// Make every device write visible to the host once the fence signals.
	vkt_memory_barrier mb = {0};
	mb.sType = VKT_ST_MEMORY_BARRIER;
	mb.srcAccessMask = VKT_ACCESS_SHADER_WRITE | VKT_ACCESS_TRANSFER_WRITE;
	mb.dstAccessMask = VKT_ACCESS_HOST_READ;
	d->CmdPipelineBarrier(cb, VKT_STAGE_COMPUTE_SHADER | VKT_STAGE_TRANSFER, VKT_STAGE_HOST, 0, 1, &mb, 0, NULL,
	                      0, NULL);
	return d->EndCommandBuffer(cb);
}

void vkt_barrier(vkt_device *d, void *cb) {
	vkt_memory_barrier mb = {0};
	mb.sType = VKT_ST_MEMORY_BARRIER;
	mb.srcAccessMask = VKT_ACCESS_SHADER_WRITE | VKT_ACCESS_TRANSFER_WRITE;
	mb.dstAccessMask = VKT_ACCESS_SHADER_READ | VKT_ACCESS_SHADER_WRITE | VKT_ACCESS_TRANSFER_READ |
	                   VKT_ACCESS_TRANSFER_WRITE;
	uint32_t stages = VKT_STAGE_COMPUTE_SHADER | VKT_STAGE_TRANSFER;
	d->CmdPipelineBarrier(cb, stages, stages, 0, 1, &mb, 0, NULL, 0, NULL);
}

void vkt_reset_queries(vkt_device *d, void *cb, vkt_handle qpool, uint32_t count) {
	d->CmdResetQueryPool(cb, qpool, 0, count);
}

void vkt_timestamp(vkt_device *d, void *cb, vkt_handle qpool, uint32_t query) {
	d->CmdWriteTimestamp(cb, VKT_STAGE_BOTTOM_OF_PIPE, qpool, query);
}

void vkt_dispatch(vkt_device *d, void *cb, vkt_handle pipeline, vkt_handle layout, vkt_handle set,
                  const void *push, uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz) {
	d->CmdBindPipeline(cb, VKT_BIND_POINT_COMPUTE, pipeline);
	if (set != 0) {
		d->CmdBindDescriptorSets(cb, VKT_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
	}
	if (push_size > 0) {
		d->CmdPushConstants(cb, layout, VKT_SHADER_STAGE_COMPUTE, 0, push_size, push);
	}
	d->CmdDispatch(cb, gx, gy, gz);
}

void vkt_copy(vkt_device *d, void *cb, vkt_handle src, uint64_t src_off, vkt_handle dst, uint64_t dst_off,
              uint64_t size) {
	vkt_buffer_copy c = {src_off, dst_off, size};
	d->CmdCopyBuffer(cb, src, dst, 1, &c);
}

void vkt_fill(vkt_device *d, void *cb, vkt_handle buf, uint64_t off, uint64_t size, uint32_t value) {
	d->CmdFillBuffer(cb, buf, off, size, value);
}

int32_t vkt_submit(vkt_device *d, void *queue, void *cb, vkt_handle fence) {
	int32_t r = d->ResetFences(d->device, 1, &fence);
	if (r != VKT_SUCCESS) {
		return r;
	}
	vkt_submit_info si = {0};
	si.sType = VKT_ST_SUBMIT_INFO;
	si.commandBufferCount = 1;
	si.pCommandBuffers = &cb;
	return d->QueueSubmit(queue, 1, &si, fence);
}

int32_t vkt_wait(vkt_device *d, vkt_handle fence, uint64_t timeout_ns) {
	return d->WaitForFences(d->device, 1, &fence, 1, timeout_ns);
}

int32_t vkt_fence_status(vkt_device *d, vkt_handle fence) { return d->GetFenceStatus(d->device, fence); }

// ---------------------------------------------------------------- enumeration

typedef struct vkt_extension_properties {
	char extensionName[256];
	uint32_t specVersion;
} vkt_extension_properties;

typedef struct vkt_layer_properties {
	char layerName[256];
	uint32_t specVersion;
	uint32_t implementationVersion;
	char description[256];
} vkt_layer_properties;

typedef int32_t(VKT_CALL *vkt_pfn_enum_instance_ext)(const char *, uint32_t *, vkt_extension_properties *);
typedef int32_t(VKT_CALL *vkt_pfn_enum_instance_layers)(uint32_t *, vkt_layer_properties *);
typedef int32_t(VKT_CALL *vkt_pfn_enum_device_ext)(void *, const char *, uint32_t *, vkt_extension_properties *);
typedef int32_t(VKT_CALL *vkt_pfn_enum_physical)(void *, uint32_t *, void **);

// Results are written as consecutive 256-byte names; *count is in/out as in Vulkan.
int32_t vkt_instance_extensions(void *gipa, const char *layer, char *names, uint32_t *count) {
	vkt_pfn_enum_instance_ext f =
	    (vkt_pfn_enum_instance_ext)((vkt_pfn_gipa)gipa)(NULL, "vkEnumerateInstanceExtensionProperties");
	if (f == NULL) {
		return VKT_ERROR_INITIALIZATION_FAILED;
	}
	if (names == NULL) {
		return f(layer, count, NULL);
	}
	vkt_extension_properties *p = calloc(*count ? *count : 1, sizeof *p);
	if (p == NULL) {
		return -1;
	}
	int32_t r = f(layer, count, p);
	for (uint32_t i = 0; r >= 0 && i < *count; i++) {
		memcpy(names + 256 * i, p[i].extensionName, 256);
		names[256 * i + 255] = 0;
	}
	free(p);
	return r;
}

int32_t vkt_instance_layers(void *gipa, char *names, uint32_t *count) {
	vkt_pfn_enum_instance_layers f =
	    (vkt_pfn_enum_instance_layers)((vkt_pfn_gipa)gipa)(NULL, "vkEnumerateInstanceLayerProperties");
	if (f == NULL) {
		return VKT_ERROR_INITIALIZATION_FAILED;
	}
	if (names == NULL) {
		return f(count, NULL);
	}
	vkt_layer_properties *p = calloc(*count ? *count : 1, sizeof *p);
	if (p == NULL) {
		return -1;
	}
	int32_t r = f(count, p);
	for (uint32_t i = 0; r >= 0 && i < *count; i++) {
		memcpy(names + 256 * i, p[i].layerName, 256);
		names[256 * i + 255] = 0;
	}
	free(p);
	return r;
}

int32_t vkt_device_extensions(vkt_instance *inst, void *phys, char *names, uint32_t *count) {
	vkt_pfn_enum_device_ext f =
	    (vkt_pfn_enum_device_ext)inst->gipa(inst->instance, "vkEnumerateDeviceExtensionProperties");
	if (f == NULL) {
		return VKT_ERROR_INITIALIZATION_FAILED;
	}
	if (names == NULL) {
		return f(phys, NULL, count, NULL);
	}
	vkt_extension_properties *p = calloc(*count ? *count : 1, sizeof *p);
	if (p == NULL) {
		return -1;
	}
	int32_t r = f(phys, NULL, count, p);
	for (uint32_t i = 0; r >= 0 && i < *count; i++) {
		memcpy(names + 256 * i, p[i].extensionName, 256);
		names[256 * i + 255] = 0;
	}
	free(p);
	return r;
}

int32_t vkt_physical_devices(vkt_instance *inst, void **out, uint32_t *count) {
	vkt_pfn_enum_physical f = (vkt_pfn_enum_physical)inst->gipa(inst->instance, "vkEnumeratePhysicalDevices");
	if (f == NULL) {
		return VKT_ERROR_INITIALIZATION_FAILED;
	}
	return f(inst->instance, count, out);
}
