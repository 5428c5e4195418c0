// f_gemm.glsl: the body of f_gemm and f_gemm_sg: C = alpha*op(A)*op(B) + beta*C for float32 matrices, op(X) = X or X^T.
//
// Register-blocked: each invocation computes a TM x TN tile of C. One dimension of C is
// walked by the workgroup (the same indices for all its invocations) and the other by
// its invocations (LANES_M: the invocations walk m, else n), in groups of 4 consecutive
// indices, neighbouring invocations on neighbouring groups. k advances 4 at a time: a
// TM x 4 panel of op(A) and a 4 x TN panel of op(B) are loaded, then 4*TM*TN
// multiply-adds. An operand whose contiguous dimension is a multiple of 4 (VEC_A, VEC_B)
// is loaded as vec4s: TM (or TN) loads per panel instead of 4*TM, which is what limits
// CPU drivers such as lavapipe. Indices past the edge of C are clamped for loads and not
// stored; k past its end is read as 0.
//
// Split k: workgroup z covers k in [z*kc, min(k, (z+1)*kc)) (kc a multiple of 4) and writes
// C's block at offset z*m*n (binding 0 then holds the partial products that f_gemm_ksum
// adds, with alpha = 1, beta = 0). With beta == 0 C is not read (NaN in C is ignored).
//
// Bindings: 0 = C [m, n] (or the partial products), 1 = A ([m, k], or [k, m] when TRANS_A),
// 2 = B ([k, n], or [n, k] when TRANS_B). Push constants {uint m, n, k, kc; float alpha, beta}.
// Subgroup loads (f_gemm_sg only, SG > 0; for CPU drivers, where every load is a loop over the SIMD lanes
// while moving values between lanes is cheap): the 4*TU values of the panel that all
// invocations share (TU = TM, or TN when LANES_M) are loaded once per subgroup, SG
// consecutive ones per round (ROUNDS = ceil(4*TU/SG) rounds), and broadcast. The workgroup
// size must then be a multiple of SG; if the subgroup size is not SG at run time the plain
// loads are used.
//
// Specialization: 0 = WX (workgroup size), 1 = TM, 2 = TN (multiples of 4), 3 = TRANS_A,
// 4 = TRANS_B, 5 = LANES_M, 6 = VEC_A, 7 = VEC_B, 8 = SG (0: off), 9 = ROUNDS.
#ifndef F_GEMM_U64
#define F_GEMM_U64 0
#endif
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WX = 64;
layout(constant_id = 1) const uint TM = 8;
layout(constant_id = 2) const uint TN = 8;
layout(constant_id = 3) const bool TRANS_A = false;
layout(constant_id = 4) const bool TRANS_B = false;
layout(constant_id = 5) const bool LANES_M = false;
layout(constant_id = 6) const bool VEC_A = false;
layout(constant_id = 7) const bool VEC_B = false;
#if F_GEMM_SG
layout(constant_id = 8) const uint SG = 0;
layout(constant_id = 9) const uint ROUNDS = 1;
#endif

