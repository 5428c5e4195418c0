#version 450
// f_bn_gradx: the elementwise part of BatchNormGrad for the matrix dy [R, C]:
// dx = (gamma*invstd/R) * ((R*dy - dbeta) - xhat*dgamma), with the reference's roundings
// (see f_perchan.glsl). The inputs are read through io.glsl.
//
// Bindings: 0 = dx, 1 = dy, 2 = xhat, 3 = invstd, 4 = gamma, 5 = dgamma, 6 = dbeta.
// Push constants {uint r, c; float rf (R as a float)}.
#include "io.glsl"
#include "f_perchan.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
IN_F32(1, dy)
IN_F32(2, xhat)
IN_F32(3, invstd)
IN_F32(4, gamma)
IN_F32(5, dgamma)
IN_F32(6, dbeta)

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

float f(uint o, float k, float gj, float bj) {
    precise float rd = p.rf * dy(o);
    precise float hd = xhat(o) * gj;
    precise float d = (rd - bj) - hd;
    precise float v = k * d;
    return v;
}

void main() {
    uint n = p.r * p.c, st = pcOffStep(p.c);
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        precise float gi = gamma(j) * invstd(j);
        precise float k = gi / p.rf;
        float gj = dgamma(j), bj = dbeta(j);
        uint o = pcOff0(j, p.c);
        for (; o + st < n; o += 2u * st) {
            float v0 = f(o, k, gj, bj), v1 = f(o + st, k, gj, bj);
            dx[o] = v0;
            dx[o + st] = v1;
        }
        if (o < n) {
            dx[o] = f(o, k, gj, bj);
        }
    }
}
