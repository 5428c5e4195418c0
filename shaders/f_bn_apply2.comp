#version 450
// f_bn_apply2: f_bn_apply (xhat = (x-mean)*invstd, y = gamma*xhat + beta, each product
// rounded) for even C, each invocation owning a pair of columns, x read as pairs
// (IN_PAIR) and y, xhat written as 64-bit words (see f_pair.glsl, f_perchan.glsl; the
// launch walks C/2 column pairs). The per-channel inputs are read through io.glsl. With
// RELU (BatchNormReLUTrain) y is written as ReLU(y), as in f_bn_apply.
//
// With COMP (CompBNTrain) each x is taken as (x + cgamma*cmean) + cbeta first, as in
// f_bn_apply.
//
// Without XHAT xhat is not written, as in f_bn_apply; the arithmetic is f_bnhat.glsl's.
//
// Bindings: 0 = y, 1 = xhat, 2 = x, 3 = mean, 4 = invstd, 5 = gamma, 6 = beta, 7 = cgamma,
// 8 = cbeta, 9 = cmean (7 to 9 used only with COMP, any buffers bound otherwise).
// Push constants {uint r, c}. Specialization: 0 = CW, 1 = RW (f_perchan.glsl), 2 = RELU,
// 3 = COMP, 4 = XHAT.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_perchan.glsl"
#include "f_pair.glsl"

layout(constant_id = 2) const bool RELU = false;
layout(constant_id = 3) const bool COMP = false;
layout(constant_id = 4) const bool XHAT = true;

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint64_t y[]; };
layout(std430, set = 0, binding = 1) writeonly buffer XH { uint64_t xhat[]; };
IN_PAIR(2, x)
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

// f returns the xhat pair (xy) and the y pair (zw) of pair o, the columns' constants c0
// and c1.
vec4 f(uint o, BNC c0, BNC c1) {
    vec2 v = ld2(x(o));
    float h0 = bnHat(v.x, c0), h1 = bnHat(v.y, c1);
    float y0 = bnOut(h0, c0), y1 = bnOut(h1, c1);
    if (RELU) {
        y0 = y0 > 0.0 ? y0 : 0.0;
        y1 = y1 > 0.0 ? y1 : 0.0;
    }
    return vec4(h0, h1, y0, y1);
}

void main() {
    uint cp = p.c / 2u;
    uint n = p.r * cp, st = pcOffStep(cp);
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        BNC c0 = bnConsts(2u * j), c1 = bnConsts(2u * j + 1u);
        uint o = pcOff0(j, cp);
        for (; o + st < n; o += 2u * st) {
            vec4 v0 = f(o, c0, c1), v1 = f(o + st, c0, c1);
            if (XHAT) {
                xhat[o] = st2(v0.xy);
                xhat[o + st] = st2(v1.xy);
            }
            y[o] = st2(v0.zw);
            y[o + st] = st2(v1.zw);
        }
        if (o < n) {
            vec4 v = f(o, c0, c1);
            if (XHAT) {
                xhat[o] = st2(v.xy);
            }
            y[o] = st2(v.zw);
        }
    }
}
