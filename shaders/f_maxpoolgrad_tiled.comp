#version 450
// f_maxpoolgrad_tiled: the gradient of f_maxpool for windows that do not overlap
// (stride >= size), in scatter form: each invocation owns one output element at a time and
// writes the size x size elements of its window in dx, dy (plus 0, as the reference adds it
// to a zeroed dx) at the recorded maximum and 0 elsewhere. Every element of dx lies in at
// most one window, so there are no conflicts; elements in no window must be zeroed before.
// An arg that points outside its own window routes nothing.
//
// Launch of f_perchan.glsl over the matrix [N*OH, C], as f_maxpool.
//
// Bindings: 0 = dx, 1 = dy, 2 = arg (int). Push constants {n, h, w, c, size, stride, oh, ow}.
#include "f_perchan.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer Arg { int arg[]; };

layout(push_constant) uniform Push {
    uint n, h, w, c, size, stride, oh, ow;
} p;

void main() {
    uint rows = p.n * p.oh;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint img = r / p.oh;
            uint py = r % p.oh;
            uint top = ((img * p.h + py * p.stride) * p.w) * p.c + j;
            for (uint px = 0; px < p.ow; px++) {
                uint o = (r * p.ow + px) * p.c + j;
                int a = arg[o];
                precise float v = 0.0 + dy[o];
                for (uint ky = 0; ky < p.size; ky++) {
                    uint rowi = top + (ky * p.w + px * p.stride) * p.c;
                    for (uint kx = 0; kx < p.size; kx++) {
                        uint idx = rowi + kx * p.c;
                        dx[idx] = int(idx) == a ? v : 0.0;
                    }
                }
            }
        }
    }
}
