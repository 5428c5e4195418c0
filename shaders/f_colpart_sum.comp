#version 450
// f_colpart_sum: partial column sums of x [R, C] (see f_colpart.glsl).
//
// Bindings: 0 = part [L, C], 1 = x (read through io.glsl). Push constants {uint r, c}.
#include "io.glsl"
#include "f_colpart.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Part { float part[]; };
IN_F32(1, x)

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint lanes = cpLanes();
    uint l = cpLane();
    // Rows l, l+L, ...: n of them, four per step of the main loop.
    uint n = l < p.r ? (p.r - l + lanes - 1u) / lanes : 0u;
    uint st = lanes * p.c;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        float s = 0.0;
        uint o = l * p.c + j;
        for (uint k = 0u; k < n / 4u; k++) {
            float a = x(o), b = x(o + st), c = x(o + 2u * st), d = x(o + 3u * st);
            s += a;
            s += b;
            s += c;
            s += d;
            o += 4u * st;
        }
        for (uint k = 0u; k < n % 4u; k++) {
            s += x(o);
            o += st;
        }
        part[l * p.c + j] = s;
    }
}
