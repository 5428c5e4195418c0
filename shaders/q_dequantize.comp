#version 450
// q_dequantize: x[i] = s*float(q[i]-z) (one rounding) for the channel i / slice of a Q8
// tensor in format FMT (rows of cols codes, rowWords words each when packed).
// prm[off + c] = scale bits, prm[off + nch + c] = zero point.
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FMT = 0u;

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
} p;

int code(uint i) {
    if (FMT == Q8_WIDE) {
        return int(q[i]);
    }
    uint r = i / p.cols;
    uint c = i - r * p.cols;
    return q8byte(q[r * p.rowWords + c / 4u], c % 4u, FMT);
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += step) {
        uint c = i / p.slice;
        float s = uintBitsToFloat(prm[p.off + c]);
        int z = int(prm[p.off + p.nch + c]);
        precise float v = s * float(code(i) - z);
        x[i] = v;
    }
}
