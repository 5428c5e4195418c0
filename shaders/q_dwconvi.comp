#version 450
// q_dwconvi: the integer depthwise convolution (backend.Backend.DWConvI):
// acc[n,oy,ox,j] = the sum over the taps (ky, kx) inside the image of
// (x[n,iy,ix,j] - za)*wz[(ky*KW + kx)*C + j] in wrapping int32 (wz: the filters less their
// zero points, from q_dwconvi_w). Taps outside the image add nothing; they are found once
// per output (a range of ky and of kx), not tested one by one.
//
// Item i = r*G + g, r = (n*OH + oy)*OW + ox the output pixel and g the group of channels
// 4g..4g+3 (G = ceil(C/4)): an invocation computes four channels of a pixel, reading x's
// codes of a tap as one packed word where it can, in a grid-stride loop over the items,
// the coordinates stepped by the grid stride with carries.
//
// x has C*N*H*W codes in format XFMT (q_common.glsl), read by XMODE:
//   0  the four codes of group g of pixel pix are word pix*xrowWords + g (x's rows are its
//      pixels, or both its rows and C are multiples of 4: no padding inside)
//   1  one int per code (XFMT = 2), code f = pix*C + j at f
//   2  packed rows of xcols codes of any other length: code f at row f/xcols
// Channels past C (the last group when C is not a multiple of 4) read channel C-1 and are
// not stored. acc is written as one ivec4 per item when C is a multiple of 4 (OUT4).
//
// Bindings: 0 = acc, 1 = x, 2 = wz (1 and 2 read through io.glsl). Push constants as below
// (total = N*OH*OW*G). Specialization: 0 = workgroup size, 1 = XFMT, 2 = XMODE, 3 = OUT4.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint XFMT = 0u;
layout(constant_id = 2) const uint XMODE = 0u;
layout(constant_id = 3) const bool OUT4 = false;

layout(std430, set = 0, binding = 0) writeonly buffer Acc { int acc[]; };
layout(std430, set = 0, binding = 0) writeonly buffer Acc4 { ivec4 acc4[]; };
IN_U32(1, x)
IN_I32(2, wz)

layout(push_constant) uniform Push {
    uint h, w, c;
    uint kh, kw, sh, sw;
    int ph, pw;
    uint oh, ow;
    uint groups;
    uint total;
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

// split writes i as the mixed-radix digits (g, ox, oy, img) of radices (G, OW, OH).
uvec4 split(uint i) {
    uint r = i / p.groups;
    uint q = r / p.ow;
    return uvec4(i - r * p.groups, r - q * p.ow, q % p.oh, q / p.oh);
}

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uvec4 d = split(gl_GlobalInvocationID.x);
    uvec4 e = split(stride);
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += stride) {
        uint g = d.x, img = d.w;
        uint j0 = 4u * g, last = p.c - 1u;
        uint j1 = min(j0 + 1u, last), j2 = min(j0 + 2u, last), j3 = min(j0 + 3u, last);
        int iy0 = int(d.z * p.sh) - p.ph, ix0 = int(d.y * p.sw) - p.pw;
        // The taps inside the image: ky in [kylo, kyhi), kx in [kxlo, kxhi).
        uint kylo = uint(max(0, -iy0)), kyhi = uint(clamp(int(p.h) - iy0, 0, int(p.kh)));
        uint kxlo = uint(max(0, -ix0)), kxhi = uint(clamp(int(p.w) - ix0, 0, int(p.kw)));
        ivec4 s = ivec4(0);
        for (uint ky = kylo; ky < kyhi; ky++) {
            uint pix = (img * p.h + uint(iy0 + int(ky))) * p.w + uint(ix0 + int(kxlo));
            uint wi = (ky * p.kw + kxlo) * p.c;  // wz index of tap (ky, kxlo), channel 0
            for (uint kx = kxlo; kx < kxhi; kx++) {
                ivec4 xv = codes(pix, g, j0, j1, j2, j3) - p.za;
                ivec4 wv = ivec4(wz(wi + j0), wz(wi + j1), wz(wi + j2), wz(wi + j3));
                s += xv * wv;
                pix++;
                wi += p.c;
            }
        }
        uint o = ((img * p.oh + d.z) * p.ow + d.y) * p.c + j0;  // acc index of channel j0
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
        // d += e with carries: the digits of i + stride.
        d.x += e.x;
        uint cy = d.x >= p.groups ? 1u : 0u;
        d.x -= cy * p.groups;
        d.y += e.y + cy;
        cy = d.y >= p.ow ? 1u : 0u;
        d.y -= cy * p.ow;
        d.z += e.z + cy;
        cy = d.z >= p.oh ? 1u : 0u;
        d.z -= cy * p.oh;
        d.w += e.w + cy;
    }
}
