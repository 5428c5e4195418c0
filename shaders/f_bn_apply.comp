#version 450
// f_bn_apply: the elementwise part of BatchNormTrain for the matrix x [R, C]:
// xhat = (x-mean)*invstd, y = gamma*xhat + beta, each product rounded before the sum as
// in the reference (see f_perchan.glsl).
//
// Bindings: 0 = y, 1 = xhat, 2 = x, 3 = mean, 4 = invstd, 5 = gamma, 6 = beta.
// Push constants {uint r, c}.
#include "f_perchan.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) writeonly buffer XH { float xhat[]; };
layout(std430, set = 0, binding = 2) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 4) readonly buffer Invstd { float invstd[]; };
layout(std430, set = 0, binding = 5) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 6) readonly buffer Beta { float beta[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        float mj = mean[j], sj = invstd[j], gj = gamma[j], bj = beta[j];
        for (uint i = pcRow0(); i < p.r; i += pcRowStep()) {
            uint o = i * p.c + j;
            precise float h = (x[o] - mj) * sj;
            precise float g = gj * h;
            xhat[o] = h;
            y[o] = g + bj;
        }
    }
}
