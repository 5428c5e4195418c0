#version 450
// q_rowsumi: s[m] = sum of the codes of row m of a Q8 matrix [M, K] (format FMT; packed rows
// are rowWords words with zero padding), wrapping int32. One invocation per row; workgroup z
// sums the items (words, or codes when wide) [z*IC, (z+1)*IC) of each row into s[z*M + m]
// (long rows are split so that no invocation loops too long). a is read through io.glsl (a
// texel buffer in the texel build).
//
// Bindings: 0 = a, 1 = s. Push constants {M, K, rowWords, IC}.
// Specialization: 0 = workgroup size, 1 = FMT.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FMT = 0u;

IN_U32(0, a)
layout(std430, set = 0, binding = 1) writeonly buffer S { int s[]; };

layout(push_constant) uniform Push {
    uint M;
    uint K;
    uint rowWords;
    uint IC; // items per split
} p;

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint begin = gl_WorkGroupID.z * p.IC;
    for (uint m = gl_GlobalInvocationID.x; m < p.M; m += step) {
        int sum = 0;
        if (FMT == Q8_WIDE) {
            uint end = min(p.K, begin + p.IC);
            for (uint k = begin; k < end; k++) {
                sum += int(a(m * p.K + k));
            }
        } else {
            uint end = min(p.rowWords, begin + p.IC);
            for (uint w = begin; w < end; w++) {
                ivec4 v = q8word(a(m * p.rowWords + w), FMT);
                sum += v.x + v.y + v.z + v.w;
            }
        }
        s[gl_WorkGroupID.z * p.M + m] = sum;
    }
}
