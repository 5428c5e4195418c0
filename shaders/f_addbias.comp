#version 450
// f_addbias: y[r, c] = x[r, c] + bias[c] for the matrices x, y [R, C] (see f_perchan.glsl);
// AddBias is in place: nn/vk binds y as x too (the storage-buffer build, whose invocations
// each read an element before writing it), or on CPU drivers copies y to a scratch buffer
// read as x through a texel view (NAME_tex.spv), several times cheaper there than reading
// y back through a storage buffer. x and bias are read through io.glsl.
//
// With PAIRS (C even; the launch walks C/2 column pairs) each invocation owns a pair of
// columns and writes them as one uvec2: fewer stores (nn/vk uses it with the texel reads;
// with storage-buffer reads the loads dominate and the scalar form is as fast). y is
// declared twice at binding 0 (float and uvec2 elements), one per form; uvec2 rather than
// a 64-bit word keeps the kernel free of shaderInt64.
//
// Bindings: 0 = y, 1 = bias, 2 = x. Push constants {uint r, c}. Specialization: 2 = PAIRS.
#include "io.glsl"
#include "f_perchan.glsl"
layout(constant_id = 2) const bool PAIRS = false;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 0) writeonly buffer Y2 { uvec2 y2[]; };
IN_F32(1, bias)
IN_F32(2, x)

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

// f2 returns pair o of x plus b, as bits.
uvec2 f2(uint o, vec2 b) { return floatBitsToUint(vec2(x(2u * o), x(2u * o + 1u)) + b); }

void main() {
    uint w = PAIRS ? p.c / 2u : p.c; // elements (or pairs) per row
    uint n = p.r * w, st = pcOffStep(w);
    for (uint j = pcCol0(); j < w; j += pcColStep()) {
        uint o = pcOff0(j, w);
        if (PAIRS) {
            vec2 b = vec2(bias(2u * j), bias(2u * j + 1u));
            for (; o + st < n; o += 2u * st) {
                uvec2 v0 = f2(o, b), v1 = f2(o + st, b);
                y2[o] = v0;
                y2[o + st] = v1;
            }
            if (o < n) {
                y2[o] = f2(o, b);
            }
        } else {
            float b = bias(j);
            for (; o + st < n; o += 2u * st) {
                float v0 = x(o) + b, v1 = x(o + st) + b;
                y[o] = v0;
                y[o + st] = v1;
            }
            if (o < n) {
                y[o] = x(o) + b;
            }
        }
    }
}
