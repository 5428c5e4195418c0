#version 450
// q_dequantize: x[i] = s*float(q[i]-z) (one rounding) for the channel i / slice of a Q8
// tensor in format FMT (rows of cols codes, rowWords words each when packed).
// Per channel (PERCH 1): prm[off + c] = scale bits, prm[off + nch + c] = zero point; per
// tensor (PERCH 0): s0 and z0 in the push constants. Packed codes: one invocation per word,
// which looks up its channel's constants once (per code only where the word crosses a
// channel) and writes its JMAX = min(cols, 4) values straight-line.
// q and prm are read through io.glsl (texel buffers in the texel build); no integer
// division per item (qdiv).
//
// Bindings: 0 = q, 1 = x, 2 = prm. Push constants as below.
// Specialization: 0 = workgroup size, 1 = FMT, 2 = PERCH, 3 = JMAX (1..4, packed only).
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FMT = 0u;
layout(constant_id = 2) const uint PERCH = 0u;
layout(constant_id = 3) const uint JMAX = 4u;

IN_U32(0, q)
layout(std430, set = 0, binding = 1) writeonly buffer X { float x[]; };
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
} p;

// Channel holds the constants of the channel of the codes being dequantized.
struct Channel {
    float s;
    int z;
    uint end; // first element index of the next channel
};

Channel channel(uint i) {
    if (PERCH == 0u) {
        return Channel(uintBitsToFloat(p.s0), p.z0, p.n);
    }
    uint c = qdiv(i, p.slice);
    return Channel(uintBitsToFloat(prm(p.off + c)), int(prm(p.off + p.nch + c)), (c + 1u) * p.slice);
}

float value(int code, Channel ch) {
    precise float v = ch.s * float(code - ch.z);
    return v;
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (FMT == Q8_WIDE) {
        for (uint i = gl_GlobalInvocationID.x; i < p.n; i += step) {
            x[i] = value(int(q(i)), channel(i));
        }
        return;
    }
    for (uint w = gl_GlobalInvocationID.x; w < p.words; w += step) {
        uint r = qdiv(w, p.rowWords);
        uint c0 = (w - r * p.rowWords) * 4u;
        ivec4 v = q8word(q(w), FMT);
        uint i0 = r * p.cols + c0;
        uint valid = min(p.cols - c0, JMAX); // codes in this word
        Channel ch = channel(i0);
        if (PERCH == 0u || i0 + valid <= ch.end) {
            for (uint j = 0u; j < JMAX; j++) {
                if (j < valid) {
                    x[i0 + j] = value(v[j], ch);
                }
            }
        } else {
            // Channels change within the word (a 1-D tensor with a scale per element).
            for (uint j = 0u; j < valid; j++) {
                uint i = i0 + j;
                if (i >= ch.end) {
                    ch = channel(i);
                }
                x[i] = value(v[j], ch);
            }
        }
    }
}
