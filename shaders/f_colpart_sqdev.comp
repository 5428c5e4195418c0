#version 450
// f_colpart_sqdev: partial column sums of (x - mean)^2 for x [R, C], each square rounded
// before the sum as in the reference (see f_colpart.glsl).
//
// Bindings: 0 = part [L, C], 1 = x, 2 = mean [C] (1 and 2 read through
// io.glsl). Push constants {uint r, c}.
#include "io.glsl"
#include "f_colpart.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Part { float part[]; };
IN_F32(1, x)
IN_F32(2, mean)

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

// sq returns (v - m)^2 with the difference and the square rounded.
float sq(float v, float m) {
    precise float d = v - m;
    precise float dd = d * d;
    return dd;
}

void main() {
    uint lanes = cpLanes();
    uint l = cpLane();
    // Rows l, l+L, ...: n of them, four per step of the main loop (see f_colpart_sum).
    uint n = l < p.r ? (p.r - l + lanes - 1u) / lanes : 0u;
    uint st = lanes * p.c;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        float m = mean(j);
        float s = 0.0;
        uint o = l * p.c + j;
        for (uint k = 0u; k < n / 4u; k++) {
            float a = x(o), b = x(o + st), c = x(o + 2u * st), d = x(o + 3u * st);
            s += sq(a, m);
            s += sq(b, m);
            s += sq(c, m);
            s += sq(d, m);
            o += 4u * st;
        }
        for (uint k = 0u; k < n % 4u; k++) {
            s += sq(x(o), m);
            o += st;
        }
        part[l * p.c + j] = s;
    }
}
