#version 450
// q_quantize: codes of x: clamp(roundAway(x*inv) + z, qmin, qmax), NaN -> z, with inv = 1/s
// rounded to float32 on the host and the product rounded to float32 (precise). Element i
// uses channel i / slice. Output: packed words (WIDE 0: rows of cols codes padded to rowWords
// words with code 0; a word holds JMAX = min(cols, 4) codes, fewer at a row's end) or one
// int per code (WIDE 1).
//
// PERCH 0: one channel, inv0 and z0 in the push constants. PERCH 1: every channel is rpc
// whole rows. PERCH 2: any slice (channels may change within a row or a word). Per channel
// prm[off + c] = inv bits, prm[off + nch + c] = zero point.
//
// Loops take two items per iteration: on CPU drivers such as lavapipe each assignment of a
// loop-carried variable costs a masked store, and a storage-buffer store is a loop over the
// SIMD lanes that stores all components of a vector in one pass.
//   PERCH 0 walks the words as one grid-stride range (invocations gl_GlobalInvocationID.x,
//     workgroups of WX): with VEC (cols a multiple of 4: rows without padding) word w holds
//     elements 4w..4w+3, otherwise one qdiv places it. Where an item is one element (wide,
//     or JMAX 1) an invocation takes quads of items (four consecutive elements) and writes
//     them as one uvec4 store. (Quads of longer words made lanes read 64 bytes apart: slower.)
//   PERCH 1 walks rows: workgroups of WX items (words, or codes when wide) by WY rows; an
//     invocation looks up its row's channel once (one qdiv per row) and walks the row's items
//     from gl_GlobalInvocationID.x in steps of WX*gl_NumWorkGroups.x.
//   PERCH 2 walks the words as one grid-stride range, dividing once per word (qdiv) and
//     looking the channel up again where it changes within the word.
// A word's codes are JMAX straight-line reads; past a row's end the last code is read again
// and masked out. x and prm are read through io.glsl (texel buffers in the texel build).
//
// Bindings: 0 = x, 1 = q (also viewed as uvec4s), 2 = prm. Push constants as below.
// Specialization: 0 = WX, 1 = WIDE, 2 = PERCH, 3 = JMAX (1..4, packed only), 4 = WY,
// 5 = VEC.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0, local_size_y_id = 4) in;
layout(constant_id = 1) const uint WIDE = 0u;
layout(constant_id = 2) const uint PERCH = 0u;
layout(constant_id = 3) const uint JMAX = 4u;
layout(constant_id = 5) const uint VEC = 0u;

