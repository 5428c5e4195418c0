#version 450
// q_convi: the integer convolution of Q8 NHWC image codes with its exact dequantization, with
// no im2col matrix (backend.FusedConv.ConvIDequant): for output row r (image n, position
// (oy, ox)) and channel o,
//   acc = sum_k xc[r,k]*w[o,k], sa = sum_k xc[r,k]   (wrapping int32)
//   y[r,o] = float(scale[o]*float(acc - zb[o]*sa + kzz[o] - za*sb[o])) + bias[o]
// where xc[r,k] is the im2col code of tap k = (kh*KW+kw)*C+c (the zero point za outside the
// image, as Im2ColI pads), each float step rounded as q_dequant/q_dequant2 round it, so y is
// bit for bit Im2ColI then GemmIDequant.
//
// The tap geometry (KH, KW, C) is specialized, K = KH*KW*C at most 32 codes: each invocation
// holds the codes of its 4*NG channels' weights (NG groups of 4) in registers (at most 8 words
// each, loaded once), then walks rows (a grid-stride loop along x): per row one read per tap
// of the image, shared by all 4*NG channels, 4*NG multiply-adds per tap (the taps written out
// one by one, TAP: lavapipe's NIR unrolling leaves a loop over k of 25 taps of 16 channels
// rolled, and the rolled loop, selecting weight words and bytes at run time, was 2x slower on
// the MNIST stem), the epilogue and per group one vec4 store (VEC4, Out % 4 == 0) or up to
// four scalar stores. Loading the weights and epilogue constants costs an invocation about
// as much as a few rows (some 190 reads), so on CPU drivers the host gives each invocation
// tens of rows.
// Workgroup y is the block of channels o0 = 4*NG*y (channels past Out are clamped for loads
// and not stored).
//
// STATS (specialization 9; backend.FusedStats.ConvIDequantStats): the epilogue also updates,
// per channel, the running mean and sum of squared deviations of the values this invocation
// stores (Welford's update, one row at a time: one division per row for all 4*NG
// channels), and the invocation writes them at the end as lane l = gl_GlobalInvocationID.x
// of L = the grid's invocations along x (its rows are l, l+L, ...): part[l*Out + o] = the
// mean, part[L*Out + l*Out + o] = the squared deviations; f_colstats_fin (STRIDED)
// combines the lanes. y is the same either way.
//
// Bindings: 0 = x (the image codes, XFMT, rows of xrowWords words per pixel or one int per
// code), 1 = w (weight codes [Out, K], WFMT packed, wrowWords words a row), 2 = sb (weight
// row sums), 3 = bias, 4 = prm (prm[off+o] = scale bits, prm[off+Out+o] = zb,
// prm[off+2Out+o] = kzz), all io.glsl inputs; 5 = y, 6 = y as vec4 (the same buffer),
// 7 = part (STATS; any buffer bound otherwise).
// Specialization: 0 = WX (workgroup size), 1 = XFMT, 2 = WFMT (0 or 1), 3 = KH, 4 = KW,
// 5 = CH, 6 = HAS_BIAS, 7 = VEC4, 8 = NG (1..4), 9 = STATS.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint XFMT = 0u;
layout(constant_id = 2) const uint WFMT = 0u;
layout(constant_id = 3) const uint KH = 1u;
layout(constant_id = 4) const uint KW = 1u;
layout(constant_id = 5) const uint CH = 1u;
layout(constant_id = 6) const uint HAS_BIAS = 0u;
layout(constant_id = 7) const uint VEC4 = 0u;
layout(constant_id = 8) const uint NG = 1u;
layout(constant_id = 9) const bool STATS = false;

IN_U32(0, x)
IN_U32(1, w)
IN_I32(2, sb)
IN_F32(3, bias)
IN_U32(4, prm)
layout(std430, set = 0, binding = 5) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 6) writeonly buffer Y4 { vec4 y4[]; };
layout(std430, set = 0, binding = 7) writeonly buffer Part { float part[]; };

