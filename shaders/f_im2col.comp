#version 450
// f_im2col: the im2col matrix cols [rows, K] of the NHWC image x, 0 outside the image
// (backend.ConvGeom: row r = (n*OH+oy)*OW+ox, column (kh*KW+kw)*C+c). Values are moved as
// bits, so the copy is exact for every float (NaN payloads and subnormals included).
// One invocation per element of cols, in a grid-stride loop.
//
// Bindings: 0 = cols (uint bits), 1 = x (uint bits).
// Push constants: geometry {n, h, w, c, kh, kw, sh, sw, ph, pw, oh, ow} and total = rows*K.
// Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Cols { uint cols[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { uint x[]; };

layout(push_constant) uniform Push {
    uint n, h, w, c, kh, kw, sh, sw, ph, pw, oh, ow;
    uint total;
} p;

void main() {
    uint kdim = p.kh * p.kw * p.c;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += stride) {
        uint r = i / kdim;
        uint k = i % kdim;
        uint img = r / (p.oh * p.ow);
        uint rem = r % (p.oh * p.ow);
        uint oy = rem / p.ow;
        uint ox = rem % p.ow;
        uint ky = k / (p.kw * p.c);
        uint kx = (k / p.c) % p.kw;
        uint ch = k % p.c;
        int iy = int(oy * p.sh + ky) - int(p.ph);
        int ix = int(ox * p.sw + kx) - int(p.pw);
        uint v = 0u;
        if (iy >= 0 && iy < int(p.h) && ix >= 0 && ix < int(p.w)) {
            v = x[((img * p.h + uint(iy)) * p.w + uint(ix)) * p.c + ch];
        }
        cols[i] = v;
    }
}
