#version 450
// f_colpart_bngrad: partial column sums of dy and of dy*xhat for the matrices dy and
// xhat [R, C], each product rounded before the sum as in the reference (see
// f_colpart.glsl): part[l*C + j] for dy, part[L*C + l*C + j] for dy*xhat.
//
// Bindings: 0 = part [2, L, C], 1 = dy, 2 = xhat (1 and 2 read
// through io.glsl). Push constants {uint r, c}.
#include "io.glsl"
#include "f_colpart.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Part { float part[]; };
IN_F32(1, dy)
IN_F32(2, xhat)

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint lanes = cpLanes();
    uint l = cpLane();
    // Rows l, l+L, ...: n of them, two per step of the main loop (see f_colpart_sum).
    uint n = l < p.r ? (p.r - l + lanes - 1u) / lanes : 0u;
    uint st = lanes * p.c;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        float sb = 0.0;
        float sg = 0.0;
        uint o = l * p.c + j;
        for (uint k = 0u; k < n / 2u; k++) {
            float d0 = dy(o), h0 = xhat(o), d1 = dy(o + st), h1 = xhat(o + st);
            precise float dh0 = d0 * h0;
            precise float dh1 = d1 * h1;
            sb += d0;
            sg += dh0;
            sb += d1;
            sg += dh1;
            o += 2u * st;
        }
        if (n % 2u != 0u) {
            float d = dy(o);
            precise float dh = d * xhat(o);
            sb += d;
            sg += dh;
        }
        part[l * p.c + j] = sb;
        part[(lanes + l) * p.c + j] = sg;
    }
}
