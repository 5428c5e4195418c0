package main

import (
	"fmt"
	"strings"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// device is an opened backend and why it was chosen.
type device struct {
	backend backend.Backend
	reason  string
}

// deviceSpec is a parsed --device value: auto, cpu, vulkan or vulkan:N,
// optionally followed by /VARIANT to force an integer-GEMM variant of the
// Vulkan backend (packed, int8 or dot; see vktrain devices) and/or /READS to
// force how its kernels read their inputs (storage or texel buffers).
type deviceSpec struct {
	kind    string // auto, cpu or vulkan
	index   int    // -1: best
	variant string // "" = auto
	reads   string // "" = auto
}

const deviceUsage = "want auto, cpu, vulkan or vulkan:N, optionally with /packed, /int8 or /dot to force the integer GEMM and /storage or /texel to force how kernels read their inputs (e.g. vulkan:0/dot, vulkan/packed/storage)"

func parseDeviceSpec(spec string) (deviceSpec, error) {
	d := deviceSpec{index: -1}
	parts := strings.Split(spec, "/")
	base := parts[0]
	hasVariant := len(parts) > 1
	for _, p := range parts[1:] {
		switch p {
		case "packed", "int8", "dot", "auto":
			if d.variant != "" {
				return d, usagef("--device %q: two integer GEMM variants; %s", spec, deviceUsage)
			}
			d.variant = p
		case "storage", "texel":
			if d.reads != "" {
				return d, usagef("--device %q: two read modes; %s", spec, deviceUsage)
			}
			d.reads = p
		default:
			return d, usagef("--device %q: unknown option %q (not a GEMM variant or read mode); %s", spec, p, deviceUsage)
		}
	}
	switch {
	case base == "cpu" || base == "auto":
		if hasVariant {
			return d, usagef("--device %q: GEMM variants and read modes apply to Vulkan devices only", spec)
		}
		d.kind = base
	case base == "vulkan":
		d.kind = "vulkan"
	case strings.HasPrefix(base, "vulkan:"):
		d.kind = "vulkan"
		if _, err := fmt.Sscanf(base, "vulkan:%d", &d.index); err != nil || d.index < 0 || fmt.Sprintf("vulkan:%d", d.index) != base {
			return d, usagef("--device %q: want vulkan:N with N a device index from 'vktrain devices'", spec)
		}
	default:
		return d, usagef("--device %q: %s", spec, deviceUsage)
	}
	return d, nil
}

// vulkanExts are Vulkan extensions a Vulkan device must be opened with
// (those of the --view window).
type vulkanExts struct{ instance, device []string }

// openDevice resolves --device (see parseDeviceSpec).
func openDevice(spec string, validation bool) (*device, error) {
	return openDeviceWith(spec, validation, nil)
}

// openDeviceWith is openDevice opening a Vulkan device with exts (nil: none).
func openDeviceWith(spec string, validation bool, exts *vulkanExts) (*device, error) {
	d, err := parseDeviceSpec(spec)
	if err != nil {
		return nil, err
	}
	switch d.kind {
	case "cpu":
		return &device{ref.New(), "requested with --device cpu"}, nil
	case "auto":
		if cpuOnly, names := onlyCPUDrivers(); cpuOnly {
			return &device{ref.New(), fmt.Sprintf("auto: the only Vulkan device is a CPU driver (%s), slower than the pure-Go path on the same cores; using the pure-Go path (--device vulkan uses the driver)", names)}, nil
		}
		dv, err := openVulkan(-1, "", "", validation, exts)
		if err == nil {
			dv.reason = "auto: " + dv.reason
			return dv, nil
		}
		return &device{ref.New(), fmt.Sprintf("auto: no usable Vulkan device (%v); using the pure-Go reference path", err)}, nil
	}
	return openVulkan(d.index, d.variant, d.reads, validation, exts)
}

// checkDeviceSpec reports a malformed --device value before any work is
// done (openDevice would find it only after the data set is loaded).
func checkDeviceSpec(spec string) error {
	_, err := parseDeviceSpec(spec)
	return err
}

// onlyCPUDrivers reports whether the machine lists Vulkan devices and all
// of them are CPU drivers (such as lavapipe), with their names. Such a
// driver runs the kernels on the CPU the pure-Go path uses, and slower
// (README, Speed), so auto takes the pure-Go path there.
func onlyCPUDrivers() (bool, string) {
	infos, err := gpu.Devices(gpu.Options{})
	if err != nil || len(infos) == 0 {
		return false, ""
	}
	var names []string
	for _, info := range infos {
		if info.Type != gpu.TypeCPU {
			return false, ""
		}
		names = append(names, info.Name)
	}
	return true, strings.Join(names, ", ")
}
