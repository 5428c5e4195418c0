#version 450
// q_quantize: codes of x: clamp(roundAway(x*inv) + z, qmin, qmax), NaN -> z, with inv = 1/s
// rounded to float32 on the host and the product rounded to float32 (precise). Element i
// uses channel i / slice. Output: packed words (WIDE 0; one invocation per word, rows of
// cols codes padded to rowWords words with code 0) or one int per code (WIDE 1).
// Per channel (PERCH 1): prm[off + c] = inv bits, prm[off + nch + c] = zero point; per
// tensor (PERCH 0): inv0 and z0 in the push constants.
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint WIDE = 0u;
layout(constant_id = 2) const uint PERCH = 0u;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Q { uint q[]; };
layout(std430, set = 0, binding = 2) readonly buffer Prm { uint prm[]; };

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

Channel channel(uint i) {
    if (PERCH == 0u) {
        return Channel(uintBitsToFloat(p.inv0), p.z0, p.n);
    }
    uint c = i / p.slice;
    return Channel(uintBitsToFloat(prm[p.off + c]), int(prm[p.off + p.nch + c]), (c + 1u) * p.slice);
}

int quant(float v, Channel ch) {
    if (isnan(v)) {
        return ch.z;
    }
    precise float qf = v * ch.inv;
    precise float vz = roundAway(qf) + float(ch.z);
    vz = clamp(vz, float(p.qmin), float(p.qmax));
    return int(vz);
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (WIDE != 0u) {
        for (uint i = gl_GlobalInvocationID.x; i < p.n; i += step) {
            q[i] = uint(quant(x[i], channel(i)));
        }
        return;
    }
    for (uint w = gl_GlobalInvocationID.x; w < p.words; w += step) {
        uint r = w / p.rowWords;
        uint c0 = (w - r * p.rowWords) * 4u;
        uint i0 = r * p.cols + c0;
        Channel ch = channel(i0); // looked up again only where the word crosses a channel
        uint word = 0u;
        for (uint j = 0u; j < 4u && c0 + j < p.cols; j++) {
            uint i = i0 + j;
            if (i >= ch.end) {
                ch = channel(i);
            }
            word |= (uint(quant(x[i], ch)) & 0xffu) << (8u * j);
        }
        q[w] = word;
    }
}
