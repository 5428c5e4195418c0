#version 450
// q_gemmi_sg: q_gemmi (acc[m,n] = sum_k a[m,k]*b[n,k] in wrapping int32) for packed Q8 operands,
// for CPU drivers such as lavapipe, where every storage-buffer load is a loop over the SIMD
// lanes while moving values between lanes is cheap. Each invocation computes a TM x 4 block:
// TM rows of a shared by the whole workgroup (workgroup y walks m in blocks of TM, grid-stride)
// and 4 columns of its own: invocation x walks n in steps of 4, invocation y walks m in blocks of
// TM (grid-stride). Where a whole subgroup of SG invocations shares its block of rows (checked at
// run time: subgroup size SG, all invocations active, the same m), the TM rows' words of each
// step of k are loaded once per subgroup, SG consecutive words per round
// (ROUNDS = ceil(TM*KSTEP/SG)), and broadcast; each invocation loads only its own 4 columns of b.
// Per word of k an invocation then loads 4 + TM/SG words for 16*TM products, instead of 8 words
// for 64 products (q_gemmi's 4x4 block). Elsewhere every invocation loads the rows itself (the
// same results, slower): the kernel is correct whatever the driver's subgroups.
//
// Split k as q_gemmi: workgroup z sums the words [z*KC, (z+1)*KC) of k into slice z of acc.
// Bindings as q_gemmi: 0 = a, 1 = b, 2 = acc, 3 = acc as ivec4 (VEC4), 4 = a as uvec4,
// 5 = b as uvec4 (VLOAD). Push constants {uint M, N, K, KW, KC}.
// Specialization: 0 = WX, 8 = WY (workgroup size), 1 = FA, 2 = FB (0 or 1: packed formats only),
// 3 = VEC4 (N % 4 == 0), 4 = VLOAD (KW and KC multiples of 4: four words per step of k),
// 5 = SG, 6 = TM, 7 = ROUNDS.
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_vote : require
#include "q_common.glsl"
layout(local_size_x_id = 0, local_size_y_id = 8) in;
layout(constant_id = 1) const uint FA = 0u;
layout(constant_id = 2) const uint FB = 0u;
layout(constant_id = 3) const uint VEC4 = 0u;
layout(constant_id = 4) const uint VLOAD = 0u;
layout(constant_id = 5) const uint SG = 8u;
layout(constant_id = 6) const uint TM = 16u;
layout(constant_id = 7) const uint ROUNDS = 2u;

layout(std430, set = 0, binding = 0) readonly buffer A { uint a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { uint b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Acc { int acc[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Acc4 { ivec4 acc4[]; };
layout(std430, set = 0, binding = 4) readonly buffer A4 { uvec4 a4[]; };
layout(std430, set = 0, binding = 5) readonly buffer B4 { uvec4 b4[]; };

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint K;
    uint KW;
    uint KC;
} p;

int dot4(ivec4 u, ivec4 v) {
    return u.x * v.x + u.y * v.y + u.z * v.z + u.w * v.w;
}

// store writes the in-range part of one row of the block.
void store(uint m, uint n0, ivec4 v) {
    if (m >= p.M || n0 >= p.N) {
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

const uint KSTEP = VLOAD != 0u ? 4u : 1u; // words of k per step

// aword returns word w+s of row m0+t of a (rows clamped to M-1).
uint aword(uint m0, uint t, uint w, uint s) {
    uint row = min(m0 + t, p.M - 1u);
    return a[row * p.KW + w + s];
}

void main() {
    uint n0 = gl_GlobalInvocationID.x * 4u;
    // Columns past N are clamped for loads and not stored; such invocations still take part in
    // the broadcasts.
    uint nb0 = min(n0, p.N - 1u), nb1 = min(n0 + 1u, p.N - 1u), nb2 = min(n0 + 2u, p.N - 1u), nb3 = min(n0 + 3u, p.N - 1u);
    uint w0 = gl_WorkGroupID.z * p.KC;
    uint wEnd = min(p.KW, w0 + p.KC);
    uint stepM = gl_NumWorkGroups.y * gl_WorkGroupSize.y * TM;
    for (uint m0 = gl_GlobalInvocationID.y * TM; m0 < p.M; m0 += stepM) {
        bool sgLoad = gl_SubgroupSize == SG && subgroupAllEqual(m0) && subgroupBallotBitCount(subgroupBallot(true)) == SG;
        ivec4 c[TM];
        for (uint t = 0u; t < TM; t++) {
            c[t] = ivec4(0);
        }
        for (uint w = w0; w < wEnd; w += KSTEP) {
            // This invocation's columns: KSTEP words each, unpacked.
            ivec4 bv[4 * KSTEP]; // bv[s*4+j] = codes of word w+s of column j
            if (VLOAD != 0u) {
                uvec4 B0 = b4[(nb0 * p.KW + w) / 4u], B1 = b4[(nb1 * p.KW + w) / 4u];
                uvec4 B2 = b4[(nb2 * p.KW + w) / 4u], B3 = b4[(nb3 * p.KW + w) / 4u];
                for (uint s = 0u; s < KSTEP; s++) {
                    bv[s * 4u + 0u] = q8word(B0[s], FB);
                    bv[s * 4u + 1u] = q8word(B1[s], FB);
                    bv[s * 4u + 2u] = q8word(B2[s], FB);
                    bv[s * 4u + 3u] = q8word(B3[s], FB);
                }
            } else {
                bv[0] = q8word(b[nb0 * p.KW + w], FB);
                bv[1] = q8word(b[nb1 * p.KW + w], FB);
                bv[2] = q8word(b[nb2 * p.KW + w], FB);
                bv[3] = q8word(b[nb3 * p.KW + w], FB);
            }
            // The shared rows: word e = t*KSTEP+s loaded by lane e % SG in round e / SG.
            uint pv[ROUNDS];
            if (sgLoad) {
                for (uint r = 0u; r < ROUNDS; r++) {
                    uint e = min(r * SG + gl_SubgroupInvocationID, TM * KSTEP - 1u);
                    pv[r] = aword(m0, e / KSTEP, w, e % KSTEP);
                }
            }
            for (uint t = 0u; t < TM; t++) {
                for (uint s = 0u; s < KSTEP; s++) {
                    uint e = t * KSTEP + s;
                    uint word = sgLoad ? subgroupBroadcast(pv[e / SG], e % SG) : aword(m0, t, w, s);
                    ivec4 av = q8word(word, FA);
                    c[t] += ivec4(dot4(av, bv[s * 4u]), dot4(av, bv[s * 4u + 1u]), dot4(av, bv[s * 4u + 2u]), dot4(av, bv[s * 4u + 3u]));
                }
            }
        }
        for (uint t = 0u; t < TM; t++) {
            store(m0 + t, n0, c[t]);
        }
    }
}
