#version 450
// f_comp_gradsums: the per-channel sums of CompensateGrad for the matrix dy [R, C]:
// dbeta[c] = sum over r of dy[r, c], dgamma[c] = mean[c]*dbeta[c] (see f_colreduce.glsl).
//
// Bindings: 0 = dgamma, 1 = dbeta, 2 = dy, 3 = mean. Push constants {uint r, c}.
#include "f_colreduce.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer DG { float dgamma[]; };
layout(std430, set = 0, binding = 1) writeonly buffer DB { float dbeta[]; };
layout(std430, set = 0, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 3) readonly buffer Mean { float mean[]; };

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
                v += dy[i * p.c + col];
            }
        }
        float sum = colReduce(v);
        if (col < p.c && gl_LocalInvocationID.y == 0u) {
            dbeta[col] = sum;
            dgamma[col] = mean[col] * sum;
        }
    }
}
