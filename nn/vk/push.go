package vk

import (
	"fmt"

	"github.com/vktrain/vktrain/gpu"
)

// maxPush is the most push-constant bytes a dispatch carries: Vulkan's
// guaranteed maxPushConstantsSize.
const maxPush = 128

// pushArg is the push constants of one dispatch, encoded on the stack
// (pushOf, pushBytes) so that recording a dispatch allocates nothing: the
// bytes, and for Options.RecordPaths' check against the kernel's block
// (gpu.CheckPush) the Go type they were encoded from.
type pushArg struct {
	typ any // (*T)(nil) for a struct T; nil for raw bytes or none
	raw bool
	n   int
	err error
	buf [maxPush]byte
}

// bytes returns the encoded push constants.
func (p *pushArg) bytes() []byte { return p.buf[:p.n] }

// pushOf encodes the push-constant struct v (fields uint32, int32, float32
// or arrays of them, mirroring the kernel's GLSL block) as gpu.EncodePush.
func pushOf[T any](v T) pushArg {
	p := pushArg{typ: (*T)(nil)}
	enc, err := gpu.AppendPush(p.buf[:0], &v)
	switch {
	case err != nil:
		p.err = err
	case len(enc) > maxPush:
		p.err = fmt.Errorf("%T: %d bytes of push constants, more than the %d a dispatch may carry", v, len(enc), maxPush)
	default:
		p.n = len(enc)
	}
	return p
}

// pushBytes is pushArg of already encoded push constants.
func pushBytes(b []byte) pushArg {
	p := pushArg{raw: true}
	if len(b) > maxPush {
		p.err = fmt.Errorf("%d bytes of push constants, more than the %d a dispatch may carry", len(b), maxPush)
		return p
	}
	p.n = copy(p.buf[:], b)
	return p
}

// noPush is the pushArg of a kernel without push constants.
var noPush pushArg
