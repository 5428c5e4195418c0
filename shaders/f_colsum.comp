#version 450
// f_colsum: the second pass of a column sum (see f_colfin.glsl): s[j] = the sum of the
// partial sums of column j, divided by rf when MEAN.
//
// Bindings: 0 = s [C], 1 = part [L, C] (read through io.glsl). Push constants {uint c, lanes; float rf}.
// Specialization: 0 = workgroup size, 1 = MEAN.
#include "io.glsl"
#include "f_colfin.glsl"
layout(constant_id = 1) const bool MEAN = false;

layout(std430, set = 0, binding = 0) writeonly buffer S { float s[]; };
IN_F32(1, part)

layout(push_constant) uniform Push {
    uint c;
    uint lanes;
    float rf;
} p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float sum;
        COLFIN_SUM(part, 0u, p.lanes, p.c, j, sum)
        s[j] = MEAN ? sum / p.rf : sum;
    }
}
