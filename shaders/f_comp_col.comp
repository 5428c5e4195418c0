#version 450
// f_comp_col: the error-compensation layer in training mode (backend.CompensateTrain) in one
// dispatch where the matrix x [r, c] is short enough that one invocation sums a column:
// invocation j (grid-stride over the columns) adds x[., j] over increasing rows, as f_comp_stats
// does with the matrix as its partials (COLFIN_SUM with lanes = r), writes mean[j] = sum/r and
// the running mean as f_comp_stats, then y[., j] = (x + gamma*mean) + beta as f_comp_apply:
// every float step the same, so the same results as those two kernels, without the dispatch
// and barrier between them (each invocation reads only its own column's sums).
//
// Bindings: 0 = y, 1 = x, 2 = gamma, 3 = beta (io.glsl inputs except y), 4 = mean, 5 = runMean.
// Push constants {uint r, c; float rf, momentum}. Specialization: 0 = workgroup size.
#include "io.glsl"
#include "f_colfin.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
IN_F32(1, x)
IN_F32(2, gamma)
IN_F32(3, beta)
layout(std430, set = 0, binding = 4) writeonly buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 5) buffer RM { float runMean[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
    float momentum;
} p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float sum;
        COLFIN_SUM(x, 0u, p.r, p.c, j, sum)
        float m = sum / p.rf;
        mean[j] = m;
        precise float keep = (1.0 - p.momentum) * runMean[j];
        precise float add = p.momentum * m;
        runMean[j] = keep + add;
        precise float g = gamma(j) * m;
        float b = beta(j);
        for (uint i = 0u; i < p.r; i++) {
            uint o = i * p.c + j;
            precise float s = x(o) + g;
            precise float v = s + b;
            y[o] = v;
        }
    }
}
