#version 450
// f_relu2: f_relu (y = x where x > 0, else +0, decided on the float bits) for an even number
// of elements, two per 64-bit word of y (see f_pair.glsl); x is read through io.glsl. y may
// alias x only in the storage-buffer build (the texel build reads x through a texel view,
// which a write in the same dispatch does not update).
//
// Bindings: 0 = y, 1 = x. Push constants {uint n}. Specialization: 0 = workgroup size.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint64_t y[]; };
IN_U32(1, x)

layout(push_constant) uniform Push {
    uint n;
} p;

uint relu(uint v) { return (v != 0u && v <= 0x7f800000u) ? v : 0u; }

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n / 2u; i += stride) {
        y[i] = packUint2x32(uvec2(relu(x(2u * i)), relu(x(2u * i + 1u))));
    }
}
