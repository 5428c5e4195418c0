#version 450
// q_gemmi_sg: q_gemmi (acc[m,n] = sum_k a[m,k]*b[n,k] in wrapping int32) for packed Q8 operands,
// for CPU drivers such as lavapipe, with inputs read through io.glsl (the texel build,
// q_gemmi_sg_tex, gathers where a storage-buffer load loops over the SIMD lanes). Each
// invocation computes a TM x 4 block: TM rows of a shared by its subgroup (invocation y walks m
// in blocks of TM, grid-stride) and 4 columns of its own (invocation x walks n in steps of 4).
// The block is held in explicit variables (c0..c15, rows past TM compiled out: an array
// indexed in a loop becomes per-lane stack traffic on lavapipe) and k advances one word
// (4 codes) per step. Where the subgroup size is SG (at least 8, dividing WX: a subgroup then
// shares its m), lane s reads the words of rows m0+(s&7) and m0+8+(s&7) and subgroupBroadcast
// spreads them: per word an invocation reads 4 words of b and 1 or 2 of a for 16*TM products.
// Elsewhere every invocation reads its TM rows itself (the same results, slower): the kernel
// is correct whatever the driver's subgroups.
// Where KS > 0 (k is exactly KS <= 4 words, a first convolution) there is no loop over k: an
// invocation reads its 4 columns of b once for all its blocks of m, and one step takes all KS
// words, assigning each accumulator once (lavapipe stores every assignment of a
// loop-carried variable).
//
// Split k as q_gemmi: workgroup z sums the words [z*KC, (z+1)*KC) of k into slice z of acc
// (KS > 0: no split).
//
// DEQ = 1 (GemmIDequant; k not split): the block is dequantized as q_dequant does, step for
// step, and written as floats y in place of acc: y[m,n] = float(scale[n]*float(v)) + bias[n]
// with the wrapping int32 v = acc[m,n] - zb[n]*sa[m] - za*sb[n] + kzz[n], each float step
// rounded (precise); prm[off + n] = scale bits, prm[off + N + n] = zb, prm[off + 2N + n] = kzz
// (the host's q_dequant constants). The row sums sa[m] come from the words of a the block
// reads anyway: with the broadcast, lane s sums its rows m0+(s&7) and m0+8+(s&7) over all of
// k and the sums are broadcast like the words; otherwise, and where one step takes all of k
// (KS > 0), every invocation sums the rows it reads. Each invocation covers all of k for its
// rows, so no sum is shared between invocations or counted twice.
// Bindings: 0 = a [M, KW words], 1 = b [N, KW words] (io.glsl inputs), 2 = acc (DEQ: y, the
// float bits), 3 = the same as ivec4 (VEC4; the same buffer), 4 = sb [N], 5 = bias [N],
// 6 = prm (io.glsl inputs, read only when DEQ; HAS_BIAS = 0: bias is bound but not read).
// Push constants {uint M, N, K, KW, KC; int za; uint off} (za and off: DEQ only).
// Specialization: 0 = WX, 6 = WY (workgroup size), 1 = FA, 2 = FB (0 or 1: packed formats
// only), 3 = VEC4 (N % 4 == 0), 4 = SG (the subgroup size the host expects), 5 = TM (1..16),
// 7 = KS (0, or KW when it is 1..4), 8 = DEQ, 9 = HAS_BIAS.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#include "q_common.glsl"
#include "io.glsl"
layout(local_size_x_id = 0, local_size_y_id = 6) in;
layout(constant_id = 0) const uint WX = 8u;
layout(constant_id = 1) const uint FA = 0u;
layout(constant_id = 2) const uint FB = 0u;
layout(constant_id = 3) const uint VEC4 = 0u;
layout(constant_id = 4) const uint SG = 8u;
layout(constant_id = 5) const uint TM = 16u;
layout(constant_id = 7) const uint KS = 0u;
layout(constant_id = 8) const uint DEQ = 0u;
layout(constant_id = 9) const uint HAS_BIAS = 0u;

