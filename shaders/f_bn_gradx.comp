#version 450
// f_bn_gradx: the elementwise part of BatchNormGrad for the matrix dy [R, C]:
// dx = (gamma*invstd/R) * ((R*dy - dbeta) - xhat*dgamma), with the reference's roundings
// (see f_perchan.glsl).
//
// Bindings: 0 = dx, 1 = dy, 2 = xhat, 3 = invstd, 4 = gamma, 5 = dgamma, 6 = dbeta.
// Push constants {uint r, c; float rf (R as a float)}.
#include "f_perchan.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer XH { float xhat[]; };
layout(std430, set = 0, binding = 3) readonly buffer Invstd { float invstd[]; };
layout(std430, set = 0, binding = 4) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 5) readonly buffer DG { float dgamma[]; };
layout(std430, set = 0, binding = 6) readonly buffer DB { float dbeta[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

void main() {
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        precise float gi = gamma[j] * invstd[j];
        precise float k = gi / p.rf;
        float gj = dgamma[j], bj = dbeta[j];
        for (uint i = pcRow0(); i < p.r; i += pcRowStep()) {
            uint o = i * p.c + j;
            precise float rd = p.rf * dy[o];
            precise float hd = xhat[o] * gj;
            precise float d = (rd - bj) - hd;
            dx[o] = k * d;
        }
    }
}
