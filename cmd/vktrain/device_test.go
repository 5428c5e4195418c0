package main

import (
	"strings"
	"testing"

	"github.com/vktrain/vktrain/nn/ref"
)

func TestParseDeviceSpec(t *testing.T) {
	good := map[string]deviceSpec{
		"auto":                    {kind: "auto", index: -1},
		"cpu":                     {kind: "cpu", index: -1},
		"vulkan":                  {kind: "vulkan", index: -1},
		"vulkan:2":                {kind: "vulkan", index: 2},
		"vulkan/dot":              {kind: "vulkan", index: -1, variant: "dot"},
		"vulkan:0/int8":           {kind: "vulkan", index: 0, variant: "int8"},
		"vulkan/texel":            {kind: "vulkan", index: -1, reads: "texel"},
		"vulkan:1/packed/storage": {kind: "vulkan", index: 1, variant: "packed", reads: "storage"},
		"vulkan/storage/dot":      {kind: "vulkan", index: -1, variant: "dot", reads: "storage"},
	}
	for in, want := range good {
		got, err := parseDeviceSpec(in)
		if err != nil || got != want {
			t.Errorf("parseDeviceSpec(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"gpu":                  "want auto, cpu",
		"vulkan:-1":            "device index",
		"vulkan:1x":            "device index",
		"vulkan/fast":          "unknown option",
		"cpu/dot":              "Vulkan devices only",
		"cpu/texel":            "Vulkan devices only",
		"vulkan:0/":            "unknown option",
		"vulkan/dot/int8":      "two integer GEMM variants",
		"vulkan/texel/storage": "two read modes",
		"":                     "want auto, cpu",
	}
	for in, want := range bad {
		_, err := parseDeviceSpec(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseDeviceSpec(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

// TestAutoDevice checks what --device auto picks: the pure-Go path where
// every Vulkan device is a CPU driver (lavapipe is slower than it on the
// same cores), a Vulkan device where a GPU is listed, and the pure-Go path
// without Vulkan.
func TestAutoDevice(t *testing.T) {
	d, err := openDevice("auto", false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.backend.Close()
	cpuOnly, names := onlyCPUDrivers()
	gotCPU := d.backend.Name() == ref.New().Name()
	switch {
	case cpuOnly && (!gotCPU || !strings.Contains(d.reason, "CPU driver ("+names+")")):
		t.Errorf("only CPU drivers (%s): auto chose %s (%s), want the pure-Go path naming them", names, d.backend.Name(), d.reason)
	case !cpuOnly && gotCPU && !strings.Contains(d.reason, "no usable Vulkan device"):
		t.Errorf("auto chose the pure-Go path with a GPU listed: %s", d.reason)
	}
	t.Logf("auto: %s (%s)", d.backend.Name(), d.reason)
}
