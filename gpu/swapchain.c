// swapchain.c: presenting host-drawn images through VK_KHR_swapchain (see
// swapchain.h). Functions are fetched through vkGetInstanceProcAddr, as in shim.c.

#include <stdlib.h>
#include <string.h>

#include "swapchain.h"

typedef void(VKT_CALL *sc_pfn_void)(void);
typedef sc_pfn_void(VKT_CALL *sc_pfn_gipa)(void *instance, const char *name);

typedef struct {
	uint32_t width, height;
} sc_extent2d;

typedef struct {
	uint32_t minImageCount, maxImageCount;
	sc_extent2d currentExtent, minImageExtent, maxImageExtent;
	uint32_t maxImageArrayLayers;
	uint32_t supportedTransforms, currentTransform;
	uint32_t supportedCompositeAlpha, supportedUsageFlags;
} sc_surface_caps;

typedef struct {
	uint32_t format, colorSpace;
} sc_surface_format;

typedef struct {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	vkt_handle surface;
	uint32_t minImageCount;
	uint32_t imageFormat, imageColorSpace;
	sc_extent2d imageExtent;
	uint32_t imageArrayLayers, imageUsage, imageSharingMode;
	uint32_t queueFamilyIndexCount;
	const uint32_t *pQueueFamilyIndices;
	uint32_t preTransform, compositeAlpha, presentMode;
	vkt_bool clipped;
	vkt_handle oldSwapchain;
} sc_swapchain_create_info;

typedef struct {
	uint32_t sType;
	const void *pNext;
	uint32_t waitSemaphoreCount;
	const vkt_handle *pWaitSemaphores;
	uint32_t swapchainCount;
	const vkt_handle *pSwapchains;
	const uint32_t *pImageIndices;
	int32_t *pResults;
} sc_present_info;

typedef struct {
	uint32_t aspectMask, baseMipLevel, levelCount, baseArrayLayer, layerCount;
} sc_subresource_range;

typedef struct {
	uint32_t sType;
	const void *pNext;
	uint32_t srcAccessMask, dstAccessMask;
	uint32_t oldLayout, newLayout;
	uint32_t srcQueueFamilyIndex, dstQueueFamilyIndex;
	vkt_handle image;
	sc_subresource_range range;
} sc_image_barrier;

typedef struct {
	uint64_t bufferOffset;
	uint32_t bufferRowLength, bufferImageHeight;
	uint32_t aspectMask, mipLevel, baseArrayLayer, layerCount;
	int32_t x, y, z;
	uint32_t width, height, depth;
} sc_buffer_image_copy;

typedef struct {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	uint32_t queueFamilyIndex;
} sc_command_pool_create_info;

typedef struct {
	uint32_t sType;
	const void *pNext;
	vkt_handle commandPool;
	uint32_t level, commandBufferCount;
} sc_command_buffer_allocate_info;

typedef struct {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
	const void *pInheritanceInfo;
} sc_command_buffer_begin_info;

typedef struct {
	uint32_t sType;
	const void *pNext;
	uint32_t flags;
} sc_fence_create_info;

typedef struct {
	uint32_t sType;
	const void *pNext;
	uint32_t waitSemaphoreCount;
	const vkt_handle *pWaitSemaphores;
	const uint32_t *pWaitDstStageMask;
	uint32_t commandBufferCount;
	void *const *pCommandBuffers;
	uint32_t signalSemaphoreCount;
	const vkt_handle *pSignalSemaphores;
} sc_submit_info;

enum {
	SC_ST_SUBMIT_INFO = 4,
	SC_ST_FENCE_CREATE_INFO = 8,
	SC_ST_COMMAND_POOL_CREATE_INFO = 39,
	SC_ST_COMMAND_BUFFER_ALLOCATE_INFO = 40,
	SC_ST_COMMAND_BUFFER_BEGIN_INFO = 42,
	SC_ST_IMAGE_MEMORY_BARRIER = 45,
	SC_ST_SWAPCHAIN_CREATE_INFO = 1000001000,
	SC_ST_PRESENT_INFO = 1000001001,

