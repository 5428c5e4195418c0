#version 450
// f_relu: y = x where x > 0, else +0 (NaN and -0 give +0), decided on the float bits
// (positive, not NaN: 0 < bits <= 0x7f800000) so that subnormals behave as in the
// reference even where a driver flushes them; y gets x's bits. x is read through io.glsl.
// y may alias x only in the storage-buffer build (the texel build reads x through a texel
// view, which a write in the same dispatch does not update; nn/vk falls back to the
// storage build for an aliased call).
//
// Bindings: 0 = y (uint bits), 1 = x (uint bits). Push constants {uint n}.
// Specialization: 0 = workgroup size.
#include "io.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint y[]; };
IN_U32(1, x)

layout(push_constant) uniform Push {
    uint n;
} p;

uint relu(uint v) { return (v != 0u && v <= 0x7f800000u) ? v : 0u; }

void main() {
    // Two elements per loop iteration (i, i + stride): see f_perchan.glsl.
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint i = gl_GlobalInvocationID.x;
    for (; i + stride < p.n; i += 2u * stride) {
        uint v0 = relu(x(i)), v1 = relu(x(i + stride));
        y[i] = v0;
        y[i + stride] = v1;
    }
    if (i < p.n) {
        y[i] = relu(x(i));
    }
}
