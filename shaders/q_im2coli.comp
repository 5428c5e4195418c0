#version 450
// q_im2coli: the im2col matrix [rows, K] of the Q8 NHWC image x (format XFMT, read as rows
// of xcols codes) with pad outside the image, into cols: packed words (OFMT 0 or 1, one
// invocation per word, rows padded to rowWords words with code 0) or one int per code
// (OFMT 2). Column k = (kh*KW+kw)*C+c, row r = (n*OH+oh)*OW+ow (backend.ConvGeom).
// x's rows are its pixels (xcols = C codes each), so a code is found without dividing by
// xcols; the other divisions use qdiv (no integer division, which CPU drivers scalarize).
// x is read through io.glsl (a texel buffer in the texel build).
//
// Bindings: 0 = x, 1 = cols. Push constants as below.
// Specialization: 0 = workgroup size, 1 = XFMT, 2 = OFMT.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint XFMT = 0u;
layout(constant_id = 2) const uint OFMT = 0u;

IN_U32(0, x)
layout(std430, set = 0, binding = 1) writeonly buffer Cols { uint cols[]; };

layout(push_constant) uniform Push {
    uint H, W, C;
    uint KW;
    uint SH, SW;
    int PH, PW;
    uint OH, OW;
    uint K;
    uint rows;
    uint rowWords;
    uint xcols;
    uint xrowWords;
    int pad;
} p;

// xcode returns code c of pixel pix of x (x's row pix, of C = xcols codes).
int xcode(uint pix, uint c) {
    if (XFMT == Q8_WIDE) {
        return int(x(pix * p.C + c));
    }
    return q8byte(x(pix * p.xrowWords + c / 4u), c % 4u, XFMT);
}

// Pixel is the output position of one im2col row: image n, top-left input corner (y0, x0).
struct Pixel {
    uint n;
    int y0, x0;
};

Pixel pixel(uint r) {
    uint n = qdiv(r, p.OH * p.OW);
    uint rem = r - n * p.OH * p.OW;
    uint oy = qdiv(rem, p.OW), ox = rem - oy * p.OW;
    return Pixel(n, int(oy * p.SH) - p.PH, int(ox * p.SW) - p.PW);
}

// code returns entry (kh, kw, c) of the row at px.
int code(Pixel px, uint kh, uint kw, uint c) {
    int iy = px.y0 + int(kh);
    int ix = px.x0 + int(kw);
    if (iy < 0 || iy >= int(p.H) || ix < 0 || ix >= int(p.W)) {
        return p.pad;
    }
    return xcode((px.n * p.H + uint(iy)) * p.W + uint(ix), c);
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (OFMT == Q8_WIDE) {
        uint n = p.rows * p.K;
        for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {
            uint r = qdiv(i, p.K);
            uint k = i - r * p.K;
            uint kh = qdiv(k, p.KW * p.C);
            uint t = k - kh * p.KW * p.C;
            uint kw = qdiv(t, p.C);
            cols[i] = uint(code(pixel(r), kh, kw, t - kw * p.C));
        }
        return;
    }
    uint words = p.rows * p.rowWords;
    for (uint w = gl_GlobalInvocationID.x; w < words; w += step) {
        uint r = qdiv(w, p.rowWords);
        uint k0 = (w - r * p.rowWords) * 4u;
        Pixel px = pixel(r);
        // Decompose k0 once, then step (kh, kw, c) along the row.
        uint kh = qdiv(k0, p.KW * p.C);
        uint t = k0 - kh * p.KW * p.C;
        uint kw = qdiv(t, p.C), c = t - kw * p.C;
        uint word = 0u;
        for (uint j = 0u; j < 4u && k0 + j < p.K; j++) {
            word |= (uint(code(px, kh, kw, c)) & 0xffu) << (8u * j);
            if (++c == p.C) {
                c = 0u;
                if (++kw == p.KW) {
                    kw = 0u;
                    kh++;
                }
            }
        }
        cols[w] = word;
    }
}