	SC_FORMAT_R8G8B8A8_UNORM = 37,
	SC_FORMAT_R8G8B8A8_SRGB = 43,
	SC_FORMAT_B8G8R8A8_UNORM = 44,
	SC_FORMAT_B8G8R8A8_SRGB = 50,

	SC_USAGE_TRANSFER_DST = 0x2,
	SC_LAYOUT_UNDEFINED = 0,
	SC_LAYOUT_TRANSFER_DST = 7,
	SC_LAYOUT_PRESENT_SRC = 1000001002,
	SC_ACCESS_TRANSFER_WRITE = 0x1000,
	SC_STAGE_TOP_OF_PIPE = 0x1,
	SC_STAGE_TRANSFER = 0x1000,
	SC_STAGE_BOTTOM_OF_PIPE = 0x2000,
	SC_ASPECT_COLOR = 0x1,
	SC_QUEUE_FAMILY_IGNORED = ~0u,

	SC_PRESENT_IMMEDIATE = 0,
	SC_PRESENT_MAILBOX = 1,
	SC_PRESENT_FIFO = 2,
	SC_COMPOSITE_OPAQUE = 0x1,
	SC_MAX_IMAGES = 16
};

#define SC_INSTANCE_FUNCS(X)                                                                                    \
	X(GetPhysicalDeviceSurfaceSupportKHR, int32_t, (void *, uint32_t, vkt_handle, vkt_bool *))              \
	X(GetPhysicalDeviceSurfaceCapabilitiesKHR, int32_t, (void *, vkt_handle, sc_surface_caps *))           \
	X(GetPhysicalDeviceSurfaceFormatsKHR, int32_t, (void *, vkt_handle, uint32_t *, sc_surface_format *))  \
	X(GetPhysicalDeviceSurfacePresentModesKHR, int32_t, (void *, vkt_handle, uint32_t *, uint32_t *))      \
	X(DestroySurfaceKHR, void, (void *, vkt_handle, const void *))

#define SC_DEVICE_FUNCS(X)                                                                                      \
	X(CreateSwapchainKHR, int32_t, (void *, const sc_swapchain_create_info *, const void *, vkt_handle *))  \
	X(DestroySwapchainKHR, void, (void *, vkt_handle, const void *))                                        \
	X(GetSwapchainImagesKHR, int32_t, (void *, vkt_handle, uint32_t *, vkt_handle *))                       \
	X(AcquireNextImageKHR, int32_t, (void *, vkt_handle, uint64_t, vkt_handle, vkt_handle, uint32_t *))     \
	X(QueuePresentKHR, int32_t, (void *, const sc_present_info *))                                          \
	X(CreateCommandPool, int32_t, (void *, const sc_command_pool_create_info *, const void *, vkt_handle *)) \
	X(DestroyCommandPool, void, (void *, vkt_handle, const void *))                                         \
	X(AllocateCommandBuffers, int32_t, (void *, const sc_command_buffer_allocate_info *, void **))          \
	X(BeginCommandBuffer, int32_t, (void *, const sc_command_buffer_begin_info *))                          \
	X(EndCommandBuffer, int32_t, (void *))                                                                  \
	X(ResetCommandBuffer, int32_t, (void *, uint32_t))                                                      \
	X(CmdPipelineBarrier, void,                                                                             \
	  (void *, uint32_t, uint32_t, uint32_t, uint32_t, const void *, uint32_t, const void *, uint32_t,      \
	   const sc_image_barrier *))                                                                           \
	X(CmdCopyBufferToImage, void, (void *, vkt_handle, vkt_handle, uint32_t, uint32_t, const sc_buffer_image_copy *)) \
	X(CreateFence, int32_t, (void *, const sc_fence_create_info *, const void *, vkt_handle *))             \
	X(DestroyFence, void, (void *, vkt_handle, const void *))                                               \
	X(WaitForFences, int32_t, (void *, uint32_t, const vkt_handle *, vkt_bool, uint64_t))                   \
	X(ResetFences, int32_t, (void *, uint32_t, const vkt_handle *))                                         \
	X(QueueSubmit, int32_t, (void *, uint32_t, const sc_submit_info *, vkt_handle))

