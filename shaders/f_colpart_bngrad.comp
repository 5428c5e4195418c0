#version 450
// f_colpart_bngrad: partial column sums of dy and of dy*xhat for the matrices dy and
// xhat [R, C], each product rounded before the sum as in the reference (see
// f_colpart.glsl for the launch: CONTIG, NCOL): part[l*C + j] for dy,
// part[L*C + l*C + j] for dy*xhat. With RELU (BatchNormReLUGrad) dy counts only where
// y > 0 (f_relugrad's test on y's bits), else as +0; without it y is not read.
//
// With COMP (CompBNGrad) a third set, part[2*L*C + l*C + j], holds the partial column
// sums of xhat, from which f_bn_gradsums derives the compensation's gradient sums.
//
// With RECOMP (CompBNGradFromX) binding 2 holds the batch norm's input x (the
// compensation's input with COMP) instead of xhat: xhat and, with RELU, the sign of the
// output are recomputed from it as the forward pass computed them (f_bnhat.glsl, bit for
// bit), so neither xhat nor y is read.
//
// Bindings: 0 = part [2 (3 with COMP), L, C], 1 = dy, 2 = xhat (x with RECOMP), 3 = y
// (uint bits; not read with RECOMP), 4 = mean, 5 = invstd, 6 = gamma, 7 = beta,
// 8 = cgamma, 9 = cbeta, 10 = cmean (4 to 10 read only with RECOMP, 8 to 10 only with
// COMP; 1 to 10 read through io.glsl). Push constants {uint r, c}. Specialization:
// 0 = CW, 1 = RW, 2 = CONTIG, 3 = NCOL, 4 = RELU, 5 = COMP, 6 = RECOMP.
#include "io.glsl"
#include "f_colpart.glsl"

layout(constant_id = 4) const bool RELU = false;
layout(constant_id = 5) const bool COMP = false;
layout(constant_id = 6) const bool RECOMP = false;

layout(std430, set = 0, binding = 0) writeonly buffer Part { float part[]; };
IN_F32(1, dy)
IN_F32(2, xhat)
IN_U32(3, y)
IN_F32(4, mean)
IN_F32(5, invstd)
IN_F32(6, gamma)
IN_F32(7, beta)
IN_F32(8, cgamma)
IN_F32(9, cbeta)
IN_F32(10, cmean)

#include "f_bnhat.glsl"

// consts returns the constants of column j (RECOMP; unused otherwise).
BNC consts(uint j) {
    if (RECOMP) {
        return bnConsts(j);
    }
    return BNC(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
}

// hx returns xhat of element o: read, or with RECOMP recomputed from x.
float hx(uint o, BNC c) {
    return RECOMP ? bnHat(xhat(o), c) : xhat(o);
}

// dm returns dy(o), or +0 with RELU where the output is not positive (y(o)'s bits as
// f_relugrad tests them, or with RECOMP the recomputed output of xhat h).
float dm(uint o, float h, BNC c) {
    float d = dy(o);
    if (RELU) {
        bool pos;
        if (RECOMP) {
            pos = bnOut(h, c) > 0.0;
        } else {
            uint v = y(o);
            pos = v != 0u && v <= 0x7f800000u;
        }
        d = pos ? d : 0.0;
    }
    return d;
}

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

// dh returns d*h rounded.
float dh(float d, float h) {
    precise float v = d * h;
    return v;
}

void main() {
    uint o0, n, st;
    cpRows(p.r, p.c, o0, n, st);
    uint lanes = cpLanes();
    for (uint j = cpCol0(); j < p.c; j += cpColStep()) {
        uint o = o0 + j;
        uint w = cpLane() * p.c + j;
        uint wg = w + lanes * p.c;
        uint wh = wg + lanes * p.c;
        if (NCOL == 1u) {
            // Two rows per step of the main loop.
            float sb = 0.0;
            float sg = 0.0;
            float sh = 0.0;
            BNC c = consts(j);
            for (uint k = 0u; k < n / 2u; k++) {
                float h0 = hx(o, c), h1 = hx(o + st, c);
                float d0 = dm(o, h0, c), d1 = dm(o + st, h1, c);
                sb += d0;
                sg += dh(d0, h0);
                sb += d1;
                sg += dh(d1, h1);
                if (COMP) {
                    sh += h0;
                    sh += h1;
                }
                o += 2u * st;
            }
            if (n % 2u != 0u) {
                float h = hx(o, c);
                float d = dm(o, h, c);
                sb += d;
                sg += dh(d, h);
                if (COMP) {
                    sh += h;
                }
            }
            part[w] = sb;
            part[wg] = sg;
            if (COMP) {
                part[wh] = sh;
            }
        } else {
            // NCOL (2 or 4) columns, one row per step of the main loop.
            uvec3 d = cpCols(j, p.c);
            BNC c0 = consts(j), c1 = consts(j + d.x), c2 = c1, c3 = c1;
            if (NCOL == 4u) {
                c2 = consts(j + d.y);
                c3 = consts(j + d.z);
            }
            float b0 = 0.0, b1 = 0.0, b2 = 0.0, b3 = 0.0;
            float g0 = 0.0, g1 = 0.0, g2 = 0.0, g3 = 0.0;
            float s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
            for (uint k = 0u; k < n; k++) {
                float h0 = hx(o, c0), h1 = hx(o + d.x, c1);
                float d0 = dm(o, h0, c0), d1 = dm(o + d.x, h1, c1);
                b0 += d0;
                b1 += d1;
                g0 += dh(d0, h0);
                g1 += dh(d1, h1);
                if (COMP) {
                    s0 += h0;
                    s1 += h1;
                }
                if (NCOL == 4u) {
                    float h2 = hx(o + d.y, c2), h3 = hx(o + d.z, c3);
                    float d2 = dm(o + d.y, h2, c2), d3 = dm(o + d.z, h3, c3);
                    b2 += d2;
                    b3 += d3;
                    g2 += dh(d2, h2);
                    g3 += dh(d3, h3);
                    if (COMP) {
                        s2 += h2;
                        s3 += h3;
                    }
                }
                o += st;
            }
            part[w] = b0;
            part[wg] = g0;
            if (COMP) {
                part[wh] = s0;
            }
            if (j + CW < p.c) {
                part[w + CW] = b1;
                part[wg + CW] = g1;
                if (COMP) {
                    part[wh + CW] = s1;
                }
            }
            if (NCOL == 4u && j + 2u * CW < p.c) {
                part[w + 2u * CW] = b2;
                part[wg + 2u * CW] = g2;
                if (COMP) {
                    part[wh + 2u * CW] = s2;
                }
            }
            if (NCOL == 4u && j + 3u * CW < p.c) {
                part[w + 3u * CW] = b3;
                part[wg + 3u * CW] = g3;
                if (COMP) {
                    part[wh + 3u * CW] = s3;
                }
            }
        }
    }
}
