#version 450
// f_colstats_fin: the last pass of the column statistics of a matrix x [R, C]
// (backend.FusedStats' xstats [2, C]: xstats[j] = the mean of column j, xstats[C + j] = the
// sum of squared deviations from it), one invocation per column, in one of three forms:
//
// MODE 0 (SUMS): part [L, C] holds partial sums of squared deviations (f_colpart_sqdev's
// default form, from the mean already in xstats[0, C)); xstats[C + j] = their sum in lane
// order (f_colfin.glsl).
//
// MODE 1 (CONTIG) and MODE 2 (STRIDED): part [2, L, C] holds each lane's mean
// (part[l*C + j]) and sum of squared deviations from it (part[L*C + l*C + j]), combined in
// lane order as f_bn_stats combines them (Chan et al.: the mean moves by the difference of
// the means weighted by the lane's share, the squared deviations gain the difference's
// square times n_a*n_b/(n_a+n_b)). CONTIG: lane l owns the l-th of L contiguous runs of
// ceil(R/L) rows (f_colpart_sqdev's WELFORD form); STRIDED: rows l, l+L, l+2L, ...
// (q_convi's STATS epilogue). Lanes without rows are skipped.
//
// Bindings: 0 = xstats (a storage buffer: MODE 0 writes its second row, the others both),
// 1 = part (read through io.glsl). Push constants {uint c, lanes, r}.
// Specialization: 0 = workgroup size, 1 = MODE.
#include "io.glsl"
#include "f_colfin.glsl"
layout(constant_id = 1) const uint MODE = 0u;

layout(std430, set = 0, binding = 0) buffer XS { float xstats[]; };
IN_F32(1, part)

layout(push_constant) uniform Push {
    uint c;
    uint lanes;
    uint r;
} p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        if (MODE == 0u) {
            float sum;
            COLFIN_SUM(part, 0u, p.lanes, p.c, j, sum)
            xstats[p.c + j] = sum;
            continue;
        }
        uint chunk = (p.r + p.lanes - 1u) / p.lanes;
        float n = 0.0, m = 0.0, q = 0.0;
        for (uint l = 0u; l < p.lanes; l++) {
            uint nl;
            if (MODE == 1u) {
                uint i0 = min(l * chunk, p.r);
                nl = min(i0 + chunk, p.r) - i0;
            } else {
                nl = l < p.r ? (p.r - l + p.lanes - 1u) / p.lanes : 0u;
            }
            if (nl == 0u) {
                continue;
            }
            float fl = float(nl), n2 = n + fl;
            float dl = part(l * p.c + j) - m;
            float w = fl / n2;
            m += dl * w;
            q += part((p.lanes + l) * p.c + j) + dl * dl * (n * w);
            n = n2;
        }
        xstats[j] = m;
        xstats[p.c + j] = q;
    }
}
