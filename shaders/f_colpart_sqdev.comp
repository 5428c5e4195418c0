#version 450
// f_colpart_sqdev: the first pass of BatchNormTrain's variance, in one of two forms (see
// f_colpart.glsl for the launch: CONTIG, NCOL).
//
// Default: partial column sums of (x - mean)^2 for x [R, C], each difference and square
// rounded before the sum as in the reference; part [L, C].
//
// WELFORD (specialization 4; only with CONTIG, whose lanes own known runs of rows): the
// mean and the sum of squared deviations from it of each lane's rows, updated two rows at
// a time (Welford's update with the pair's own mean and deviation, Chan et al.), so that
// one pass over x gives both statistics without the cancellation of sum(x^2) - n*mean^2;
// part[l*C + j] = the lane's mean, part[L*C + l*C + j] = its sum of squared deviations.
// mean is not read (f_bn_stats combines the lanes and writes it).
//
// COMP (specialization 5, default form only; CompBNTrain): x is the input of an
// error-compensation layer and the deviations are those of its output, each value taken as
// (x + cgamma*cmean) + cbeta (f_comp_apply's roundings) before the difference.
//
// Bindings: 0 = part, 1 = x, 2 = mean [C], 3 = cgamma, 4 = cbeta, 5 = cmean (1 to 5 read
// through io.glsl; 3 to 5 used only with COMP, any buffers bound otherwise).
// Push constants {uint r, c}. Specialization: 0 = CW, 1 = RW, 2 = CONTIG, 3 = NCOL,
// 4 = WELFORD, 5 = COMP.
#include "io.glsl"
#include "f_colpart.glsl"
layout(constant_id = 4) const bool WELFORD = false;
layout(constant_id = 5) const bool COMP = false;

layout(std430, set = 0, binding = 0) writeonly buffer Part { float part[]; };
IN_F32(1, x)
IN_F32(2, mean)
IN_F32(3, cgamma)
IN_F32(4, cbeta)
IN_F32(5, cmean)

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

// The compensation of column j (COMP): its added term cgamma*cmean (rounded) and cbeta;
// 0 and 0 without COMP.
vec2 comp(uint j) {
    precise float g = COMP ? cgamma(j) * cmean(j) : 0.0;
    return vec2(g, COMP ? cbeta(j) : 0.0);
}

// sq returns (v - m)^2 with the difference and the square rounded; with COMP the
// column's compensation k (comp) is added to v first.
float sq(float v, float m, vec2 k) {
    if (COMP) {
        precise float s = v + k.x;
        precise float t = s + k.y;
        v = t;
    }
    precise float d = v - m;
    precise float dd = d * d;
    return dd;
}

// Welford's update of a column's running mean m and sum of squared deviations q by the
// pair of values a, b, with f1 = 2/(n+2) and f2 = 2n/(n+2) for the n values so far.
#define PAIR(m, q, a, b)                         \
    {                                            \
        float mb_ = 0.5 * (a + b), hd_ = 0.5 * (a - b); \
        float dl_ = mb_ - m;                      \
        m += dl_ * f1;                           \
        q += 2.0 * hd_ * hd_ + dl_ * dl_ * f2;   \
    }
// ... and by one value v, with g = 1/(n+1).
#define ONE(m, q, v)            \
    {                           \
        float dl_ = v - m;      \
        m += dl_ * g;           \
        q += dl_ * (v - m);     \
    }

