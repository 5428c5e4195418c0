#version 450
// q_dwconvi: the integer depthwise convolution (backend.Backend.DWConvI):
// acc[n,oy,ox,j] = the sum over the taps (ky, kx) inside the image of
// (x[n,iy,ix,j] - za)*wz[(ky*KW + kx)*C + j] in wrapping int32 (wz: the filters less their
// zero points, from q_dwconvi_w), iy = oy*sh - ph + ky, ix = ox*sw - pw + kx. Taps outside
// the image add nothing.
//
// Launch of f_perchan.glsl over the matrix [N*OH*segs, G], G = ceil(C/4): an invocation owns
// the group g of channels 4g..4g+3, whose KH*KW filter taps it loads once into registers (KH
// and KW are specialization constants: the tap loops unroll and index them with constants),
// and one segment of an output row (n, oy) at a time, walking its outputs ox in
// [s*seg, min(OW, (s+1)*seg)) (rows longer than an invocation may loop over are split into
// segs segments); per tap it reads the group's four codes, as one packed word where the
// layout allows.
//
// x has C*N*H*W codes in format XFMT (q_common.glsl), read by XMODE:
//   0  the four codes of group g of pixel pix are word pix*xrowWords + g (x's rows are its
//      pixels, or both its rows and C are multiples of 4: no padding inside)
//   1  one int per code (XFMT = 2), code f = pix*C + j at f
//   2  packed rows of xcols codes of any other length: code f at row f/xcols
// Channels past C (the last group when C is not a multiple of 4) read channel C-1 and are
// not stored. acc is written as one ivec4 per output when C is a multiple of 4 (OUT4).
//
// Bindings: 0 = acc, 1 = x, 2 = wz (1 and 2 read through io.glsl). Push constants as below.
// Specialization: 0 = CW, 1 = RW, 2 = KH, 3 = KW, 4 = XFMT, 5 = XMODE, 6 = OUT4.
#include "io.glsl"
#include "q_common.glsl"
#include "f_perchan.glsl"
layout(constant_id = 2) const uint KH = 3;
layout(constant_id = 3) const uint KW = 3;
layout(constant_id = 4) const uint XFMT = 0u;
layout(constant_id = 5) const uint XMODE = 0u;
layout(constant_id = 6) const bool OUT4 = false;

layout(std430, set = 0, binding = 0) writeonly buffer Acc { int acc[]; };
layout(std430, set = 0, binding = 0) writeonly buffer Acc4 { ivec4 acc4[]; };
IN_U32(1, x)
IN_I32(2, wz)

layout(push_constant) uniform Push {
    uint n, h, w, c;
    uint sh, sw;
    int ph, pw;
    uint oh, ow;
    uint seg, segs;
    uint groups;
    uint xcols, xrowWords;
    int za;
} p;

// code returns channel j of pixel pix of x (XMODE 1 or 2).
int code(uint pix, uint j) {
    uint f = pix * p.c + j;
    if (XMODE == 1u) {
        return int(x(f));
    }
    uint row = f / p.xcols, col = f - row * p.xcols;
    return q8byte(x(row * p.xrowWords + (col >> 2u)), col & 3u, XFMT);
}

// codes returns the codes of channels j0..j3 (group g) of pixel pix.
ivec4 codes(uint pix, uint g, uint j0, uint j1, uint j2, uint j3) {
    if (XMODE == 0u) {
        return q8word(x(pix * p.xrowWords + g), XFMT);
    }
    return ivec4(code(pix, j0), code(pix, j1), code(pix, j2), code(pix, j3));
}

void main() {
    uint rows = p.n * p.oh * p.segs;
    for (uint g = pcCol0(); g < p.groups; g += pcColStep()) {
        uint j0 = 4u * g, last = p.c - 1u;
        uint j1 = min(j0 + 1u, last), j2 = min(j0 + 2u, last), j3 = min(j0 + 3u, last);
        ivec4 wr[KH * KW];
        for (uint t = 0u; t < KH * KW; t++) {
            uint wi = t * p.c;
            wr[t] = ivec4(wz(wi + j0), wz(wi + j1), wz(wi + j2), wz(wi + j3));
        }
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint line = r / p.segs;  // the output row n*OH + oy
            uint ox0 = (r - line * p.segs) * p.seg, ox1 = min(p.ow, ox0 + p.seg);
            uint img = line / p.oh;
            int iy0 = int((line - img * p.oh) * p.sh) - p.ph;
            uint o = (line * p.ow + ox0) * p.c + j0;  // acc index of output ox0, channel j0
            int ix0 = int(ox0 * p.sw) - p.pw;
            for (uint ox = ox0; ox < ox1; ox++) {
                ivec4 s = ivec4(0);
                for (uint ky = 0u; ky < KH; ky++) {
                    int iy = iy0 + int(ky);
                    uint row = (img * p.h + uint(iy)) * p.w;
                    for (uint kx = 0u; kx < KW; kx++) {
                        int ix = ix0 + int(kx);
                        if (uint(iy) < p.h && uint(ix) < p.w) {
                            s += (codes(row + uint(ix), g, j0, j1, j2, j3) - p.za) * wr[ky * KW + kx];
                        }
                    }
                }
                if (OUT4) {
                    acc4[o >> 2u] = s;
                } else {
                    acc[o] = s.x;
                    if (j0 + 1u < p.c) {
                        acc[o + 1u] = s.y;
                    }
                    if (j0 + 2u < p.c) {
                        acc[o + 2u] = s.z;
                    }
                    if (j0 + 3u < p.c) {
                        acc[o + 3u] = s.w;
                    }
                }
                o += p.c;
                ix0 += int(p.sw);
            }
        }
    }
}
