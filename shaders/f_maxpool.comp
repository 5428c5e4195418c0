#version 450
// f_maxpool: window maxima of the NHWC image x and their flat indices (backend.PoolGeom).
// Within a window (row-major) the first element is kept and replaced only by a strictly
// greater one, as in the reference. The comparison is done on the float bits (a total
// order made to agree with float ">": -0 equals +0, NaN is never greater nor beaten), so
// subnormals compare correctly even where a driver flushes them, and y gets x's bits.
//
// Launch of f_perchan.glsl over the matrix [N*OH, C]: an invocation owns channel j of one
// output row (n, py) at a time and walks its OW outputs.
//
// Bindings: 0 = y (uint bits), 1 = arg (int), 2 = x (uint bits).
// Push constants {n, h, w, c, size, stride, oh, ow}.
#include "f_perchan.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint y[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Arg { int arg[]; };
layout(std430, set = 0, binding = 2) readonly buffer X { uint x[]; };

layout(push_constant) uniform Push {
    uint n, h, w, c, size, stride, oh, ow;
} p;

bool isNaN(uint v) { return (v & 0x7fffffffu) > 0x7f800000u; }

// key maps non-NaN float bits to integers ordered as the floats, with -0 == +0.
int key(uint v) {
    if ((v & 0x7fffffffu) == 0u) {
        return 0;
    }
    return (v & 0x80000000u) != 0u ? -int(v & 0x7fffffffu) : int(v);
}

void main() {
    uint rows = p.n * p.oh;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint img = r / p.oh;
            uint py = r % p.oh;
            uint top = ((img * p.h + py * p.stride) * p.w) * p.c + j;  // x index of (py*stride, 0)
            for (uint px = 0; px < p.ow; px++) {
                int best = -1;
                uint bv = 0u;
                for (uint ky = 0; ky < p.size; ky++) {
                    uint rowi = top + (ky * p.w + px * p.stride) * p.c;
                    for (uint kx = 0; kx < p.size; kx++) {
                        uint idx = rowi + kx * p.c;
                        uint v = x[idx];
                        if (best < 0 || (!isNaN(v) && !isNaN(bv) && key(v) > key(bv))) {
                            best = int(idx);
                            bv = v;
                        }
                    }
                }
                uint o = (r * p.ow + px) * p.c + j;
                y[o] = bv;
                arg[o] = best;
            }
        }
    }
}
