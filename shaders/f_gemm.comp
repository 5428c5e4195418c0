#version 450
// f_gemm: C = alpha*op(A)*op(B) + beta*C for float32 matrices, op(X) = X or X^T.
// Register-blocked: each invocation computes a TM x TN tile of C from TM values of op(A)
// and TN values of op(B) per step of k. Rows and columns past the edge of C are clamped
// to the last one for loads (so the inner loop has no branches) and not stored.
// With beta == 0, C is not read (NaN in C is ignored).
//
// Bindings: 0 = C [m, n], 1 = A ([m, k], or [k, m] when TRANS_A), 2 = B ([k, n], or [n, k]
// when TRANS_B). Push constants {uint m, n, k; float alpha, beta}.
// Specialization: 0, 1 = workgroup size x (along n) and y (along m); 2, 3 = TM, TN;
// 4, 5 = TRANS_A, TRANS_B.
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint TM = 4;
layout(constant_id = 3) const uint TN = 4;
layout(constant_id = 4) const bool TRANS_A = false;
layout(constant_id = 5) const bool TRANS_B = false;

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

void main() {
    uint tilesM = (p.m + TM - 1) / TM;
    uint tilesN = (p.n + TN - 1) / TN;
    uint strideM = gl_NumWorkGroups.y * gl_WorkGroupSize.y;
    uint strideN = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint ti = gl_GlobalInvocationID.y; ti < tilesM; ti += strideM) {
        for (uint tj = gl_GlobalInvocationID.x; tj < tilesN; tj += strideN) {
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
            for (uint kk = 0; kk < p.k; kk++) {
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
            for (uint r = 0; r < TM; r++) {
                if (i0 + r >= p.m) {
                    break;
                }
                for (uint q = 0; q < TN; q++) {
                    if (j0 + q >= p.n) {
                        break;
                    }
                    uint o = (i0 + r) * p.n + j0 + q;
                    float v = p.alpha * acc[r * TN + q];
                    if (p.beta != 0.0) {
                        v += p.beta * c[o];
                    }
                    c[o] = v;
                }
            }
        }
    }
}
