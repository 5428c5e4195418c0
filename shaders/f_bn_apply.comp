#version 450
// f_bn_apply: the elementwise part of BatchNormTrain for the matrix x [R, C]:
// xhat = (x-mean)*invstd, y = gamma*xhat + beta, each product rounded before the sum as
// in the reference (see f_perchan.glsl). The inputs are read through io.glsl. With RELU
// (BatchNormReLUTrain) y is written as ReLU(y): y where y > 0, else +0 (NaN and -0 give
// +0); xhat is unchanged.
//
// With COMP (CompBNTrain) x is the input of an error-compensation layer and each value is
// taken as (x + cgamma*cmean) + cbeta (f_comp_apply's roundings) first: the compensated
// matrix is never stored.
//
// Without XHAT (CompBNTrain with no xhat: the backward recomputes it, see f_bnhat.glsl)
// xhat is not written.
//
// Bindings: 0 = y, 1 = xhat, 2 = x, 3 = mean, 4 = invstd, 5 = gamma, 6 = beta, 7 = cgamma,
// 8 = cbeta, 9 = cmean (7 to 9 used only with COMP, any buffers bound otherwise).
// Push constants {uint r, c}. Specialization: 0 = CW, 1 = RW (f_perchan.glsl), 2 = RELU,
// 3 = COMP, 4 = XHAT.
#include "io.glsl"
#include "f_perchan.glsl"

layout(constant_id = 2) const bool RELU = false;
layout(constant_id = 3) const bool COMP = false;
layout(constant_id = 4) const bool XHAT = true;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) writeonly buffer XH { float xhat[]; };
IN_F32(2, x)
IN_F32(3, mean)
IN_F32(4, invstd)
IN_F32(5, gamma)
IN_F32(6, beta)
IN_F32(7, cgamma)
IN_F32(8, cbeta)
IN_F32(9, cmean)

#include "f_bnhat.glsl"

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

// f returns (xhat, y) of element o.
vec2 f(uint o, BNC c) {
    float h = bnHat(x(o), c);
    float v = bnOut(h, c);
    if (RELU) {
        v = v > 0.0 ? v : 0.0;
    }
    return vec2(h, v);
}

void main() {
    uint n = p.r * p.c, st = pcOffStep(p.c);
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        BNC c = bnConsts(j);
        uint o = pcOff0(j, p.c);
        for (; o + st < n; o += 2u * st) {
            vec2 v0 = f(o, c), v1 = f(o + st, c);
            if (XHAT) {
                xhat[o] = v0.x;
                xhat[o + st] = v1.x;
            }
            y[o] = v0.y;
            y[o + st] = v1.y;
        }
        if (o < n) {
            vec2 v = f(o, c);
            if (XHAT) {
                xhat[o] = v.x;
            }
            y[o] = v.y;
        }
    }
}
