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
// Bindings: 0 = y (uint bits), 1 = arg (int), 2 = x (uint bits, read through io.glsl).
// Push constants {n, h, w, c, size, stride, oh, ow}. Specialization: 0 = CW, 1 = RW,
// 2 = the window size (equal to the push constant's: a constant lets the compiler unroll
// the window loops).
#include "io.glsl"
#include "f_perchan.glsl"
layout(constant_id = 2) const uint SIZE = 2;

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint y[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Arg { int arg[]; };
IN_U32(2, x)

layout(push_constant) uniform Push {
    uint n, h, w, c, size, stride, oh, ow;
} p;

// key maps float bits to integers ordered as the floats, with -0 == +0 and NaN below
// everything, so that a NaN never replaces the maximum.
int key(uint v) {
    uint m = v & 0x7fffffffu;
    if (m > 0x7f800000u) {
        return -0x7fffffff - 1;
    }
    return (v & 0x80000000u) != 0u ? -int(m) : int(m);
}

void main() {
    uint rows = p.n * p.oh;
    for (uint j = pcCol0(); j < p.c; j += pcColStep()) {
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint img = r / p.oh;
            uint py = r - img * p.oh;
            uint top = ((img * p.h + py * p.stride) * p.w) * p.c + j;  // x index of (py*stride, 0)
            uint o = r * p.ow * p.c + j;
            for (uint px = 0; px < p.ow; px++) {
                uint left = top + px * p.stride * p.c;
                // The first element is the maximum so far; a NaN one is never beaten.
                uint bv = x(left);
                int bk = (bv & 0x7fffffffu) > 0x7f800000u ? 0x7fffffff : key(bv);
                uint best = left;
                for (uint ky = 0; ky < SIZE; ky++) {
                    uint rowi = left + ky * p.w * p.c;
                    for (uint kx = ky == 0u ? 1u : 0u; kx < SIZE; kx++) {
                        uint idx = rowi + kx * p.c;
                        uint v = x(idx);
                        int k = key(v);
                        bool gt = k > bk;
                        best = gt ? idx : best;
                        bv = gt ? v : bv;
                        bk = gt ? k : bk;
                    }
                }
                y[o] = bv;
                arg[o] = int(best);
                o += p.c;
            }
        }
    }
}
