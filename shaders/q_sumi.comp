#version 450
// q_sumi: acc[i] = sum over s < splits of part[s*n + i], wrapping int32: the reduction of a
// GemmI split along k. part is read through io.glsl (a texel buffer in the texel build).
//
// Bindings: 0 = part, 1 = acc. Push constants {n, splits}. Specialization: 0 = workgroup size.
#include "io.glsl"
layout(local_size_x_id = 0) in;

IN_I32(0, part)
layout(std430, set = 0, binding = 1) writeonly buffer Acc { int acc[]; };

layout(push_constant) uniform Push {
    uint n;
    uint splits;
} p;

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += step) {
        // Two splits per loop iteration (on CPU drivers such as lavapipe each assignment of
        // a loop-carried variable costs a masked store).
        int s = 0;
        uint k = 0u;
        for (; k + 1u < p.splits; k += 2u) {
            s += part(k * p.n + i) + part((k + 1u) * p.n + i);
        }
        if (k < p.splits) {
            s += part(k * p.n + i);
        }
        acc[i] = s;
    }
}
