#version 450
// f_colpart_sum2: f_colpart_sum (partial column sums of x [R, C], see f_colpart.glsl) for
// even C, each invocation owning a pair of columns. The storage build reads the pair as one
// 64-bit word per row (on CPU drivers such as lavapipe a 64-bit storage load costs about
// what a 32-bit one does; needs shaderInt64); the texel build (io.glsl) fetches the two
// floats. Each column's sum has the same terms in the same order as f_colpart_sum's.
// nn/vk uses the pair kernels only with storage-buffer reads: with texel reads the scalar
// kernels were faster on lavapipe (the texel builds are kept correct all the same).
//
// Bindings: 0 = part [L, C], 1 = x. Push constants {uint r, c}.
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
            vec2 v = x2(i * cp + j);
            s0 += v.x;
            s1 += v.y;
        }
        part[cpLane() * cp + j] = packUint2x32(floatBitsToUint(vec2(s0, s1)));
    }
}
