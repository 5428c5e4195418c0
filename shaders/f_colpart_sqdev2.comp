#version 450
// f_colpart_sqdev2: f_colpart_sqdev (partial column sums of (x - mean)^2, each difference
// and square rounded as in the reference) for even C, each invocation owning a pair of
// columns: one 64-bit word per row in the storage build, two texel fetches in the texel
// build (see f_colpart_sum2). Needs shaderInt64.
//
// With COMP (specialization 5; CompBNTrain) each value is taken as
// (x + cgamma*cmean) + cbeta first, as in f_colpart_sqdev.
//
// Bindings: 0 = part [L, C], 1 = x, 2 = mean [C], 3 = cgamma, 4 = cbeta, 5 = cmean (2 to 5
// read through io.glsl; 3 to 5 used only with COMP, any buffers bound otherwise). Push
// constants {uint r, c}. Specialization: 0 = CW, 1 = RW (2 to 4 unused), 5 = COMP.
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
IN_F32(3, cgamma)
IN_F32(4, cbeta)
IN_F32(5, cmean)
layout(constant_id = 5) const bool COMP = false;

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint lanes = cpLanes();
    uint cp = p.c / 2u;
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        float m0 = mean(2u * j), m1 = mean(2u * j + 1u);
        precise vec2 kg = COMP ? vec2(cgamma(2u * j), cgamma(2u * j + 1u)) * vec2(cmean(2u * j), cmean(2u * j + 1u)) : vec2(0.0);
        vec2 kb = COMP ? vec2(cbeta(2u * j), cbeta(2u * j + 1u)) : vec2(0.0);
        float s0 = 0.0, s1 = 0.0;
        for (uint i = cpLane(); i < p.r; i += lanes) {
            vec2 v = x2(i * cp + j);
            if (COMP) {
                precise vec2 vs = v + kg;
                precise vec2 vt = vs + kb;
                v = vt;
            }
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
