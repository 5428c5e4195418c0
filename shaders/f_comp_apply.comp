#version 450
// f_comp_apply: y = (x + gamma*mean) + beta per channel of the matrix x [R, C] (the
// error-compensation layer, with the batch mean or the running mean), with the
// reference's roundings (see f_perchan.glsl). The inputs are read through io.glsl.
//
// Bindings: 0 = y, 1 = x, 2 = gamma, 3 = beta, 4 = mean. Push constants {uint r, c}.
#include "io.glsl"
#include "f_perchan.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
IN_F32(1, x)
IN_F32(2, gamma)
IN_F32(3, beta)
IN_F32(4, mean)

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

float f(uint o, float g, float b) {
    precise float s = x(o) + g;
    precise float v = s + b;
    return v;
}

void main() {
    uint n = p.r * p.c, st = pcOffStep(p.c);
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        precise float g = gamma(j) * mean(j);
        float b = beta(j);
        uint o = pcOff0(j, p.c);
        for (; o + st < n; o += 2u * st) {
            float v0 = f(o, g, b), v1 = f(o + st, g, b);
            y[o] = v0;
            y[o + st] = v1;
        }
        if (o < n) {
            y[o] = f(o, g, b);
        }
    }
}
