#version 450
// f_maxpoolgrad: the gradient of f_maxpool in gather form, for overlapping windows
// (stride < size). Each invocation owns one element of dx at a time and adds dy of every
// window that contains it and whose recorded maximum (arg) is that element, windows in
// increasing output order: the reference's order of additions, with no atomics. An arg
// that points outside its own window routes nothing.
//
// Launch of f_perchan.glsl over the matrix [N*H, C]: an invocation owns channel j of one
// image row (n, iy) at a time and walks its W elements, keeping ix / stride as a counter
// (no division per element). Window px contains ix when px*stride <= ix <
// px*stride + size: px <= ix/stride and px > ix/stride - SPAN, SPAN = ceil(size/stride).
//
// Bindings: 0 = dx, 1 = dy, 2 = arg (int); 1 and 2 read through io.glsl.
// Push constants {n, h, w, c, size, stride, oh, ow}. Specialization: 0 = CW, 1 = RW,
// 2 = the window size, 3 = the stride (equal to the push constants').
#include "io.glsl"
#include "f_perchan.glsl"
layout(constant_id = 2) const uint SIZE = 3;
layout(constant_id = 3) const uint STRIDE = 2;
const uint SPAN = (SIZE + STRIDE - 1u) / STRIDE;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
IN_F32(1, dy)
IN_I32(2, arg)

layout(push_constant) uniform Push {
    uint n, h, w, c, size, stride, oh, ow;
} p;

void main() {
    uint rows = p.n * p.h;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint img = r / p.h;
            uint iy = r - img * p.h;
            // Windows py with py*stride <= iy < py*stride+size.
            uint pylo = iy + 1u > SIZE ? (iy + 1u - SIZE + STRIDE - 1u) / STRIDE : 0u;
            uint pyhi = min(iy / STRIDE, p.oh - 1u);
            uint i = r * p.w * p.c + j;
            uint q = 0u, rem = 0u;  // ix = q*STRIDE + rem
            for (uint ix = 0; ix < p.w; ix++) {
                float s = 0.0;
                for (uint py = pylo; py <= pyhi; py++) {
                    uint orow = (img * p.oh + py) * p.ow;
                    for (uint t = 0u; t < SPAN; t++) {
                        // Candidates px = q - (SPAN-1) + t, in increasing order.
                        int px = int(q) - int(SPAN - 1u) + int(t);
                        if (px >= 0 && px < int(p.ow) && uint(px) * STRIDE + SIZE > ix) {
                            uint o = (orow + uint(px)) * p.c + j;
                            if (arg(o) == int(i)) {
                                s += dy(o);
                            }
                        }
                    }
                }
                dx[i] = s;
                i += p.c;
                rem++;
                if (rem == STRIDE) {
                    rem = 0u;
                    q++;
                }
            }
        }
    }
}
