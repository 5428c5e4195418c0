#version 450
// f_comp_apply: y = (x + gamma*mean) + beta per channel of the matrix x [R, C] (the
// error-compensation layer, with the batch mean or the running mean), with the
// reference's roundings (see f_perchan.glsl).
//
// Bindings: 0 = y, 1 = x, 2 = gamma, 3 = beta, 4 = mean. Push constants {uint r, c}.
#include "f_perchan.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 3) readonly buffer Beta { float beta[]; };
layout(std430, set = 0, binding = 4) readonly buffer Mean { float mean[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        precise float g = gamma[j] * mean[j];
        float bj = beta[j];
        for (uint i = pcRow0(); i < p.r; i += pcRowStep()) {
            uint o = i * p.c + j;
            precise float s = x[o] + g;
            y[o] = s + bj;
        }
    }
}
