#version 450
// f_comp_gradx: dx = dy + (gamma*dbeta)/R per channel of the matrix dy [R, C] (the
// gradient of the compensation layer through the batch mean) when TRAIN, else dx = dy
// (see f_perchan.glsl). The inputs are read through io.glsl. dx may alias dy only in the
// storage-buffer build (nn/vk falls back to it for an aliased call: a texel view need not
// see a write of the same dispatch).
//
// Bindings: 0 = dx, 1 = dy, 2 = gamma, 3 = dbeta. Push constants {uint r, c; float rf (R)}.
// Specialization: 2 = TRAIN.
#include "io.glsl"
#include "f_perchan.glsl"
layout(constant_id = 2) const bool TRAIN = true;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
IN_F32(1, dy)
IN_F32(2, gamma)
IN_F32(3, dbeta)

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

float f(uint o, float add) {
    precise float v = dy(o) + add;
    return TRAIN ? v : dy(o);
}

void main() {
    uint n = p.r * p.c, st = pcOffStep(p.c);
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        precise float g = gamma(j) * dbeta(j);
        precise float add = TRAIN ? g / p.rf : 0.0;
        uint o = pcOff0(j, p.c);
        for (; o + st < n; o += 2u * st) {
            float v0 = f(o, add), v1 = f(o + st, add);
            dx[o] = v0;
            dx[o + st] = v1;
        }
        if (o < n) {
            dx[o] = f(o, add);
        }
    }
}
