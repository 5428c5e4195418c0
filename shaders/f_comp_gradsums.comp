#version 450
// f_comp_gradsums: the second pass of CompensateGrad's sums (see f_colfin.glsl):
// dbeta = column sum of dy, dgamma = mean*dbeta.
//
// Bindings: 0 = dgamma, 1 = dbeta, 2 = part [L, C], 3 = mean
// (2 and 3 read through io.glsl). Push constants {uint c, lanes}.
// Specialization: 0 = workgroup size.
#include "io.glsl"
#include "f_colfin.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer DG { float dgamma[]; };
layout(std430, set = 0, binding = 1) writeonly buffer DB { float dbeta[]; };
IN_F32(2, part)
IN_F32(3, mean)

layout(push_constant) uniform Push {
    uint c;
    uint lanes;
} p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float sum;
        COLFIN_SUM(part, 0u, p.lanes, p.c, j, sum)
        dbeta[j] = sum;
        dgamma[j] = mean(j) * sum;
    }
}
