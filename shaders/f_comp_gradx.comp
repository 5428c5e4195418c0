#version 450
// f_comp_gradx: dx = dy + (gamma*dbeta)/R per channel of the matrix dy [R, C] (the
// gradient of the compensation layer through the batch mean) when TRAIN, else dx = dy
// (see f_perchan.glsl). dx may alias dy.
//
// Bindings: 0 = dx, 1 = dy, 2 = gamma, 3 = dbeta. Push constants {uint r, c; float rf (R)}.
// Specialization: 2 = TRAIN.
#include "f_perchan.glsl"
layout(constant_id = 2) const bool TRAIN = true;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 3) readonly buffer DB { float dbeta[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

void main() {
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        precise float g = gamma[j] * dbeta[j];
        precise float add = TRAIN ? g / p.rf : 0.0;
        for (uint i = pcRow0(); i < p.r; i += pcRowStep()) {
            uint o = i * p.c + j;
            dx[o] = TRAIN ? dy[o] + add : dy[o];
        }
    }
}
