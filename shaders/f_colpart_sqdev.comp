#version 450
// f_colpart_sqdev: partial column sums of (x - mean)^2 for x [R, C], each square rounded
// before the sum as in the reference (see f_colpart.glsl).
//
// Bindings: 0 = part [L, C], 1 = x, 2 = mean [C]. Push constants {uint r, c}.
#include "f_colpart.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Part { float part[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 2) readonly buffer Mean { float mean[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint lanes = cpLanes();
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        float m = mean[j];
        float s = 0.0;
        for (uint i = cpLane(); i < p.r; i += lanes) {
            precise float d = x[i * p.c + j] - m;
            precise float dd = d * d;
            s += dd;
        }
        part[cpLane() * p.c + j] = s;
    }
}
