#version 450
// f_bn_gradx: the elementwise part of BatchNormGrad for the matrix dy [R, C]:
// dx = (gamma*invstd/R) * ((R*dy - dbeta) - xhat*dgamma), with the reference's roundings
// (see f_perchan.glsl). The inputs are read through io.glsl. With RELU
// (BatchNormReLUGrad) dy counts only where y > 0 (f_relugrad's test on y's bits), else as
// +0; without it y is not read.
//
// With COMP (CompBNGrad) dx is the gradient of the error-compensation layer's input:
// the batch norm's dx plus (cgamma*dcbeta)/R (f_comp_gradx's roundings, dcbeta from
// f_bn_gradsums COMP).
//
// Bindings: 0 = dx, 1 = dy, 2 = xhat, 3 = invstd, 4 = gamma, 5 = dgamma, 6 = dbeta,
// 7 = y (uint bits), 8 = cgamma, 9 = dcbeta (8 and 9 used only with COMP, any buffers
// bound otherwise). Push constants {uint r, c; float rf (R as a float)}.
// Specialization: 0 = CW, 1 = RW (f_perchan.glsl), 2 = RELU, 3 = COMP.
#include "io.glsl"
#include "f_perchan.glsl"

layout(constant_id = 2) const bool RELU = false;
layout(constant_id = 3) const bool COMP = false;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
IN_F32(1, dy)
IN_F32(2, xhat)
IN_F32(3, invstd)
IN_F32(4, gamma)
IN_F32(5, dgamma)
IN_F32(6, dbeta)
IN_U32(7, y)
IN_F32(8, cgamma)
IN_F32(9, dcbeta)

// ka: the compensation's term of the invocation's column (COMP).
float ka;

// dm returns dy(o), or +0 with RELU where y(o) is not positive.
float dm(uint o) {
    float d = dy(o);
    if (RELU) {
        uint v = y(o);
        d = (v != 0u && v <= 0x7f800000u) ? d : 0.0;
    }
    return d;
}

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

float f(uint o, float k, float gj, float bj) {
    precise float rd = p.rf * dm(o);
    precise float hd = xhat(o) * gj;
    precise float d = (rd - bj) - hd;
    precise float v = k * d;
    if (COMP) {
        precise float u = v + ka;
        v = u;
    }
    return v;
}

void main() {
    uint n = p.r * p.c, st = pcOffStep(p.c);
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        precise float gi = gamma(j) * invstd(j);
        precise float k = gi / p.rf;
        float gj = dgamma(j), bj = dbeta(j);
        if (COMP) {
            precise float cg = cgamma(j) * dcbeta(j);
            precise float a = cg / p.rf;
            ka = a;
        }
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
