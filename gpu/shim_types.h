// shim_types.h: the Vulkan structures, constants and function types the shim uses,
// declared under a vkt_/VKT_ prefix so no Vulkan header is needed to build. Their
// layout is fixed by the Vulkan ABI; gpu/abi_test.go compiles a program that checks
// every size and offset here against the system's vulkan_core.h when it is installed.
#ifndef VKTRAIN_GPU_SHIM_TYPES_H
#define VKTRAIN_GPU_SHIM_TYPES_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define VKT_CALL __stdcall
#define VKT_ATTR
#elif defined(__ANDROID__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7 && defined(__ARM_32BIT_STATE)
#define VKT_CALL
#define VKT_ATTR __attribute__((pcs("aapcs-vfp")))
#else
#define VKT_CALL
#define VKT_ATTR
#endif

// Non-dispatchable handles are 64 bits on every platform (a pointer on 64-bit
// targets, uint64_t on 32-bit ones); both pass the same way, so the shim uses
// uint64_t. Dispatchable handles (instance, physical device, device, queue,
// command buffer) are pointers.
typedef uint64_t vkt_handle;

typedef uint32_t vkt_bool;

enum {
	VKT_ST_APPLICATION_INFO = 0,
	VKT_ST_INSTANCE_CREATE_INFO = 1,
	VKT_ST_DEVICE_QUEUE_CREATE_INFO = 2,
	VKT_ST_DEVICE_CREATE_INFO = 3,
	VKT_ST_SUBMIT_INFO = 4,
	VKT_ST_MEMORY_ALLOCATE_INFO = 5,
	VKT_ST_FENCE_CREATE_INFO = 8,
	VKT_ST_QUERY_POOL_CREATE_INFO = 11,
	VKT_ST_BUFFER_CREATE_INFO = 12,
	VKT_ST_BUFFER_VIEW_CREATE_INFO = 13,
	VKT_ST_SHADER_MODULE_CREATE_INFO = 16,
	VKT_ST_PIPELINE_CACHE_CREATE_INFO = 17,
	VKT_ST_PIPELINE_SHADER_STAGE_CREATE_INFO = 18,
	VKT_ST_COMPUTE_PIPELINE_CREATE_INFO = 29,
	VKT_ST_PIPELINE_LAYOUT_CREATE_INFO = 30,
	VKT_ST_DESCRIPTOR_SET_LAYOUT_CREATE_INFO = 32,
	VKT_ST_DESCRIPTOR_POOL_CREATE_INFO = 33,
	VKT_ST_DESCRIPTOR_SET_ALLOCATE_INFO = 34,
	VKT_ST_WRITE_DESCRIPTOR_SET = 35,
	VKT_ST_COMMAND_POOL_CREATE_INFO = 39,
	VKT_ST_COMMAND_BUFFER_ALLOCATE_INFO = 40,
	VKT_ST_COMMAND_BUFFER_BEGIN_INFO = 42,
	VKT_ST_MEMORY_BARRIER = 46,
	VKT_ST_PHYSICAL_DEVICE_FEATURES_2 = 1000059000,
	VKT_ST_PHYSICAL_DEVICE_PROPERTIES_2 = 1000059001,
	VKT_ST_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES = 1000082000,
	VKT_ST_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES = 1000083000,
	VKT_ST_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES = 1000094000,
	VKT_ST_DEBUG_UTILS_MESSENGER_CREATE_INFO = 1000128004,
	VKT_ST_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES = 1000177000,
	VKT_ST_PHYSICAL_DEVICE_DRIVER_PROPERTIES = 1000196000,
	VKT_ST_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES = 1000225000,
	VKT_ST_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES = 1000225002,
	VKT_ST_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES = 1000280000,
	VKT_ST_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES = 1000280001
};

enum {
	VKT_SUCCESS = 0,
	VKT_NOT_READY = 1,
	VKT_TIMEOUT = 2,
	VKT_ERROR_INITIALIZATION_FAILED = -3,
	VKT_ERROR_EXTENSION_NOT_PRESENT = -7,
	VKT_ERROR_FEATURE_NOT_PRESENT = -8
};

