#version 450
// f_gemm_rows: C = alpha*A*op(B) + beta*C for float32 matrices with a short inner dimension
// (k <= 16) and a tall A (m much larger than n), op(B) = B or B^T, for CPU drivers such as
// lavapipe (the gradient of a first convolution's im2col matrix: [rows, k] by [k, K]).
//
// Invocation g owns the eight rows 8g..8g+7 of A and C: it reads their k values once (as
// four vec4s a row; rows past m are clamped for loads and not stored), then walks the n
// columns of C, reading column j of op(B) (the same for every invocation) and storing the
// eight dot products. Nothing but j is carried by the loop (lavapipe pays a masked store per
// assignment of a loop-carried variable), and no array is indexed in a loop. f_gemm_rt
// holds its accumulators over all of k and pays a lane-operand gather per product step for
// every 16 outputs; here a row's k values are gathered once for all n columns, and a column
// of op(B) once for eight rows of each of the subgroup's lanes.
//
// Bindings: 0 = C [m, n] (a storage buffer), 1 = A [m, k], 2 = B ([k, n], or [n, k] when
// TRANS_B), both io.glsl inputs. Push constants {uint m, n, k, kc; float alpha, beta} (those
// of f_gemm_rt; kc unused). With beta == 0 C is not read.
// Specialization: 0 = WX (workgroup size), 1 = KS (= k, 1..16), 2 = TRANS_B.
#include "io.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint KS = 16;
layout(constant_id = 2) const bool TRANS_B = false;

layout(std430, set = 0, binding = 0) buffer Cm { float c[]; };
IN_F32(1, ldA)
IN_F32(2, ldB)

layout(push_constant) uniform Push {
    uint m;
    uint n;
    uint k;
    uint kc;
    float alpha;
    float beta;
} p;

// a4 returns A's elements (row, k0..k0+3), zero past KS.
vec4 a4(uint row, uint k0) {
    uint o = row * KS + k0;
    return vec4(KS > k0 ? ldA(o) : 0.0, KS > k0 + 1u ? ldA(o + 1u) : 0.0,
        KS > k0 + 2u ? ldA(o + 2u) : 0.0, KS > k0 + 3u ? ldA(o + 3u) : 0.0);
}

// bk returns element (kk, j) of op(B).
float bk(uint kk, uint j) { return ldB(TRANS_B ? j * KS + kk : kk * p.n + j); }

// b4 returns op(B)'s elements (k0..k0+3, j), zero past KS.
vec4 b4(uint k0, uint j) {
    return vec4(KS > k0 ? bk(k0, j) : 0.0, KS > k0 + 1u ? bk(k0 + 1u, j) : 0.0,
        KS > k0 + 2u ? bk(k0 + 2u, j) : 0.0, KS > k0 + 3u ? bk(k0 + 3u, j) : 0.0);
}

// store writes C element (i, j) where i is inside C.
void store(uint i, uint j, float v) {
    if (i >= p.m) {
        return;
    }
    uint o = i * p.n + j;
    v *= p.alpha;
    if (p.beta != 0.0) {
        v += p.beta * c[o];
    }
    c[o] = v;
}

// dotRow is a row's dot product with a column of op(B) (b0..b3).
float dotRow(vec4 a0, vec4 a1, vec4 a2, vec4 a3, vec4 b0, vec4 b1, vec4 b2, vec4 b3) {
    return dot(a0, b0) + (KS > 4u ? dot(a1, b1) : 0.0) + (KS > 8u ? dot(a2, b2) : 0.0) +
        (KS > 12u ? dot(a3, b3) : 0.0);
}

void main() {
    uint i0 = 8u * gl_GlobalInvocationID.x;
    if (i0 >= p.m) {
        return;
    }
    // Row i0+r's values of A (rows past m clamped for the loads).
    uint r0 = min(i0 + 0u, p.m - 1u);
    vec4 a0_0 = a4(r0, 0u), a0_1 = a4(r0, 4u), a0_2 = a4(r0, 8u), a0_3 = a4(r0, 12u);
    uint r1 = min(i0 + 1u, p.m - 1u);
    vec4 a1_0 = a4(r1, 0u), a1_1 = a4(r1, 4u), a1_2 = a4(r1, 8u), a1_3 = a4(r1, 12u);
    uint r2 = min(i0 + 2u, p.m - 1u);
    vec4 a2_0 = a4(r2, 0u), a2_1 = a4(r2, 4u), a2_2 = a4(r2, 8u), a2_3 = a4(r2, 12u);
    uint r3 = min(i0 + 3u, p.m - 1u);
    vec4 a3_0 = a4(r3, 0u), a3_1 = a4(r3, 4u), a3_2 = a4(r3, 8u), a3_3 = a4(r3, 12u);
    uint r4 = min(i0 + 4u, p.m - 1u);
    vec4 a4_0 = a4(r4, 0u), a4_1 = a4(r4, 4u), a4_2 = a4(r4, 8u), a4_3 = a4(r4, 12u);
    uint r5 = min(i0 + 5u, p.m - 1u);
    vec4 a5_0 = a4(r5, 0u), a5_1 = a4(r5, 4u), a5_2 = a4(r5, 8u), a5_3 = a4(r5, 12u);
    uint r6 = min(i0 + 6u, p.m - 1u);
    vec4 a6_0 = a4(r6, 0u), a6_1 = a4(r6, 4u), a6_2 = a4(r6, 8u), a6_3 = a4(r6, 12u);
    uint r7 = min(i0 + 7u, p.m - 1u);
    vec4 a7_0 = a4(r7, 0u), a7_1 = a4(r7, 4u), a7_2 = a4(r7, 8u), a7_3 = a4(r7, 12u);
    for (uint j = 0u; j < p.n; j++) {
        vec4 b0 = b4(0u, j), b1 = b4(4u, j), b2 = b4(8u, j), b3 = b4(12u, j);
        float y0 = dotRow(a0_0, a0_1, a0_2, a0_3, b0, b1, b2, b3);
        float y1 = dotRow(a1_0, a1_1, a1_2, a1_3, b0, b1, b2, b3);
        float y2 = dotRow(a2_0, a2_1, a2_2, a2_3, b0, b1, b2, b3);
        float y3 = dotRow(a3_0, a3_1, a3_2, a3_3, b0, b1, b2, b3);
        float y4 = dotRow(a4_0, a4_1, a4_2, a4_3, b0, b1, b2, b3);
        float y5 = dotRow(a5_0, a5_1, a5_2, a5_3, b0, b1, b2, b3);
        float y6 = dotRow(a6_0, a6_1, a6_2, a6_3, b0, b1, b2, b3);
        float y7 = dotRow(a7_0, a7_1, a7_2, a7_3, b0, b1, b2, b3);
        store(i0, j, y0);
        store(i0 + 1u, j, y1);
        store(i0 + 2u, j, y2);
        store(i0 + 3u, j, y3);
        store(i0 + 4u, j, y4);
        store(i0 + 5u, j, y5);
        store(i0 + 6u, j, y6);
        store(i0 + 7u, j, y7);
    }
}
