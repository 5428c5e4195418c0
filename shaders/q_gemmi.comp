#version 450
// q_gemmi: acc[m,n] = sum_k a[m,k]*b[n,k] in wrapping int32 for Q8 matrices a [M, K] and
// b [N, K] (formats FA, FB: packed words, rows padded to KW words with code 0, or one int per
// code with rows of K). Register blocked: each invocation computes a 4x4 block of acc, reading
// four codes per load. Workgroup WX x WY invocations (specialization constants 0 and 1);
// gl_GlobalInvocationID.x walks n in steps of 4, .y walks m;
// workgroup z sums the words [z*KC, (z+1)*KC) of k into slice z of acc (split k).
#include "q_common.glsl"
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint FA = 0u;
layout(constant_id = 3) const uint FB = 0u;
layout(constant_id = 4) const uint VEC4 = 0u;
layout(constant_id = 5) const uint VLOAD = 0u;

layout(std430, set = 0, binding = 0) readonly buffer A { uint a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { uint b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Acc { int acc[]; };
// The same buffer as acc, bound again to store four results at once when N % 4 == 0 (VEC4).
layout(std430, set = 0, binding = 3) writeonly buffer Acc4 { ivec4 acc4[]; };
// a and b bound again to load four words at once when both are packed and KW % 4 == 0 (VLOAD).
layout(std430, set = 0, binding = 4) readonly buffer A4 { uvec4 a4[]; };
layout(std430, set = 0, binding = 5) readonly buffer B4 { uvec4 b4[]; };

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint K;
    uint KW; // words per packed row: (K+3)/4
    uint KC; // words per split of k (workgroup z); acc holds one M*N slice per split
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

// store writes the in-range part of one row of a 4x4 block.
void store(uint m, uint n0, ivec4 v) {
    if (m >= p.M) {
        return;
    }
    uint o = gl_WorkGroupID.z * p.M * p.N + m * p.N + n0;
    if (VEC4 != 0u) {
        acc4[o / 4u] = v;
        return;
    }
    acc[o] = v.x;
    if (n0 + 1u < p.N) acc[o + 1u] = v.y;
    if (n0 + 2u < p.N) acc[o + 2u] = v.z;
    if (n0 + 3u < p.N) acc[o + 3u] = v.w;
}

// block computes acc[m0..m0+3, n0..n0+3] over this workgroup's split of k.
void block(uint m0, uint n0) {
    uint ma0 = m0, ma1 = min(m0 + 1u, p.M - 1u), ma2 = min(m0 + 2u, p.M - 1u), ma3 = min(m0 + 3u, p.M - 1u);
    uint nb0 = n0, nb1 = min(n0 + 1u, p.N - 1u), nb2 = min(n0 + 2u, p.N - 1u), nb3 = min(n0 + 3u, p.N - 1u);
    ivec4 c0 = ivec4(0), c1 = ivec4(0), c2 = ivec4(0), c3 = ivec4(0);
    uint wEnd = min(p.KW, (gl_WorkGroupID.z + 1u) * p.KC);
    uint w = gl_WorkGroupID.z * p.KC;
    if (VLOAD != 0u) {
        // KW and KC are multiples of 4: whole uvec4s of each row.
        for (; w < wEnd; w += 4u) {
            uvec4 A0 = a4[(ma0 * p.KW + w) / 4u], A1 = a4[(ma1 * p.KW + w) / 4u];
            uvec4 A2 = a4[(ma2 * p.KW + w) / 4u], A3 = a4[(ma3 * p.KW + w) / 4u];
            uvec4 B0 = b4[(nb0 * p.KW + w) / 4u], B1 = b4[(nb1 * p.KW + w) / 4u];
            uvec4 B2 = b4[(nb2 * p.KW + w) / 4u], B3 = b4[(nb3 * p.KW + w) / 4u];
            for (uint j = 0u; j < 4u; j++) {
                ivec4 a0 = q8word(A0[j], FA), a1 = q8word(A1[j], FA), a2 = q8word(A2[j], FA), a3 = q8word(A3[j], FA);
                ivec4 b0 = q8word(B0[j], FB), b1 = q8word(B1[j], FB), b2 = q8word(B2[j], FB), b3 = q8word(B3[j], FB);
                c0 += ivec4(dot4(a0, b0), dot4(a0, b1), dot4(a0, b2), dot4(a0, b3));
                c1 += ivec4(dot4(a1, b0), dot4(a1, b1), dot4(a1, b2), dot4(a1, b3));
                c2 += ivec4(dot4(a2, b0), dot4(a2, b1), dot4(a2, b2), dot4(a2, b3));
                c3 += ivec4(dot4(a3, b0), dot4(a3, b1), dot4(a3, b2), dot4(a3, b3));
            }
        }
    }
    for (; w < wEnd; w++) {
        ivec4 a0 = loadA(ma0, w), a1 = loadA(ma1, w), a2 = loadA(ma2, w), a3 = loadA(ma3, w);
        ivec4 b0 = loadB(nb0, w), b1 = loadB(nb1, w), b2 = loadB(nb2, w), b3 = loadB(nb3, w);
        c0 += ivec4(dot4(a0, b0), dot4(a0, b1), dot4(a0, b2), dot4(a0, b3));
        c1 += ivec4(dot4(a1, b0), dot4(a1, b1), dot4(a1, b2), dot4(a1, b3));
        c2 += ivec4(dot4(a2, b0), dot4(a2, b1), dot4(a2, b2), dot4(a2, b3));
        c3 += ivec4(dot4(a3, b0), dot4(a3, b1), dot4(a3, b2), dot4(a3, b3));
    }
    store(m0, n0, c0);
    store(m0 + 1u, n0, c1);
    store(m0 + 2u, n0, c2);
    store(m0 + 3u, n0, c3);
}

void main() {
    uint n0 = gl_GlobalInvocationID.x * 4u;
    if (n0 >= p.N) {
        return;
    }
    // Grid-stride over m: a dispatch may have fewer workgroups than blocks.
    uint step = gl_NumWorkGroups.y * gl_WorkGroupSize.y * 4u;
    for (uint m0 = gl_GlobalInvocationID.y * 4u; m0 < p.M; m0 += step) {
        block(m0, n0);
    }
}
