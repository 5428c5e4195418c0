#version 450
// q_gemmi: acc[m,n] = sum_k a[m,k]*b[n,k] in wrapping int32 for Q8 matrices a [M, K] and
// b [N, K] (formats FA, FB: packed words, rows padded to KW words with code 0, or one int per
// code with rows of K). Register blocked: each invocation computes a 4x4 block of acc, reading
// four codes per load. Workgroup WX x WY invocations (specialization constants 0 and 1);
// gl_GlobalInvocationID.x walks n in steps of 4, .y walks m.
#include "q_common.glsl"
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint FA = 0u;
layout(constant_id = 3) const uint FB = 0u;

layout(std430, set = 0, binding = 0) readonly buffer A { uint a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { uint b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Acc { int acc[]; };

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint K;
    uint KW; // words per packed row: (K+3)/4
} p;

ivec4 loadA(uint row, uint w) {
    if (FA == Q8_WIDE) {
        uint k = 4u * w, base = row * p.K + k;
        return ivec4(int(a[base]), k + 1u < p.K ? int(a[base + 1u]) : 0,
                     k + 2u < p.K ? int(a[base + 2u]) : 0, k + 3u < p.K ? int(a[base + 3u]) : 0);
    }
    return q8word(a[row * p.KW + w], FA);
}

ivec4 loadB(uint row, uint w) {
    if (FB == Q8_WIDE) {
        uint k = 4u * w, base = row * p.K + k;
        return ivec4(int(b[base]), k + 1u < p.K ? int(b[base + 1u]) : 0,
                     k + 2u < p.K ? int(b[base + 2u]) : 0, k + 3u < p.K ? int(b[base + 3u]) : 0);
    }
    return q8word(b[row * p.KW + w], FB);
}

int dot4(ivec4 u, ivec4 v) {
    return u.x * v.x + u.y * v.y + u.z * v.z + u.w * v.w;
}

void main() {
    uint n0 = gl_GlobalInvocationID.x * 4u;
    uint m0 = gl_GlobalInvocationID.y * 4u;
    if (n0 >= p.N || m0 >= p.M) {
        return;
    }
    uint ma[4], nb[4];
    for (uint i = 0u; i < 4u; i++) {
        ma[i] = min(m0 + i, p.M - 1u);
        nb[i] = min(n0 + i, p.N - 1u);
    }
    int c[16];
    for (uint i = 0u; i < 16u; i++) {
        c[i] = 0;
    }
    for (uint w = 0u; w < p.KW; w++) {
        ivec4 a0 = loadA(ma[0], w), a1 = loadA(ma[1], w), a2 = loadA(ma[2], w), a3 = loadA(ma[3], w);
        ivec4 b0 = loadB(nb[0], w), b1 = loadB(nb[1], w), b2 = loadB(nb[2], w), b3 = loadB(nb[3], w);
        c[0] += dot4(a0, b0); c[1] += dot4(a0, b1); c[2] += dot4(a0, b2); c[3] += dot4(a0, b3);
        c[4] += dot4(a1, b0); c[5] += dot4(a1, b1); c[6] += dot4(a1, b2); c[7] += dot4(a1, b3);
        c[8] += dot4(a2, b0); c[9] += dot4(a2, b1); c[10] += dot4(a2, b2); c[11] += dot4(a2, b3);
        c[12] += dot4(a3, b0); c[13] += dot4(a3, b1); c[14] += dot4(a3, b2); c[15] += dot4(a3, b3);
    }
    for (uint i = 0u; i < 4u; i++) {
        if (m0 + i >= p.M) {
            break;
        }
        for (uint j = 0u; j < 4u; j++) {
            if (n0 + j < p.N) {
                acc[(m0 + i) * p.N + n0 + j] = c[4u * i + j];
            }
        }
    }
}
