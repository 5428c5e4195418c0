#version 450
// f_bn_infer: y = gamma*(x-runMean)/sqrt(runVar+eps) + beta for the matrix x [R, C], with
// the reference's roundings: (gamma*(x-m)) / sqrt(v+eps), then + beta (see f_perchan.glsl).
//
// Bindings: 0 = y, 1 = x, 2 = gamma, 3 = beta, 4 = runMean, 5 = runVar.
// Push constants {uint r, c; float eps}.
#include "f_perchan.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 3) readonly buffer Beta { float beta[]; };
layout(std430, set = 0, binding = 4) readonly buffer RM { float runMean[]; };
layout(std430, set = 0, binding = 5) readonly buffer RV { float runVar[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float eps;
} p;

void main() {
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        precise float sd = sqrt(runVar[j] + p.eps);
        float gj = gamma[j], mj = runMean[j], bj = beta[j];
        for (uint i = pcRow0(); i < p.r; i += pcRowStep()) {
            uint o = i * p.c + j;
            precise float g = gj * (x[o] - mj);
            precise float q = g / sd;
            y[o] = q + bj;
        }
    }
}
