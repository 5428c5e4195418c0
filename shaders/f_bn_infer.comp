#version 450
// f_bn_infer: y = gamma*(x-runMean)/sqrt(runVar+eps) + beta for the matrix x [R, C], with
// the reference's roundings: (gamma*(x-m)) / sqrt(v+eps), then + beta (see f_perchan.glsl).
// The inputs are read through io.glsl. With RELU (BatchNormReLUInfer) y is written as
// ReLU(y): y where y > 0, else +0 (NaN and -0 give +0).
//
// With COMP (CompBNInfer) x is the input of an error-compensation layer and each value is
// taken as (x + cgamma*cRunMean) + cbeta (f_comp_apply's roundings) first.
//
// Bindings: 0 = y, 1 = x, 2 = gamma, 3 = beta, 4 = runMean, 5 = runVar, 6 = cgamma,
// 7 = cbeta, 8 = cRunMean (6 to 8 used only with COMP, any buffers bound otherwise).
// Push constants {uint r, c; float eps}. Specialization: 0 = CW, 1 = RW (f_perchan.glsl),
// 2 = RELU, 3 = COMP.
#include "io.glsl"
#include "f_perchan.glsl"

layout(constant_id = 2) const bool RELU = false;
layout(constant_id = 3) const bool COMP = false;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
IN_F32(1, x)
IN_F32(2, gamma)
IN_F32(3, beta)
IN_F32(4, runMean)
IN_F32(5, runVar)
IN_F32(6, cgamma)
IN_F32(7, cbeta)
IN_F32(8, cRunMean)

// kg, kb: the compensation of the invocation's column (COMP).
float kg, kb;

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float eps;
} p;

float f(uint o, float gj, float mj, float sd, float bj) {
    float xv = x(o);
    if (COMP) {
        precise float s = xv + kg;
        precise float t = s + kb;
        xv = t;
    }
    precise float g = gj * (xv - mj);
    precise float q = g / sd;
    precise float v = q + bj;
    if (RELU) {
        v = v > 0.0 ? v : 0.0;
    }
    return v;
}

void main() {
    uint n = p.r * p.c, st = pcOffStep(p.c);
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        precise float sd = sqrt(runVar(j) + p.eps);
        float gj = gamma(j), mj = runMean(j), bj = beta(j);
        if (COMP) {
            precise float cg = cgamma(j) * cRunMean(j);
            kg = cg;
            kb = cbeta(j);
        }
        uint o = pcOff0(j, p.c);
        for (; o + st < n; o += 2u * st) {
            float v0 = f(o, gj, mj, sd, bj), v1 = f(o + st, gj, mj, sd, bj);
            y[o] = v0;
            y[o + st] = v1;
        }
        if (o < n) {
            y[o] = f(o, gj, mj, sd, bj);
        }
    }
}
