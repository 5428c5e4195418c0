#version 450
// f_comp_gradx2: f_comp_gradx (dx = dy + (gamma*dbeta)/R when TRAIN, else dx = dy) for even
// C, each invocation owning a pair of columns, dy read as pairs (IN_PAIR) and dx written as
// 64-bit words (see f_pair.glsl, f_perchan.glsl; the launch walks C/2 column pairs). The
// per-channel inputs are read through io.glsl. dx may alias dy only in the storage-buffer
// build (nn/vk falls back to it for an aliased call).
//
// Bindings: 0 = dx, 1 = dy, 2 = gamma, 3 = dbeta. Push constants {uint r, c; float rf (R)}.
// Specialization: 2 = TRAIN.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_perchan.glsl"
#include "f_pair.glsl"
layout(constant_id = 2) const bool TRAIN = true;

layout(std430, set = 0, binding = 0) writeonly buffer DX { uint64_t dx[]; };
IN_PAIR(1, dy)
IN_F32(2, gamma)
IN_F32(3, dbeta)

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

uint64_t f(uint o, vec2 a) {
    uvec2 w = dy(o);
    vec2 d = ld2(w);
    precise float o0 = d.x + a.x;
    precise float o1 = d.y + a.y;
    return TRAIN ? st2(vec2(o0, o1)) : packUint2x32(w);
}

void main() {
    uint cp = p.c / 2u;
    uint n = p.r * cp, st = pcOffStep(cp);
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        uint j0 = 2u * j, j1 = j0 + 1u;
        precise float g0 = gamma(j0) * dbeta(j0);
        precise float g1 = gamma(j1) * dbeta(j1);
        precise float a0 = TRAIN ? g0 / p.rf : 0.0;
        precise float a1 = TRAIN ? g1 / p.rf : 0.0;
        vec2 a = vec2(a0, a1);
        uint o = pcOff0(j, cp);
        for (; o + st < n; o += 2u * st) {
            uint64_t v0 = f(o, a), v1 = f(o + st, a);
            dx[o] = v0;
            dx[o + st] = v1;
        }
        if (o < n) {
            dx[o] = f(o, a);
        }
    }
}