struct vkt_swapchain {
	void *instance, *phys, *device, *queue;
	uint32_t family;
	vkt_handle surface, swapchain;
	uint32_t width, height, format, colorSpace;
	uint32_t nimages;
	vkt_handle images[SC_MAX_IMAGES];
	vkt_handle pool, acquireFence, copyFence;
	void *cb;
#define SC_FIELD(name, ret, args) ret(VKT_CALL *name) args;
	SC_INSTANCE_FUNCS(SC_FIELD)
	SC_DEVICE_FUNCS(SC_FIELD)
#undef SC_FIELD
};

int32_t vkt_surface_support(void *gipa_, vkt_instance *inst, void *phys, uint32_t family, vkt_handle surface,
                            uint32_t *ok) {
	sc_pfn_gipa gipa = (sc_pfn_gipa)gipa_;
	void *instance = vkt_instance_handle(inst);
	int32_t(VKT_CALL * f)(void *, uint32_t, vkt_handle, vkt_bool *) =
	    (int32_t(VKT_CALL *)(void *, uint32_t, vkt_handle, vkt_bool *))gipa(instance,
	                                                                         "vkGetPhysicalDeviceSurfaceSupportKHR");
	*ok = 0;
	if (f == NULL) {
		return VKT_ERROR_EXTENSION_NOT_PRESENT;
	}
	vkt_bool b = 0;
	int32_t r = f(phys, family, surface, &b);
	*ok = b;
	return r;
}

void vkt_destroy_surface(void *gipa_, vkt_instance *inst, vkt_handle surface) {
	sc_pfn_gipa gipa = (sc_pfn_gipa)gipa_;
	void *instance = vkt_instance_handle(inst);
	void(VKT_CALL * f)(void *, vkt_handle, const void *) =
	    (void(VKT_CALL *)(void *, vkt_handle, const void *))gipa(instance, "vkDestroySurfaceKHR");
	if (f != NULL && surface != 0) {
		f(instance, surface, NULL);
	}
}

