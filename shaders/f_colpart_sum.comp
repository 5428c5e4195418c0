#version 450
// f_colpart_sum: partial column sums of x [R, C] (see f_colpart.glsl).
//
// Bindings: 0 = part [L, C], 1 = x. Push constants {uint r, c}.
#include "f_colpart.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Part { float part[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { float x[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint lanes = cpLanes();
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        float s = 0.0;
        for (uint i = cpLane(); i < p.r; i += lanes) {
            s += x[i * p.c + j];
        }
        part[cpLane() * p.c + j] = s;
    }
}
