package gpu

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestShimABI compiles testdata/abi_check.c, which checks every structure and
// constant the shim declares against the system's vulkan_core.h, when a C compiler
// and the headers (libvulkan-dev) are installed.
func TestShimABI(t *testing.T) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler (%s)", cc)
	}
	probe := exec.Command(cc, "-E", "-x", "c", "-")
	probe.Stdin = strings.NewReader("#include <vulkan/vulkan_core.h>\n")
	if err := probe.Run(); err != nil {
		t.Skip("Vulkan headers not installed (libvulkan-dev): skipping the ABI check")
	}
	out := filepath.Join(t.TempDir(), "abi_check")
	if msg, err := exec.Command(cc, "-std=c11", "-o", out, "testdata/abi_check.c").CombinedOutput(); err != nil {
		t.Fatalf("shim_types.h disagrees with vulkan_core.h:\n%s", msg)
	}
}

// TestSwapchainABI compiles testdata/abi_swapchain.c, which checks the
// structures and constants swapchain.c declares against vulkan_core.h.
func TestSwapchainABI(t *testing.T) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler (%s)", cc)
	}
	probe := exec.Command(cc, "-E", "-x", "c", "-")
	probe.Stdin = strings.NewReader("#include <vulkan/vulkan_core.h>\n")
	if err := probe.Run(); err != nil {
		t.Skip("Vulkan headers not installed (libvulkan-dev): skipping the ABI check")
	}
	out := filepath.Join(t.TempDir(), "abi_swapchain.o")
	if msg, err := exec.Command(cc, "-std=c11", "-c", "-o", out, "testdata/abi_swapchain.c").CombinedOutput(); err != nil {
		t.Fatalf("swapchain.c disagrees with vulkan_core.h:\n%s", msg)
	}
}