enum {
	VKT_STAGE_TOP_OF_PIPE = 0x1,
	VKT_STAGE_COMPUTE_SHADER = 0x800,
	VKT_STAGE_TRANSFER = 0x1000,
	VKT_STAGE_BOTTOM_OF_PIPE = 0x2000,
	VKT_STAGE_HOST = 0x4000,
	VKT_ACCESS_SHADER_READ = 0x20,
	VKT_ACCESS_SHADER_WRITE = 0x40,
	VKT_ACCESS_TRANSFER_READ = 0x800,
	VKT_ACCESS_TRANSFER_WRITE = 0x1000,
	VKT_ACCESS_HOST_READ = 0x2000,
	VKT_ACCESS_HOST_WRITE = 0x4000,
	VKT_DESCRIPTOR_UNIFORM_TEXEL_BUFFER = 4,
	VKT_DESCRIPTOR_STORAGE_BUFFER = 7,
	VKT_FORMAT_R32_UINT = 98,
	VKT_BIND_POINT_COMPUTE = 1,
	VKT_SHADER_STAGE_COMPUTE = 0x20,
	VKT_BUFFER_USAGE_TRANSFER_SRC = 0x1,
	VKT_BUFFER_USAGE_TRANSFER_DST = 0x2,
	VKT_BUFFER_USAGE_UNIFORM_TEXEL = 0x4,
	VKT_BUFFER_USAGE_STORAGE = 0x20,
	VKT_QUERY_TYPE_TIMESTAMP = 2,
	VKT_QUERY_RESULT_64 = 0x1,
	VKT_QUERY_RESULT_WAIT = 0x2,
	VKT_COMMAND_BUFFER_ONE_TIME_SUBMIT = 0x1,
	VKT_DEBUG_SEVERITY_VERBOSE = 0x1,
	VKT_DEBUG_SEVERITY_INFO = 0x10,
	VKT_DEBUG_SEVERITY_WARNING = 0x100,
	VKT_DEBUG_SEVERITY_ERROR = 0x1000,
	VKT_DEBUG_TYPE_GENERAL = 0x1,
	VKT_DEBUG_TYPE_VALIDATION = 0x2,
	VKT_DEBUG_TYPE_PERFORMANCE = 0x4
};

typedef struct vkt_application_info {
	uint32_t sType;
	const void *pNext;
	const char *pApplicationName;
	uint32_t applicationVersion;
	const char *pEngineName;
	uint32_t engineVersion;
	uint32_t apiVersion;
} vkt_application_info;

typedef struct vkt_instance_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	const vkt_application_info *pApplicationInfo;
	uint32_t enabledLayerCount;
	const char *const *ppEnabledLayerNames;
	uint32_t enabledExtensionCount;
	const char *const *ppEnabledExtensionNames;
} vkt_instance_create_info;

typedef struct vkt_debug_utils_messenger_callback_data {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	const char *pMessageIdName;
	int32_t messageIdNumber;
	const char *pMessage;
	uint32_t queueLabelCount;
	const void *pQueueLabels;
	uint32_t cmdBufLabelCount;
	const void *pCmdBufLabels;
	uint32_t objectCount;
	const void *pObjects;
} vkt_debug_utils_messenger_callback_data;

typedef vkt_bool(VKT_CALL *vkt_pfn_debug_callback)(uint32_t severity, uint32_t types,
                                                   const vkt_debug_utils_messenger_callback_data *data,
                                                   void *user);

typedef struct vkt_debug_utils_messenger_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint32_t messageSeverity;
	uint32_t messageType;
	vkt_pfn_debug_callback pfnUserCallback;
	void *pUserData;
} vkt_debug_utils_messenger_create_info;

typedef struct vkt_device_queue_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint32_t queueFamilyIndex;
	uint32_t queueCount;
	const float *pQueuePriorities;
} vkt_device_queue_create_info;

// VkPhysicalDeviceFeatures: 55 VkBool32 in a fixed order; the shim names the ones it uses.
enum {
	VKT_FEATURE_SHADER_FLOAT64 = 39,
	VKT_FEATURE_SHADER_INT64 = 40,
	VKT_FEATURE_SHADER_INT16 = 41,
	VKT_FEATURE_COUNT = 55
};

