#version 450
// f_maxpoolgrad_tiled: the gradient of f_maxpool for windows that do not overlap
// (stride >= size), in scatter form: each invocation owns one output element at a time and
// writes the size x size elements of its window in dx, dy (plus 0, as the reference adds it
// to a zeroed dx) at the recorded maximum and 0 elsewhere. Every element of dx lies in at
// most one window, so there are no conflicts; elements in no window must be zeroed before.
// An arg that points outside its own window routes nothing.
//
// With V = 2 or 4 (specialization 3; C a multiple of V) an invocation owns V neighbouring
// channels and writes each window position as one uvec2 / uvec4: on CPU drivers a
// storage-buffer store is a loop over the SIMD lanes, whose cost the V values share. dx is
// declared at binding 0 with float, uvec2 and uvec4 elements, one per form.
//
// Launch of f_perchan.glsl over the matrix [N*OH, C/V] (whole rows per workgroup).
//
// Bindings: 0 = dx, 1 = dy, 2 = arg (int); 1 and 2 read through io.glsl.
// Push constants {n, h, w, c, size, stride, oh, ow}. Specialization: 0 = CW, 1 = RW,
// 2 = the window size (as f_maxpool), 3 = V (1, 2 or 4).
#include "io.glsl"
#include "f_perchan.glsl"
layout(constant_id = 2) const uint SIZE = 2;
layout(constant_id = 3) const uint V = 1;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, set = 0, binding = 0) writeonly buffer DX2 { uvec2 dx2[]; };
layout(std430, set = 0, binding = 0) writeonly buffer DX4 { uvec4 dx4[]; };
IN_F32(1, dy)
IN_I32(2, arg)

layout(push_constant) uniform Push {
    uint n, h, w, c, size, stride, oh, ow;
} p;

// route returns the bits of v where element idx is the recorded maximum a, else of 0.
uint route(uint idx, int a, float v) { return int(idx) == a ? floatBitsToUint(v) : 0u; }

// dyv returns dy at output offset o plus 0, rounded (the reference adds dy to a zeroed dx).
float dyv(uint o) {
    precise float v = 0.0 + dy(o);
    return v;
}

void main() {
    uint rows = p.n * p.oh;
    uint cv = p.c / V;
    uint wst = p.stride * p.c;  // dx offset step between neighbouring windows
    for (uint jv = pcCol0(); jv < cv; jv += pcColStep()) {
        uint j = jv * V;
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint img = r / p.oh;
            uint py = r - img * p.oh;
            uint left = ((img * p.h + py * p.stride) * p.w) * p.c + j;
            uint o = r * p.ow * p.c + j;
            for (uint px = 0; px < p.ow; px++) {
                if (V == 4u) {
                    int a0 = arg(o), a1 = arg(o + 1u), a2 = arg(o + 2u), a3 = arg(o + 3u);
                    float v0 = dyv(o), v1 = dyv(o + 1u), v2 = dyv(o + 2u), v3 = dyv(o + 3u);
                    for (uint ky = 0; ky < SIZE; ky++) {
                        uint idx = left + ky * p.w * p.c;
                        for (uint kx = 0; kx < SIZE; kx++) {
                            dx4[idx >> 2u] = uvec4(route(idx, a0, v0), route(idx + 1u, a1, v1),
                                                   route(idx + 2u, a2, v2), route(idx + 3u, a3, v3));
                            idx += p.c;
                        }
                    }
                } else if (V == 2u) {
                    int a0 = arg(o), a1 = arg(o + 1u);
                    float v0 = dyv(o), v1 = dyv(o + 1u);
                    for (uint ky = 0; ky < SIZE; ky++) {
                        uint idx = left + ky * p.w * p.c;
                        for (uint kx = 0; kx < SIZE; kx++) {
                            dx2[idx >> 1u] = uvec2(route(idx, a0, v0), route(idx + 1u, a1, v1));
                            idx += p.c;
                        }
                    }
                } else {
                    int a = arg(o);
                    float v = dyv(o);
                    for (uint ky = 0; ky < SIZE; ky++) {
                        uint idx = left + ky * p.w * p.c;
                        for (uint kx = 0; kx < SIZE; kx++) {
                            dx[idx] = int(idx) == a ? v : 0.0;
                            idx += p.c;
                        }
                    }
                }
                left += wst;
                o += p.c;
            }
        }
    }
}
