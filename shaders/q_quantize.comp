#version 450
// q_quantize: codes of x: clamp(roundAway(x*inv) + z, qmin, qmax), NaN -> z, with inv = 1/s
// rounded to float32 on the host and the product rounded to float32 (precise). Element i
// uses channel i / slice. Output: packed words (WIDE 0; one invocation per word, rows of
// cols codes padded to rowWords words with code 0) or one int per code (WIDE 1).
// Per channel (PERCH 1): prm[off + c] = inv bits, prm[off + nch + c] = zero point; per
// tensor (PERCH 0): inv0 and z0 in the push constants.
// x and prm are read through io.glsl (texel buffers in the texel build). No integer
// division per item (qdiv), and a packed word's codes are JMAX straight-line reads
// (JMAX = min(cols, 4), so a row of one code reads one element per word).
//
// Bindings: 0 = x, 1 = q, 2 = prm. Push constants as below.
// Specialization: 0 = workgroup size, 1 = WIDE, 2 = PERCH, 3 = JMAX (1..4, packed only).
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint WIDE = 0u;
layout(constant_id = 2) const uint PERCH = 0u;
layout(constant_id = 3) const uint JMAX = 4u;

IN_F32(0, x)
layout(std430, set = 0, binding = 1) writeonly buffer Q { uint q[]; };
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
} p;

// Channel holds the constants of the channel of the elements being quantized.
struct Channel {
    float inv;
    int z;
    uint end; // first element index of the next channel
};

Channel channelOf(uint c) {
    return Channel(uintBitsToFloat(prm(p.off + c)), int(prm(p.off + p.nch + c)), (c + 1u) * p.slice);
}

Channel channel(uint i) {
    if (PERCH == 0u) {
        return Channel(uintBitsToFloat(p.inv0), p.z0, p.n);
    }
    return channelOf(qdiv(i, p.slice));
}

int quant(float v, Channel ch) {
    precise float qf = v * ch.inv;
    precise float vz = roundAway(qf) + float(ch.z);
    vz = clamp(vz, float(p.qmin), float(p.qmax));
    return isnan(v) ? ch.z : int(vz);
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (WIDE != 0u) {
        for (uint i = gl_GlobalInvocationID.x; i < p.n; i += step) {
            q[i] = uint(quant(x(i), channel(i)));
        }
        return;
    }
    for (uint w = gl_GlobalInvocationID.x; w < p.words; w += step) {
        uint r = qdiv(w, p.rowWords);
        uint c0 = (w - r * p.rowWords) * 4u;
        uint i0 = r * p.cols + c0;
        uint valid = min(p.cols - c0, JMAX); // codes in this word
        Channel ch = channel(i0);
        uint word = 0u;
        if (PERCH == 0u || i0 + valid <= ch.end) {
            // The word's codes share one channel. Past the row's end j re-reads its
            // last code, masked out below.
            for (uint j = 0u; j < JMAX; j++) {
                uint code = uint(quant(x(i0 + min(j, valid - 1u)), ch)) & 0xffu;
                word |= j < valid ? code << (8u * j) : 0u;
            }
        } else {
            // Channels change within the word (a 1-D tensor with a scale per element).
            for (uint j = 0u; j < valid; j++) {
                uint i = i0 + j;
                if (i >= ch.end) {
                    ch = channel(i);
                }
                word |= (uint(quant(x(i), ch)) & 0xffu) << (8u * j);
            }
        }
        q[w] = word;
    }
}
