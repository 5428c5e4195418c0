#version 450
// f_add: y = a + b elementwise (float32 additions, as the reference). a and b are read
// through io.glsl. y may alias a only in the storage-buffer build (the texel build reads a
// through a texel view, which a write in the same dispatch does not update; nn/vk falls
// back to the storage build for an aliased call).
//
// Bindings: 0 = y, 1 = a, 2 = b. Push constants {uint n}. Specialization: 0 = workgroup size.
#include "io.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
IN_F32(1, a)
IN_F32(2, b)

layout(push_constant) uniform Push {
    uint n;
} p;

void main() {
    // Two elements per loop iteration (i, i + stride): see f_perchan.glsl.
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint i = gl_GlobalInvocationID.x;
    for (; i + stride < p.n; i += 2u * stride) {
        float v0 = a(i) + b(i), v1 = a(i + stride) + b(i + stride);
        y[i] = v0;
        y[i + stride] = v1;
    }
    if (i < p.n) {
        y[i] = a(i) + b(i);
    }
}
