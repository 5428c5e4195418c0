#version 450
// f_colpart_sum2: f_colpart_sum (partial column sums of x [R, C], see f_colpart.glsl) for
// even C, each invocation owning a pair of columns read as one 64-bit word per row: on CPU
// drivers such as lavapipe a 64-bit load costs about what a 32-bit one does. Each column's
// sum has the same terms in the same order as f_colpart_sum's. Needs shaderInt64.
//
// Bindings: 0 = part [L, C], 1 = x. Push constants {uint r, c}.
#extension GL_ARB_gpu_shader_int64 : require
#include "f_colpart.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Part { uint64_t part[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { uint64_t x[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint lanes = cpLanes();
    uint cp = p.c / 2u;
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        float s0 = 0.0, s1 = 0.0;
        for (uint i = cpLane(); i < p.r; i += lanes) {
            vec2 v = uintBitsToFloat(unpackUint2x32(x[i * cp + j]));
            s0 += v.x;
            s1 += v.y;
        }
        part[cpLane() * cp + j] = packUint2x32(floatBitsToUint(vec2(s0, s1)));
    }
}
