#version 450
// f_colpart_bngrad2: f_colpart_bngrad (partial column sums of dy and of dy*xhat, each
// product rounded) for even C, each invocation owning a pair of columns read as one 64-bit
// word per row of each matrix (see f_colpart_sum2). Needs shaderInt64.
//
// Bindings: 0 = part [2, L, C], 1 = dy, 2 = xhat. Push constants {uint r, c}.
#extension GL_ARB_gpu_shader_int64 : require
#include "f_colpart.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Part { uint64_t part[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { uint64_t dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer XH { uint64_t xhat[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint lanes = cpLanes();
    uint cp = p.c / 2u;
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        float sb0 = 0.0, sb1 = 0.0, sg0 = 0.0, sg1 = 0.0;
        for (uint i = cpLane(); i < p.r; i += lanes) {
            uint o = i * cp + j;
            vec2 d = uintBitsToFloat(unpackUint2x32(dy[o]));
            vec2 h = uintBitsToFloat(unpackUint2x32(xhat[o]));
            precise float dh0 = d.x * h.x;
            precise float dh1 = d.y * h.y;
            sb0 += d.x;
            sb1 += d.y;
            sg0 += dh0;
            sg1 += dh1;
        }
        part[cpLane() * cp + j] = packUint2x32(floatBitsToUint(vec2(sb0, sb1)));
        part[(lanes + cpLane()) * cp + j] = packUint2x32(floatBitsToUint(vec2(sg0, sg1)));
    }
}
