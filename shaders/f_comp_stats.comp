#version 450
// f_comp_stats: the batch statistics of CompensateTrain for the matrix x [R, C]:
// mean[c] = (sum over r of x[r, c]) / R and runMean = (1-momentum)*runMean + momentum*mean
// in place, each product rounded as in the reference (see f_colreduce.glsl).
//
// Bindings: 0 = mean, 1 = runMean, 2 = x. Push constants {uint r, c; float rf (R), momentum}.
#include "f_colreduce.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 1) buffer RM { float runMean[]; };
layout(std430, set = 0, binding = 2) readonly buffer X { float x[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
    float momentum;
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
            float m = sum / p.rf;
            mean[col] = m;
            precise float keep = (1.0 - p.momentum) * runMean[col];
            precise float add = p.momentum * m;
            runMean[col] = keep + add;
        }
    }
}
