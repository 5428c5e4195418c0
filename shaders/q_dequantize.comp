#version 450
// q_dequantize: x[i] = s*float(q[i]-z) (one rounding) for the channel i / slice of a Q8
// tensor in format FMT (rows of cols codes, rowWords words each when packed).
// Per channel (PERCH 1): prm[off + c] = scale bits, prm[off + nch + c] = zero point; per
// tensor (PERCH 0): s0 and z0 in the push constants. Packed codes: one invocation per word,
// which looks up its channel's constants once (again only where the word crosses a channel).
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FMT = 0u;
layout(constant_id = 2) const uint PERCH = 0u;

layout(std430, set = 0, binding = 0) readonly buffer Q { uint q[]; };
layout(std430, set = 0, binding = 1) writeonly buffer X { float x[]; };
layout(std430, set = 0, binding = 2) readonly buffer Prm { uint prm[]; };

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
    uint c = i / p.slice;
    return Channel(uintBitsToFloat(prm[p.off + c]), int(prm[p.off + p.nch + c]), (c + 1u) * p.slice);
}

void put(uint i, int code, Channel ch) {
    precise float v = ch.s * float(code - ch.z);
    x[i] = v;
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (FMT == Q8_WIDE) {
        for (uint i = gl_GlobalInvocationID.x; i < p.n; i += step) {
            put(i, int(q[i]), channel(i));
        }
        return;
    }
    for (uint w = gl_GlobalInvocationID.x; w < p.words; w += step) {
        uint r = w / p.rowWords;
        uint c0 = (w - r * p.rowWords) * 4u;
        ivec4 v = q8word(q[w], FMT);
        uint i0 = r * p.cols + c0;
        Channel ch = channel(i0); // looked up again only where the word crosses a channel
        for (uint j = 0u; j < 4u && c0 + j < p.cols; j++) {
            uint i = i0 + j;
            if (i >= ch.end) {
                ch = channel(i);
            }
            put(i, v[j], ch);
        }
    }
}
