#version 450
// f_comp_apply2: f_comp_apply (y = (x + gamma*mean) + beta, each step rounded) for even C,
// each invocation owning a pair of columns read and written as 64-bit words (see
// f_pair.glsl, f_perchan.glsl; the launch walks C/2 column pairs).
//
// Bindings: 0 = y, 1 = x, 2 = gamma, 3 = beta, 4 = mean. Push constants {uint r, c}.
#extension GL_ARB_gpu_shader_int64 : require
#include "f_perchan.glsl"
#include "f_pair.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint64_t y[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { uint64_t x[]; };
layout(std430, set = 0, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 3) readonly buffer Beta { float beta[]; };
layout(std430, set = 0, binding = 4) readonly buffer Mean { float mean[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint cp = p.c / 2u;
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        uint j0 = 2u * j, j1 = j0 + 1u;
        precise float g0 = gamma[j0] * mean[j0];
        precise float g1 = gamma[j1] * mean[j1];
        vec2 b = vec2(beta[j0], beta[j1]);
        for (uint i = pcRow0(); i < p.r; i += pcRowStep()) {
            uint o = i * cp + j;
            vec2 v = ld2(x[o]);
            precise float s0 = v.x + g0;
            precise float s1 = v.y + g1;
            precise float y0 = s0 + b.x;
            precise float y1 = s1 + b.y;
            y[o] = st2(vec2(y0, y1));
        }
    }
}