void main() {
    uint o0, n, st;
    cpRows(p.r, p.c, o0, n, st);
    for (uint j = cpCol0(); j < p.c; j += cpColStep()) {
        uint o = o0 + j;
        uint w = cpLane() * p.c + j;
        uint wq = w + cpLanes() * p.c;
        if (WELFORD) {
            uvec3 d = cpCols(j, p.c);
            float m0 = 0.0, m1 = 0.0, m2 = 0.0, m3 = 0.0;
            float q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0;
            float cnt = 0.0;
            for (uint k = 0u; k < n / 2u; k++) {
                uint q = o + st;
                float f1 = 2.0 / (cnt + 2.0), f2 = cnt * f1;
                float a0 = x(o), b0 = x(q);
                PAIR(m0, q0, a0, b0)
                if (NCOL > 1u) {
                    float a1 = x(o + d.x), b1 = x(q + d.x);
                    PAIR(m1, q1, a1, b1)
                }
                if (NCOL == 4u) {
                    float a2 = x(o + d.y), a3 = x(o + d.z);
                    float b2 = x(q + d.y), b3 = x(q + d.z);
                    PAIR(m2, q2, a2, b2)
                    PAIR(m3, q3, a3, b3)
                }
                cnt += 2.0;
                o += 2u * st;
            }
            if (n % 2u != 0u) {
                float g = 1.0 / (cnt + 1.0);
                float v0 = x(o);
                ONE(m0, q0, v0)
                if (NCOL > 1u) {
                    float v1 = x(o + d.x);
                    ONE(m1, q1, v1)
                }
                if (NCOL == 4u) {
                    float v2 = x(o + d.y), v3 = x(o + d.z);
                    ONE(m2, q2, v2)
                    ONE(m3, q3, v3)
                }
            }
            part[w] = m0;
            part[wq] = q0;
            if (NCOL > 1u && j + CW < p.c) {
                part[w + CW] = m1;
                part[wq + CW] = q1;
            }
            if (NCOL == 4u) {
                if (j + 2u * CW < p.c) {
                    part[w + 2u * CW] = m2;
                    part[wq + 2u * CW] = q2;
                }
                if (j + 3u * CW < p.c) {
                    part[w + 3u * CW] = m3;
                    part[wq + 3u * CW] = q3;
                }
            }
        } else if (NCOL == 1u) {
            // Four rows per step of the main loop.
            float m = mean(j);
            vec2 k0 = comp(j);
            float s = 0.0;
            for (uint k = 0u; k < n / 4u; k++) {
                float a = x(o), b = x(o + st), c = x(o + 2u * st), d = x(o + 3u * st);
                s += sq(a, m, k0);
                s += sq(b, m, k0);
                s += sq(c, m, k0);
                s += sq(d, m, k0);
                o += 4u * st;
            }
            for (uint k = 0u; k < n % 4u; k++) {
                s += sq(x(o), m, k0);
                o += st;
            }
            part[w] = s;
        } else {
            // NCOL (2 or 4) columns, two rows per step of the main loop.
            uvec3 d = cpCols(j, p.c);
            float m0 = mean(j), m1 = mean(j + d.x);
            vec2 k0 = comp(j), k1 = comp(j + d.x);
            float m2 = 0.0, m3 = 0.0;
            vec2 k2 = vec2(0.0), k3 = vec2(0.0);
            if (NCOL == 4u) {
                m2 = mean(j + d.y);
                m3 = mean(j + d.z);
                k2 = comp(j + d.y);
                k3 = comp(j + d.z);
            }
            float s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
            for (uint k = 0u; k < n / 2u; k++) {
                uint q = o + st;
                float a0 = x(o), a1 = x(o + d.x);
                float b0 = x(q), b1 = x(q + d.x);
                s0 += sq(a0, m0, k0);
                s1 += sq(a1, m1, k1);
                s0 += sq(b0, m0, k0);
                s1 += sq(b1, m1, k1);
                if (NCOL == 4u) {
                    float a2 = x(o + d.y), a3 = x(o + d.z);
                    float b2 = x(q + d.y), b3 = x(q + d.z);
                    s2 += sq(a2, m2, k2);
                    s3 += sq(a3, m3, k3);
                    s2 += sq(b2, m2, k2);
                    s3 += sq(b3, m3, k3);
                }
                o += 2u * st;
            }
            if (n % 2u != 0u) {
                s0 += sq(x(o), m0, k0);
                s1 += sq(x(o + d.x), m1, k1);
                if (NCOL == 4u) {
                    s2 += sq(x(o + d.y), m2, k2);
                    s3 += sq(x(o + d.z), m3, k3);
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
