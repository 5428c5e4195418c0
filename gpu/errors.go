package gpu

// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
)

// ErrNoVulkan reports that no Vulkan loader library could be opened.
var ErrNoVulkan = errors.New("no Vulkan loader (libvulkan.so.1) found: install libvulkan1 and a driver such as mesa-vulkan-drivers")

// ErrNoDevice reports that the Vulkan loader works but lists no physical device (no
// installed driver supports this machine).
var ErrNoDevice = errors.New("gpu: the Vulkan loader lists no device: install a driver such as mesa-vulkan-drivers (lavapipe, a CPU driver)")

// ErrNoValidationLayer reports that validation was requested but
// VK_LAYER_KHRONOS_validation is not installed.
var ErrNoValidationLayer = errors.New("gpu: validation requested but VK_LAYER_KHRONOS_validation is not installed (Debian/Ubuntu: apt-get install vulkan-validationlayers)")

// ErrTooLarge reports a buffer larger than the device allows
// (maxStorageBufferRange); errors of NewBuffer and of the backends'
// allocations wrap it, so that a command can say which setting to lower.
var ErrTooLarge = errors.New("larger than the device's maxStorageBufferRange")

// VkError is a failed Vulkan call: the call's name and its VkResult.
type VkError struct {
	Op     string
	Result int32
}

// Error names the call and its VkResult.
func (e *VkError) Error() string {
	return fmt.Sprintf("gpu: %s failed: %s (%d)", e.Op, resultName(e.Result), e.Result)
}

func vkErr(op string, r C.int32_t) error {
	if r == 0 {
		return nil
	}
	return &VkError{Op: op, Result: int32(r)}
}

func resultName(r int32) string {
	switch r {
	case 0:
		return "VK_SUCCESS"
	case 1:
		return "VK_NOT_READY"
	case 2:
		return "VK_TIMEOUT"
	case 5:
		return "VK_INCOMPLETE"
	case -1:
		return "VK_ERROR_OUT_OF_HOST_MEMORY"
	case -2:
		return "VK_ERROR_OUT_OF_DEVICE_MEMORY"
	case -3:
		return "VK_ERROR_INITIALIZATION_FAILED"
	case -4:
		return "VK_ERROR_DEVICE_LOST"
	case -5:
		return "VK_ERROR_MEMORY_MAP_FAILED"
	case -6:
		return "VK_ERROR_LAYER_NOT_PRESENT"
	case -7:
		return "VK_ERROR_EXTENSION_NOT_PRESENT"
	case -8:
		return "VK_ERROR_FEATURE_NOT_PRESENT"
	case -9:
		return "VK_ERROR_INCOMPATIBLE_DRIVER"
	case -10:
		return "VK_ERROR_TOO_MANY_OBJECTS"
	case -12:
		return "VK_ERROR_FRAGMENTED_POOL"
	case -13:
		return "VK_ERROR_UNKNOWN"
	case -1000069000:
		return "VK_ERROR_OUT_OF_POOL_MEMORY"
	case -1000012000:
		return "VK_ERROR_INVALID_SHADER_NV"
	}
	return "VkResult"
}
