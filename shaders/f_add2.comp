#version 450
// f_add2: f_add (y = a + b) for an even number of elements, eight per invocation step: a
// and b are read eight at a time (IN_OCT, f_pair.glsl) and y written as one 32-byte vector
// of four pairs; the last n/2 mod 4 pairs are written as 64-bit words (see f_relu2). y may
// alias a only in the storage-buffer build.
//
// Bindings: 0 = y, 1 = a, 2 = b. Push constants {uint n}. Specialization: 0 = workgroup size.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_pair.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { u64vec4 y[]; };
layout(std430, set = 0, binding = 0) writeonly buffer Y1 { uint64_t y1[]; };
IN_OCT(1, a)
IN_OCT(2, b)

layout(push_constant) uniform Push {
    uint n;
} p;

uint64_t add2(uint64_t u, uint64_t v) {
    return st2(ld2(unpackUint2x32(u)) + ld2(unpackUint2x32(v)));
}

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x, no = p.n / 8u;
    for (uint i = gl_GlobalInvocationID.x; i < no; i += stride) {
        u64vec4 u = a(i), v = b(i);
        y[i] = u64vec4(add2(u.x, v.x), add2(u.y, v.y), add2(u.z, v.z), add2(u.w, v.w));
    }
    // The pairs after the last whole group of eight.
    uint t = 4u * no + gl_GlobalInvocationID.x;
    if (t < p.n / 2u) {
        y1[t] = add2(a_pair(t), b_pair(t));
    }
}
