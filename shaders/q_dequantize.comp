#version 450
// q_dequantize: x[i] = s*float(q[i]-z) (one rounding) for the channel i / slice of a Q8
// tensor in format FMT, rows of cols codes (rowWords words each when packed).
//
// PERCH 0: one channel, s0 and z0 in the push constants. PERCH 1: every channel is rpc whole
// rows. PERCH 2: any slice (channels may change within a row or a word). Per channel
// prm[off + c] = scale bits, prm[off + nch + c] = zero point.
//
// On CPU drivers such as lavapipe a storage-buffer store is a loop over the SIMD lanes that
// stores all components of a vector in one pass, so values go out four at a time as one
// vec4 store where the layout allows, and two items are taken per loop iteration (each
// assignment of a loop-carried variable costs a masked store there).
//   PERCH 0 walks the quads x[4t..4t+3] as one grid-stride range (invocations
//     gl_GlobalInvocationID.x, workgroups of WX). With VEC (packed, cols a multiple of 4:
//     rows without padding) quad t is word t; otherwise the quad's first code is found with
//     one qdiv and the next three by stepping (row, column) with carries, one read each.
//   PERCH 1 walks rows: workgroups of WX items (words, or codes when wide) by WY rows; an
//     invocation looks up its row's channel once (one qdiv per row) and walks the row's items
//     from gl_GlobalInvocationID.x in steps of WX*gl_NumWorkGroups.x (a word's four values as
//     one vec4 store with VEC).
//   PERCH 2 walks the items as one grid-stride range, dividing once per item (qdiv) and
//     looking the channel up again where it changes within a word.
// No integer division (qdiv). q and prm are read through io.glsl (texel buffers in the texel
// build).
//
// Bindings: 0 = q, 1 = x (also viewed as vec4s), 2 = prm. Push constants as below.
// Specialization: 0 = WX, 1 = FMT, 2 = PERCH, 3 = JMAX (min(cols, 4), packed only), 4 = WY,
// 5 = VEC.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0, local_size_y_id = 4) in;
layout(constant_id = 1) const uint FMT = 0u;
layout(constant_id = 2) const uint PERCH = 0u;
layout(constant_id = 3) const uint JMAX = 4u;
layout(constant_id = 5) const uint VEC = 0u;

IN_U32(0, q)
layout(std430, set = 0, binding = 1) writeonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer X4 { vec4 x4[]; };
IN_U32(2, prm)

layout(push_constant) uniform Push {
    uint n;
    uint cols;
    uint rowWords;
    uint slice;
    uint off;
    uint nch;
    uint s0;
    int z0;
    uint words;
    uint rows;
    uint rpc; // rows per channel (PERCH 1)
} p;

// Channel holds the constants of the channel of the codes being dequantized.
struct Channel {
    float s;
    int z;
    uint end; // first element index of the next channel
};

Channel channelNo(uint c) {
    return Channel(uintBitsToFloat(prm(p.off + c)), int(prm(p.off + p.nch + c)), (c + 1u) * p.slice);
}

float value(int code, Channel ch) {
    precise float v = ch.s * float(code - ch.z);
    return v;
}

vec4 values(ivec4 c, Channel ch) {
    return vec4(value(c.x, ch), value(c.y, ch), value(c.z, ch), value(c.w, ch));
}

// quad returns x[4t..4t+3] (PERCH 0); values past n are unspecified.
vec4 quad(uint t, Channel ch) {
    if (FMT == Q8_WIDE) {
        uint last = p.n - 1u;
        return values(ivec4(q(t * 4u), q(min(t * 4u + 1u, last)), q(min(t * 4u + 2u, last)), q(min(t * 4u + 3u, last))), ch);
    }
    if (VEC != 0u) {
        return values(q8word(q(t), FMT), ch);
    }
    // Element 4t is code c of row r; step (r, c) along the quad.
    uint e = 4u * t;
    uint r = qdiv(e, p.cols);
    uint c = e - r * p.cols;
    ivec4 v;
    for (uint k = 0u; k < 4u; k++) {
        v[k] = q8byte(q(min(r * p.rowWords + (c >> 2u), p.words - 1u)), c & 3u, FMT);
        c++;
        bool wrap = c == p.cols;
        c = wrap ? 0u : c;
        r = wrap ? r + 1u : r;
    }
    return values(v, ch);
}

void putQuad(uint t, vec4 v) {
    if (4u * t + 4u <= p.n) {
        x4[t] = v;
        return;
    }
    for (uint k = 0u; 4u * t + k < p.n; k++) {
        x[4u * t + k] = v[k];
    }
}

void flatQuads() {
    Channel ch = Channel(uintBitsToFloat(p.s0), p.z0, p.n);
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint quads = (p.n + 3u) >> 2u;
    uint t = gl_GlobalInvocationID.x;
    for (; t + step < quads; t += 2u * step) {
        vec4 a = quad(t, ch), b = quad(t + step, ch);
        putQuad(t, a);
        putQuad(t + step, b);
    }
    if (t < quads) {
        putQuad(t, quad(t, ch));
    }
}

// rowItem writes item j (a word, or a code when wide) of the row at base (its first element
// index) and wbase (its first word).
void rowItem(uint base, uint wbase, uint j, Channel ch) {
    if (FMT == Q8_WIDE) {
        x[base + j] = value(int(q(base + j)), ch);
        return;
    }
    ivec4 v = q8word(q(wbase + j), FMT);
    if (VEC != 0u) {
        x4[(base >> 2u) + j] = values(v, ch);
        return;
    }
    uint i0 = base + 4u * j;
    uint valid = min(p.cols - 4u * j, JMAX); // codes in this word
    for (uint k = 0u; k < JMAX; k++) {
        if (k < valid) {
            x[i0 + k] = value(v[k], ch);
        }
    }
}

void channelRows() {
    uint rowStep = gl_NumWorkGroups.y * gl_WorkGroupSize.y;
    uint itemStep = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint items = FMT == Q8_WIDE ? p.cols : p.rowWords;
    for (uint r = gl_GlobalInvocationID.y; r < p.rows; r += rowStep) {
        Channel ch = channelNo(qdiv(r, p.rpc));
        uint base = r * p.cols, wbase = r * p.rowWords;
        uint j = gl_GlobalInvocationID.x;
        for (; j + itemStep < items; j += 2u * itemStep) {
            rowItem(base, wbase, j, ch);
            rowItem(base, wbase, j + itemStep, ch);
        }
        if (j < items) {
            rowItem(base, wbase, j, ch);
        }
    }
}

void anyChannels() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint id = gl_GlobalInvocationID.x;
    if (FMT == Q8_WIDE) {
        for (uint i = id; i < p.n; i += step) {
            x[i] = value(int(q(i)), channelNo(qdiv(i, p.slice)));
        }
        return;
    }
    for (uint w = id; w < p.words; w += step) {
        uint r = qdiv(w, p.rowWords);
        uint c0 = (w - r * p.rowWords) * 4u;
        ivec4 v = q8word(q(w), FMT);
        uint i0 = r * p.cols + c0;
        uint valid = min(p.cols - c0, JMAX); // codes in this word
        Channel ch = channelNo(qdiv(i0, p.slice));
        for (uint j = 0u; j < valid; j++) {
            uint i = i0 + j;
            if (i >= ch.end) {
                ch = channelNo(qdiv(i, p.slice));
            }
            x[i] = value(v[j], ch);
        }
    }
}

void main() {
    if (PERCH == 0u) {
        flatQuads();
    } else if (PERCH == 1u) {
        channelRows();
    } else {
        anyChannels();
    }
}
