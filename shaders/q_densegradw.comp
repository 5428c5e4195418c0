#version 450
// q_densegradw: DenseGradWQ (see backend.FusedWeightGrad) in one dispatch: for dy [rows, nout],
// the input codes qx [rows, k] (format FMT, per-tensor xs, xz) and the weights w [nout, k],
//   dWHat[o,c] = sum over r of dy[r,o]·x̂[r,c], x̂ = xs·float(qx-xz) (dequantized on load;
//                computed as xs times the sum of dy[r,o]·float(qx[r,c]-xz)),
//   gw, dScale, dZero: QuantGrad's rule (q_quantgrad's arithmetic) applied to w and dWHat,
//   db[o] = sum over r of dy[r,o] (HAS_DB),
// without storing x̂ or dWHat.
//
// Workgroup g owns the TO rows o0 = g·TO .. o0+TO-1 of dW (rows past nout are clamped for loads
// and not stored; with more groups of rows than workgroups, workgroups loop over them) and walks the whole of k in blocks of WX·TW items of qx's rows (an item: a
// packed word of four codes, or four codes when wide): invocation l of the workgroup takes the
// TW items blk + t·WX + l (t < TW) of each block. Per block it sums over r into a register tile
// of TO×TW vec4 accumulators (one variable each, unrolled by macros: an array indexed in loops
// becomes per-lane stack traffic on CPU drivers), two rows r per loop iteration (lavapipe pays
// a masked store per assignment of a loop-carried variable, so each accumulator is assigned
// once per iteration, the two rows' products added first; r in passes of RCHUNK rows), then applies QuantGrad's rule to
// its elements: gw written, the dScale and dZero terms added to per-row sums that the block
// loop carries. The invocations' sums are then added per row in invocation order (PERT 0:
// written to ds[o] and dz[o], -0 as +0 like q_quantgrad's one-pass form) or, for a per-tensor
// ws (PERT 1), over the workgroup's rows into ds[2g], ds[2g+1] (ds bound to scratch: partials
// that q_quantgrad PASS 1 adds). The sum over r is in increasing r (in pairs), its order per
// element the backend's; on CPU drivers large tiles win because every load (a gather) costs
// tens of multiply-adds, on GPUs the launch takes TO = TW = 1 (many workgroups).
//
// Bindings: 0 = dy, 1 = qx, 2 = w, 3 = prm (prm[off + c] = inv bits, prm[off + nch + c] = zero
// point, prm[off + 2*nch + c] = scale bits of ws's channel c), all read through io.glsl
// (texel buffers in the texel build); 4 = gw (also viewed as vec4s), 5 = ds, 6 = dz (not written with PERT), 7 = db
// (not written unless HAS_DB). Push constants as below.
// Specialization: 0 = WX (workgroup size), 1 = TO (1..16), 2 = TW (1..4), 3 = FMT, 4 = PERT,
// 5 = HAS_DB, 6 = VEC (k a multiple of 4: gw's rows are whole vec4s).
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WX = 8u;
layout(constant_id = 1) const uint TO = 16u;
layout(constant_id = 2) const uint TW = 4u;
layout(constant_id = 3) const uint FMT = 0u;
layout(constant_id = 4) const uint PERT = 0u;
layout(constant_id = 5) const uint HAS_DB = 1u;
layout(constant_id = 6) const uint VEC = 0u;

IN_F32(0, dy)
IN_U32(1, qx)
IN_F32(2, w)
IN_U32(3, prm)
layout(std430, set = 0, binding = 4) writeonly buffer GW { float gw[]; };
layout(std430, set = 0, binding = 4) writeonly buffer GW4 { vec4 gw4[]; };
layout(std430, set = 0, binding = 5) writeonly buffer DS { float ds[]; };
layout(std430, set = 0, binding = 6) writeonly buffer DZ { float dz[]; };
layout(std430, set = 0, binding = 7) writeonly buffer DB { float db[]; };

layout(push_constant) uniform Push {
    uint rows;     // R
    uint nout;     // Out
    uint groups;   // ceil(nout / TO)
    uint k;        // K
    uint items;    // items per row of qx: ceil(k/4)
    uint rowWords; // words per packed row of qx
    uint off;      // ws's constants in prm
    uint nch;      // ws's channels (1 or nout)
    int qmin;
    int qmax;
    float xs;
    int xz;
} p;

