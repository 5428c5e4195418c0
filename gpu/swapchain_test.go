package gpu_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/gpu/gputest"
)

// TestOpenNamesMissingExtensions: extensions asked for through Options
// that the loader or the device lacks make Open fail, naming them.
func TestOpenNamesMissingExtensions(t *testing.T) {
	for _, o := range []gpu.Options{
		{DeviceIndex: -1, InstanceExtensions: []string{"VK_KHR_surface", "VK_VKTRAIN_no_such_instance_extension"}},
		{DeviceIndex: -1, DeviceExtensions: []string{"VK_VKTRAIN_no_such_device_extension"}},
	} {
		d, err := gpu.Open(o)
		if errors.Is(err, gpu.ErrNoVulkan) || errors.Is(err, gpu.ErrNoDevice) {
			if os.Getenv("CI") == "" {
				t.Skip(err)
			}
		}
		if err == nil {
			d.Close()
			t.Fatalf("Open(%+v) succeeded", o)
		}
		want := "VK_VKTRAIN_no_such_"
		if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "VK_KHR_surface,") {
			t.Errorf("Open: %v; want the missing extension named (and only it)", err)
		}
	}
}

// TestOpenWithSwapchainExtension opens a device as the --view window needs
// it (surface instance extension, swapchain device extension), validated.
func TestOpenWithSwapchainExtension(t *testing.T) {
	d := gputest.OpenWith(t, gpu.Options{DeviceIndex: -1, InstanceExtensions: []string{"VK_KHR_surface"},
		DeviceExtensions: []string{gpu.SwapchainExtension}})
	if d.InstanceHandle() == nil {
		t.Error("InstanceHandle is nil")
	}
	if _, err := d.NewSwapchain(0, 64, 64); err == nil {
		t.Error("NewSwapchain accepted a null surface")
	}
}