layout(std430, set = 0, binding = 0) buffer Cm { float c[]; };
layout(std430, set = 0, binding = 1) readonly buffer Am { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer Am4 { vec4 a4[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bm { float b[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bm4 { vec4 b4[]; };
#if F_GEMM_U64
// The vec4 loads as two 64-bit words each (f_gemm_sg64: CPU drivers with shaderInt64, where
// a load costs the same whatever its width up to 64 bits, a vec4 four times that).
layout(std430, set = 0, binding = 1) readonly buffer Am8 { uint64_t a8[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bm8 { uint64_t b8[]; };

vec4 ldA4(uint i) {
    return vec4(uintBitsToFloat(unpackUint2x32(a8[2u * i])), uintBitsToFloat(unpackUint2x32(a8[2u * i + 1u])));
}

vec4 ldB4(uint i) {
    return vec4(uintBitsToFloat(unpackUint2x32(b8[2u * i])), uintBitsToFloat(unpackUint2x32(b8[2u * i + 1u])));
}
#else
vec4 ldA4(uint i) { return a4[i]; }
vec4 ldB4(uint i) { return b4[i]; }
#endif

layout(push_constant) uniform Push {
    uint m;
    uint n;
    uint k;
    uint kc;
    float alpha;
    float beta;
} p;

// Scalar loads of op(A)(i, kk) and op(B)(kk, j), 0 past the end of k.
float sA(uint i, uint kk) {
    i = min(i, p.m - 1);
    uint q = min(kk, p.k - 1);
    float v = TRANS_A ? a[q * p.m + i] : a[i * p.k + q];
    return kk < p.k ? v : 0.0;
}

float sB(uint kk, uint j) {
    j = min(j, p.n - 1);
    uint q = min(kk, p.k - 1);
    float v = TRANS_B ? b[j * p.k + q] : b[q * p.n + j];
    return kk < p.k ? v : 0.0;
}

void main() {
    uint U = LANES_M ? p.n : p.m;      // walked by workgroups
    uint L = LANES_M ? p.m : p.n;      // walked by invocations
    uint TU = LANES_M ? TN : TM;
    uint TL = LANES_M ? TM : TN;
    uint k0 = gl_WorkGroupID.z * p.kc;
    uint k1 = min(p.k, k0 + p.kc);
    uint base = gl_WorkGroupID.z * p.m * p.n;
    uint lx = gl_LocalInvocationID.x;
#if F_GEMM_SG
    bool sgLoad = SG > 0u && gl_SubgroupSize == SG;
#else
    const bool sgLoad = false;
#endif
    for (uint gu = gl_WorkGroupID.y; gu * TU < U; gu += gl_NumWorkGroups.y) {
        for (uint gl = gl_WorkGroupID.x; gl * WX * TL < L; gl += gl_NumWorkGroups.x) {
            // Nominal row and column indices of this invocation's tile.
            uint ri[TM];
            uint cj[TN];
            uint u0 = gu * TU;
            uint l0 = gl * WX * TL + lx * 4u;
            for (uint t = 0; t < TM; t++) {
                ri[t] = LANES_M ? l0 + (t / 4u) * WX * 4u + t % 4u : u0 + t;
            }
            for (uint t = 0; t < TN; t++) {
                cj[t] = LANES_M ? u0 + t : l0 + (t / 4u) * WX * 4u + t % 4u;
            }
            float acc[TM * TN];
            for (uint t = 0; t < TM * TN; t++) {
                acc[t] = 0.0;
            }
            for (uint kk = k0; kk < k1; kk += 4u) {
                float pa[TM * 4];  // pa[t*4+s] = op(A)(ri[t], kk+s)
                float pb[4 * TN];  // pb[s*TN+q] = op(B)(kk+s, cj[q])
#if F_GEMM_SG
                if (sgLoad) {
                    // The shared panel, element e = t*4+s, loaded by lane e % SG in round e / SG.
                    float pv[ROUNDS];
                    for (uint r = 0; r < ROUNDS; r++) {
                        uint e = min(r * SG + gl_SubgroupInvocationID, 4u * TU - 1u);
                        uint t = e / 4u;
                        pv[r] = LANES_M ? sB(kk + e % 4u, cj[t]) : sA(ri[t], kk + e % 4u);
                    }
                    for (uint t = 0; t < TU; t++) {
                        for (uint s = 0; s < 4; s++) {
                            float v = subgroupBroadcast(pv[(t * 4u + s) / SG], (t * 4u + s) % SG);
                            if (LANES_M) {
                                pb[s * TN + t] = v;
                            } else {
                                pa[t * 4 + s] = v;
                            }
                        }
                    }
                }
#endif
                if (sgLoad && !LANES_M) {
                } else if (VEC_A && !TRANS_A) {
                    // Rows of A [m, k], k % 4 == 0: one vec4 per row.
                    for (uint t = 0; t < TM; t++) {
                        vec4 v = ldA4((min(ri[t], p.m - 1) * p.k + kk) / 4u);
                        for (uint s = 0; s < 4; s++) {
                            pa[t * 4 + s] = v[s];
                        }
                    }
                } else if (VEC_A) {
                    // A [k, m], m % 4 == 0: one vec4 per 4 rows and step of k.
                    for (uint g = 0; g < TM / 4u; g++) {
                        uint i4 = min(ri[4 * g], p.m - 4u);
                        for (uint s = 0; s < 4; s++) {
                            vec4 v = ldA4((min(kk + s, p.k - 1) * p.m + i4) / 4u);
                            for (uint r = 0; r < 4; r++) {
                                pa[(4 * g + r) * 4 + s] = kk + s < p.k ? v[r] : 0.0;
                            }
                        }
                    }
                } else {
                    for (uint t = 0; t < TM; t++) {
                        for (uint s = 0; s < 4; s++) {
                            pa[t * 4 + s] = sA(ri[t], kk + s);
                        }
                    }
                }
                if (sgLoad && LANES_M) {
                } else if (VEC_B && TRANS_B) {
                    // B [n, k], k % 4 == 0: one vec4 per column.
                    for (uint q = 0; q < TN; q++) {
                        vec4 v = ldB4((min(cj[q], p.n - 1) * p.k + kk) / 4u);
                        for (uint s = 0; s < 4; s++) {
                            pb[s * TN + q] = v[s];
                        }
                    }
                } else if (VEC_B) {
                    // B [k, n], n % 4 == 0: one vec4 per 4 columns and step of k.
                    for (uint g = 0; g < TN / 4u; g++) {
                        uint j4 = min(cj[4 * g], p.n - 4u);
                        for (uint s = 0; s < 4; s++) {
                            vec4 v = ldB4((min(kk + s, p.k - 1) * p.n + j4) / 4u);
                            for (uint r = 0; r < 4; r++) {
                                pb[s * TN + 4 * g + r] = kk + s < p.k ? v[r] : 0.0;
                            }
                        }
                    }
                } else {
                    for (uint s = 0; s < 4; s++) {
                        for (uint q = 0; q < TN; q++) {
                            pb[s * TN + q] = sB(kk + s, cj[q]);
                        }
                    }
                }
                for (uint t = 0; t < TM; t++) {
                    for (uint q = 0; q < TN; q++) {
                        float s0 = acc[t * TN + q];
                        for (uint s = 0; s < 4; s++) {
                            s0 += pa[t * 4 + s] * pb[s * TN + q];
                        }
                        acc[t * TN + q] = s0;
                    }
                }
            }
            for (uint t = 0; t < TM; t++) {
                for (uint q = 0; q < TN; q++) {
                    if (ri[t] < p.m && cj[q] < p.n) {
                        uint o = base + ri[t] * p.n + cj[q];
                        float v = p.alpha * acc[t * TN + q];
                        if (p.beta != 0.0) {
                            v += p.beta * c[o];
                        }
                        c[o] = v;
                    }
                }
            }
        }
    }
}
