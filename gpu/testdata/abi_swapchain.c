// abi_swapchain.c: checks the Vulkan structures and constants that swapchain.c
// declares for itself against the system's vulkan_core.h (compiled, not run,
// by TestSwapchainABI).
#include <stddef.h>
#include <vulkan/vulkan_core.h>

#include "../swapchain.c"

#define SAME_SIZE(a, b) _Static_assert(sizeof(a) == sizeof(b), #a " and " #b " differ in size")
#define SAME_OFF(a, fa, b, fb) _Static_assert(offsetof(a, fa) == offsetof(b, fb), #a "." #fa " is misplaced")
#define SAME(a, b) _Static_assert((long long)(a) == (long long)(b), #a " != " #b)

SAME_SIZE(sc_surface_caps, VkSurfaceCapabilitiesKHR);
SAME_OFF(sc_surface_caps, currentExtent, VkSurfaceCapabilitiesKHR, currentExtent);
SAME_OFF(sc_surface_caps, supportedUsageFlags, VkSurfaceCapabilitiesKHR, supportedUsageFlags);
SAME_SIZE(sc_surface_format, VkSurfaceFormatKHR);

SAME_SIZE(sc_swapchain_create_info, VkSwapchainCreateInfoKHR);
SAME_OFF(sc_swapchain_create_info, surface, VkSwapchainCreateInfoKHR, surface);
SAME_OFF(sc_swapchain_create_info, imageExtent, VkSwapchainCreateInfoKHR, imageExtent);
SAME_OFF(sc_swapchain_create_info, pQueueFamilyIndices, VkSwapchainCreateInfoKHR, pQueueFamilyIndices);
SAME_OFF(sc_swapchain_create_info, presentMode, VkSwapchainCreateInfoKHR, presentMode);
SAME_OFF(sc_swapchain_create_info, oldSwapchain, VkSwapchainCreateInfoKHR, oldSwapchain);

SAME_SIZE(sc_present_info, VkPresentInfoKHR);
SAME_OFF(sc_present_info, pSwapchains, VkPresentInfoKHR, pSwapchains);
SAME_OFF(sc_present_info, pImageIndices, VkPresentInfoKHR, pImageIndices);

SAME_SIZE(sc_image_barrier, VkImageMemoryBarrier);
SAME_OFF(sc_image_barrier, image, VkImageMemoryBarrier, image);
SAME_OFF(sc_image_barrier, range, VkImageMemoryBarrier, subresourceRange);

SAME_SIZE(sc_buffer_image_copy, VkBufferImageCopy);
SAME_OFF(sc_buffer_image_copy, aspectMask, VkBufferImageCopy, imageSubresource);
SAME_OFF(sc_buffer_image_copy, x, VkBufferImageCopy, imageOffset);
SAME_OFF(sc_buffer_image_copy, width, VkBufferImageCopy, imageExtent);

SAME_SIZE(sc_command_pool_create_info, VkCommandPoolCreateInfo);
SAME_SIZE(sc_command_buffer_allocate_info, VkCommandBufferAllocateInfo);
SAME_OFF(sc_command_buffer_allocate_info, commandPool, VkCommandBufferAllocateInfo, commandPool);
SAME_SIZE(sc_command_buffer_begin_info, VkCommandBufferBeginInfo);
SAME_SIZE(sc_fence_create_info, VkFenceCreateInfo);
SAME_SIZE(sc_submit_info, VkSubmitInfo);
SAME_OFF(sc_submit_info, pCommandBuffers, VkSubmitInfo, pCommandBuffers);

SAME(SC_ST_SUBMIT_INFO, VK_STRUCTURE_TYPE_SUBMIT_INFO);
SAME(SC_ST_FENCE_CREATE_INFO, VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
SAME(SC_ST_COMMAND_POOL_CREATE_INFO, VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
SAME(SC_ST_COMMAND_BUFFER_ALLOCATE_INFO, VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
SAME(SC_ST_COMMAND_BUFFER_BEGIN_INFO, VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
SAME(SC_ST_IMAGE_MEMORY_BARRIER, VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER);
SAME(SC_ST_SWAPCHAIN_CREATE_INFO, VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR);
SAME(SC_ST_PRESENT_INFO, VK_STRUCTURE_TYPE_PRESENT_INFO_KHR);
SAME(SC_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM);
SAME(SC_FORMAT_R8G8B8A8_SRGB, VK_FORMAT_R8G8B8A8_SRGB);
SAME(SC_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_B8G8R8A8_UNORM);
SAME(SC_FORMAT_B8G8R8A8_SRGB, VK_FORMAT_B8G8R8A8_SRGB);
SAME(SC_USAGE_TRANSFER_DST, VK_IMAGE_USAGE_TRANSFER_DST_BIT);
SAME(SC_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_UNDEFINED);
SAME(SC_LAYOUT_TRANSFER_DST, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
SAME(SC_LAYOUT_PRESENT_SRC, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR);
SAME(SC_ACCESS_TRANSFER_WRITE, VK_ACCESS_TRANSFER_WRITE_BIT);
SAME(SC_STAGE_TOP_OF_PIPE, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT);
SAME(SC_STAGE_TRANSFER, VK_PIPELINE_STAGE_TRANSFER_BIT);
SAME(SC_STAGE_BOTTOM_OF_PIPE, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT);
SAME(SC_ASPECT_COLOR, VK_IMAGE_ASPECT_COLOR_BIT);
SAME(SC_PRESENT_IMMEDIATE, VK_PRESENT_MODE_IMMEDIATE_KHR);
SAME(SC_PRESENT_MAILBOX, VK_PRESENT_MODE_MAILBOX_KHR);
SAME(SC_PRESENT_FIFO, VK_PRESENT_MODE_FIFO_KHR);
SAME(SC_COMPOSITE_OPAQUE, VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR);
SAME(VKT_SUBOPTIMAL, VK_SUBOPTIMAL_KHR);
SAME(VKT_ERROR_OUT_OF_DATE, VK_ERROR_OUT_OF_DATE_KHR);
SAME(VKT_ERROR_SURFACE_LOST, VK_ERROR_SURFACE_LOST_KHR);
