#version 450
// f_relugrad2: f_relugrad (dx = dy where y > 0, else +0, bit for bit) for an even number of
// elements, two per 64-bit word of dx; dy and y are read as pairs (IN_PAIR, f_pair.glsl).
// dx may alias dy only in the storage-buffer build (nn/vk falls back to it for an aliased
// call: a texel view need not see a write of the same dispatch).
//
// Bindings: 0 = dx, 1 = dy, 2 = y. Push constants {uint n}. Specialization: 0 = workgroup size.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_pair.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer DX { uint64_t dx[]; };
IN_PAIR(1, dy)
IN_PAIR(2, y)

layout(push_constant) uniform Push {
    uint n;
} p;

uint pick(uint v, uint d) { return (v != 0u && v <= 0x7f800000u) ? d : 0u; }

uint64_t f(uint i) {
    uvec2 v = y(i), d = dy(i);
    return packUint2x32(uvec2(pick(v.x, d.x), pick(v.y, d.y)));
}

void main() {
    // Two pairs per loop iteration (i, i + stride): see f_perchan.glsl.
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x, np = p.n / 2u;
    uint i = gl_GlobalInvocationID.x;
    for (; i + stride < np; i += 2u * stride) {
        uint64_t v0 = f(i), v1 = f(i + stride);
        dx[i] = v0;
        dx[i + stride] = v1;
    }
    if (i < np) {
        dx[i] = f(i);
    }
}
