#version 450
// f_maxpoolgrad: the gradient of f_maxpool in gather form. Each invocation owns one
// element of dx and adds dy of every window that contains it and whose recorded maximum
// (arg) is that element, windows in increasing output order: the reference's order of
// additions, with no atomics. An arg that points outside its own window routes nothing.
//
// Bindings: 0 = dx, 1 = dy, 2 = arg (int).
// Push constants {n, h, w, c, size, stride, oh, ow, total = n*h*w*c}.
// Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer Arg { int arg[]; };

layout(push_constant) uniform Push {
    uint n, h, w, c, size, stride, oh, ow;
    uint total;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += stride) {
        uint ch = i % p.c;
        uint t = i / p.c;
        uint ix = t % p.w;
        t /= p.w;
        uint iy = t % p.h;
        uint img = t / p.h;
        // Windows py with py*stride <= iy < py*stride+size, likewise px.
        uint pylo = iy + 1u > p.size ? (iy + 1u - p.size + p.stride - 1u) / p.stride : 0u;
        uint pyhi = min(iy / p.stride, p.oh - 1u);
        uint pxlo = ix + 1u > p.size ? (ix + 1u - p.size + p.stride - 1u) / p.stride : 0u;
        uint pxhi = min(ix / p.stride, p.ow - 1u);
        float s = 0.0;
        for (uint py = pylo; py <= pyhi; py++) {
            for (uint px = pxlo; px <= pxhi; px++) {
                uint o = ((img * p.oh + py) * p.ow + px) * p.c + ch;
                if (arg[o] == int(i)) {
                    s += dy[o];
                }
            }
        }
        dx[i] = s;
    }
}
