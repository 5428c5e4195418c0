// swapchain.h: the C side of package gpu's presentation path (swapchain.go):
// a VK_KHR_swapchain swapchain on a window surface made elsewhere (GLFW), fed by
// a buffer-to-image copy. Like shim.h it declares the few Vulkan structures it
// uses itself, so building needs no Vulkan or window-system headers.
#ifndef VKTRAIN_GPU_SWAPCHAIN_H
#define VKTRAIN_GPU_SWAPCHAIN_H

#include <stdint.h>

#include "shim.h"

typedef struct vkt_swapchain vkt_swapchain;

// vkt_surface_support reports whether queue family `family` of phys can present
// to surface (vkGetPhysicalDeviceSurfaceSupportKHR).
int32_t vkt_surface_support(void *gipa, vkt_instance *inst, void *phys, uint32_t family, vkt_handle surface, uint32_t *ok);

// vkt_swapchain_new creates the swapchain state (functions, command buffer,
// fences) for surface on device d; vkt_swapchain_build then (re)creates the
// swapchain itself at the surface's current size, or want_w x want_h when the
// surface leaves the size to the swapchain.
int32_t vkt_swapchain_new(void *gipa, vkt_instance *inst, vkt_device *d, void *phys, uint32_t family, vkt_handle surface,
                          vkt_swapchain **out);
// vkt_swapchain_build returns VKT_SWAPCHAIN_UNSUPPORTED with *why set when the
// surface cannot take transfer writes or offers no 8-bit RGBA/BGRA format.
int32_t vkt_swapchain_build(vkt_swapchain *s, uint32_t want_w, uint32_t want_h, uint32_t *w, uint32_t *h,
                            uint32_t *bgr, uint32_t *present_mode, const char **why);
// vkt_swapchain_acquire acquires the next image, waiting on a fence (no semaphores).
int32_t vkt_swapchain_acquire(vkt_swapchain *s, uint64_t timeout_ns, uint32_t *index);
// vkt_swapchain_record records the copy of buf (w*h*4 bytes, tightly packed)
// into image index, with the layout transitions UNDEFINED -> TRANSFER_DST ->
// PRESENT_SRC.
int32_t vkt_swapchain_record(vkt_swapchain *s, uint32_t index, vkt_handle buf);
// vkt_swapchain_submit submits the recorded copy with the swapchain's fence;
// the caller holds the queue lock.
int32_t vkt_swapchain_submit(vkt_swapchain *s);
// vkt_swapchain_wait waits for the submitted copy and resets the fence.
int32_t vkt_swapchain_wait(vkt_swapchain *s, uint64_t timeout_ns);
// vkt_swapchain_present presents image index; the caller holds the queue lock.
int32_t vkt_swapchain_present(vkt_swapchain *s, uint32_t index);
// vkt_swapchain_free destroys the swapchain, its command pool and fences and
// the surface.
void vkt_swapchain_free(vkt_swapchain *s);
// vkt_destroy_surface destroys a surface that no swapchain took.
void vkt_destroy_surface(void *gipa, vkt_instance *inst, vkt_handle surface);

enum {
	VKT_SUBOPTIMAL = 1000001003,
	VKT_ERROR_OUT_OF_DATE = -1000001004,
	VKT_ERROR_SURFACE_LOST = -1000000000,
	VKT_SWAPCHAIN_UNSUPPORTED = -100
};

#endif
