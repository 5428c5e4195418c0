#version 450
// f_avgpoolgrad: the gradient of f_avgpool in gather form. Each invocation owns one element
// i of dx [N, H, W, C] at a time and adds dy[o]*inv of every window o that contains it,
// windows in increasing output order (oy, then ox): the reference's order of additions,
// each term rounded (precise: no fused multiply-add), no atomics. Elements in no window get
// 0, so dx needs no clearing.
//
// Window oy contains iy when oy*SH <= iy < oy*SH + kh, i.e.
// ceil((iy+1-kh)/SH) <= oy <= iy/SH; likewise ox. The strides are specialization
// constants (a division by a constant is a multiplication).
//
// With windows that do not overlap (TILED: SH >= kh and SW >= kw, where nn/vk passes kh for
// SH when there is one row of windows, likewise for SW: global pooling) an element lies in
// at most one window, oy = iy/SH and ox = ix/SW, and the kernel has no loop per element.
//
// One invocation per element in a grid-stride loop, the coordinates stepped by the grid
// stride with carries.
//
// Bindings: 0 = dx, 1 = dy (read through io.glsl). Push constants as below
// (total = N*H*W*C). Specialization: 0 = workgroup size, 1 = SH, 2 = SW, 3 = TILED.
#include "io.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint SH = 1;
layout(constant_id = 2) const uint SW = 1;
layout(constant_id = 3) const bool TILED = false;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
IN_F32(1, dy)

layout(push_constant) uniform Push {
    uint n, h, w, c;
    uint kh, kw;
    uint oh, ow;
    uint total;
    float inv;
} p;

// split writes i as the mixed-radix digits (j, ix, iy, img) of radices (C, W, H).
uvec4 split(uint i) {
    uint r = i / p.c;
    uint q = r / p.w;
    return uvec4(i - r * p.c, r - q * p.w, q % p.h, q / p.h);
}

// tiled returns dx[i] for the element (img, iy, ix, j) when windows do not overlap.
float tiled(uint img, uint iy, uint ix, uint j) {
    uint py = iy / SH, px = ix / SW;
    precise float s = 0.0;
    if (py < p.oh && iy - py * SH < p.kh && px < p.ow && ix - px * SW < p.kw) {
        s += dy(((img * p.oh + py) * p.ow + px) * p.c + j) * p.inv;
    }
    return s;
}

// gather returns dx[i] for the element (img, iy, ix, j): the terms of its windows in order.
float gather(uint img, uint iy, uint ix, uint j) {
    uint pylo = iy + 1u > p.kh ? (iy + SH - p.kh) / SH : 0u;
    uint pyhi = min(iy / SH, p.oh - 1u);
    uint pxlo = ix + 1u > p.kw ? (ix + SW - p.kw) / SW : 0u;
    uint pxhi = min(ix / SW, p.ow - 1u);
    precise float s = 0.0;
    for (uint py = pylo; py <= pyhi; py++) {
        uint o = ((img * p.oh + py) * p.ow + pxlo) * p.c + j;
        for (uint px = pxlo; px <= pxhi; px++) {
            s += dy(o) * p.inv;
            o += p.c;
        }
    }
    return s;
}

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uvec4 d = split(gl_GlobalInvocationID.x);
    uvec4 e = split(stride);
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += stride) {
        dx[i] = TILED ? tiled(d.w, d.z, d.y, d.x) : gather(d.w, d.z, d.y, d.x);
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
