#version 450
// f_colpart_sum: partial column sums of x [R, C] (see f_colpart.glsl for the launch: which
// rows a lane sums, CONTIG, and how many columns an invocation owns, NCOL).
//
// Bindings: 0 = part [L, C], 1 = x (read through io.glsl). Push constants {uint r, c}.
// Specialization: 0 = CW, 1 = RW, 2 = CONTIG, 3 = NCOL.
#include "io.glsl"
#include "f_colpart.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Part { float part[]; };
IN_F32(1, x)

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint o0, n, st;
    cpRows(p.r, p.c, o0, n, st);
    for (uint j = cpCol0(); j < p.c; j += cpColStep()) {
        uint o = o0 + j;
        uint w = cpLane() * p.c + j;
        if (NCOL == 1u) {
            // Four rows per step of the main loop.
            float s = 0.0;
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
            part[w] = s;
        } else {
            // NCOL (2 or 4) columns, two rows per step of the main loop.
            uvec3 d = cpCols(j, p.c);
            float s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
            for (uint k = 0u; k < n / 2u; k++) {
                uint q = o + st;
                float a0 = x(o), a1 = x(o + d.x);
                float b0 = x(q), b1 = x(q + d.x);
                s0 += a0;
                s1 += a1;
                s0 += b0;
                s1 += b1;
                if (NCOL == 4u) {
                    float a2 = x(o + d.y), a3 = x(o + d.z);
                    float b2 = x(q + d.y), b3 = x(q + d.z);
                    s2 += a2;
                    s3 += a3;
                    s2 += b2;
                    s3 += b3;
                }
                o += 2u * st;
            }
            if (n % 2u != 0u) {
                s0 += x(o);
                s1 += x(o + d.x);
                if (NCOL == 4u) {
                    s2 += x(o + d.y);
                    s3 += x(o + d.z);
                }
            }
            part[w] = s0;
            if (j + CW < p.c) {
                part[w + CW] = s1;
            }
            if (NCOL == 4u && j + 2u * CW < p.c) {
                part[w + 2u * CW] = s2;
            }
            if (NCOL == 4u && j + 3u * CW < p.c) {
                part[w + 3u * CW] = s3;
            }
        }
    }
}