// xitem returns the four codes minus the zero point, as floats, of item it (clamped to the
// row) of row r of qx: packed, one word; wide, four codes (clamped to the row's last). x̂ is
// xs times them: the scale is applied to the sums (dWHat = xs·sum of dy·(q-xz)).
vec4 xitem(uint r, uint it) {
    it = min(it, p.items - 1u);
    ivec4 c;
    if (FMT == Q8_WIDE) {
        uint i = r * p.k + 4u * it, last = r * p.k + p.k - 1u;
        c = ivec4(int(qx(i)), int(qx(min(i + 1u, last))), int(qx(min(i + 2u, last))), int(qx(min(i + 3u, last))));
    } else {
        c = q8word(qx(r * p.rowWords + it), FMT);
    }
    return vec4(c - ivec4(p.xz));
}

// Chan holds the constants of a row's channel of ws.
struct Chan {
    float inv, s, lowT, highT;
    int z;
};

Chan chan(uint o) {
    uint c = p.nch == 1u ? 0u : o;
    Chan ch;
    ch.inv = uintBitsToFloat(prm(p.off + c));
    ch.z = int(prm(p.off + p.nch + c));
    ch.s = uintBitsToFloat(prm(p.off + 2u * p.nch + c));
    ch.lowT = float(p.qmin - ch.z);
    ch.highT = float(p.qmax - ch.z);
    return ch;
}

// term returns gw of one element of weight wv and gradient gv (0 outside the matrix) and
// adds its terms to sumS and sumZ: q_quantgrad's elem.
float term(float wv, float gv, Chan ch, inout float sumS, inout float sumZ) {
    precise float q = wv * ch.inv;
    float r = roundAway(q);
    precise float v = r + float(ch.z);
    bool low = v < float(p.qmin), high = v > float(p.qmax);
    bool clipped = low || high;
    precise float e = r - q;
    precise float t = gv * (low ? ch.lowT : (high ? ch.highT : e));
    precise float u = gv * ch.s;
    sumS += t;
    sumZ = clipped ? sumZ - u : sumZ;
    return clipped ? 0.0 : gv;
}

// epi applies QuantGrad's rule to the four elements (o, 4·it..4·it+3) of dWHat = xs·acc
// where inside the matrix: gw written (one vec4 store with VEC), their terms added to sumS
// and sumZ.
void epi(uint o, uint it, vec4 acc, Chan ch, inout float sumS, inout float sumZ) {
    if (o >= p.nout || it >= p.items) {
        return;
    }
    uint k0 = 4u * it;
    uint i0 = o * p.k + k0, last = o * p.k + p.k - 1u;
    bvec4 in4 = lessThan(uvec4(k0) + uvec4(0u, 1u, 2u, 3u), uvec4(p.k));
    vec4 g = p.xs * acc;
    g = vec4(in4.x ? g.x : 0.0, in4.y ? g.y : 0.0, in4.z ? g.z : 0.0, in4.w ? g.w : 0.0);
    vec4 d;
    d.x = term(w(i0), g.x, ch, sumS, sumZ);
    d.y = term(w(min(i0 + 1u, last)), g.y, ch, sumS, sumZ);
    d.z = term(w(min(i0 + 2u, last)), g.z, ch, sumS, sumZ);
    d.w = term(w(min(i0 + 3u, last)), g.w, ch, sumS, sumZ);
    if (VEC != 0u) {
        gw4[i0 >> 2u] = d;
        return;
    }
    gw[i0] = d.x;
    if (in4.y) {
        gw[i0 + 1u] = d.y;
    }
    if (in4.z) {
        gw[i0 + 2u] = d.z;
    }
    if (in4.w) {
        gw[i0 + 3u] = d.w;
    }
}

// The tile, unrolled: F(t, i) for rows t < 16 and items i < 4.
#define ROW(F, t) F(t, 0) F(t, 1) F(t, 2) F(t, 3)
#define TILE(F) ROW(F, 0) ROW(F, 1) ROW(F, 2) ROW(F, 3) ROW(F, 4) ROW(F, 5) ROW(F, 6) ROW(F, 7) \
    ROW(F, 8) ROW(F, 9) ROW(F, 10) ROW(F, 11) ROW(F, 12) ROW(F, 13) ROW(F, 14) ROW(F, 15)
#define ROWS(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11) F(12) F(13) F(14) F(15)
#define ITEMS(F) F(0) F(1) F(2) F(3)

