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
// Bindings: 0 = y, 1 = xhat, 2 = x, 3 = mean, 4 = invstd, 5 = gamma, 6 = beta, 7 = cgamma,
// 8 = cbeta, 9 = cmean (7 to 9 used only with COMP, any buffers bound otherwise).
// Push constants {uint r, c}. Specialization: 0 = CW, 1 = RW (f_perchan.glsl), 2 = RELU,
// 3 = COMP.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_perchan.glsl"
#include "f_pair.glsl"

layout(constant_id = 2) const bool RELU = false;
layout(constant_id = 3) const bool COMP = false;

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

// kg, kb: the compensation of the invocation's column pair (COMP).
vec2 kg, kb;

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

// f returns the xhat pair (xy) and the y pair (zw) of pair o.
vec4 f(uint o, vec2 m, vec2 s, vec2 g, vec2 b) {
    vec2 v = ld2(x(o));
    if (COMP) {
        precise vec2 s = v + kg;
        precise vec2 t = s + kb;
        v = t;
    }
    precise float h0 = (v.x - m.x) * s.x;
    precise float h1 = (v.y - m.y) * s.y;
    precise float g0 = g.x * h0;
    precise float g1 = g.y * h1;
    precise float y0 = g0 + b.x;
    precise float y1 = g1 + b.y;
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
        uint j0 = 2u * j, j1 = j0 + 1u;
        vec2 m = vec2(mean(j0), mean(j1)), s = vec2(invstd(j0), invstd(j1));
        vec2 g = vec2(gamma(j0), gamma(j1)), b = vec2(beta(j0), beta(j1));
        if (COMP) {
            precise vec2 cg = vec2(cgamma(j0), cgamma(j1)) * vec2(cmean(j0), cmean(j1));
            kg = cg;
            kb = vec2(cbeta(j0), cbeta(j1));
        }
        uint o = pcOff0(j, cp);
        for (; o + st < n; o += 2u * st) {
            vec4 v0 = f(o, m, s, g, b), v1 = f(o + st, m, s, g, b);
            xhat[o] = st2(v0.xy);
            y[o] = st2(v0.zw);
            xhat[o + st] = st2(v1.xy);
            y[o + st] = st2(v1.zw);
        }
        if (o < n) {
            vec4 v = f(o, m, s, g, b);
            xhat[o] = st2(v.xy);
            y[o] = st2(v.zw);
        }
    }
}
