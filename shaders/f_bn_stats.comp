#version 450
// f_bn_stats: the batch statistics of BatchNormTrain for the matrix x [R, C], two passes
// over the rows in one workgroup per column group (see f_colreduce.glsl):
// mean = sum(x)/R, var = sum((x-mean)^2)/R, invstd = 1/sqrt(var+eps), and in place
// runMean = (1-momentum)*runMean + momentum*mean,
// runVar = (1-momentum)*runVar + momentum*(var*unbias), each product rounded as in the
// reference.
//
// Bindings: 0 = mean, 1 = invstd, 2 = runMean, 3 = runVar, 4 = x.
// Push constants {uint r, c; float rf (R), unbias (R/(R-1), or 1), momentum, eps}.
#include "f_colreduce.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Invstd { float invstd[]; };
layout(std430, set = 0, binding = 2) buffer RM { float runMean[]; };
layout(std430, set = 0, binding = 3) buffer RV { float runVar[]; };
layout(std430, set = 0, binding = 4) readonly buffer X { float x[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
    float unbias;
    float momentum;
    float eps;
} p;

void main() {
    for (uint g = gl_WorkGroupID.x; g * CW < p.c; g += gl_NumWorkGroups.x) {
        uint col = g * CW + gl_LocalInvocationID.x;
        bool on = col < p.c;
        float v = 0.0;
        if (on) {
            for (uint i = gl_LocalInvocationID.y; i < p.r; i += RW) {
                v += x[i * p.c + col];
            }
        }
        float m = colReduce(v) / p.rf;
        float q = 0.0;
        if (on) {
            for (uint i = gl_LocalInvocationID.y; i < p.r; i += RW) {
                precise float d = x[i * p.c + col] - m;
                precise float dd = d * d;
                q += dd;
            }
        }
        float variance = colReduce(q) / p.rf;
        if (on && gl_LocalInvocationID.y == 0u) {
            mean[col] = m;
            invstd[col] = 1.0 / sqrt(variance + p.eps);
            float keep = 1.0 - p.momentum;
            precise float km = keep * runMean[col];
            precise float am = p.momentum * m;
            runMean[col] = km + am;
            precise float uv = variance * p.unbias;
            precise float kv = keep * runVar[col];
            precise float av = p.momentum * uv;
            runVar[col] = kv + av;
        }
    }
}
