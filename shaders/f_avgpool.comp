#version 450
// f_avgpool: window means of the NHWC image x (backend.PoolGeom, rectangular windows kh x kw
// moved sh rows and sw columns at a time): y[o] = (the float32 sum of the window in
// row-major order) * inv, inv = the float32 1/(kh*kw) from the host, as the reference.
//
// One invocation per output o = ((n*OH + oy)*OW + ox)*C + j in a grid-stride loop, the
// coordinates stepped by the grid stride with carries (no division per output); the window
// is walked as one loop over its taps (a column counter wraps to the next window row).
//
// Windows longer than an invocation may loop over (llvmpipe ends an invocation's loops
// after 65535 iterations in all) are split: workgroup row z sums the taps
// [z*chunk, min(taps, (z+1)*chunk)) of every window into part[z*total + o] (PART), and
// f_gemm_ksum adds the chunks in order and multiplies by inv. Otherwise chunk = taps and
// the kernel writes y directly.
//
// Bindings: 0 = y (or part), 1 = x (read through io.glsl). Push constants as below
// (total = N*OH*OW*C). Specialization: 0 = workgroup size, 1 = PART.
#include "io.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool PART = false;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
IN_F32(1, x)

layout(push_constant) uniform Push {
    uint n, h, w, c;
    uint kw, sh, sw;
    uint oh, ow;
    uint total;
    uint taps, chunk;
    float inv;
} p;

// split writes o as the mixed-radix digits (j, ox, oy, img) of radices (C, OW, OH).
uvec4 split(uint o) {
    uint r = o / p.c;
    uint q = r / p.ow;
    return uvec4(o - r * p.c, r - q * p.ow, q % p.oh, q / p.oh);
}

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint z = gl_WorkGroupID.y;
    uint t0 = z * p.chunk, t1 = min(p.taps, t0 + p.chunk);
    uint ky0 = t0 / p.kw, kx0 = t0 - ky0 * p.kw;
    uint off0 = (ky0 * p.w + kx0) * p.c;  // x offset of tap t0 from the window's corner
    uint rowSkip = (p.w - p.kw) * p.c;    // from past a window row's end to the next row
    uvec4 d = split(gl_GlobalInvocationID.x);
    uvec4 e = split(stride);
    for (uint o = gl_GlobalInvocationID.x; o < p.total; o += stride) {
        uint idx = ((d.w * p.h + d.z * p.sh) * p.w + d.y * p.sw) * p.c + d.x + off0;
        float s = 0.0;
        uint kx = kx0;
        for (uint t = t0; t < t1; t++) {
            s += x(idx);
            idx += p.c;
            kx++;
            if (kx == p.kw) {
                kx = 0u;
                idx += rowSkip;
            }
        }
        if (PART) {
            y[z * p.total + o] = s;
        } else {
            y[o] = s * p.inv;
        }
        // d += e with carries: the digits of o + stride.
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
