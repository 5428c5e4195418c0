#version 450
// f_dwconv: the float depthwise convolution (backend.ConvGeom with the filters w [C, KH, KW]):
// y[n,oy,ox,j] = the float32 sum over the taps (ky, kx) inside the image, in row-major
// order, of x[n,iy,ix,j]*w[j,ky,kx], iy = oy*sh - ph + ky, ix = ox*sw - pw + kx; each
// product rounded before it is added (precise: no fused multiply-add), as the reference.
//
// Launch of f_perchan.glsl over the matrix [N*OH*segs, C]: an invocation owns channel j,
// whose KH*KW weights it loads once into registers (KH and KW are specialization constants,
// so the tap loops unroll and index the weights with constants), and one segment of an
// output row (n, oy) at a time, walking its outputs ox in [s*seg, min(OW, (s+1)*seg));
// a tap outside the image is skipped. (Rows longer than an invocation may loop over are
// split into segs segments.)
//
// Bindings: 0 = y, 1 = x, 2 = w (1 and 2 read through io.glsl). Push constants as below.
// Specialization: 0 = CW, 1 = RW, 2 = KH, 3 = KW (equal to the geometry's).
#include "io.glsl"
#include "f_perchan.glsl"
layout(constant_id = 2) const uint KH = 3;
layout(constant_id = 3) const uint KW = 3;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
IN_F32(1, x)
IN_F32(2, w)

layout(push_constant) uniform Push {
    uint n, h, w, c;
    uint sh, sw;
    int ph, pw;
    uint oh, ow;
    uint seg, segs;
} p;

void main() {
    uint rows = p.n * p.oh * p.segs;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        float wr[KH * KW];
        for (uint t = 0u; t < KH * KW; t++) {
            wr[t] = w(j * KH * KW + t);
        }
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint line = r / p.segs;  // the output row n*OH + oy
            uint ox0 = (r - line * p.segs) * p.seg, ox1 = min(p.ow, ox0 + p.seg);
            uint img = line / p.oh;
            int iy0 = int((line - img * p.oh) * p.sh) - p.ph;
            uint o = (line * p.ow + ox0) * p.c + j;
            int ix0 = int(ox0 * p.sw) - p.pw;
            for (uint ox = ox0; ox < ox1; ox++) {
                precise float s = 0.0;
                for (uint ky = 0u; ky < KH; ky++) {
                    int iy = iy0 + int(ky);
                    uint row = (img * p.h + uint(iy)) * p.w;
                    for (uint kx = 0u; kx < KW; kx++) {
                        int ix = ix0 + int(kx);
                        if (uint(iy) < p.h && uint(ix) < p.w) {
                            s += x((row + uint(ix)) * p.c + j) * wr[ky * KW + kx];
                        }
                    }
                }
                y[o] = s;
                o += p.c;
                ix0 += int(p.sw);
            }
        }
    }
}
