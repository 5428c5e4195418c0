#version 450
// f_colpart_sqdev2: f_colpart_sqdev (partial column sums of (x - mean)^2, each difference
// and square rounded as in the reference) for even C, each invocation owning a pair of
// columns: one 64-bit word per row in the storage build, two texel fetches in the texel
// build (see f_colpart_sum2). Needs shaderInt64.
//
// Bindings: 0 = part [L, C], 1 = x, 2 = mean [C] (2 read through io.glsl). Push constants
// {uint r, c}.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_colpart.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Part { uint64_t part[]; };
#ifdef VKT_TEXEL
IN_F32(1, x)
vec2 x2(uint w) { return vec2(x(2u * w), x(2u * w + 1u)); }
#else
layout(std430, set = 0, binding = 1) readonly buffer X { uint64_t x[]; };
vec2 x2(uint w) { return uintBitsToFloat(unpackUint2x32(x[w])); }
#endif
IN_F32(2, mean)

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint lanes = cpLanes();
    uint cp = p.c / 2u;
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        float m0 = mean(2u * j), m1 = mean(2u * j + 1u);
        float s0 = 0.0, s1 = 0.0;
        for (uint i = cpLane(); i < p.r; i += lanes) {
            vec2 v = x2(i * cp + j);
            precise float d0 = v.x - m0;
            precise float dd0 = d0 * d0;
            precise float d1 = v.y - m1;
            precise float dd1 = d1 * d1;
            s0 += dd0;
            s1 += dd1;
        }
        part[cpLane() * cp + j] = packUint2x32(floatBitsToUint(vec2(s0, s1)));
    }
}
