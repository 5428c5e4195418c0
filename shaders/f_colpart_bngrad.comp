#version 450
// f_colpart_bngrad: partial column sums of dy and of dy*xhat for the matrices dy and
// xhat [R, C], each product rounded before the sum as in the reference (see
// f_colpart.glsl): part[l*C + j] for dy, part[L*C + l*C + j] for dy*xhat.
//
// Bindings: 0 = part [2, L, C], 1 = dy, 2 = xhat. Push constants {uint r, c}.
#include "f_colpart.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Part { float part[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer XH { float xhat[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint lanes = cpLanes();
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        float sb = 0.0;
        float sg = 0.0;
        for (uint i = cpLane(); i < p.r; i += lanes) {
            uint o = i * p.c + j;
            float d = dy[o];
            precise float dh = d * xhat[o];
            sb += d;
            sg += dh;
        }
        part[cpLane() * p.c + j] = sb;
        part[(lanes + cpLane()) * p.c + j] = sg;
    }
}
