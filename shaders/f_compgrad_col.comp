#version 450
// f_compgrad_col: backend.CompensateGrad in one dispatch where the matrix dy [r, c] is short
// enough that one invocation sums a column: invocation j (grid-stride over the columns) adds
// dy[., j] over increasing rows, as f_comp_gradsums does with the matrix as its partials
// (COLFIN_SUM with lanes = r), writes dbeta[j] = sum and dgamma[j] = mean*sum, then
// dx[., j] = dy + (gamma*sum)/r (TRAIN) or dy as f_comp_gradx: every float step the same, so
// the same results as those two kernels. dx may be dy's buffer: an invocation reads each
// element of its column before it writes it, and no other invocation touches the column.
//
// Bindings: 0 = dx, 1 = dy, 2 = gamma, 3 = mean (io.glsl inputs except dx), 4 = dgamma,
// 5 = dbeta. Push constants {uint r, c; float rf}. Specialization: 0 = workgroup size,
// 1 = TRAIN.
#include "io.glsl"
#include "f_colfin.glsl"
layout(constant_id = 1) const bool TRAIN = true;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
IN_F32(1, dy)
IN_F32(2, gamma)
IN_F32(3, mean)
layout(std430, set = 0, binding = 4) writeonly buffer DG { float dgamma[]; };
layout(std430, set = 0, binding = 5) writeonly buffer DB { float dbeta[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float sum;
        COLFIN_SUM(dy, 0u, p.r, p.c, j, sum)
        dbeta[j] = sum;
        dgamma[j] = mean(j) * sum;
        precise float g = gamma(j) * sum;
        precise float add = g / p.rf;
        for (uint i = 0u; i < p.r; i++) {
            uint o = i * p.c + j;
            precise float v = dy(o) + add;
            dx[o] = TRAIN ? v : dy(o);
        }
    }
}
