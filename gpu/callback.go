package gpu

// This file exports a Go function to C, so its preamble holds declarations only.

// #include "shim.h"
import "C"

import (
	"fmt"
	"runtime/cgo"
	"sync"
)

// msgSink collects validation messages for one Vulkan instance. The C callback may run on
// any thread, so it is guarded by a mutex.
type msgSink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *msgSink) add(m string) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
}

func (s *msgSink) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

//export vktGoDebugMessage
func vktGoDebugMessage(h C.uintptr_t, severity C.uint32_t, id, msg *C.char) {
	if h == 0 {
		return
	}
	sink, ok := cgo.Handle(h).Value().(*msgSink)
	if !ok {
		return
	}
	level := "warning"
	if severity&0x1000 != 0 {
		level = "error"
	}
	sink.add(fmt.Sprintf("%s: [%s] %s", level, C.GoString(id), C.GoString(msg)))
}
