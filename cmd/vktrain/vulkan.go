package main

import "errors"

// openVulkan opens a Vulkan device as a backend (index -1 = best).
func openVulkan(index int, validation bool) (*device, error) {
	return nil, errors.New("the Vulkan backend is not available in this build")
}

func listDevices(e *env) error {
	return errors.New("the Vulkan backend is not available in this build")
}
