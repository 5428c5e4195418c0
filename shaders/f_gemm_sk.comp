#version 450
// f_gemm_sk: C = alpha*op(A)*op(B) + beta*C for float32 matrices with a long inner
// dimension and a small C (split k). Each workgroup computes one TM x TN tile of C: its KS
// invocations take every KS-th k, each accumulating a register tile, and the partial tiles
// are then summed through shared memory (no atomics). Loads past the edge of C are clamped
// as in f_gemm. With beta == 0, C is not read.
//
// Bindings and push constants as f_gemm. Specialization: 0 = KS (workgroup size);
// 1, 2 = TM, TN; 3, 4 = TRANS_A, TRANS_B.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint KS = 64;
layout(constant_id = 1) const uint TM = 4;
layout(constant_id = 2) const uint TN = 4;
layout(constant_id = 3) const bool TRANS_A = false;
layout(constant_id = 4) const bool TRANS_B = false;

layout(std430, set = 0, binding = 0) buffer Cm { float c[]; };
layout(std430, set = 0, binding = 1) readonly buffer Am { float a[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bm { float b[]; };

layout(push_constant) uniform Push {
    uint m;
    uint n;
    uint k;
    float alpha;
    float beta;
} p;

shared float part[KS * TM * TN];

void main() {
    uint tilesM = (p.m + TM - 1) / TM;
    uint tilesN = (p.n + TN - 1) / TN;
    uint lane = gl_LocalInvocationID.x;
    // Uniform per workgroup, so every invocation reaches the barriers.
    for (uint ti = gl_WorkGroupID.y; ti < tilesM; ti += gl_NumWorkGroups.y) {
        for (uint tj = gl_WorkGroupID.x; tj < tilesN; tj += gl_NumWorkGroups.x) {
            uint i0 = ti * TM;
            uint j0 = tj * TN;
            uint ia[TM];
            uint jb[TN];
            for (uint r = 0; r < TM; r++) {
                ia[r] = min(i0 + r, p.m - 1);
            }
            for (uint q = 0; q < TN; q++) {
                jb[q] = min(j0 + q, p.n - 1);
            }
            float acc[TM * TN];
            for (uint t = 0; t < TM * TN; t++) {
                acc[t] = 0.0;
            }
            for (uint kk = lane; kk < p.k; kk += KS) {
                float av[TM];
                float bv[TN];
                for (uint r = 0; r < TM; r++) {
                    av[r] = TRANS_A ? a[kk * p.m + ia[r]] : a[ia[r] * p.k + kk];
                }
                for (uint q = 0; q < TN; q++) {
                    bv[q] = TRANS_B ? b[jb[q] * p.k + kk] : b[kk * p.n + jb[q]];
                }
                for (uint r = 0; r < TM; r++) {
                    for (uint q = 0; q < TN; q++) {
                        acc[r * TN + q] += av[r] * bv[q];
                    }
                }
            }
            for (uint t = 0; t < TM * TN; t++) {
                part[t * KS + lane] = acc[t];
            }
            barrier();
            for (uint t = lane; t < TM * TN; t += KS) {
                uint r = t / TN;
                uint q = t % TN;
                if (i0 + r < p.m && j0 + q < p.n) {
                    float s = 0.0;
                    for (uint l = 0; l < KS; l++) {
                        s += part[t * KS + l];
                    }
                    uint o = (i0 + r) * p.n + j0 + q;
                    float v = p.alpha * s;
                    if (p.beta != 0.0) {
                        v += p.beta * c[o];
                    }
                    c[o] = v;
                }
            }
            barrier();
        }
    }
}
