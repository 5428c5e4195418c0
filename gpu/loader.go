package gpu

/*
#cgo linux LDFLAGS: -ldl
#cgo freebsd LDFLAGS: -lc
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// The loader library is opened once per process and never closed: it is immutable
// after loading, like the dynamic linker's own state. vulkan-go keeps its function
// table in C globals, so every use of it is serialized by vkgoMu.
var (
	loadOnce sync.Once
	loadLib  *loaderLib
	loadErr  error
	vkgoMu   sync.Mutex
)

type loaderLib struct {
	name string
	gipa unsafe.Pointer // vkGetInstanceProcAddr
}

func loadVulkan() (*loaderLib, error) {
	loadOnce.Do(func() {
		var name *C.char
		lib := C.vkt_dlopen(&name)
		if lib == nil {
			loadErr = ErrNoVulkan
			return
		}
		sym := C.CString("vkGetInstanceProcAddr")
		defer C.free(unsafe.Pointer(sym))
		gipa := C.vkt_dlsym(lib, sym)
		if gipa == nil {
			loadErr = fmt.Errorf("%w (%s has no vkGetInstanceProcAddr)", ErrNoVulkan, C.GoString(name))
			return
		}
		vkgoMu.Lock()
		vk.SetGetInstanceProcAddr(gipa)
		err := vk.Init()
		vkgoMu.Unlock()
		if err != nil {
			loadErr = fmt.Errorf("gpu: initialising vulkan-go: %v", err)
			return
		}
		loadLib = &loaderLib{name: C.GoString(name), gipa: gipa}
	})
	return loadLib, loadErr
}

// names turns a buffer of consecutive 256-byte C strings into Go strings.
func names(buf []byte, n int) []string {
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		s := buf[256*i : 256*(i+1)]
		if j := strings.IndexByte(string(s), 0); j >= 0 {
			s = s[:j]
		}
		out = append(out, string(s))
	}
	return out
}

// enumerate runs a Vulkan two-call enumeration through fill, which receives a
// C buffer for 256-byte names (nil asks for the count).
func enumerate(op string, fill func(buf *C.char, count *C.uint32_t) C.int32_t) ([]string, error) {
	for tries := 0; tries < 4; tries++ {
		var count C.uint32_t
		if r := fill(nil, &count); r < 0 {
			return nil, vkErr(op, r)
		}
		if count == 0 {
			return nil, nil
		}
		buf := C.malloc(C.size_t(count) * 256)
		r := fill((*C.char)(buf), &count)
		if r == 5 { // VK_INCOMPLETE: the list grew; ask again
			C.free(buf)
			continue
		}
		if r < 0 {
			C.free(buf)
			return nil, vkErr(op, r)
		}
		out := names(C.GoBytes(buf, C.int(count)*256), int(count))
		C.free(buf)
		return out, nil
	}
	return nil, fmt.Errorf("gpu: %s: the list kept changing", op)
}

// instance is one VkInstance with the validation sink that its messenger feeds.
type instance struct {
	c          *C.vkt_instance
	apiVersion uint32 // the version the instance was created with
	khrProps2  bool   // VK_KHR_get_physical_device_properties2 is enabled
	validation bool
	sink       *msgSink
	handle     cgo.Handle
}

const validationLayer = "VK_LAYER_KHRONOS_validation"

func makeVersion(major, minor uint32) uint32 { return major<<22 | minor<<12 }

// newInstance creates an instance; extra names instance extensions to enable
// besides the package's own (an error names those the loader lacks).
func newInstance(validation bool, extra ...string) (*instance, error) {
	lib, err := loadVulkan()
	if err != nil {
		return nil, err
	}
	var ver C.uint32_t
	if r := C.vkt_enumerate_instance_version(lib.gipa, &ver); r != 0 {
		return nil, vkErr("vkEnumerateInstanceVersion", r)
	}
	api := uint32(ver) &^ 0xfff // drop the patch level
	if api > makeVersion(1, 3) {
		api = makeVersion(1, 3)
	}
	exts, err := enumerate("vkEnumerateInstanceExtensionProperties", func(b *C.char, n *C.uint32_t) C.int32_t {
		return C.vkt_instance_extensions(lib.gipa, nil, b, n)
	})
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, e := range exts {
		have[e] = true
	}
	var layers []string
	if validation {
		avail, err := enumerate("vkEnumerateInstanceLayerProperties", func(b *C.char, n *C.uint32_t) C.int32_t {
			return C.vkt_instance_layers(lib.gipa, b, n)
		})
		if err != nil {
			return nil, err
		}
		found := false
		for _, l := range avail {
			found = found || l == validationLayer
		}
		if !found {
			return nil, ErrNoValidationLayer
		}
		layers = append(layers, validationLayer)
		lname := C.CString(validationLayer)
		lexts, err := enumerate("vkEnumerateInstanceExtensionProperties", func(b *C.char, n *C.uint32_t) C.int32_t {
			return C.vkt_instance_extensions(lib.gipa, lname, b, n)
		})
		C.free(unsafe.Pointer(lname))
		if err != nil {
			return nil, err
		}
		for _, e := range lexts {
			have[e] = true
		}
		if !have["VK_EXT_debug_utils"] {
			return nil, fmt.Errorf("gpu: validation requested but VK_EXT_debug_utils is not available")
		}
	}
	inst := &instance{apiVersion: api, validation: validation}
	var enable []string
	var flags uint32
	if api < makeVersion(1, 1) && have["VK_KHR_get_physical_device_properties2"] {
		enable = append(enable, "VK_KHR_get_physical_device_properties2")
		inst.khrProps2 = true
	}
	if have["VK_KHR_portability_enumeration"] {
		enable = append(enable, "VK_KHR_portability_enumeration")
		flags |= 1 // VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR
	}
	var handle C.uintptr_t
	var missing []string
	for _, e := range extra {
		if !have[e] {
			missing = append(missing, e)
		}
		enable = append(enable, e)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("gpu: the Vulkan loader lacks the instance extension(s) %s", strings.Join(missing, ", "))
	}
	if validation {
		enable = append(enable, "VK_EXT_debug_utils")
		inst.sink = &msgSink{}
		inst.handle = cgo.NewHandle(inst.sink)
		handle = C.uintptr_t(inst.handle)
	}
	enable = dedup(enable)
	cl := cStrings(layers)
	ce := cStrings(enable)
	defer cl.free()
	defer ce.free()
	dbg := C.uint32_t(0)
	if validation {
		dbg = 1
	}
	r := C.vkt_create_instance(lib.gipa, C.uint32_t(api), cl.ptr(), C.uint32_t(len(layers)), ce.ptr(),
		C.uint32_t(len(enable)), C.uint32_t(flags), handle, dbg, &inst.c)
	if r != 0 {
		if validation {
			inst.handle.Delete()
		}
		if r == -9 {
			return nil, fmt.Errorf("%w (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER)", ErrNoDevice)
		}
		return nil, vkErr("vkCreateInstance", r)
	}
	return inst, nil
}

func (in *instance) close() {
	if in == nil || in.c == nil {
		return
	}
	C.vkt_destroy_instance(in.c)
	in.c = nil
	if in.sink != nil {
		in.handle.Delete()
	}
}

// cstrs is an array of C strings in C memory.
type cstrs []*C.char

func cStrings(ss []string) cstrs {
	if len(ss) == 0 {
		return nil
	}
	arr := (*[1 << 20]*C.char)(C.malloc(C.size_t(len(ss)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))[:len(ss):len(ss)]
	for i, s := range ss {
		arr[i] = C.CString(s)
	}
	return arr
}

func (c cstrs) ptr() **C.char {
	if len(c) == 0 {
		return nil
	}
	return &c[0]
}

func (c cstrs) free() {
	if len(c) == 0 {
		return
	}
	for _, p := range c {
		C.free(unsafe.Pointer(p))
	}
	C.free(unsafe.Pointer(&c[0]))
}
