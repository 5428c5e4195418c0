#version 450
// f_convgradw: the first pass of a convolution's weight gradient read from the image codes,
// with no im2col matrix (backend.FusedConv.ConvGradWQ): partial sums over rows of
//   dw[o,k] = sum_r dy[r,o] * xhat[r,k],  xhat[r,k] = scale*float(xc[r,k] - zero)
// (each product rounded to float32 as Dequantize rounds it; a tap outside the image is +0),
// xc[r,k] the im2col code of tap k = (kh*KW+kw)*C+c of row r (backend.ConvGeom).
//
// Workgroup y is a block of 4 output channels o0 = 4*y, workgroup z a block of 4 taps
// k0 = 4*z (decoded once per invocation; channels and taps past the ends are clamped for
// loads, count as 0 and are not stored). Invocation x (of P = all invocations along x) sums
// rows x, x + P, ... into 16 accumulators and writes them to part[x][o][k] ([P, Out, K]);
// f_gemm_ksum adds the P partials in order. Per row: the row's position (two qdivs), four
// image reads and four of dy, sixteen multiply-adds.
//
// Bindings: 0 = part, 1 = dy [rows, Out], 2 = x (the image codes, XFMT: rows of xrowWords
// words per pixel, or one int per code), both io.glsl inputs. Push constants below.
// Specialization: 0 = WX (workgroup size), 1 = XFMT.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint XFMT = 0u;

layout(std430, set = 0, binding = 0) writeonly buffer Part { float part[]; };
IN_F32(1, dy)
IN_U32(2, x)

layout(push_constant) uniform Push {
    uint H, W, C, KW, OH, OW;
    uint SH, SW;
    int PH, PW;
    uint rows, out_, K;
    uint xrowWords;
    int zero;
    float scale;
} p;

// Tap is one tap of the block: window offset (kh, kw), channel c, and whether it is a tap.
struct Tap {
    int kh, kw;
    uint c;
    bool ok;
};

Tap tapOf(uint k) {
    uint kc = min(k, p.K - 1u);
    uint kh = qdiv(kc, p.KW * p.C);
    uint t = kc - kh * p.KW * p.C;
    uint kw = qdiv(t, p.C);
    return Tap(int(kh), int(kw), t - kw * p.C, k < p.K);
}

// xhat returns the dequantized code of tap t at corner (y0, x0) of image base = n*H: +0
// outside the image or past K.
float xhat(uint base, int y0, int x0, Tap t) {
    int iy = y0 + t.kh, ix = x0 + t.kw;
    bool inside = t.ok && uint(iy) < p.H && uint(ix) < p.W;
    uint pix = inside ? (base + uint(iy)) * p.W + uint(ix) : 0u;
    int q = XFMT == Q8_WIDE ? int(x(pix * p.C + t.c)) : q8byte(x(pix * p.xrowWords + (t.c >> 2u)), t.c & 3u, XFMT);
    precise float v = p.scale * float(q - p.zero);
    return inside ? v : 0.0;
}

void main() {
    uint o0 = 4u * gl_WorkGroupID.y, k0 = 4u * gl_WorkGroupID.z;
    Tap t0 = tapOf(k0), t1 = tapOf(k0 + 1u), t2 = tapOf(k0 + 2u), t3 = tapOf(k0 + 3u);
    uint oc0 = min(o0, p.out_ - 1u), oc1 = min(o0 + 1u, p.out_ - 1u);
    uint oc2 = min(o0 + 2u, p.out_ - 1u), oc3 = min(o0 + 3u, p.out_ - 1u);
    vec4 a0 = vec4(0.0), a1 = vec4(0.0), a2 = vec4(0.0), a3 = vec4(0.0); // a_i: channel o0+i, taps k0..k0+3
    uint ohw = p.OH * p.OW;
    uint P = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint r = gl_GlobalInvocationID.x; r < p.rows; r += P) {
        uint img = qdiv(r, ohw);
        uint rem = r - img * ohw;
        uint oy = qdiv(rem, p.OW), ox = rem - oy * p.OW;
        int y0 = int(oy * p.SH) - p.PH, x0 = int(ox * p.SW) - p.PW;
        uint base = img * p.H;
        vec4 xv = vec4(xhat(base, y0, x0, t0), xhat(base, y0, x0, t1), xhat(base, y0, x0, t2), xhat(base, y0, x0, t3));
        uint d = r * p.out_;
        a0 += dy(d + oc0) * xv;
        a1 += dy(d + oc1) * xv;
        a2 += dy(d + oc2) * xv;
        a3 += dy(d + oc3) * xv;
    }
    uint g = gl_GlobalInvocationID.x * p.out_ * p.K;
    uint kn = min(4u, p.K - k0);
#define STORE(A, I)                                                     \
    if (o0 + I < p.out_) {                                              \
        uint o = g + (o0 + I) * p.K + k0;                               \
        part[o] = A.x;                                                  \
        if (kn > 1u) part[o + 1u] = A.y;                                \
        if (kn > 2u) part[o + 2u] = A.z;                                \
        if (kn > 3u) part[o + 3u] = A.w;                                \
    }
    STORE(a0, 0u) STORE(a1, 1u) STORE(a2, 2u) STORE(a3, 3u)
}
