#version 450
// f_comp_apply2: f_comp_apply (y = (x + gamma*mean) + beta, each step rounded) for even C,
// each invocation owning a pair of columns, x read as pairs (IN_PAIR) and y written as
// 64-bit words (see f_pair.glsl, f_perchan.glsl; the launch walks C/2 column pairs). The
// per-channel inputs are read through io.glsl.
//
// Bindings: 0 = y, 1 = x, 2 = gamma, 3 = beta, 4 = mean. Push constants {uint r, c}.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_perchan.glsl"
#include "f_pair.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint64_t y[]; };
IN_PAIR(1, x)
IN_F32(2, gamma)
IN_F32(3, beta)
IN_F32(4, mean)

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

uint64_t f(uint o, vec2 g, vec2 b) {
    vec2 v = ld2(x(o));
    precise float s0 = v.x + g.x;
    precise float s1 = v.y + g.y;
    precise float y0 = s0 + b.x;
    precise float y1 = s1 + b.y;
    return st2(vec2(y0, y1));
}

void main() {
    uint cp = p.c / 2u;
    uint n = p.r * cp, st = pcOffStep(cp);
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        uint j0 = 2u * j, j1 = j0 + 1u;
        precise float g0 = gamma(j0) * mean(j0);
        precise float g1 = gamma(j1) * mean(j1);
        vec2 g = vec2(g0, g1), b = vec2(beta(j0), beta(j1));
        uint o = pcOff0(j, cp);
        for (; o + st < n; o += 2u * st) {
            uint64_t v0 = f(o, g, b), v1 = f(o + st, g, b);
            y[o] = v0;
            y[o + st] = v1;
        }
        if (o < n) {
            y[o] = f(o, g, b);
        }
    }
}
