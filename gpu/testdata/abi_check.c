// Compiled by TestShimABI: checks shim_types.h against the system's Vulkan headers.
#include <vulkan/vulkan_core.h>
#include <stddef.h>
#include "../shim_types.h"

#define SAME_SIZE(mine, real) _Static_assert(sizeof(mine) == sizeof(real), #mine " size")
#define SAME_FIELD(mine, mf, real, rf)                                                   \
	_Static_assert(offsetof(mine, mf) == offsetof(real, rf), #mine "." #mf " offset"); \
	_Static_assert(sizeof(((mine *)0)->mf) == sizeof(((real *)0)->rf), #mine "." #mf " size")

SAME_SIZE(vkt_handle, VkBuffer);
SAME_SIZE(vkt_application_info, VkApplicationInfo);
SAME_FIELD(vkt_application_info, apiVersion, VkApplicationInfo, apiVersion);
SAME_SIZE(vkt_instance_create_info, VkInstanceCreateInfo);
SAME_FIELD(vkt_instance_create_info, ppEnabledExtensionNames, VkInstanceCreateInfo, ppEnabledExtensionNames);
SAME_SIZE(vkt_debug_utils_messenger_callback_data, VkDebugUtilsMessengerCallbackDataEXT);
SAME_FIELD(vkt_debug_utils_messenger_callback_data, pMessage, VkDebugUtilsMessengerCallbackDataEXT, pMessage);
SAME_FIELD(vkt_debug_utils_messenger_callback_data, pMessageIdName, VkDebugUtilsMessengerCallbackDataEXT, pMessageIdName);
SAME_SIZE(vkt_debug_utils_messenger_create_info, VkDebugUtilsMessengerCreateInfoEXT);
SAME_FIELD(vkt_debug_utils_messenger_create_info, pUserData, VkDebugUtilsMessengerCreateInfoEXT, pUserData);
SAME_SIZE(vkt_device_queue_create_info, VkDeviceQueueCreateInfo);
SAME_SIZE(vkt_device_create_info, VkDeviceCreateInfo);
SAME_FIELD(vkt_device_create_info, pEnabledFeatures, VkDeviceCreateInfo, pEnabledFeatures);
SAME_SIZE(vkt_features2, VkPhysicalDeviceFeatures2);
_Static_assert(offsetof(VkPhysicalDeviceFeatures, shaderInt16) == 4 * VKT_FEATURE_SHADER_INT16, "shaderInt16");
_Static_assert(offsetof(VkPhysicalDeviceFeatures, shaderInt64) == 4 * VKT_FEATURE_SHADER_INT64, "shaderInt64");
_Static_assert(offsetof(VkPhysicalDeviceFeatures, shaderFloat64) == 4 * VKT_FEATURE_SHADER_FLOAT64, "shaderFloat64");
_Static_assert(sizeof(vkt_properties2) >= sizeof(VkPhysicalDeviceProperties2), "properties2");
_Static_assert(offsetof(vkt_properties2, properties) == offsetof(VkPhysicalDeviceProperties2, properties), "properties2 offset");
SAME_SIZE(vkt_driver_properties, VkPhysicalDeviceDriverProperties);
SAME_FIELD(vkt_driver_properties, driverInfo, VkPhysicalDeviceDriverProperties, driverInfo);
SAME_SIZE(vkt_subgroup_properties, VkPhysicalDeviceSubgroupProperties);
SAME_SIZE(vkt_subgroup_size_control_properties, VkPhysicalDeviceSubgroupSizeControlProperties);
SAME_SIZE(vkt_subgroup_size_control_features, VkPhysicalDeviceSubgroupSizeControlFeatures);
SAME_SIZE(vkt_float16_int8_features, VkPhysicalDeviceShaderFloat16Int8Features);
SAME_FIELD(vkt_float16_int8_features, shaderInt8, VkPhysicalDeviceShaderFloat16Int8Features, shaderInt8);
SAME_SIZE(vkt_8bit_storage_features, VkPhysicalDevice8BitStorageFeatures);
SAME_SIZE(vkt_16bit_storage_features, VkPhysicalDevice16BitStorageFeatures);
SAME_SIZE(vkt_integer_dot_product_features, VkPhysicalDeviceShaderIntegerDotProductFeatures);
SAME_SIZE(vkt_integer_dot_product_properties, VkPhysicalDeviceShaderIntegerDotProductProperties);
SAME_FIELD(vkt_integer_dot_product_properties, accelerated[4], VkPhysicalDeviceShaderIntegerDotProductProperties, integerDotProduct4x8BitPackedSignedAccelerated);
SAME_SIZE(vkt_buffer_create_info, VkBufferCreateInfo);
SAME_FIELD(vkt_buffer_create_info, usage, VkBufferCreateInfo, usage);
SAME_SIZE(vkt_memory_requirements, VkMemoryRequirements);
SAME_SIZE(vkt_memory_allocate_info, VkMemoryAllocateInfo);
SAME_SIZE(vkt_descriptor_set_layout_binding, VkDescriptorSetLayoutBinding);
SAME_SIZE(vkt_descriptor_set_layout_create_info, VkDescriptorSetLayoutCreateInfo);
SAME_SIZE(vkt_pipeline_cache_create_info, VkPipelineCacheCreateInfo);
SAME_SIZE(vkt_shader_module_create_info, VkShaderModuleCreateInfo);
SAME_SIZE(vkt_push_constant_range, VkPushConstantRange);
SAME_SIZE(vkt_pipeline_layout_create_info, VkPipelineLayoutCreateInfo);
SAME_FIELD(vkt_pipeline_layout_create_info, pPushConstantRanges, VkPipelineLayoutCreateInfo, pPushConstantRanges);
SAME_SIZE(vkt_specialization_map_entry, VkSpecializationMapEntry);
SAME_SIZE(vkt_specialization_info, VkSpecializationInfo);
SAME_SIZE(vkt_pipeline_shader_stage_create_info, VkPipelineShaderStageCreateInfo);
SAME_FIELD(vkt_pipeline_shader_stage_create_info, pSpecializationInfo, VkPipelineShaderStageCreateInfo, pSpecializationInfo);
SAME_SIZE(vkt_compute_pipeline_create_info, VkComputePipelineCreateInfo);
SAME_FIELD(vkt_compute_pipeline_create_info, layout, VkComputePipelineCreateInfo, layout);
SAME_FIELD(vkt_compute_pipeline_create_info, basePipelineIndex, VkComputePipelineCreateInfo, basePipelineIndex);
SAME_SIZE(vkt_descriptor_pool_size, VkDescriptorPoolSize);
SAME_SIZE(vkt_descriptor_pool_create_info, VkDescriptorPoolCreateInfo);
SAME_SIZE(vkt_descriptor_set_allocate_info, VkDescriptorSetAllocateInfo);
SAME_SIZE(vkt_descriptor_buffer_info, VkDescriptorBufferInfo);
SAME_SIZE(vkt_write_descriptor_set, VkWriteDescriptorSet);
SAME_FIELD(vkt_write_descriptor_set, pBufferInfo, VkWriteDescriptorSet, pBufferInfo);
SAME_FIELD(vkt_write_descriptor_set, descriptorType, VkWriteDescriptorSet, descriptorType);
SAME_SIZE(vkt_command_pool_create_info, VkCommandPoolCreateInfo);
SAME_SIZE(vkt_command_buffer_allocate_info, VkCommandBufferAllocateInfo);
SAME_SIZE(vkt_command_buffer_begin_info, VkCommandBufferBeginInfo);
SAME_SIZE(vkt_fence_create_info, VkFenceCreateInfo);
SAME_SIZE(vkt_query_pool_create_info, VkQueryPoolCreateInfo);
SAME_SIZE(vkt_memory_barrier, VkMemoryBarrier);
SAME_SIZE(vkt_buffer_copy, VkBufferCopy);
SAME_SIZE(vkt_submit_info, VkSubmitInfo);
SAME_FIELD(vkt_submit_info, pCommandBuffers, VkSubmitInfo, pCommandBuffers);

// Constants.
_Static_assert(VKT_ST_COMPUTE_PIPELINE_CREATE_INFO == VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO, "st");
_Static_assert(VKT_ST_WRITE_DESCRIPTOR_SET == VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, "st");
_Static_assert(VKT_ST_MEMORY_BARRIER == VK_STRUCTURE_TYPE_MEMORY_BARRIER, "st");
_Static_assert(VKT_ST_COMMAND_BUFFER_BEGIN_INFO == VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, "st");
_Static_assert(VKT_ST_QUERY_POOL_CREATE_INFO == VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, "st");
_Static_assert(VKT_ST_DESCRIPTOR_SET_ALLOCATE_INFO == VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, "st");
_Static_assert(VKT_ST_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES, "st");
_Static_assert(VKT_ST_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES, "st");
_Static_assert(VKT_ST_DEBUG_UTILS_MESSENGER_CREATE_INFO == VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT, "st");
_Static_assert(VKT_ST_PHYSICAL_DEVICE_DRIVER_PROPERTIES == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES, "st");
_Static_assert(VKT_STAGE_COMPUTE_SHADER == VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, "stage");
_Static_assert(VKT_STAGE_HOST == VK_PIPELINE_STAGE_HOST_BIT, "stage");
_Static_assert(VKT_ACCESS_HOST_READ == VK_ACCESS_HOST_READ_BIT, "access");
_Static_assert(VKT_ACCESS_TRANSFER_WRITE == VK_ACCESS_TRANSFER_WRITE_BIT, "access");
_Static_assert(VKT_DESCRIPTOR_STORAGE_BUFFER == VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, "desc");
_Static_assert(VKT_QUERY_TYPE_TIMESTAMP == VK_QUERY_TYPE_TIMESTAMP, "query");

int main(void) { return 0; }
SAME_SIZE(vkt_buffer_view_create_info, VkBufferViewCreateInfo);
SAME_FIELD(vkt_buffer_view_create_info, format, VkBufferViewCreateInfo, format);
SAME_FIELD(vkt_buffer_view_create_info, range, VkBufferViewCreateInfo, range);
_Static_assert(VKT_ST_BUFFER_VIEW_CREATE_INFO == VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO, "buffer view sType");
_Static_assert(VKT_DESCRIPTOR_UNIFORM_TEXEL_BUFFER == VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, "uniform texel buffer");
_Static_assert(VKT_FORMAT_R32_UINT == VK_FORMAT_R32_UINT, "R32_UINT");
_Static_assert(VKT_BUFFER_USAGE_UNIFORM_TEXEL == VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT, "texel usage");
