#version 450
// f_relugrad2: f_relugrad (dx = dy where y > 0, else +0, bit for bit) for an even number of
// elements, eight per invocation step: dy and y are read eight at a time (IN_OCT,
// f_pair.glsl) and dx written as one 32-byte vector of four pairs (see f_relu2); the last
// n/2 mod 4 pairs are written as 64-bit words. dx may alias dy only in the storage-buffer
// build (nn/vk falls back to it for an aliased call: a texel view need not see a write of
// the same dispatch).
//
// Bindings: 0 = dx, 1 = dy, 2 = y. Push constants {uint n}. Specialization: 0 = workgroup size.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_pair.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer DX { u64vec4 dx[]; };
layout(std430, set = 0, binding = 0) writeonly buffer DX1 { uint64_t dx1[]; };
IN_OCT(1, dy)
IN_OCT(2, y)

layout(push_constant) uniform Push {
    uint n;
} p;

uint pick(uint v, uint d) { return (v != 0u && v <= 0x7f800000u) ? d : 0u; }

uint64_t pick2(uint64_t yw, uint64_t dw) {
    uvec2 v = unpackUint2x32(yw), d = unpackUint2x32(dw);
    return packUint2x32(uvec2(pick(v.x, d.x), pick(v.y, d.y)));
}

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x, no = p.n / 8u;
    for (uint i = gl_GlobalInvocationID.x; i < no; i += stride) {
        u64vec4 v = y(i), d = dy(i);
        dx[i] = u64vec4(pick2(v.x, d.x), pick2(v.y, d.y), pick2(v.z, d.z), pick2(v.w, d.w));
    }
    // The pairs after the last whole group of eight.
    uint t = 4u * no + gl_GlobalInvocationID.x;
    if (t < p.n / 2u) {
        dx1[t] = pick2(y_pair(t), dy_pair(t));
    }
}
