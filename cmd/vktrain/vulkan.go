package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/nn/vk"
)

// openVulkan opens a Vulkan device as a backend: index -1 picks the best
// device (a discrete or integrated GPU, then a virtual one, then a CPU
// driver such as lavapipe), otherwise the device with that index.
func openVulkan(index int, variant, reads string, validation bool, exts *vulkanExts) (*device, error) {
	infos, err := gpu.Devices(gpu.Options{})
	if err != nil {
		return nil, vulkanErr(err)
	}
	if err := checkDeviceIndex(index, infos); err != nil {
		return nil, err
	}
	o := vk.Options{Device: index, Validation: validation, Variant: variant, Reads: reads, PipelineCache: pipelineCachePath()}
	if exts != nil {
		o.InstanceExtensions, o.DeviceExtensions = exts.instance, exts.device
	}
	b, err := vk.Open(o)
	if err != nil {
		return nil, vulkanErr(err)
	}
	info := b.Device().Info()
	var why string
	if index >= 0 {
		why = fmt.Sprintf("requested as vulkan:%d", index)
	} else {
		why = bestReason(info, infos)
	}
	reason := fmt.Sprintf("%s; %s device, %s; integer GEMM %q, inputs read through %s buffers", why, info.Type, driverOf(info), b.Variant(), b.Reads())
	return &device{backend: b, reason: reason}, nil
}

// checkDeviceIndex refuses --device vulkan:N (N = index, -1 = the best)
// when the machine has no device N, as a usage error that lists the
// devices there are.
func checkDeviceIndex(index int, infos []gpu.Info) error {
	if index < len(infos) {
		return nil
	}
	var list []string
	for i, info := range infos {
		list = append(list, fmt.Sprintf("%d: %s, %s", i, info.Name, info.Type))
	}
	there := fmt.Sprintf("there are %d Vulkan devices (%s)", len(infos), strings.Join(list, "; "))
	valid := fmt.Sprintf("vulkan:0 to vulkan:%d", len(infos)-1)
	switch len(infos) {
	case 0:
		there, valid = "there is no Vulkan device", "cpu"
	case 1:
		there, valid = fmt.Sprintf("there is 1 Vulkan device (%s)", list[0]), "vulkan:0"
	}
	return usagef("--device vulkan:%d: %s; use %s, vulkan for the best device or cpu (vktrain devices lists them)", index, there, valid)
}

// bestReason explains why Open chose info among infos.
func bestReason(info gpu.Info, infos []gpu.Info) string {
	switch info.Type {
	case gpu.TypeDiscrete:
		return "the first discrete GPU"
	case gpu.TypeIntegrated:
		return "the first integrated GPU (no discrete GPU found)"
	case gpu.TypeVirtual:
		return "a virtual GPU (no discrete or integrated GPU found)"
	case gpu.TypeCPU:
		return fmt.Sprintf("a CPU driver, the only kind among %d device(s)", len(infos))
	}
	return "the best of the listed devices"
}

func driverOf(i gpu.Info) string {
	if i.DriverName == "" {
		return "driver not reported"
	}
	if i.DriverInfo == "" {
		return i.DriverName
	}
	return i.DriverName + " " + i.DriverInfo
}

// vulkanErr turns a missing loader or driver into advice.
func vulkanErr(err error) error {
	switch {
	case errors.Is(err, gpu.ErrNoVulkan):
		return fmt.Errorf("no Vulkan loader: %w (or use --device cpu)", err)
	case errors.Is(err, gpu.ErrNoDevice):
		return fmt.Errorf("no Vulkan device: %w (or use --device cpu)", err)
	}
	return err
}

// listDevices prints every Vulkan device with the facts the backend uses.
func listDevices(e *env) error {
	infos, err := gpu.Devices(gpu.Options{})
	if err != nil {
		return vulkanErr(err)
	}
	best := -1
	for i, info := range infos {
		if best < 0 || rank(info.Type) < rank(infos[best].Type) {
			best = i
		}
	}
	for i, info := range infos {
		fmt.Fprint(e.stdout, info.String())
		fmt.Fprintf(e.stdout, "  integer GEMM:      %s\n", gemmVariants(info))
		fmt.Fprintf(e.stdout, "  input reads:       storage, texel (auto: %s)\n", vk.AutoReads(info))
		switch {
		case i == best && info.Type == gpu.TypeCPU:
			fmt.Fprintf(e.stdout, "  chosen by --device vulkan (auto takes the pure-Go path: this is a CPU driver)\n")
		case i == best:
			fmt.Fprintf(e.stdout, "  chosen by --device vulkan / auto\n")
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}

// rank orders device types as gpu.Open does: discrete first.
func rank(t gpu.DeviceType) int {
	switch t {
	case gpu.TypeDiscrete:
		return 0
	case gpu.TypeIntegrated:
		return 1
	case gpu.TypeVirtual:
		return 2
	case gpu.TypeCPU:
		return 3
	}
	return 4
}

// gemmVariants names the GemmI variants info allows and the automatic one.
func gemmVariants(info gpu.Info) string {
	v := "packed"
	if info.StorageBuffer8Bit && info.ShaderInt8 {
		v += ", int8"
	}
	auto := "packed"
	if info.IntegerDotProduct {
		v += ", dot"
		if info.Dot4x8MixedAccelerated || info.Dot4x8SignedAccelerated {
			auto = "dot"
		}
	}
	return fmt.Sprintf("%s (auto: %s)", v, auto)
}

// pipelineCachePath returns where compiled Vulkan pipelines are kept
// between runs: $VKTRAIN_PIPELINE_CACHE ("off" disables it), else
// vktrain/pipelines.bin in the user's cache directory; "" when there is
// none.
func pipelineCachePath() string {
	if p, ok := os.LookupEnv("VKTRAIN_PIPELINE_CACHE"); ok {
		if p == "off" {
			return ""
		}
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	dir = filepath.Join(dir, "vktrain")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ""
	}
	return filepath.Join(dir, "pipelines.bin")
}
