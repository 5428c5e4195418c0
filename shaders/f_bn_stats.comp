#version 450
// f_bn_stats: the last pass of BatchNormTrain's statistics (see f_colfin.glsl), from the
// partial sums of (x-mean)^2 and the mean: var = sum/R, invstd = 1/sqrt(var+eps), and in
// place runMean = (1-momentum)*runMean + momentum*mean,
// runVar = (1-momentum)*runVar + momentum*(var*unbias), each product rounded as in the
// reference.
//
// Bindings: 0 = invstd, 1 = runMean, 2 = runVar (read-write), 3 = part [L, C], 4 = mean
// (3 and 4 read through io.glsl).
// Push constants {uint c, lanes; float rf, unbias, momentum, eps}.
// Specialization: 0 = workgroup size.
#include "io.glsl"
#include "f_colfin.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Invstd { float invstd[]; };
layout(std430, set = 0, binding = 1) buffer RM { float runMean[]; };
layout(std430, set = 0, binding = 2) buffer RV { float runVar[]; };
IN_F32(3, part)
IN_F32(4, mean)

layout(push_constant) uniform Push {
    uint c;
    uint lanes;
    float rf;
    float unbias;
    float momentum;
    float eps;
} p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float sum;
        COLFIN_SUM(part, 0u, p.lanes, p.c, j, sum)
        float variance = sum / p.rf;
        float m = mean(j);
        invstd[j] = 1.0 / sqrt(variance + p.eps);
        float keep = 1.0 - p.momentum;
        precise float km = keep * runMean[j];
        precise float am = p.momentum * m;
        runMean[j] = km + am;
        precise float uv = variance * p.unbias;
        precise float kv = keep * runVar[j];
        precise float av = p.momentum * uv;
        runVar[j] = kv + av;
    }
}
