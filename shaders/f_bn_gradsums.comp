#version 450
// f_bn_gradsums: the second pass of BatchNormGrad's sums (see f_colfin.glsl and
// f_colpart_bngrad): dbeta = column sum of dy, dgamma = column sum of dy*xhat.
//
// Bindings: 0 = dgamma, 1 = dbeta, 2 = part [2, L, C] (read through io.glsl). Push constants {uint c, lanes}.
// Specialization: 0 = workgroup size.
#include "io.glsl"
#include "f_colfin.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer DG { float dgamma[]; };
layout(std430, set = 0, binding = 1) writeonly buffer DB { float dbeta[]; };
IN_F32(2, part)

layout(push_constant) uniform Push {
    uint c;
    uint lanes;
} p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float sb;
        float sg;
        COLFIN_SUM(part, 0u, p.lanes, p.c, j, sb)
        COLFIN_SUM(part, p.lanes * p.c, p.lanes, p.c, j, sg)
        dbeta[j] = sb;
        dgamma[j] = sg;
    }
}
