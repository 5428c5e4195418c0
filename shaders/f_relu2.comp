#version 450
// f_relu2: f_relu (y = x where x > 0, else +0, decided on the float bits) for an even number
// of elements, eight per invocation step: x is read eight at a time (IN_OCT, f_pair.glsl)
// and y written as one 32-byte vector of four pairs (lavapipe stores a storage buffer one
// SIMD lane at a time, a lane's components in one step, so a wide store costs about what a
// scalar one does); the last n/2 mod 4 pairs are written as 64-bit words. y may alias x
// only in the storage-buffer build (the texel build reads x through a texel view, which a
// write in the same dispatch does not update).
//
// nn/vk launches it with enough workgroups that an invocation takes few steps: on lavapipe
// long grid-stride walks of 32-byte lanes ran markedly slower.
//
// Bindings: 0 = y, 1 = x. Push constants {uint n}. Specialization: 0 = workgroup size.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_pair.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { u64vec4 y[]; };
layout(std430, set = 0, binding = 0) writeonly buffer Y1 { uint64_t y1[]; };
IN_OCT(1, x)

layout(push_constant) uniform Push {
    uint n;
} p;

uint relu(uint v) { return (v != 0u && v <= 0x7f800000u) ? v : 0u; }

uint64_t relu2(uint64_t w) {
    uvec2 v = unpackUint2x32(w);
    return packUint2x32(uvec2(relu(v.x), relu(v.y)));
}

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x, no = p.n / 8u;
    for (uint i = gl_GlobalInvocationID.x; i < no; i += stride) {
        u64vec4 v = x(i);
        y[i] = u64vec4(relu2(v.x), relu2(v.y), relu2(v.z), relu2(v.w));
    }
    // The pairs after the last whole group of eight.
    uint t = 4u * no + gl_GlobalInvocationID.x;
    if (t < p.n / 2u) {
        y1[t] = relu2(x_pair(t));
    }
}
