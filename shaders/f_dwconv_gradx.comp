#version 450
// f_dwconv_gradx: the input gradient of f_dwconv in gather form. Each invocation owns one
// element (n, iy, ix, j) of dx at a time and adds dy[n,oy,ox,j]*w[j,ky,kx] of every output
// (oy, ox) whose window reads it, oy*SH + ky = iy + ph and ox*SW + kx = ix + pw, in
// increasing output order (oy, then ox: ky and kx walked downwards), each product rounded
// (precise): the reference's order of additions, no atomics. Elements no window reads get 0.
//
// Launch of f_perchan.glsl over the matrix [N*H*segs, C]: an invocation owns channel j, whose
// KH*KW weights it loads once into registers, and one segment of an image row (n, iy) at a
// time, walking its elements ix in [s*seg, min(W, (s+1)*seg)) (rows longer than an
// invocation may loop over are split into segs segments). KH, KW and the strides are
// specialization constants: the tap loops unroll and the divisions by the strides are by
// constants.
//
// Bindings: 0 = dx, 1 = dy, 2 = w (1 and 2 read through io.glsl). Push constants as below.
// Specialization: 0 = CW, 1 = RW, 2 = KH, 3 = KW, 4 = SH, 5 = SW (equal to the geometry's).
#include "io.glsl"
#include "f_perchan.glsl"
layout(constant_id = 2) const uint KH = 3;
layout(constant_id = 3) const uint KW = 3;
layout(constant_id = 4) const uint SH = 1;
layout(constant_id = 5) const uint SW = 1;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
IN_F32(1, dy)
IN_F32(2, w)

layout(push_constant) uniform Push {
    uint n, h, w, c;
    uint ph, pw;
    uint oh, ow;
    uint seg, segs;
} p;

void main() {
    uint rows = p.n * p.h * p.segs;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        float wr[KH * KW];
        for (uint t = 0u; t < KH * KW; t++) {
            wr[t] = w(j * KH * KW + t);
        }
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint line = r / p.segs;  // the image row n*H + iy
            uint ix0 = (r - line * p.segs) * p.seg, ix1 = min(p.w, ix0 + p.seg);
            uint img = line / p.h;
            uint ty0 = line - img * p.h + p.ph;  // iy + ph
            uint i = (line * p.w + ix0) * p.c + j;
            for (uint ix = ix0; ix < ix1; ix++) {
                uint tx0 = ix + p.pw;
                precise float s = 0.0;
                for (uint a = 0u; a < KH; a++) {
                    uint ky = KH - 1u - a;
                    // Output row oy = (iy + ph - ky) / SH, when that is whole and in range.
                    uint ty = ty0 - ky;
                    uint oy = ty / SH;
                    bool rowIn = ty0 >= ky && ty == oy * SH && oy < p.oh;
                    uint orow = (img * p.oh + oy) * p.ow;
                    for (uint b = 0u; b < KW; b++) {
                        uint kx = KW - 1u - b;
                        uint tx = tx0 - kx;
                        uint ox = tx / SW;
                        if (rowIn && tx0 >= kx && tx == ox * SW && ox < p.ow) {
                            s += dy((orow + ox) * p.c + j) * wr[ky * KW + kx];
                        }
                    }
                }
                dx[i] = s;
                i += p.c;
            }
        }
    }
}
