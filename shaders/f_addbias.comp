#version 450
// f_addbias: y[r, c] += bias[c] for the matrix y [R, C], in place (see f_perchan.glsl).
//
// Bindings: 0 = y, 1 = bias. Push constants {uint r, c}.
#include "f_perchan.glsl"

layout(std430, set = 0, binding = 0) buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer Bias { float bias[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        float bj = bias[j];
        for (uint i = pcRow0(); i < p.r; i += pcRowStep()) {
            y[i * p.c + j] += bj;
        }
    }
}