layout(push_constant) uniform Push {
    uint H, W, OH, OW;
    uint SH, SW;
    int PH, PW;
    uint rows, out_;
    uint xrowWords, wrowWords;
    int za;
    uint off;
} p;

const uint KT = KH * KW * CH;
const uint KWORDS = (KT + 3u) / 4u;

// xcode returns code c of pixel pix of x.
int xcode(uint pix, uint c) {
    if (XFMT == Q8_WIDE) {
        return int(x(pix * CH + c));
    }
    return q8byte(x(pix * p.xrowWords + (c >> 2u)), c & 3u, XFMT);
}

// Word J of a weight row, compiled out past KWORDS.
#define WW(ROW, J) (KWORDS > J ? w(ROW + J) : 0u)
#define WROW(V, O)                                                                        \
    uint V##0 = WW(O, 0u), V##1 = WW(O, 1u), V##2 = WW(O, 2u), V##3 = WW(O, 3u);           \
    uint V##4 = WW(O, 4u), V##5 = WW(O, 5u), V##6 = WW(O, 6u), V##7 = WW(O, 7u);
// Word j of the registers V0..V7 (j constant once the loop over k is unrolled).
#define WSEL(V, J)                                                                        \
    (J == 0u ? V##0 : J == 1u ? V##1 : J == 2u ? V##2 : J == 3u ? V##3 :                  \
     J == 4u ? V##4 : J == 5u ? V##5 : J == 6u ? V##6 : V##7)

// Group G (channels o0+4G..o0+4G+3): weights, epilogue constants, accumulator.
#define GDECL(G)                                                                          \
    uint oa##G = min(o0 + 4u * G, p.out_ - 1u), ob##G = min(o0 + 4u * G + 1u, p.out_ - 1u);    \
    uint oc##G = min(o0 + 4u * G + 2u, p.out_ - 1u), od##G = min(o0 + 4u * G + 3u, p.out_ - 1u); \
    WROW(wa##G, oa##G * p.wrowWords)                                                      \
    WROW(wb##G, ob##G * p.wrowWords)                                                      \
    WROW(wc##G, oc##G * p.wrowWords)                                                      \
    WROW(wd##G, od##G * p.wrowWords)                                                      \
    vec4 scale##G = uintBitsToFloat(uvec4(prm(p.off + oa##G), prm(p.off + ob##G), prm(p.off + oc##G), prm(p.off + od##G))); \
    ivec4 zb##G = ivec4(prm(p.off + N + oa##G), prm(p.off + N + ob##G), prm(p.off + N + oc##G), prm(p.off + N + od##G)); \
    ivec4 cc##G = ivec4(prm(p.off + 2u * N + oa##G), prm(p.off + 2u * N + ob##G), prm(p.off + 2u * N + oc##G), \
                        prm(p.off + 2u * N + od##G)) - p.za * ivec4(sb(oa##G), sb(ob##G), sb(oc##G), sb(od##G)); \
    vec4 bn##G = HAS_BIAS != 0u ? vec4(bias(oa##G), bias(ob##G), bias(oc##G), bias(od##G)) : vec4(0.0);
#define GMAC(G)                                                                           \
    if (NG > G) {                                                                         \
        acc##G += xc * ivec4(q8byte(WSEL(wa##G, j), b, WFMT), q8byte(WSEL(wb##G, j), b, WFMT), \
                             q8byte(WSEL(wc##G, j), b, WFMT), q8byte(WSEL(wd##G, j), b, WFMT)); \
    }
#define GSTORE(G)                                                                         \
    if (NG > G) {                                                                         \
        ivec4 v = acc##G - zb##G * sa + cc##G;                                            \
        precise vec4 f = scale##G * vec4(v);                                              \
        if (HAS_BIAS != 0u) {                                                             \
            precise vec4 fb = f + bn##G;                                                  \
            f = fb;                                                                       \
        }                                                                                 \
        if (STATS) {                                                                      \
            vec4 d_ = f - wm##G;                                                          \
            wm##G += d_ * gi;                                                             \
            wq##G += d_ * (f - wm##G);                                                    \
        }                                                                                 \
        uint og = o0 + 4u * G;                                                            \
        uint o = r * N + og;                                                              \
        if (og < N) {                                                                     \
            if (VEC4 != 0u) {                                                             \
                y4[o / 4u] = f;                                                           \
            } else {                                                                      \
                y[o] = f.x;                                                               \
                if (og + 1u < N) y[o + 1u] = f.y;                                         \
                if (og + 2u < N) y[o + 2u] = f.z;                                         \
                if (og + 3u < N) y[o + 3u] = f.w;                                         \
            }                                                                             \
        }                                                                                 \
    }

// The statistics of group G's channels as lane `lane` of L (STATS).
#define GPART(G)                                                                          \
    if (NG > G) {                                                                         \
        uint og = o0 + 4u * G;                                                            \
        for (uint i = 0u; i < 4u && og + i < N; i++) {                                    \
            part[lane * N + og + i] = wm##G[i];                                           \
            part[(L + lane) * N + og + i] = wq##G[i];                                     \
        }                                                                                 \
    }

void main() {
    uint o0 = 4u * NG * gl_GlobalInvocationID.y;
    uint N = p.out_;
    GDECL(0u) GDECL(1u) GDECL(2u) GDECL(3u)
    vec4 wm0u = vec4(0.0), wm1u = vec4(0.0), wm2u = vec4(0.0), wm3u = vec4(0.0);
    vec4 wq0u = vec4(0.0), wq1u = vec4(0.0), wq2u = vec4(0.0), wq3u = vec4(0.0);
    float cnt = 0.0;
    uint ohw = p.OH * p.OW;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint r = gl_GlobalInvocationID.x; r < p.rows; r += stride) {
        uint img = qdiv(r, ohw);
        uint rem = r - img * ohw;
        uint oy = qdiv(rem, p.OW), ox = rem - oy * p.OW;
        int y0 = int(oy * p.SH) - p.PH, x0 = int(ox * p.SW) - p.PW;
        uint base = img * p.H;
        ivec4 acc0u = ivec4(0), acc1u = ivec4(0), acc2u = ivec4(0), acc3u = ivec4(0);
        int sa = 0;
        // Tap K (compiled out past KT), written out for every K: the driver's loop unrolling
        // stops short of a loop this long (4*NG channels a tap), and a tap index known at
        // compile time selects its weight word and byte without a test.
#define TAP(K)                                                                            \
        if (KT > K) {                                                                     \
            const uint kh = K / (KW * CH), kw = (K / CH) % KW, c = K % CH;                \
            int iy = y0 + int(kh), ix = x0 + int(kw);                                     \
            bool inside = uint(iy) < p.H && uint(ix) < p.W;                               \
            uint pix = inside ? (base + uint(iy)) * p.W + uint(ix) : 0u;                  \
            int xc = xcode(pix, c);                                                       \
            xc = inside ? xc : p.za;                                                      \
            sa += xc;                                                                     \
            const uint j = K >> 2u, b = K & 3u;                                           \
            GMAC(0u) GMAC(1u) GMAC(2u) GMAC(3u)                                           \
        }
        TAP(0u) TAP(1u) TAP(2u) TAP(3u) TAP(4u) TAP(5u) TAP(6u) TAP(7u)
        TAP(8u) TAP(9u) TAP(10u) TAP(11u) TAP(12u) TAP(13u) TAP(14u) TAP(15u)
        TAP(16u) TAP(17u) TAP(18u) TAP(19u) TAP(20u) TAP(21u) TAP(22u) TAP(23u)
        TAP(24u) TAP(25u) TAP(26u) TAP(27u) TAP(28u) TAP(29u) TAP(30u) TAP(31u)
        cnt += 1.0;
        float gi = 1.0 / cnt;
        GSTORE(0u) GSTORE(1u) GSTORE(2u) GSTORE(3u)
    }
    if (STATS) {
        uint lane = gl_GlobalInvocationID.x, L = stride;
        GPART(0u) GPART(1u) GPART(2u) GPART(3u)
    }
}
