#version 450
// q_histogram: counts[bin]++ for every finite x[i], bin = floor((x-lo)*inv) clamped to
// [0, bins-1], inv = bins/(hi-lo) rounded to float32 on the host; each step is rounded to
// float32 (precise: no fused multiply-add). counts must be zeroed before. x is read through
// io.glsl (a texel buffer in the texel build); counts stays a storage buffer (atomics).
//
// Bindings: 0 = x, 1 = counts. Push constants {n, bins, lo, inv}.
// Specialization: 0 = workgroup size.
#include "io.glsl"
layout(local_size_x_id = 0) in;

IN_F32(0, x)
layout(std430, set = 0, binding = 1) buffer Counts { uint counts[]; };

layout(push_constant) uniform Push {
    uint n;
    uint bins;
    float lo;
    float inv;
} p;

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += step) {
        float v = x(i);
        if (isnan(v) || isinf(v)) {
            continue;
        }
        precise float d = v - p.lo;
        precise float f = d * p.inv;
        float g = floor(f);
        uint bin;
        if (!(g >= 0.0)) {
            bin = 0u;
        } else if (g >= float(p.bins)) {
            bin = p.bins - 1u;
        } else {
            bin = uint(g);
        }
        atomicAdd(counts[bin], 1u);
    }
}
