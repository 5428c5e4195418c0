#version 450
// f_col2im: the adjoint of im2col. Each invocation owns one element of dx [N, H, W, C] at a
// time and sums the entries of cols [rows, K] that read it, so no atomics are needed. The
// window is walked with kh and kw decreasing, which visits the rows of cols in increasing
// order: the same order of additions as the reference backend. The taps that reach the
// element are found once per element (the first one by a remainder, the rest by steps of
// the stride), not tested one by one with divisions (slow on CPU drivers).
//
// One invocation per element i = ((n*H + iy)*W + ix)*C + j in a grid-stride loop (a 1-D
// launch keeps every SIMD lane busy on CPU drivers, which vectorize along x only); the
// coordinates are stepped by the grid stride with carries, and the strides are
// specialization constants, so there is no division by a runtime value per element
// (vector divisions are slow on CPU drivers).
//
// Bindings: 0 = dx, 1 = cols (read through io.glsl). Push constants as f_im2col, with
// total = N*H*W*C (sh and sw unused: SH and SW). Specialization: 0 = workgroup size,
// 1 = SH, 2 = SW (the strides).
#include "io.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint SH = 1;
layout(constant_id = 2) const uint SW = 1;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
IN_F32(1, cols)

layout(push_constant) uniform Push {
    uint n, h, w, c, kh, kw, sh, sw, ph, pw, oh, ow;
    uint total;
} p;

// taps finds the kernel offsets k of one dimension that reach input position t = i + pad:
// k <= kmax, (t - k) % S == 0 and o = (t - k) / S < on. Walking k down from k0 by S, o
// goes up from o0 by 1; it returns how many there are. S is a constant: no division.
#define TAPS(NAME, S)                                                   \
    uint NAME(uint t, uint kn, uint on, out uint k0, out uint o0) {     \
        uint kmax = min(kn - 1u, t);                                    \
        uint d = (t - kmax) % (S);                                      \
        k0 = 0u;                                                        \
        o0 = 0u;                                                        \
        if (d != 0u && (S) - d > kmax) {                                \
            return 0u;                                                  \
        }                                                               \
        k0 = d != 0u ? kmax - ((S) - d) : kmax;                         \
        o0 = (t - k0) / (S);                                            \
        return o0 < on ? min(k0 / (S) + 1u, on - o0) : 0u;              \
    }
TAPS(tapsY, SH)
TAPS(tapsX, SW)

// split writes i as the mixed-radix digits (j, ix, iy, img) of radices (C, W, H).
uvec4 split(uint i) {
    uint r = i / p.c;
    uint q = r / p.w;
    return uvec4(i - r * p.c, r - q * p.w, q % p.h, q / p.h);
}

void main() {
    uint kdim = p.kh * p.kw * p.c;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    // cols steps: one output row and SH kernel rows back in y, likewise in x.
    uint stepY = p.ow * kdim - SH * p.kw * p.c;
    uint stepX = kdim - SW * p.c;
    uvec4 d = split(gl_GlobalInvocationID.x);
    uvec4 e = split(stride);
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += stride) {
        uint j = d.x, ix = d.y, iy = d.z, img = d.w;
        uint ky0, oy0, kx0, ox0;
        uint ny = tapsY(iy + p.ph, p.kh, p.oh, ky0, oy0);
        uint nx = tapsX(ix + p.pw, p.kw, p.ow, kx0, ox0);
        float s = 0.0;
        // cols index of (oy0, ox0) at tap (ky0, kx0), channel j.
        uint base = ((img * p.oh + oy0) * p.ow + ox0) * kdim + (ky0 * p.kw + kx0) * p.c + j;
        for (uint a = 0u; a < ny; a++) {
            uint idx = base;
            for (uint b = 0u; b < nx; b++) {
                s += cols(idx);
                idx += stepX;
            }
            base += stepY;
        }
        dx[i] = s;
        // d += e with carries: the digits of i + stride.
        d.x += e.x;
        uint cy = d.x >= p.c ? 1u : 0u;
        d.x -= cy * p.c;
        d.y += e.y + cy;
        cy = d.y >= p.w ? 1u : 0u;
        d.y -= cy * p.w;
        d.z += e.z + cy;
        cy = d.z >= p.h ? 1u : 0u;
        d.z -= cy * p.h;
        d.w += e.w + cy;
    }
}
