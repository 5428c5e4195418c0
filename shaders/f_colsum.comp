#version 450
// f_colsum: s[c] = sum over r of x[r, c] for the matrix x [R, C] (see f_colreduce.glsl).
//
// Bindings: 0 = s, 1 = x. Push constants {uint r, c}.
#include "f_colreduce.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer S { float s[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { float x[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    for (uint g = gl_WorkGroupID.x; g * CW < p.c; g += gl_NumWorkGroups.x) {
        uint col = g * CW + gl_LocalInvocationID.x;
        float v = 0.0;
        if (col < p.c) {
            for (uint i = gl_LocalInvocationID.y; i < p.r; i += RW) {
                v += x[i * p.c + col];
            }
        }
        float sum = colReduce(v);
        if (col < p.c && gl_LocalInvocationID.y == 0u) {
            s[col] = sum;
        }
    }
}
