package main

import (
	"fmt"
	"strings"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// device is an opened backend and why it was chosen.
type device struct {
	backend backend.Backend
	reason  string
}

// openDevice resolves --device: cpu, vulkan, vulkan:N or auto.
func openDevice(spec string, validation bool) (*device, error) {
	switch {
	case spec == "cpu":
		return &device{ref.New(), "requested with --device cpu"}, nil
	case spec == "auto":
		d, err := openVulkan(-1, validation)
		if err == nil {
			d.reason = "auto: " + d.reason
			return d, nil
		}
		return &device{ref.New(), fmt.Sprintf("auto: no usable Vulkan device (%v); using the pure-Go reference path", err)}, nil
	case spec == "vulkan" || strings.HasPrefix(spec, "vulkan:"):
		idx := -1
		if spec != "vulkan" {
			if _, err := fmt.Sscanf(spec, "vulkan:%d", &idx); err != nil || idx < 0 {
				return nil, usagef("--device %q: want vulkan:N with N a device index from 'vktrain devices'", spec)
			}
		}
		return openVulkan(idx, validation)
	}
	return nil, usagef("--device %q: want auto, cpu, vulkan or vulkan:N", spec)
}

// checkDeviceSpec reports a malformed --device value before any work is
// done (openDevice would find it only after the data set is loaded).
func checkDeviceSpec(spec string) error {
	switch {
	case spec == "cpu" || spec == "auto" || spec == "vulkan":
		return nil
	case strings.HasPrefix(spec, "vulkan:"):
		var idx int
		if _, err := fmt.Sscanf(spec, "vulkan:%d", &idx); err != nil || idx < 0 {
			return usagef("--device %q: want vulkan:N with N a device index from 'vktrain devices'", spec)
		}
		return nil
	}
	return usagef("--device %q: want auto, cpu, vulkan or vulkan:N", spec)
}
