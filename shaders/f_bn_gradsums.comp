#version 450
// f_bn_gradsums: the per-channel sums of BatchNormGrad for the matrices dy and xhat [R, C]:
// dbeta[c] = sum over r of dy[r, c], dgamma[c] = sum over r of dy[r, c]*xhat[r, c]
// (see f_colreduce.glsl).
//
// Bindings: 0 = dgamma, 1 = dbeta, 2 = dy, 3 = xhat. Push constants {uint r, c}.
#include "f_colreduce.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer DG { float dgamma[]; };
layout(std430, set = 0, binding = 1) writeonly buffer DB { float dbeta[]; };
layout(std430, set = 0, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 3) readonly buffer XH { float xhat[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    for (uint g = gl_WorkGroupID.x; g * CW < p.c; g += gl_NumWorkGroups.x) {
        uint col = g * CW + gl_LocalInvocationID.x;
        float sb = 0.0;
        float sg = 0.0;
        if (col < p.c) {
            for (uint i = gl_LocalInvocationID.y; i < p.r; i += RW) {
                float d = dy[i * p.c + col];
                precise float dh = d * xhat[i * p.c + col];
                sb += d;
                sg += dh;
            }
        }
        float tb = colReduce(sb);
        float tg = colReduce(sg);
        if (col < p.c && gl_LocalInvocationID.y == 0u) {
            dbeta[col] = tb;
            dgamma[col] = tg;
        }
    }
}
