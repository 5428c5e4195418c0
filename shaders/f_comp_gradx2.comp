#version 450
// f_comp_gradx2: f_comp_gradx (dx = dy + (gamma*dbeta)/R when TRAIN, else dx = dy) for even
// C, each invocation owning a pair of columns read and written as 64-bit words (see
// f_pair.glsl, f_perchan.glsl; the launch walks C/2 column pairs). dx may alias dy.
//
// Bindings: 0 = dx, 1 = dy, 2 = gamma, 3 = dbeta. Push constants {uint r, c; float rf (R)}.
// Specialization: 2 = TRAIN.
#extension GL_ARB_gpu_shader_int64 : require
#include "f_perchan.glsl"
#include "f_pair.glsl"
layout(constant_id = 2) const bool TRAIN = true;

layout(std430, set = 0, binding = 0) writeonly buffer DX { uint64_t dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { uint64_t dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 3) readonly buffer DB { float dbeta[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

void main() {
    uint cp = p.c / 2u;
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        uint j0 = 2u * j, j1 = j0 + 1u;
        precise float g0 = gamma[j0] * dbeta[j0];
        precise float g1 = gamma[j1] * dbeta[j1];
        precise float a0 = TRAIN ? g0 / p.rf : 0.0;
        precise float a1 = TRAIN ? g1 / p.rf : 0.0;
        for (uint i = pcRow0(); i < p.r; i += pcRowStep()) {
            uint o = i * cp + j;
            vec2 d = ld2(dy[o]);
            precise float o0 = d.x + a0;
            precise float o1 = d.y + a1;
            dx[o] = TRAIN ? st2(vec2(o0, o1)) : dy[o];
        }
    }
}
