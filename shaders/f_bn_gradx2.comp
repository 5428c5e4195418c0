#version 450
// f_bn_gradx2: f_bn_gradx (dx = (gamma*invstd/R)*((R*dy - dbeta) - xhat*dgamma), each step
// rounded as in the reference) for even C, each invocation owning a pair of columns, dy and
// xhat read as pairs (IN_PAIR) and dx written as 64-bit words (see f_pair.glsl,
// f_perchan.glsl; the launch walks C/2 pairs). The per-channel inputs are read through
// io.glsl. With RELU dy counts only where y > 0, as in f_bn_gradx (y read as pairs).
//
// With COMP (CompBNGrad) (cgamma*dcbeta)/R is added to dx, as in f_bn_gradx.
//
// With RECOMP (CompBNGradFromX) binding 2 holds x, from which xhat and the sign of the
// output are recomputed, as in f_bn_gradx. With SUMS each invocation also writes the sums of
// the dx it wrote, per column, as in f_bn_gradx.
//
// Bindings: 0 = dx, 1 = dy, 2 = xhat (x with RECOMP), 3 = invstd, 4 = gamma, 5 = dgamma,
// 6 = dbeta, 7 = y, 8 = cgamma, 9 = dcbeta, 10 = mean, 11 = beta, 12 = cbeta, 13 = cmean
// (as in f_bn_gradx), 14 = part (SUMS). Push constants {uint r, c; float rf (R)}.
// Specialization: 0 = CW, 1 = RW, 2 = RELU, 3 = COMP, 4 = RECOMP, 5 = SUMS.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_perchan.glsl"
#include "f_pair.glsl"

layout(constant_id = 2) const bool RELU = false;
layout(constant_id = 3) const bool COMP = false;
layout(constant_id = 4) const bool RECOMP = false;
layout(constant_id = 5) const bool SUMS = false;

layout(std430, set = 0, binding = 0) writeonly buffer DX { uint64_t dx[]; };
IN_PAIR(1, dy)
IN_PAIR(2, xhat)
IN_F32(3, invstd)
IN_F32(4, gamma)
IN_F32(5, dgamma)
IN_F32(6, dbeta)
IN_PAIR(7, y)
IN_F32(8, cgamma)
IN_F32(9, dcbeta)

IN_F32(10, mean)
IN_F32(11, beta)
IN_F32(12, cbeta)
IN_F32(13, cmean)
layout(std430, set = 0, binding = 14) writeonly buffer Part { float part[]; };

#include "f_bnhat.glsl"

// ka: the compensation's terms of the invocation's column pair (COMP).
vec2 ka;

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

vec2 f(uint o, vec2 k, vec2 g, vec2 b, BNC c0, BNC c1) {
    vec2 d = ld2(dy(o)), h = ld2(xhat(o));
    if (RECOMP) {
        h = vec2(bnHat(h.x, c0), bnHat(h.y, c1));
    }
    if (RELU) {
        bvec2 pos;
        if (RECOMP) {
            pos = bvec2(bnOut(h.x, c0) > 0.0, bnOut(h.y, c1) > 0.0);
        } else {
            uvec2 v = y(o);
            pos = bvec2(v.x != 0u && v.x <= 0x7f800000u, v.y != 0u && v.y <= 0x7f800000u);
        }
        d.x = pos.x ? d.x : 0.0;
        d.y = pos.y ? d.y : 0.0;
    }
    precise float rd0 = p.rf * d.x;
    precise float rd1 = p.rf * d.y;
    precise float hd0 = h.x * g.x;
    precise float hd1 = h.y * g.y;
    precise float e0 = (rd0 - b.x) - hd0;
    precise float e1 = (rd1 - b.y) - hd1;
    precise float o0 = k.x * e0;
    precise float o1 = k.y * e1;
    if (COMP) {
        precise float u0 = o0 + ka.x;
        precise float u1 = o1 + ka.y;
        o0 = u0;
        o1 = u1;
    }
    return vec2(o0, o1);
}

void main() {
    uint cp = p.c / 2u;
    uint n = p.r * cp, st = pcOffStep(cp);
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        uint j0 = 2u * j, j1 = j0 + 1u;
        precise float gi0 = gamma(j0) * invstd(j0);
        precise float gi1 = gamma(j1) * invstd(j1);
        precise float k0 = gi0 / p.rf;
        precise float k1 = gi1 / p.rf;
        vec2 k = vec2(k0, k1);
        vec2 g = vec2(dgamma(j0), dgamma(j1)), b = vec2(dbeta(j0), dbeta(j1));
        BNC c0 = BNC(0.0, 0.0, 0.0, 0.0, 0.0, 0.0), c1 = c0;
        if (RECOMP) {
            c0 = bnConsts(j0);
            c1 = bnConsts(j1);
        }
        if (COMP) {
            precise float cg0 = cgamma(j0) * dcbeta(j0);
            precise float cg1 = cgamma(j1) * dcbeta(j1);
            precise float a0 = cg0 / p.rf;
            precise float a1 = cg1 / p.rf;
            ka = vec2(a0, a1);
        }
        uint o = pcOff0(j, cp);
        vec2 sum = vec2(0.0);
        for (; o + st < n; o += 2u * st) {
            vec2 v0 = f(o, k, g, b, c0, c1), v1 = f(o + st, k, g, b, c0, c1);
            dx[o] = st2(v0);
            dx[o + st] = st2(v1);
            if (SUMS) {
                sum += v0;
                sum += v1;
            }
        }
        if (o < n) {
            vec2 v = f(o, k, g, b, c0, c1);
            dx[o] = st2(v);
            sum += v;
        }
        if (SUMS) {
            uint w = pcRow0() * p.c + j0;
            part[w] = sum.x;
            part[w + 1u] = sum.y;
        }
    }
}