#define DECL_ACC(t, i) vec4 a##t##_##i = vec4(0.0);
#define DECL_SUM(t) float sS##t = 0.0, sZ##t = 0.0;
#define DECL_OB(t) uint ob##t = min(o0 + uint(t), p.nout - 1u); Chan ch##t = chan(ob##t);
#define DECL_IT(i) uint it##i = blk + uint(i) * WX + lid;
#define LOAD_X2(i) vec4 xa##i = TW > uint(i) ? xitem(r, it##i) : vec4(0.0); \
    vec4 xb##i = TW > uint(i) ? xitem(r + 1u, it##i) : vec4(0.0);
#define LOAD_X1(i) vec4 xa##i = TW > uint(i) ? xitem(r, it##i) : vec4(0.0);
#define LOAD_D2(t) float ya##t = TO > uint(t) ? dy(ra + ob##t) : 0.0; \
    float yb##t = TO > uint(t) ? dy(rb + ob##t) : 0.0;
#define LOAD_D1(t) float ya##t = TO > uint(t) ? dy(ra + ob##t) : 0.0;
#define UPD2(t, i) if (TO > uint(t) && TW > uint(i)) { a##t##_##i += ya##t * xa##i + yb##t * xb##i; }
#define UPD1(t, i) if (TO > uint(t) && TW > uint(i)) { a##t##_##i += ya##t * xa##i; }
#define EPI(t, i) if (TO > uint(t) && TW > uint(i)) { epi(o0 + uint(t), it##i, a##t##_##i, ch##t, sS##t, sZ##t); }
#define SHARE(t) if (TO > uint(t)) { sh[uint(t) * WX + lid] = vec2(sS##t, sZ##t); }

// The invocations' (dScale, dZero) sums, by row of the tile.
shared vec2 sh[WX * TO];

// Rows of dy per pass of the loop over r (nested, so that no loop runs more than 16384
// iterations: llvmpipe ends longer ones).
const uint RCHUNK = 32768u;

void main() {
    uint lid = gl_LocalInvocationID.x;
    for (uint g = gl_WorkGroupID.x; g < p.groups; g += gl_NumWorkGroups.x) {
        uint o0 = g * TO;
        ROWS(DECL_OB)
        ROWS(DECL_SUM)
        for (uint blk = 0u; blk < p.items; blk += WX * TW) {
            ITEMS(DECL_IT)
            TILE(DECL_ACC)
            for (uint r0 = 0u; r0 < p.rows; r0 += RCHUNK) {
                uint r1 = min(p.rows, r0 + RCHUNK);
                uint r = r0;
                for (; r + 1u < r1; r += 2u) {
                    uint ra = r * p.nout, rb = ra + p.nout;
                    ITEMS(LOAD_X2)
                    ROWS(LOAD_D2)
                    TILE(UPD2)
                }
                if (r < r1) {
                    uint ra = r * p.nout;
                    ITEMS(LOAD_X1)
                    ROWS(LOAD_D1)
                    TILE(UPD1)
                }
            }
            TILE(EPI)
        }
        ROWS(SHARE)
        barrier();
        if (PERT == 0u) {
            for (uint t = lid; t < TO; t += WX) {
                uint o = o0 + t;
                if (o < p.nout) {
                    vec2 sum = vec2(0.0);
                    for (uint l = 0u; l < WX; l++) {
                        sum += sh[t * WX + l];
                    }
                    ds[o] = sum.x == 0.0 ? 0.0 : sum.x;
                    dz[o] = sum.y == 0.0 ? 0.0 : sum.y;
                }
            }
        } else if (lid == 0u) {
            vec2 sum = vec2(0.0);
            for (uint t = 0u; t < TO; t++) {
                for (uint l = 0u; l < WX; l++) {
                    sum += sh[t * WX + l];
                }
            }
            ds[2u * g] = sum.x;
            ds[2u * g + 1u] = sum.y;
        }
        if (HAS_DB != 0u) {
            for (uint t = lid; t < TO; t += WX) {
                uint o = o0 + t;
                if (o < p.nout) {
                    float sum = 0.0;
                    for (uint r0 = 0u; r0 < p.rows; r0 += RCHUNK) {
                        uint r1 = min(p.rows, r0 + RCHUNK);
                        uint r = r0;
                        for (; r + 1u < r1; r += 2u) {
                            float a = dy(r * p.nout + o), b = dy((r + 1u) * p.nout + o);
                            sum = (sum + a) + b;
                        }
                        if (r < r1) {
                            sum += dy(r * p.nout + o);
                        }
                    }
                    db[o] = sum;
                }
            }
        }
        barrier(); // sh is written again for the next group of rows
    }
}
