#version 450
// f_relugrad: dx = dy where y > 0, else +0, with the test of f_relu on y's bits and dy's
// bits copied unchanged; dy and y are read through io.glsl. dx may alias dy only in the
// storage-buffer build (nn/vk falls back to it for an aliased call: a texel view need not
// see a write of the same dispatch).
//
// Bindings: 0 = dx (uint bits), 1 = dy (uint bits), 2 = y (uint bits).
// Push constants {uint n}. Specialization: 0 = workgroup size.
#include "io.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer DX { uint dx[]; };
IN_U32(1, dy)
IN_U32(2, y)

layout(push_constant) uniform Push {
    uint n;
} p;

uint pick(uint v, uint d) { return (v != 0u && v <= 0x7f800000u) ? d : 0u; }

void main() {
    // Two elements per loop iteration (i, i + stride): see f_perchan.glsl.
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint i = gl_GlobalInvocationID.x;
    for (; i + stride < p.n; i += 2u * stride) {
        uint v0 = pick(y(i), dy(i)), v1 = pick(y(i + stride), dy(i + stride));
        dx[i] = v0;
        dx[i + stride] = v1;
    }
    if (i < p.n) {
        dx[i] = pick(y(i), dy(i));
    }
}
