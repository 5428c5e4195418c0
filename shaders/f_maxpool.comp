#version 450
// f_maxpool: window maxima of the NHWC image x and their flat indices (backend.PoolGeom).
// Within a window (row-major) the first element is kept and replaced only by a strictly
// greater one, as in the reference. The comparison is done on the float bits (a total
// order made to agree with float ">": -0 equals +0, NaN is never greater nor beaten), so
// subnormals compare correctly even where a driver flushes them, and y gets x's bits.
//
// With V = 2 or 4 (specialization 3; C a multiple of V) an invocation owns V neighbouring
// channels and writes each output position of y and arg as one uvec2 / uvec4 (ivec2 /
// ivec4): on CPU drivers a storage-buffer store is a loop over the SIMD lanes, whose cost
// the V values share. y and arg are declared at bindings 0 and 1 with scalar, 2- and
// 4-vector elements, one per form.
//
// Launch of f_perchan.glsl over the matrix [N*OH, C/V]: an invocation owns channels
// jV..jV+V-1 of one output row (n, py) at a time and walks its OW outputs.
//
// Bindings: 0 = y (uint bits), 1 = arg (int), 2 = x (uint bits, read through io.glsl).
// Push constants {n, h, w, c, size, stride, oh, ow}. Specialization: 0 = CW, 1 = RW,
// 2 = the window size (equal to the push constant's: a constant lets the compiler unroll
// the window loops), 3 = V (1, 2 or 4).
#include "io.glsl"
#include "f_perchan.glsl"
layout(constant_id = 2) const uint SIZE = 2;
layout(constant_id = 3) const uint V = 1;

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint y[]; };
layout(std430, set = 0, binding = 0) writeonly buffer Y2 { uvec2 y2[]; };
layout(std430, set = 0, binding = 0) writeonly buffer Y4 { uvec4 y4[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Arg { int arg[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Arg2 { ivec2 arg2[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Arg4 { ivec4 arg4[]; };
IN_U32(2, x)

layout(push_constant) uniform Push {
    uint n, h, w, c, size, stride, oh, ow;
} p;

// key maps float bits to integers ordered as the floats, with -0 == +0 and NaN below
// everything, so that a NaN never replaces the maximum.
int key(uint v) {
    // Selects, not branches: on CPU drivers such as lavapipe a branch in a function called
    // per element costs several times the arithmetic.
    uint m = v & 0x7fffffffu;
    int s = (v & 0x80000000u) != 0u ? -int(m) : int(m);
    return m > 0x7f800000u ? -0x7fffffff - 1 : s;
}

// win returns the maximum's bits of the window whose first element is x[left] and sets
// best to its index.
uint win(uint left, uint rowStep, out uint best) {
    // The first element is the maximum so far; a NaN one is never beaten.
    uint bv = x(left);
    int bk = (bv & 0x7fffffffu) > 0x7f800000u ? 0x7fffffff : key(bv);
    best = left;
    // One loop of constant trip count over the window after its first element, which the
    // compiler unrolls (two nested loops, the inner one starting at 1 in the first row, were
    // left as loops by lavapipe, their variables carried: 3.1-3.6 ms against 1.5-2.9 ms for a
    // 2x2 max-pool over [64, 24, 24, 16] on a loaded machine).
    for (uint t = 1u; t < SIZE * SIZE; t++) {
        uint ky = t / SIZE, kx = t - ky * SIZE;
        {
            uint idx = left + ky * rowStep + kx * p.c;
            uint v = x(idx);
            int k = key(v);
            bool gt = k > bk;
            best = gt ? idx : best;
            bv = gt ? v : bv;
            bk = gt ? k : bk;
        }
    }
    return bv;
}

void main() {
    uint rows = p.n * p.oh;
    uint cv = p.c / V;
    uint rowStep = p.w * p.c;       // x offset step between window rows
    uint wst = p.stride * p.c;      // x offset step between neighbouring windows
    for (uint jv = pcCol0(); jv < cv; jv += pcColStep()) {
        uint j = jv * V;
        for (uint r = pcRow0(); r < rows; r += pcRowStep()) {
            uint img = r / p.oh;
            uint py = r - img * p.oh;
            uint left = ((img * p.h + py * p.stride) * p.w) * p.c + j;  // x index of (py*stride, 0)
            uint o = r * p.ow * p.c + j;
            for (uint px = 0; px < p.ow; px++) {
                if (V == 4u) {
                    uint b0, b1, b2, b3;
                    uint v0 = win(left, rowStep, b0), v1 = win(left + 1u, rowStep, b1);
                    uint v2 = win(left + 2u, rowStep, b2), v3 = win(left + 3u, rowStep, b3);
                    y4[o >> 2u] = uvec4(v0, v1, v2, v3);
                    arg4[o >> 2u] = ivec4(b0, b1, b2, b3);
                } else if (V == 2u) {
                    uint b0, b1;
                    uint v0 = win(left, rowStep, b0), v1 = win(left + 1u, rowStep, b1);
                    y2[o >> 1u] = uvec2(v0, v1);
                    arg2[o >> 1u] = ivec2(b0, b1);
                } else {
                    uint b;
                    y[o] = win(left, rowStep, b);
                    arg[o] = int(b);
                }
                left += wst;
                o += p.c;
            }
        }
    }
}
