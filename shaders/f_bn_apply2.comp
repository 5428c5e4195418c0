#version 450
// f_bn_apply2: f_bn_apply (xhat = (x-mean)*invstd, y = gamma*xhat + beta, each product
// rounded) for even C, each invocation owning a pair of columns read and written as 64-bit
// words (see f_pair.glsl, f_perchan.glsl; the launch walks C/2 column pairs).
//
// Bindings: 0 = y, 1 = xhat, 2 = x, 3 = mean, 4 = invstd, 5 = gamma, 6 = beta.
// Push constants {uint r, c}.
#extension GL_ARB_gpu_shader_int64 : require
#include "f_perchan.glsl"
#include "f_pair.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint64_t y[]; };
layout(std430, set = 0, binding = 1) writeonly buffer XH { uint64_t xhat[]; };
layout(std430, set = 0, binding = 2) readonly buffer X { uint64_t x[]; };
layout(std430, set = 0, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 4) readonly buffer Invstd { float invstd[]; };
layout(std430, set = 0, binding = 5) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 6) readonly buffer Beta { float beta[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint cp = p.c / 2u;
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        uint j0 = 2u * j, j1 = j0 + 1u;
        vec2 m = vec2(mean[j0], mean[j1]), s = vec2(invstd[j0], invstd[j1]);
        vec2 g = vec2(gamma[j0], gamma[j1]), b = vec2(beta[j0], beta[j1]);
        for (uint i = pcRow0(); i < p.r; i += pcRowStep()) {
            uint o = i * cp + j;
            vec2 v = ld2(x[o]);
            precise float h0 = (v.x - m.x) * s.x;
            precise float h1 = (v.y - m.y) * s.y;
            precise float g0 = g.x * h0;
            precise float g1 = g.y * h1;
            precise float y0 = g0 + b.x;
            precise float y1 = g1 + b.y;
            xhat[o] = st2(vec2(h0, h1));
            y[o] = st2(vec2(y0, y1));
        }
    }
}
