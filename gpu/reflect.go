package gpu

import (
	"encoding/binary"
	"fmt"
)

// SPIR-V opcodes, decorations and enumerants that texelBindings reads.
const (
	spvOpTypeInt          = 21
	spvOpTypeImage        = 25
	spvOpTypeSampledImage = 27
	spvOpTypePointer      = 32
	spvOpVariable         = 59
	spvOpDecorate         = 71
	spvDecorationBinding  = 33
	spvDecorationSet      = 34
	spvStorageUniformC    = 0 // UniformConstant: images, samplers
	spvDimBuffer          = 5
)

// texelBindings reads which descriptor bindings of a compute shader are uniform
// texel buffers (GLSL usamplerBuffer, read with texelFetch through an R32_UINT
// view): bit i of the mask is set for binding i. Every other image or sampler
// kind is refused, as are texel buffers whose element type is not a 32-bit
// unsigned integer (the view's format is R32_UINT) and bindings outside set 0.
func texelBindings(code []byte) (uint32, error) {
	if len(code) < 20 || len(code)%4 != 0 {
		return 0, fmt.Errorf("SPIR-V of %d bytes", len(code))
	}
	w := make([]uint32, len(code)/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(code[4*i:])
	}
	type image struct {
		sampledType, dim, sampled uint32
	}
	ints := map[uint32][2]uint32{} // id -> width, signedness
	images := map[uint32]image{}
	sampledImages := map[uint32]uint32{} // id -> image type id
	pointers := map[uint32][2]uint32{}   // id -> storage class, pointee
	vars := map[uint32]uint32{}          // UniformConstant variable id -> pointer type id
	binding := map[uint32]uint32{}
	set := map[uint32]uint32{}
	for i := 5; i < len(w); {
		n := int(w[i] >> 16)
		op := w[i] & 0xffff
		if n == 0 || i+n > len(w) {
			return 0, fmt.Errorf("truncated SPIR-V instruction at word %d", i)
		}
		a := w[i+1 : i+n]
		switch op {
		case spvOpTypeInt:
			if len(a) >= 3 {
				ints[a[0]] = [2]uint32{a[1], a[2]}
			}
		case spvOpTypeImage:
			if len(a) >= 7 {
				images[a[0]] = image{sampledType: a[1], dim: a[2], sampled: a[6]}
			}
		case spvOpTypeSampledImage:
			if len(a) >= 2 {
				sampledImages[a[0]] = a[1]
			}
		case spvOpTypePointer:
			if len(a) >= 3 {
				pointers[a[0]] = [2]uint32{a[1], a[2]}
			}
		case spvOpVariable:
			if len(a) >= 3 && a[2] == spvStorageUniformC {
				vars[a[1]] = a[0]
			}
		case spvOpDecorate:
			if len(a) >= 3 && a[1] == spvDecorationBinding {
				binding[a[0]] = a[2]
			}
			if len(a) >= 3 && a[1] == spvDecorationSet {
				set[a[0]] = a[2]
			}
		}
		i += n
	}
	var mask uint32
	for v, ptr := range vars {
		b, ok := binding[v]
		if !ok {
			continue // a sampler or image without a binding is not a descriptor we bind
		}
		if set[v] != 0 || b >= 32 {
			return 0, fmt.Errorf("image binding %d in set %d: only set 0, bindings 0..31 are bound", b, set[v])
		}
		img, ok := images[sampledImages[pointers[ptr][1]]]
		if !ok || img.dim != spvDimBuffer || img.sampled != 1 {
			return 0, fmt.Errorf("binding %d: only uniform texel buffers (usamplerBuffer) and storage buffers are supported", b)
		}
		if t := ints[img.sampledType]; t != [2]uint32{32, 0} {
			return 0, fmt.Errorf("binding %d: a texel buffer must be a usamplerBuffer (it is read through an R32_UINT view)", b)
		}
		mask |= 1 << b
	}
	return mask, nil
}