typedef struct vkt_device_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint32_t queueCreateInfoCount;
	const vkt_device_queue_create_info *pQueueCreateInfos;
	uint32_t enabledLayerCount;
	const char *const *ppEnabledLayerNames;
	uint32_t enabledExtensionCount;
	const char *const *ppEnabledExtensionNames;
	const vkt_bool *pEnabledFeatures;
} vkt_device_create_info;

typedef struct vkt_features2 {
	uint32_t sType;
	void *pNext;
	vkt_bool features[VKT_FEATURE_COUNT];
} vkt_features2;

// VkPhysicalDeviceProperties2 with the core properties as opaque, generously sized
// storage: the shim reads only the structures chained after it.
typedef struct vkt_properties2 {
	uint32_t sType;
	void *pNext;
	uint64_t properties[128];
} vkt_properties2;

typedef struct vkt_driver_properties {
	uint32_t sType;
	void *pNext;
	uint32_t driverID;
	char driverName[256];
	char driverInfo[256];
	uint8_t conformanceVersion[4];
} vkt_driver_properties;

typedef struct vkt_subgroup_properties {
	uint32_t sType;
	void *pNext;
	uint32_t subgroupSize;
	uint32_t supportedStages;
	uint32_t supportedOperations;
	vkt_bool quadOperationsInAllStages;
} vkt_subgroup_properties;

typedef struct vkt_subgroup_size_control_properties {
	uint32_t sType;
	void *pNext;
	uint32_t minSubgroupSize;
	uint32_t maxSubgroupSize;
	uint32_t maxComputeWorkgroupSubgroups;
	uint32_t requiredSubgroupSizeStages;
} vkt_subgroup_size_control_properties;

typedef struct vkt_subgroup_size_control_features {
	uint32_t sType;
	void *pNext;
	vkt_bool subgroupSizeControl;
	vkt_bool computeFullSubgroups;
} vkt_subgroup_size_control_features;

typedef struct vkt_float16_int8_features {
	uint32_t sType;
	void *pNext;
	vkt_bool shaderFloat16;
	vkt_bool shaderInt8;
} vkt_float16_int8_features;

typedef struct vkt_8bit_storage_features {
	uint32_t sType;
	void *pNext;
	vkt_bool storageBuffer8BitAccess;
	vkt_bool uniformAndStorageBuffer8BitAccess;
	vkt_bool storagePushConstant8;
} vkt_8bit_storage_features;

typedef struct vkt_16bit_storage_features {
	uint32_t sType;
	void *pNext;
	vkt_bool storageBuffer16BitAccess;
	vkt_bool uniformAndStorageBuffer16BitAccess;
	vkt_bool storagePushConstant16;
	vkt_bool storageInputOutput16;
} vkt_16bit_storage_features;

typedef struct vkt_integer_dot_product_features {
	uint32_t sType;
	void *pNext;
	vkt_bool shaderIntegerDotProduct;
} vkt_integer_dot_product_features;

typedef struct vkt_integer_dot_product_properties {
	uint32_t sType;
	void *pNext;
	vkt_bool accelerated[30];
} vkt_integer_dot_product_properties;

typedef struct vkt_buffer_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint64_t size;
	uint32_t usage;
	uint32_t sharingMode;
	uint32_t queueFamilyIndexCount;
	const uint32_t *pQueueFamilyIndices;
} vkt_buffer_create_info;

typedef struct vkt_buffer_view_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	vkt_handle buffer;
	uint32_t format;
	uint64_t offset;
	uint64_t range;
} vkt_buffer_view_create_info;

typedef struct vkt_memory_requirements {
	uint64_t size;
	uint64_t alignment;
	uint32_t memoryTypeBits;
} vkt_memory_requirements;

typedef struct vkt_memory_allocate_info {
	uint32_t sType;
	const void *pNext;
	uint64_t allocationSize;
	uint32_t memoryTypeIndex;
} vkt_memory_allocate_info;

typedef struct vkt_descriptor_set_layout_binding {
	uint32_t binding;
	uint32_t descriptorType;
	uint32_t descriptorCount;
	uint32_t stageFlags;
	const vkt_handle *pImmutableSamplers;
} vkt_descriptor_set_layout_binding;

typedef struct vkt_descriptor_set_layout_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint32_t bindingCount;
	const vkt_descriptor_set_layout_binding *pBindings;
} vkt_descriptor_set_layout_create_info;

typedef struct vkt_pipeline_cache_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	size_t initialDataSize;
	const void *pInitialData;
} vkt_pipeline_cache_create_info;

