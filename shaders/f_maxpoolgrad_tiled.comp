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
// Bindings: 0 = dx, 1 = dy, 2 = arg (int); 1 and 2 read through io.glsl.
// Push constants {n, h, w, c, size, stride, oh, ow}. Specialization: 0 = CW, 1 = RW,
// 2 = the window size (as f_maxpool).
#include "io.glsl"
#include "f_perchan.glsl"
layout(constant_id = 2) const uint SIZE = 2;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
IN_F32(1, dy)
IN_I32(2, arg)

layout(push_constant) uniform Push {
    uint n, h, w, c, size, stride, oh, ow;
} p;

void main() {
    uint rows = p.n * p.oh;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint img = r / p.oh;
            uint py = r - img * p.oh;
            uint top = ((img * p.h + py * p.stride) * p.w) * p.c + j;
            uint o = r * p.ow * p.c + j;
            for (uint px = 0; px < p.ow; px++) {
                int a = arg(o);
                precise float v = 0.0 + dy(o);
                uint left = top + px * p.stride * p.c;
                for (uint ky = 0; ky < SIZE; ky++) {
                    uint rowi = left + ky * p.w * p.c;
                    for (uint kx = 0; kx < SIZE; kx++) {
                        uint idx = rowi + kx * p.c;
                        dx[idx] = int(idx) == a ? v : 0.0;
                    }
                }
                o += p.c;
            }
        }
    }
}
