#version 450
// f_im2col: the im2col matrix cols [rows, K] of the NHWC image x, 0 outside the image
// (backend.ConvGeom: row r = (n*OH+oy)*OW+ox, column (kh*KW+kw)*C+c). Values are moved as
// bits, so the copy is exact for every float (NaN payloads and subnormals included).
//
// One invocation per (row r, channel j) item, i = r*C + j, in a grid-stride loop: it
// writes the KH*KW entries of the item, walking the window. The item's coordinates
// (j, ox, oy, n) are stepped by the grid stride with carries, so there is no integer
// division per item or entry (vector divisions are slow on CPU drivers). A 1-D launch keeps
// every SIMD lane busy on CPU drivers, which vectorize along x only, also for C = 1.
//
// Bindings: 0 = cols (uint bits), 1 = x (uint bits, read through io.glsl).
// Push constants: geometry {n, h, w, c, kh, kw, sh, sw, ph, pw, oh, ow} and total = rows*C.
// Specialization: 0 = workgroup size.
#include "io.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Cols { uint cols[]; };
IN_U32(1, x)

layout(push_constant) uniform Push {
    uint n, h, w, c, kh, kw, sh, sw, ph, pw, oh, ow;
    uint total;
} p;

// split writes i as the mixed-radix digits (j, ox, oy, img) of radices (C, OW, OH).
uvec4 split(uint i) {
    uint r = i / p.c;
    uint q = r / p.ow;
    return uvec4(i - r * p.c, r - q * p.ow, q % p.oh, q / p.oh);
}

void main() {
    uint kdim = p.kh * p.kw * p.c;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uvec4 d = split(gl_GlobalInvocationID.x);
    uvec4 e = split(stride);
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += stride) {
        uint j = d.x, ox = d.y, oy = d.z, img = d.w;
        int iy0 = int(oy * p.sh) - int(p.ph);
        int ix0 = int(ox * p.sw) - int(p.pw);
        uint o = (i - j) * p.kh * p.kw + j;  // r*K + j
        for (uint ky = 0u; ky < p.kh; ky++) {
            int iy = iy0 + int(ky);
            bool rowIn = iy >= 0 && iy < int(p.h);
            // x index of (iy, ix0) channel j; only used where in bounds.
            int src = ((int(img * p.h) + iy) * int(p.w) + ix0) * int(p.c) + int(j);
            for (uint kx = 0u; kx < p.kw; kx++) {
                int ix = ix0 + int(kx);
                bool in_ = rowIn && ix >= 0 && ix < int(p.w);
                uint v = x(in_ ? uint(src) : 0u);
                cols[o] = in_ ? v : 0u;
                o += p.c;
                src += int(p.c);
            }
        }
        // d += e with carries: the digits of i + stride.
        d.x += e.x;
        uint cy = d.x >= p.c ? 1u : 0u;
        d.x -= cy * p.c;
        d.y += e.y + cy;
        cy = d.y >= p.ow ? 1u : 0u;
        d.y -= cy * p.ow;
        d.z += e.z + cy;
        cy = d.z >= p.oh ? 1u : 0u;
        d.z -= cy * p.oh;
        d.w += e.w + cy;
    }
}