typedef struct vkt_shader_module_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	size_t codeSize;
	const uint32_t *pCode;
} vkt_shader_module_create_info;

typedef struct vkt_push_constant_range {
	uint32_t stageFlags;
	uint32_t offset;
	uint32_t size;
} vkt_push_constant_range;

typedef struct vkt_pipeline_layout_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint32_t setLayoutCount;
	const vkt_handle *pSetLayouts;
	uint32_t pushConstantRangeCount;
	const vkt_push_constant_range *pPushConstantRanges;
} vkt_pipeline_layout_create_info;

typedef struct vkt_specialization_map_entry {
	uint32_t constantID;
	uint32_t offset;
	size_t size;
} vkt_specialization_map_entry;

typedef struct vkt_specialization_info {
	uint32_t mapEntryCount;
	const vkt_specialization_map_entry *pMapEntries;
	size_t dataSize;
	const void *pData;
} vkt_specialization_info;

typedef struct vkt_pipeline_shader_stage_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint32_t stage;
	vkt_handle module;
	const char *pName;
	const vkt_specialization_info *pSpecializationInfo;
} vkt_pipeline_shader_stage_create_info;

typedef struct vkt_compute_pipeline_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	vkt_pipeline_shader_stage_create_info stage;
	vkt_handle layout;
	vkt_handle basePipelineHandle;
	int32_t basePipelineIndex;
} vkt_compute_pipeline_create_info;

typedef struct vkt_descriptor_pool_size {
	uint32_t type;
	uint32_t descriptorCount;
} vkt_descriptor_pool_size;

typedef struct vkt_descriptor_pool_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint32_t maxSets;
	uint32_t poolSizeCount;
	const vkt_descriptor_pool_size *pPoolSizes;
} vkt_descriptor_pool_create_info;

typedef struct vkt_descriptor_set_allocate_info {
	uint32_t sType;
	const void *pNext;
	vkt_handle descriptorPool;
	uint32_t descriptorSetCount;
	const vkt_handle *pSetLayouts;
} vkt_descriptor_set_allocate_info;

typedef struct vkt_descriptor_buffer_info {
	vkt_handle buffer;
	uint64_t offset;
	uint64_t range;
} vkt_descriptor_buffer_info;

typedef struct vkt_write_descriptor_set {
	uint32_t sType;
	const void *pNext;
	vkt_handle dstSet;
	uint32_t dstBinding;
	uint32_t dstArrayElement;
	uint32_t descriptorCount;
	uint32_t descriptorType;
	const void *pImageInfo;
	const vkt_descriptor_buffer_info *pBufferInfo;
	const vkt_handle *pTexelBufferView;
} vkt_write_descriptor_set;

typedef struct vkt_command_pool_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint32_t queueFamilyIndex;
} vkt_command_pool_create_info;

typedef struct vkt_command_buffer_allocate_info {
	uint32_t sType;
	const void *pNext;
	vkt_handle commandPool;
	uint32_t level;
	uint32_t commandBufferCount;
} vkt_command_buffer_allocate_info;

typedef struct vkt_command_buffer_begin_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	const void *pInheritanceInfo;
} vkt_command_buffer_begin_info;

typedef struct vkt_fence_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
} vkt_fence_create_info;

typedef struct vkt_query_pool_create_info {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint32_t queryType;
	uint32_t queryCount;
	uint32_t pipelineStatistics;
} vkt_query_pool_create_info;

typedef struct vkt_memory_barrier {
	uint32_t sType;
	const void *pNext;
	uint32_t srcAccessMask;
	uint32_t dstAccessMask;
} vkt_memory_barrier;

typedef struct vkt_buffer_copy {
	uint64_t srcOffset;
	uint64_t dstOffset;
	uint64_t size;
} vkt_buffer_copy;

typedef struct vkt_submit_info {
	uint32_t sType;
	const void *pNext;
	uint32_t waitSemaphoreCount;
	const vkt_handle *pWaitSemaphores;
	const uint32_t *pWaitDstStageMask;
	uint32_t commandBufferCount;
	void *const *pCommandBuffers;
	uint32_t signalSemaphoreCount;
	const vkt_handle *pSignalSemaphores;
} vkt_submit_info;

#endif
