#version 450
// test_copy: y[i] = 2*x[i] over n floats, grid-stride, with x read through io.glsl: the
// storage-buffer build (test_copy) and the texel build (test_copy_tex) side by side measure
// what a read costs a driver (package gpu's BenchmarkCopy).
// Workgroup size comes from specialization constant 0; push constants {uint n}.
#include "io.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
IN_F32(1, x)

layout(push_constant) uniform Push {
    uint n;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        y[i] = 2.0 * x(i);
    }
}
