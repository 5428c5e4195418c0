#version 450
// f_maxpoolgrad: the gradient of f_maxpool in gather form, for overlapping windows
// (stride < size). Each invocation owns one element of dx at a time and adds dy of every
// window that contains it and whose recorded maximum (arg) is that element, windows in
// increasing output order: the reference's order of additions, with no atomics. An arg
// that points outside its own window routes nothing.
//
// Launch of f_perchan.glsl over the matrix [N*H, C]: an invocation owns channel j of one
// image row (n, iy) at a time and walks its W elements.
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
    uint rows = p.n * p.h;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint img = r / p.h;
            uint iy = r % p.h;
            // Windows py with py*stride <= iy < py*stride+size, likewise px.
            uint pylo = iy + 1u > p.size ? (iy + 1u - p.size + p.stride - 1u) / p.stride : 0u;
            uint pyhi = min(iy / p.stride, p.oh - 1u);
            for (uint ix = 0; ix < p.w; ix++) {
                uint i = (r * p.w + ix) * p.c + j;
                uint pxlo = ix + 1u > p.size ? (ix + 1u - p.size + p.stride - 1u) / p.stride : 0u;
                uint pxhi = min(ix / p.stride, p.ow - 1u);
                float s = 0.0;
                for (uint py = pylo; py <= pyhi; py++) {
                    for (uint px = pxlo; px <= pxhi; px++) {
                        uint o = ((img * p.oh + py) * p.ow + px) * p.c + j;
                        if (arg[o] == int(i)) {
                            s += dy[o];
                        }
                    }
                }
                dx[i] = s;
            }
        }
    }
}
