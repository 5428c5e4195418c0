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
// With RECOMP (CompBNGradFromX) binding 2 holds the batch norm's input x (the
// compensation's input with COMP): xhat and, with RELU, the sign of the output are
// recomputed from it as the forward pass computed them (f_bnhat.glsl), y is not read.
//
// Bindings: 0 = dx, 1 = dy, 2 = xhat (x with RECOMP), 3 = invstd, 4 = gamma, 5 = dgamma,
// 6 = dbeta, 7 = y (uint bits), 8 = cgamma, 9 = dcbeta, 10 = mean, 11 = beta, 12 = cbeta,
// 13 = cmean, 14 = part (8 and 9 used only with COMP, 10 to 13 only with RECOMP, 12 and 13
// only with both, 14 only with SUMS; any buffers bound otherwise). Push constants {uint r, c;
// float rf (R as a float)}. Specialization: 0 = CW, 1 = RW (f_perchan.glsl), 2 = RELU,
// 3 = COMP, 4 = RECOMP, 5 = SUMS.
//
// With SUMS (CompBNGradFromX with dxSum) each invocation also adds up the dx it writes, per
// column, and writes part[l*C + j] for its row lane l (f_perchan.glsl's pcRow0) and column
// j: the partial column sums of dx that f_colsum adds (f_colfin.glsl), so that ColSum of dx
// needs no pass of its own over dx.
#include "io.glsl"
#include "f_perchan.glsl"

layout(constant_id = 2) const bool RELU = false;
layout(constant_id = 3) const bool COMP = false;
layout(constant_id = 4) const bool RECOMP = false;
layout(constant_id = 5) const bool SUMS = false;

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

IN_F32(10, mean)
IN_F32(11, beta)
IN_F32(12, cbeta)
IN_F32(13, cmean)
layout(std430, set = 0, binding = 14) writeonly buffer Part { float part[]; };

#include "f_bnhat.glsl"

// ka: the compensation's term of the invocation's column (COMP).
float ka;

// dm returns dy(o), or +0 with RELU where the output is not positive (y(o)'s bits as
// f_relugrad tests them, or with RECOMP the output recomputed from xhat h).
float dm(uint o, float h, BNC c) {
    float d = dy(o);
    if (RELU) {
        bool pos;
        if (RECOMP) {
            pos = bnOut(h, c) > 0.0;
        } else {
            uint v = y(o);
            pos = v != 0u && v <= 0x7f800000u;
        }
        d = pos ? d : 0.0;
    }
    return d;
}

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

float f(uint o, float k, float gj, float bj, BNC c) {
    float h = RECOMP ? bnHat(xhat(o), c) : xhat(o);
    precise float rd = p.rf * dm(o, h, c);
    precise float hd = h * gj;
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
        BNC c = BNC(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        if (RECOMP) {
            c = bnConsts(j);
        }
        if (COMP) {
            precise float cg = cgamma(j) * dcbeta(j);
            precise float a = cg / p.rf;
            ka = a;
        }
        uint o = pcOff0(j, p.c);
        float sum = 0.0;
        for (; o + st < n; o += 2u * st) {
            float v0 = f(o, k, gj, bj, c), v1 = f(o + st, k, gj, bj, c);
            dx[o] = v0;
            dx[o + st] = v1;
            if (SUMS) {
                sum += v0;
                sum += v1;
            }
        }
        if (o < n) {
            float v = f(o, k, gj, bj, c);
            dx[o] = v;
            sum += v;
        }
        if (SUMS) {
            part[pcRow0() * p.c + j] = sum;
        }
    }
}