IN_U32(0, a)
IN_U32(1, b)
layout(std430, set = 0, binding = 2) writeonly buffer Acc { int acc[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Acc4 { ivec4 acc4[]; };
IN_I32(4, sb)
IN_F32(5, bias)
IN_U32(6, prm)

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint K;
    uint KW;
    uint KC;
    int za;
    uint off;
} p;

// DEQ: the constants of the block's 4 columns (clamped past N), loaded once per invocation.
vec4 dScale = vec4(0.0), dBias = vec4(0.0);
ivec4 dZb = ivec4(0), dC = ivec4(0);

// hsum returns the sum of the four codes of a packed word's unpacked codes.
int hsum(ivec4 v) {
    return (v.x + v.y) + (v.z + v.w);
}

int dot4(ivec4 u, ivec4 v) {
    return u.x * v.x + u.y * v.y + u.z * v.z + u.w * v.w;
}

// store writes the in-range part of one row of the block (DEQ: dequantized with the row sum
// s of row m).
void store(uint m, uint n0, ivec4 v, int s) {
    if (m >= p.M || n0 >= p.N) {
        return;
    }
    if (DEQ != 0u) {
        ivec4 q = v - dZb * s + dC;
        precise vec4 f = dScale * vec4(q);
        if (HAS_BIAS != 0u) {
            precise vec4 fb = f + dBias;
            f = fb;
        }
        v = floatBitsToInt(f);
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

// Row T of the block (accumulator C) with word WORD of a.
#define ROWW(C, T, WORD)                                                         \
    if (TM > T) {                                                                \
        ivec4 av = q8word(WORD, FA);                                             \
        C += ivec4(dot4(av, b0), dot4(av, b1), dot4(av, b2), dot4(av, b3));      \
    }
// ... broadcast from lane ID of X.
#define ROWB(C, T, X, ID) ROWW(C, T, subgroupBroadcast(X, ID))
// ... read by this invocation, its codes added to the row sum R (DEQ).
#define ROWP(C, R, T)                                                            \
    if (TM > T) {                                                                \
        ivec4 av = q8word(a(min(m0 + T, p.M - 1u) * p.KW + w), FA);              \
        C += ivec4(dot4(av, b0), dot4(av, b1), dot4(av, b2), dot4(av, b3));      \
        if (DEQ != 0u) R += hsum(av);                                            \
    }
#define ST(C, R, T) if (TM > T) store(m0 + T, n0, C, R);
// DEQ with the broadcast: row T's sum from lane ID of the lanes' sums X.
#define RSB(R, T, X, ID) if (DEQ != 0u && TM > T) R = subgroupBroadcast(X, ID);
// The four columns' codes of word w.
#define LOADB                                                                    \
    ivec4 b0 = q8word(b(ob0 + w), FB), b1 = q8word(b(ob1 + w), FB);              \
    ivec4 b2 = q8word(b(ob2 + w), FB), b3 = q8word(b(ob3 + w), FB);

// KS > 0: the codes of column C, word J (compiled out past KS), read once per invocation.
#define SLB(C, J, OB) ivec4 s##C##J = KS > J ? q8word(b(OB + J), FB) : ivec4(0);
#define SLBC(C, OB) SLB(C, 0, OB) SLB(C, 1, OB) SLB(C, 2, OB) SLB(C, 3, OB)
// Column C of a row whose words are u0..u3.
#define SD(C, J) (KS > J ? dot4(u##J, s##C##J) : 0)
#define SCOL(C) (SD(C, 0) + SD(C, 1) + SD(C, 2) + SD(C, 3))
#define SWB(X, ID) q8word(subgroupBroadcast(X, ID), FA)
// Row T (accumulator C, row sum R when DEQ) from lane ID of the words X0..X3 (KS > 0,
// subgroup).
#define SROWB(C, R, T, X0, X1, X2, X3, ID)                                       \
    if (TM > T) {                                                                \
        ivec4 u0 = SWB(X0, ID), u1 = ivec4(0), u2 = ivec4(0), u3 = ivec4(0);     \
        if (KS > 1u) u1 = SWB(X1, ID);                                           \
        if (KS > 2u) u2 = SWB(X2, ID);                                           \
        if (KS > 3u) u3 = SWB(X3, ID);                                           \
        C = ivec4(SCOL(0), SCOL(1), SCOL(2), SCOL(3));                           \
        if (DEQ != 0u) R = hsum((u0 + u1) + (u2 + u3));                          \
    }
// The same, read by this invocation.
#define SAW(AR, J) (KS > J ? a(AR + J) : 0u)
#define SROWP(C, R, T)                                                           \
    if (TM > T) {                                                                \
        uint ar = min(m0 + T, p.M - 1u) * p.KW;                                  \
        ivec4 u0 = q8word(SAW(ar, 0), FA), u1 = q8word(SAW(ar, 1), FA);          \
        ivec4 u2 = q8word(SAW(ar, 2), FA), u3 = q8word(SAW(ar, 3), FA);          \
        C = ivec4(SCOL(0), SCOL(1), SCOL(2), SCOL(3));                           \
        if (DEQ != 0u) R = hsum((u0 + u1) + (u2 + u3));                          \
    }

void main() {
    uint n0 = gl_GlobalInvocationID.x * 4u;
    // Columns past N are clamped for loads and not stored; such invocations still take part
    // in the broadcasts.
    uint ob0 = min(n0, p.N - 1u) * p.KW, ob1 = min(n0 + 1u, p.N - 1u) * p.KW;
    uint ob2 = min(n0 + 2u, p.N - 1u) * p.KW, ob3 = min(n0 + 3u, p.N - 1u) * p.KW;
    uint w0 = gl_WorkGroupID.z * p.KC;
    uint wEnd = min(p.KW, w0 + p.KC);
    uint stepM = gl_NumWorkGroups.y * gl_WorkGroupSize.y * TM;
    bool sgLoad = SG >= 8u && gl_SubgroupSize == SG && WX % SG == 0u;
    uint s8 = gl_SubgroupInvocationID & 7u;
    // KS > 0: the block's columns of b, for all its blocks of m.
    SLBC(0, ob0) SLBC(1, ob1) SLBC(2, ob2) SLBC(3, ob3)
    if (DEQ != 0u) {
        uvec4 nc = min(uvec4(n0) + uvec4(0u, 1u, 2u, 3u), uvec4(p.N - 1u));
        dScale = uintBitsToFloat(uvec4(prm(p.off + nc.x), prm(p.off + nc.y), prm(p.off + nc.z), prm(p.off + nc.w)));
        uvec4 o = p.off + p.N + nc;
        dZb = ivec4(prm(o.x), prm(o.y), prm(o.z), prm(o.w));
        o += p.N;
        dC = ivec4(prm(o.x), prm(o.y), prm(o.z), prm(o.w)) - p.za * ivec4(sb(nc.x), sb(nc.y), sb(nc.z), sb(nc.w));
        if (HAS_BIAS != 0u) dBias = vec4(bias(nc.x), bias(nc.y), bias(nc.z), bias(nc.w));
    }
    for (uint m0 = gl_GlobalInvocationID.y * TM; m0 < p.M; m0 += stepM) {
        ivec4 c0 = ivec4(0), c1 = ivec4(0), c2 = ivec4(0), c3 = ivec4(0);
        ivec4 c4 = ivec4(0), c5 = ivec4(0), c6 = ivec4(0), c7 = ivec4(0);
        ivec4 c8 = ivec4(0), c9 = ivec4(0), c10 = ivec4(0), c11 = ivec4(0);
        ivec4 c12 = ivec4(0), c13 = ivec4(0), c14 = ivec4(0), c15 = ivec4(0);
        // DEQ: the rows' sums of codes.
        int r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0, r5 = 0, r6 = 0, r7 = 0;
        int r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
        if (KS > 0u) {
            if (sgLoad) {
                uint ar0 = min(m0 + s8, p.M - 1u) * p.KW;
                uint ar1 = min(m0 + 8u + s8, p.M - 1u) * p.KW;
                uint x0 = SAW(ar0, 0), x1 = SAW(ar0, 1), x2 = SAW(ar0, 2), x3 = SAW(ar0, 3);
                SROWB(c0, r0, 0u, x0, x1, x2, x3, 0u) SROWB(c1, r1, 1u, x0, x1, x2, x3, 1u)
                SROWB(c2, r2, 2u, x0, x1, x2, x3, 2u) SROWB(c3, r3, 3u, x0, x1, x2, x3, 3u)
                SROWB(c4, r4, 4u, x0, x1, x2, x3, 4u) SROWB(c5, r5, 5u, x0, x1, x2, x3, 5u)
                SROWB(c6, r6, 6u, x0, x1, x2, x3, 6u) SROWB(c7, r7, 7u, x0, x1, x2, x3, 7u)
                if (TM > 8u) {
                    uint y0 = SAW(ar1, 0), y1 = SAW(ar1, 1), y2 = SAW(ar1, 2), y3 = SAW(ar1, 3);
                    SROWB(c8, r8, 8u, y0, y1, y2, y3, 0u) SROWB(c9, r9, 9u, y0, y1, y2, y3, 1u)
                    SROWB(c10, r10, 10u, y0, y1, y2, y3, 2u) SROWB(c11, r11, 11u, y0, y1, y2, y3, 3u)
                    SROWB(c12, r12, 12u, y0, y1, y2, y3, 4u) SROWB(c13, r13, 13u, y0, y1, y2, y3, 5u)
                    SROWB(c14, r14, 14u, y0, y1, y2, y3, 6u) SROWB(c15, r15, 15u, y0, y1, y2, y3, 7u)
                }
            } else {
                SROWP(c0, r0, 0u) SROWP(c1, r1, 1u) SROWP(c2, r2, 2u) SROWP(c3, r3, 3u)
                SROWP(c4, r4, 4u) SROWP(c5, r5, 5u) SROWP(c6, r6, 6u) SROWP(c7, r7, 7u)
                SROWP(c8, r8, 8u) SROWP(c9, r9, 9u) SROWP(c10, r10, 10u) SROWP(c11, r11, 11u)
                SROWP(c12, r12, 12u) SROWP(c13, r13, 13u) SROWP(c14, r14, 14u) SROWP(c15, r15, 15u)
            }
        } else if (sgLoad) {
            uint ar0 = min(m0 + s8, p.M - 1u) * p.KW;
            uint ar1 = min(m0 + 8u + s8, p.M - 1u) * p.KW;
            int l0 = 0, l1 = 0; // DEQ: the sums of this lane's rows (ar0, ar1)
            for (uint w = w0; w < wEnd; w++) {
                LOADB
                uint x0 = a(ar0 + w);
                uint x1 = TM > 8u ? a(ar1 + w) : 0u;
                if (DEQ != 0u) {
                    l0 += hsum(q8word(x0, FA));
                    l1 += hsum(q8word(x1, FA));
                }
                ROWB(c0, 0u, x0, 0u) ROWB(c1, 1u, x0, 1u) ROWB(c2, 2u, x0, 2u) ROWB(c3, 3u, x0, 3u)
                ROWB(c4, 4u, x0, 4u) ROWB(c5, 5u, x0, 5u) ROWB(c6, 6u, x0, 6u) ROWB(c7, 7u, x0, 7u)
                ROWB(c8, 8u, x1, 0u) ROWB(c9, 9u, x1, 1u) ROWB(c10, 10u, x1, 2u) ROWB(c11, 11u, x1, 3u)
                ROWB(c12, 12u, x1, 4u) ROWB(c13, 13u, x1, 5u) ROWB(c14, 14u, x1, 6u) ROWB(c15, 15u, x1, 7u)
            }
            RSB(r0, 0u, l0, 0u) RSB(r1, 1u, l0, 1u) RSB(r2, 2u, l0, 2u) RSB(r3, 3u, l0, 3u)
            RSB(r4, 4u, l0, 4u) RSB(r5, 5u, l0, 5u) RSB(r6, 6u, l0, 6u) RSB(r7, 7u, l0, 7u)
            RSB(r8, 8u, l1, 0u) RSB(r9, 9u, l1, 1u) RSB(r10, 10u, l1, 2u) RSB(r11, 11u, l1, 3u)
            RSB(r12, 12u, l1, 4u) RSB(r13, 13u, l1, 5u) RSB(r14, 14u, l1, 6u) RSB(r15, 15u, l1, 7u)
        } else {
            for (uint w = w0; w < wEnd; w++) {
                LOADB
                ROWP(c0, r0, 0u) ROWP(c1, r1, 1u) ROWP(c2, r2, 2u) ROWP(c3, r3, 3u)
                ROWP(c4, r4, 4u) ROWP(c5, r5, 5u) ROWP(c6, r6, 6u) ROWP(c7, r7, 7u)
                ROWP(c8, r8, 8u) ROWP(c9, r9, 9u) ROWP(c10, r10, 10u) ROWP(c11, r11, 11u)
                ROWP(c12, r12, 12u) ROWP(c13, r13, 13u) ROWP(c14, r14, 14u) ROWP(c15, r15, 15u)
            }
        }
        ST(c0, r0, 0u) ST(c1, r1, 1u) ST(c2, r2, 2u) ST(c3, r3, 3u)
        ST(c4, r4, 4u) ST(c5, r5, 5u) ST(c6, r6, 6u) ST(c7, r7, 7u)
        ST(c8, r8, 8u) ST(c9, r9, 9u) ST(c10, r10, 10u) ST(c11, r11, 11u)
        ST(c12, r12, 12u) ST(c13, r13, 13u) ST(c14, r14, 14u) ST(c15, r15, 15u)
    }
}