IN_F32(0, x)
layout(std430, set = 0, binding = 1) writeonly buffer Q { uint q[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Q4 { uvec4 q4[]; };
IN_U32(2, prm)

layout(push_constant) uniform Push {
    uint n;
    uint cols;
    uint rowWords;
    uint words;
    uint slice;
    int qmin;
    int qmax;
    uint off;
    uint nch;
    uint inv0;
    int z0;
    uint rows;
    uint rpc; // rows per channel (PERCH 1)
} p;

// Channel holds the constants of the channel of the elements being quantized.
struct Channel {
    float inv;
    int z;
    uint end; // first element index of the next channel
};

Channel channelNo(uint c) {
    return Channel(uintBitsToFloat(prm(p.off + c)), int(prm(p.off + p.nch + c)), (c + 1u) * p.slice);
}

int quant(float v, Channel ch) {
    precise float qf = v * ch.inv;
    precise float vz = roundAway(qf) + float(ch.z);
    vz = clamp(vz, float(p.qmin), float(p.qmax));
    return isnan(v) ? ch.z : int(vz);
}

// word packs the codes of elements i0.. of a word with valid codes (1..JMAX), all of channel
// ch. With full (valid == JMAX known) no masking.
uint word(uint i0, uint valid, Channel ch, bool full) {
    uint w = 0u;
    for (uint j = 0u; j < JMAX; j++) {
        if (full) {
            w |= (uint(quant(x(i0 + j), ch)) & 0xffu) << (8u * j);
        } else {
            uint code = uint(quant(x(i0 + min(j, valid - 1u)), ch)) & 0xffu;
            w |= j < valid ? code << (8u * j) : 0u;
        }
    }
    return w;
}

// quad returns q[4t..4t+3] (PERCH 0, wide or one code per word: four consecutive elements,
// the last read again past the end).
uvec4 quad(uint t, Channel ch) {
    uint last = p.n - 1u;
    uvec4 v;
    for (uint k = 0u; k < 4u; k++) {
        v[k] = uint(quant(x(min(4u * t + k, last)), ch)) & (WIDE != 0u ? 0xffffffffu : 0xffu);
    }
    return v;
}

void putQuad(uint t, uvec4 v, uint items) {
    if (4u * t + 4u <= items) {
        q4[t] = v;
        return;
    }
    for (uint k = 0u; 4u * t + k < items; k++) {
        q[4u * t + k] = v[k];
    }
}

// flatWord returns packed word w (PERCH 0).
uint flatWord(uint w, Channel ch) {
    if (VEC != 0u) {
        return word(4u * w, 4u, ch, true); // rows without padding
    }
    uint r = qdiv(w, p.rowWords);
    uint c0 = (w - r * p.rowWords) * 4u;
    return word(r * p.cols + c0, min(p.cols - c0, JMAX), ch, false);
}

void flatItems() {
    Channel ch = Channel(uintBitsToFloat(p.inv0), p.z0, p.n);
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint t = gl_GlobalInvocationID.x;
    if (WIDE != 0u || JMAX == 1u) {
        uint items = WIDE != 0u ? p.n : p.words; // == n
        uint quads = (items + 3u) >> 2u;
        for (; t + step < quads; t += 2u * step) {
            uvec4 a = quad(t, ch), b = quad(t + step, ch);
            putQuad(t, a, items);
            putQuad(t + step, b, items);
        }
        if (t < quads) {
            putQuad(t, quad(t, ch), items);
        }
        return;
    }
    for (; t + step < p.words; t += 2u * step) {
        uint a = flatWord(t, ch), b = flatWord(t + step, ch);
        q[t] = a;
        q[t + step] = b;
    }
    if (t < p.words) {
        q[t] = flatWord(t, ch);
    }
}

// rowItem writes item j (a word, or a code when wide) of the row at base (its first element
// index) and wbase (its first word).
void rowItem(uint base, uint wbase, uint j, Channel ch) {
    if (WIDE != 0u) {
        q[base + j] = uint(quant(x(base + j), ch));
        return;
    }
    uint c0 = 4u * j;
    q[wbase + j] = word(base + c0, min(p.cols - c0, JMAX), ch, VEC != 0u);
}

void channelRows() {
    uint rowStep = gl_NumWorkGroups.y * gl_WorkGroupSize.y;
    uint itemStep = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint items = WIDE != 0u ? p.cols : p.rowWords;
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
    if (WIDE != 0u) {
        for (uint i = id; i < p.n; i += step) {
            q[i] = uint(quant(x(i), channelNo(qdiv(i, p.slice))));
        }
        return;
    }
    for (uint w = id; w < p.words; w += step) {
        uint r = qdiv(w, p.rowWords);
        uint c0 = (w - r * p.rowWords) * 4u;
        uint i0 = r * p.cols + c0;
        uint valid = min(p.cols - c0, JMAX); // codes in this word
        Channel ch = channelNo(qdiv(i0, p.slice));
        uint v = 0u;
        for (uint j = 0u; j < valid; j++) {
            uint i = i0 + j;
            if (i >= ch.end) {
                ch = channelNo(qdiv(i, p.slice));
            }
            v |= (uint(quant(x(i), ch)) & 0xffu) << (8u * j);
        }
        q[w] = v;
    }
}

void main() {
    if (PERCH == 0u) {
        flatItems();
    } else if (PERCH == 1u) {
        channelRows();
    } else {
        anyChannels();
    }
}