int32_t vkt_swapchain_new(void *gipa_, vkt_instance *inst, vkt_device *d, void *phys, uint32_t family,
                          vkt_handle surface, vkt_swapchain **out) {
	sc_pfn_gipa gipa = (sc_pfn_gipa)gipa_;
	*out = NULL;
	vkt_swapchain *s = calloc(1, sizeof *s);
	if (s == NULL) {
		return -1;
	}
	s->instance = vkt_instance_handle(inst);
	s->phys = phys;
	s->device = vkt_device_handle(d);
	s->queue = vkt_queue(d);
	s->family = family;
	s->surface = surface;
	sc_pfn_gipa gdpa = (sc_pfn_gipa)gipa(s->instance, "vkGetDeviceProcAddr");
	int missing = gdpa == NULL;
#define SC_LOAD_I(name, ret, args)                                                                              \
	s->name = (ret(VKT_CALL *) args)gipa(s->instance, "vk" #name);                                           \
	missing |= s->name == NULL;
#define SC_LOAD_D(name, ret, args)                                                                              \
	if (gdpa != NULL) {                                                                                     \
		s->name = (ret(VKT_CALL *) args)gdpa(s->device, "vk" #name);                                   \
	}                                                                                                       \
	missing |= s->name == NULL;
	SC_INSTANCE_FUNCS(SC_LOAD_I)
	SC_DEVICE_FUNCS(SC_LOAD_D)
#undef SC_LOAD_I
#undef SC_LOAD_D
	if (missing) {
		free(s);
		return VKT_ERROR_EXTENSION_NOT_PRESENT;
	}
	sc_command_pool_create_info pci = {0};
	pci.sType = SC_ST_COMMAND_POOL_CREATE_INFO;
	pci.flags = 0x2; // VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT
	pci.queueFamilyIndex = family;
	int32_t r = s->CreateCommandPool(s->device, &pci, NULL, &s->pool);
	if (r == VKT_SUCCESS) {
		sc_command_buffer_allocate_info ai = {0};
		ai.sType = SC_ST_COMMAND_BUFFER_ALLOCATE_INFO;
		ai.commandPool = s->pool;
		ai.commandBufferCount = 1;
		r = s->AllocateCommandBuffers(s->device, &ai, &s->cb);
	}
	sc_fence_create_info fci = {0};
	fci.sType = SC_ST_FENCE_CREATE_INFO;
	if (r == VKT_SUCCESS) {
		r = s->CreateFence(s->device, &fci, NULL, &s->acquireFence);
	}
	if (r == VKT_SUCCESS) {
		r = s->CreateFence(s->device, &fci, NULL, &s->copyFence);
	}
	if (r != VKT_SUCCESS) {
		s->surface = 0; // the caller still owns it
		vkt_swapchain_free(s);
		return r;
	}
	*out = s;
	return VKT_SUCCESS;
}

static int format_rank(uint32_t f) {
	switch (f) {
	case SC_FORMAT_B8G8R8A8_UNORM:
		return 4;
	case SC_FORMAT_R8G8B8A8_UNORM:
		return 3;
	case SC_FORMAT_B8G8R8A8_SRGB:
		return 2;
	case SC_FORMAT_R8G8B8A8_SRGB:
		return 1;
	}
	return 0;
}

static uint32_t clampu(uint32_t v, uint32_t lo, uint32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

int32_t vkt_swapchain_build(vkt_swapchain *s, uint32_t want_w, uint32_t want_h, uint32_t *w, uint32_t *h,
                            uint32_t *bgr, uint32_t *present_mode, const char **why) {
	*why = NULL;
	vkt_bool supported = 0;
	int32_t r = s->GetPhysicalDeviceSurfaceSupportKHR(s->phys, s->family, s->surface, &supported);
	if (r != VKT_SUCCESS) {
		return r;
	}
	if (!supported) {
		*why = "the device's queue family cannot present to this surface";
		return VKT_SWAPCHAIN_UNSUPPORTED;
	}
	sc_surface_caps caps;
	memset(&caps, 0, sizeof caps);
	r = s->GetPhysicalDeviceSurfaceCapabilitiesKHR(s->phys, s->surface, &caps);
	if (r != VKT_SUCCESS) {
		return r;
	}
	if ((caps.supportedUsageFlags & SC_USAGE_TRANSFER_DST) == 0) {
		*why = "the surface's images cannot be transfer destinations";
		return VKT_SWAPCHAIN_UNSUPPORTED;
	}
	sc_surface_format formats[64];
	uint32_t nf = 64;
	r = s->GetPhysicalDeviceSurfaceFormatsKHR(s->phys, s->surface, &nf, formats);
	if (r < 0) {
		return r;
	}
	int best = -1;
	for (uint32_t i = 0; i < nf; i++) {
		if (format_rank(formats[i].format) > 0 &&
		    (best < 0 || format_rank(formats[i].format) > format_rank(formats[best].format))) {
			best = (int)i;
		}
	}
	if (best < 0) {
		*why = "the surface offers no 8-bit RGBA or BGRA format";
		return VKT_SWAPCHAIN_UNSUPPORTED;
	}
	uint32_t modes[16];
	uint32_t nm = 16;
	r = s->GetPhysicalDeviceSurfacePresentModesKHR(s->phys, s->surface, &nm, modes);
	if (r < 0) {
		return r;
	}
	// FIFO may block in vkQueuePresentKHR until a vertical blank, and present
	// holds the queue that training submits to: prefer modes that do not wait.
	uint32_t mode = SC_PRESENT_FIFO;
	for (uint32_t i = 0; i < nm; i++) {
		if (modes[i] == SC_PRESENT_MAILBOX) {
			mode = SC_PRESENT_MAILBOX;
		}
	}
	for (uint32_t i = 0; i < nm; i++) {
		if (modes[i] == SC_PRESENT_IMMEDIATE) {
			mode = SC_PRESENT_IMMEDIATE;
		}
	}
	sc_extent2d ext = caps.currentExtent;
	if (ext.width == 0xFFFFFFFFu) {
		ext.width = clampu(want_w, caps.minImageExtent.width, caps.maxImageExtent.width);
		ext.height = clampu(want_h, caps.minImageExtent.height, caps.maxImageExtent.height);
	}
	*w = ext.width;
	*h = ext.height;
	if (ext.width == 0 || ext.height == 0) {
		return VKT_SUCCESS; // minimised: no swapchain until the window has a size
	}
	uint32_t count = caps.minImageCount + 1;
	if (caps.maxImageCount > 0 && count > caps.maxImageCount) {
		count = caps.maxImageCount;
	}
	uint32_t alpha = SC_COMPOSITE_OPAQUE;
	if ((caps.supportedCompositeAlpha & alpha) == 0) {
		for (alpha = 1; alpha != 0 && (caps.supportedCompositeAlpha & alpha) == 0; alpha <<= 1) {
		}
	}
	sc_swapchain_create_info ci = {0};
	ci.sType = SC_ST_SWAPCHAIN_CREATE_INFO;
	ci.surface = s->surface;
	ci.minImageCount = count;
	ci.imageFormat = formats[best].format;
	ci.imageColorSpace = formats[best].colorSpace;
	ci.imageExtent = ext;
	ci.imageArrayLayers = 1;
	ci.imageUsage = SC_USAGE_TRANSFER_DST;
	ci.imageSharingMode = 0; // exclusive
	ci.preTransform = caps.currentTransform;
	ci.compositeAlpha = alpha;
	ci.presentMode = mode;
	ci.clipped = 1;
	ci.oldSwapchain = s->swapchain;
	vkt_handle sc = 0;
	r = s->CreateSwapchainKHR(s->device, &ci, NULL, &sc);
	if (s->swapchain != 0) {
		s->DestroySwapchainKHR(s->device, s->swapchain, NULL);
		s->swapchain = 0;
		s->nimages = 0;
	}
	if (r != VKT_SUCCESS) {
		return r;
	}
	s->swapchain = sc;
	uint32_t n = 0;
	r = s->GetSwapchainImagesKHR(s->device, sc, &n, NULL);
	if (r == VKT_SUCCESS && n > SC_MAX_IMAGES) {
		n = SC_MAX_IMAGES;
	}
	if (r == VKT_SUCCESS) {
		r = s->GetSwapchainImagesKHR(s->device, sc, &n, s->images);
		if (r == 5) { // VK_INCOMPLETE: more than SC_MAX_IMAGES; use the first ones
			r = VKT_SUCCESS;
		}
	}
	if (r != VKT_SUCCESS) {
		s->DestroySwapchainKHR(s->device, sc, NULL);
		s->swapchain = 0;
		return r;
	}
	s->nimages = n;
	s->width = ext.width;
	s->height = ext.height;
	s->format = formats[best].format;
	*bgr = s->format == SC_FORMAT_B8G8R8A8_UNORM || s->format == SC_FORMAT_B8G8R8A8_SRGB;
	*present_mode = mode;
	return VKT_SUCCESS;
}

int32_t vkt_swapchain_acquire(vkt_swapchain *s, uint64_t timeout_ns, uint32_t *index) {
	int32_t r = s->AcquireNextImageKHR(s->device, s->swapchain, timeout_ns, 0, s->acquireFence, index);
	if (r != VKT_SUCCESS && r != VKT_SUBOPTIMAL) {
		return r;
	}
	int32_t w = s->WaitForFences(s->device, 1, &s->acquireFence, 1, ~0ull);
	if (w == VKT_SUCCESS) {
		w = s->ResetFences(s->device, 1, &s->acquireFence);
	}
	if (w != VKT_SUCCESS) {
		return w;
	}
	if (*index >= s->nimages) {
		return VKT_ERROR_OUT_OF_DATE;
	}
	return r;
}

int32_t vkt_swapchain_record(vkt_swapchain *s, uint32_t index, vkt_handle buf) {
	int32_t r = s->ResetCommandBuffer(s->cb, 0);
	if (r != VKT_SUCCESS) {
		return r;
	}
	sc_command_buffer_begin_info bi = {0};
	bi.sType = SC_ST_COMMAND_BUFFER_BEGIN_INFO;
	bi.flags = 0x1; // ONE_TIME_SUBMIT
	r = s->BeginCommandBuffer(s->cb, &bi);
	if (r != VKT_SUCCESS) {
		return r;
	}
	sc_image_barrier b = {0};
	b.sType = SC_ST_IMAGE_MEMORY_BARRIER;
	b.srcAccessMask = 0;
	b.dstAccessMask = SC_ACCESS_TRANSFER_WRITE;
	b.oldLayout = SC_LAYOUT_UNDEFINED; // the whole image is overwritten
	b.newLayout = SC_LAYOUT_TRANSFER_DST;
	b.srcQueueFamilyIndex = SC_QUEUE_FAMILY_IGNORED;
	b.dstQueueFamilyIndex = SC_QUEUE_FAMILY_IGNORED;
	b.image = s->images[index];
	b.range.aspectMask = SC_ASPECT_COLOR;
	b.range.levelCount = 1;
	b.range.layerCount = 1;
	s->CmdPipelineBarrier(s->cb, SC_STAGE_TOP_OF_PIPE, SC_STAGE_TRANSFER, 0, 0, NULL, 0, NULL, 1, &b);
	sc_buffer_image_copy c = {0};
	c.aspectMask = SC_ASPECT_COLOR;
	c.layerCount = 1;
	c.width = s->width;
	c.height = s->height;
	c.depth = 1;
	s->CmdCopyBufferToImage(s->cb, buf, s->images[index], SC_LAYOUT_TRANSFER_DST, 1, &c);
	b.srcAccessMask = SC_ACCESS_TRANSFER_WRITE;
	b.dstAccessMask = 0;
	b.oldLayout = SC_LAYOUT_TRANSFER_DST;
	b.newLayout = SC_LAYOUT_PRESENT_SRC;
	s->CmdPipelineBarrier(s->cb, SC_STAGE_TRANSFER, SC_STAGE_BOTTOM_OF_PIPE, 0, 0, NULL, 0, NULL, 1, &b);
	return s->EndCommandBuffer(s->cb);
}

int32_t vkt_swapchain_submit(vkt_swapchain *s) {
	sc_submit_info si = {0};
	si.sType = SC_ST_SUBMIT_INFO;
	si.commandBufferCount = 1;
	si.pCommandBuffers = &s->cb;
	return s->QueueSubmit(s->queue, 1, &si, s->copyFence);
}

int32_t vkt_swapchain_wait(vkt_swapchain *s, uint64_t timeout_ns) {
	int32_t r = s->WaitForFences(s->device, 1, &s->copyFence, 1, timeout_ns);
	if (r != VKT_SUCCESS) {
		return r;
	}
	return s->ResetFences(s->device, 1, &s->copyFence);
}

int32_t vkt_swapchain_present(vkt_swapchain *s, uint32_t index) {
	// The copy's fence has been waited for, so the image is complete and in
	// PRESENT_SRC: no semaphore is needed.
	sc_present_info pi = {0};
	pi.sType = SC_ST_PRESENT_INFO;
	pi.swapchainCount = 1;
	pi.pSwapchains = &s->swapchain;
	pi.pImageIndices = &index;
	return s->QueuePresentKHR(s->queue, &pi);
}

void vkt_swapchain_free(vkt_swapchain *s) {
	if (s == NULL) {
		return;
	}
	if (s->copyFence != 0) {
		s->DestroyFence(s->device, s->copyFence, NULL);
	}
	if (s->acquireFence != 0) {
		s->DestroyFence(s->device, s->acquireFence, NULL);
	}
	if (s->pool != 0) {
		s->DestroyCommandPool(s->device, s->pool, NULL); // frees the command buffer
	}
	if (s->swapchain != 0) {
		s->DestroySwapchainKHR(s->device, s->swapchain, NULL);
	}
	if (s->surface != 0 && s->DestroySurfaceKHR != NULL) {
		s->DestroySurfaceKHR(s->instance, s->surface, NULL);
	}
	free(s);
}
