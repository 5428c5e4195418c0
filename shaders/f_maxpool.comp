#version 450
// f_maxpool: window maxima of the NHWC image x and their flat indices (backend.PoolGeom).
// Within a window (row-major) the first element is kept and replaced only by a strictly
// greater one, as in the reference. The comparison is done on the float bits (a total
// order made to agree with float ">": -0 equals +0, NaN is never greater nor beaten), so
// subnormals compare correctly even where a driver flushes them, and y gets x's bits.
//
// Bindings: 0 = y (uint bits), 1 = arg (int), 2 = x (uint bits).
// Push constants {n, h, w, c, size, stride, oh, ow, total = n*oh*ow*c}.
// Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint y[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Arg { int arg[]; };
layout(std430, set = 0, binding = 2) readonly buffer X { uint x[]; };

layout(push_constant) uniform Push {
    uint n, h, w, c, size, stride, oh, ow;
    uint total;
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
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += stride) {
        uint ch = i % p.c;
        uint t = i / p.c;
        uint px = t % p.ow;
        t /= p.ow;
        uint py = t % p.oh;
        uint img = t / p.oh;
        int best = -1;
        uint bv = 0u;
        for (uint ky = 0; ky < p.size; ky++) {
            for (uint kx = 0; kx < p.size; kx++) {
                uint idx = ((img * p.h + py * p.stride + ky) * p.w + px * p.stride + kx) * p.c + ch;
                uint v = x[idx];
                if (best < 0 || (!isNaN(v) && !isNaN(bv) && key(v) > key(bv))) {
                    best = int(idx);
                    bv = v;
                }
            }
        }
        y[i] = bv;
        arg[i] = best;
    }
}
