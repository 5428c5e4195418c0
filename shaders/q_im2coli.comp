#version 450
// q_im2coli: the im2col matrix [rows, K] of the Q8 NHWC image x (format XFMT, read as rows
// of xcols codes) with pad outside the image, into cols: packed words (OFMT 0 or 1, rows
// padded to rowWords words with code 0) or one int per code (OFMT 2). Column
// k = (kh*KW+kw)*C+c, row r = (n*OH+oh)*OW+ow (backend.ConvGeom).
//
// Invocation g owns item j = g mod items (a word, or a code when OFMT 2) of the rows
// g / items + i*rowStep, rowStep = floor(invocations / items) (invocations past
// rowStep*items idle): it places the item's codes (kh, kw, c) once, and a row costs two qdivs
// (its image and output position; no integer division, which CPU drivers scalarize) and a
// read per code; two rows per loop iteration (on CPU drivers such as lavapipe each assignment
// of a loop-carried variable costs a masked store). (A 2-D workgroup of items by rows ran
// about half as fast on lavapipe.)
// x's rows are its pixels (xcols = C codes each), so a code is found without dividing by
// xcols. x is read through io.glsl (a texel buffer in the texel build).
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
    return q8byte(x(pix * p.xrowWords + (c >> 2u)), c & 3u, XFMT);
}

// Tap is the window offset (kh, kw) and channel c of one code of an item.
struct Tap {
    int kh, kw;
    uint c;
};

// Pos is the output position of one im2col row: image img, top-left input corner (y0, x0).
struct Pos {
    uint img;
    int y0, x0;
};

Pos rowPos(uint r) {
    uint img = qdiv(r, p.OH * p.OW);
    uint rem = r - img * p.OH * p.OW;
    uint oy = qdiv(rem, p.OW), ox = rem - oy * p.OW;
    return Pos(img, int(oy * p.SH) - p.PH, int(ox * p.SW) - p.PW);
}

// code returns the code of tap t at position ps: pad outside the image.
uint code(Pos ps, Tap t) {
    int iy = ps.y0 + t.kh, ix = ps.x0 + t.kw;
    bool inside = iy >= 0 && iy < int(p.H) && ix >= 0 && ix < int(p.W);
    // Outside the image read pixel 0 (any in-range read), then take pad.
    uint pix = inside ? (ps.img * p.H + uint(iy)) * p.W + uint(ix) : 0u;
    return uint(inside ? xcode(pix, t.c) : p.pad);
}

// next returns the tap after t along a row.
Tap next(Tap t) {
    t.c++;
    bool wrapC = t.c == p.C;
    t.c = wrapC ? 0u : t.c;
    t.kw = wrapC ? t.kw + 1 : t.kw;
    bool wrapW = t.kw == int(p.KW);
    t.kw = wrapW ? 0 : t.kw;
    t.kh = wrapW ? t.kh + 1 : t.kh;
    return t;
}

// rowItem returns the item of row r with taps t0..t3 (code k masked by mk).
uint rowItem(uint r, Tap t0, Tap t1, Tap t2, Tap t3, uint m1, uint m2, uint m3) {
    Pos ps = rowPos(r);
    if (OFMT == Q8_WIDE) {
        return code(ps, t0);
    }
    return (code(ps, t0) & 0xffu) | ((code(ps, t1) << 8u) & m1) | ((code(ps, t2) << 16u) & m2) |
        ((code(ps, t3) << 24u) & m3);
}

void main() {
    // See the header: item j of rows r, r + rowStep, ...
    uint items = OFMT == Q8_WIDE ? p.K : p.rowWords;
    uint g = gl_GlobalInvocationID.x;
    uint rowStep = qdiv(gl_NumWorkGroups.x * gl_WorkGroupSize.x, items);
    uint r = qdiv(g, items);
    uint j = g - r * items;
    if (r >= rowStep) {
        return;
    }
    // Place the item's codes once (explicit variables: arrays indexed in loops can end up
    // in per-lane stack memory on CPU drivers).
    uint k0 = OFMT == Q8_WIDE ? j : 4u * j;
    uint n = OFMT == Q8_WIDE ? 1u : min(p.K - k0, 4u);
    uint kh = qdiv(k0, p.KW * p.C);
    uint t = k0 - kh * p.KW * p.C;
    uint kw = qdiv(t, p.C);
    Tap t0 = Tap(int(kh), int(kw), t - kw * p.C);
    Tap t1 = next(t0), t2 = next(t1), t3 = next(t2);
    // Codes past the row's end (masked out) read channel 0, or take pad.
    t1.c = n > 1u ? t1.c : 0u;
    t2.c = n > 2u ? t2.c : 0u;
    t3.c = n > 3u ? t3.c : 0u;
    uint m1 = n > 1u ? 0xff00u : 0u, m2 = n > 2u ? 0xff0000u : 0u, m3 = n > 3u ? 0xff000000u : 0u;
    // Two rows per loop iteration (on CPU drivers such as lavapipe each assignment of a
    // loop-carried variable costs a masked store).
    for (; r + rowStep < p.rows; r += 2u * rowStep) {
        uint a = rowItem(r, t0, t1, t2, t3, m1, m2, m3), b = rowItem(r + rowStep, t0, t1, t2, t3, m1, m2, m3);
        cols[r * items + j] = a;
        cols[(r + rowStep) * items + j] = b;
    }
    if (r < p.rows) {
        cols[r * items + j] = rowItem(r, t0, t1, t2, t3, m1, m2, m3);
    }
}
