#version 450
// f_comp_stats: the second pass of CompensateTrain's statistics (see f_colfin.glsl):
// mean = (column sum of x)/R and runMean = (1-momentum)*runMean + momentum*mean in place,
// each product rounded as in the reference.
//
// BN (specialization 1; CompBNTrain's two-pass statistics): also the mean of the
// compensated output, bnMean = (mean + gamma*mean) + beta (yc's mean up to rounding), for
// the batch norm that reads it.
//
// Bindings: 0 = mean, 1 = runMean (read-write), 2 = part [L, C], 3 = gamma, 4 = beta (2 to 4
// read through io.glsl), 5 = bnMean (3 to 5 used only with BN, any buffers bound
// otherwise). Push constants {uint c, lanes; float rf, momentum}. Specialization:
// 0 = workgroup size, 1 = BN.
#include "io.glsl"
#include "f_colfin.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 1) buffer RM { float runMean[]; };
IN_F32(2, part)
IN_F32(3, gamma)
IN_F32(4, beta)
layout(std430, set = 0, binding = 5) writeonly buffer BM { float bnMean[]; };
layout(constant_id = 1) const bool BN = false;

layout(push_constant) uniform Push {
    uint c;
    uint lanes;
    float rf;
    float momentum;
} p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float sum;
        COLFIN_SUM(part, 0u, p.lanes, p.c, j, sum)
        float m = sum / p.rf;
        mean[j] = m;
        precise float keep = (1.0 - p.momentum) * runMean[j];
        precise float add = p.momentum * m;
        runMean[j] = keep + add;
        if (BN) {
            precise float g = gamma(j) * m;
            precise float s = m + g;
            precise float v = s + beta(j);
            bnMean[j] = v;
        }
    }
}
