#version 450
// f_col2im: the adjoint of im2col. Each invocation owns one element of dx [N, H, W, C] and
// sums the entries of cols [rows, K] that read it, so no atomics are needed. The window
// is walked with kh and kw decreasing, which visits the rows of cols in increasing order:
// the same order of additions as the reference backend.
//
// Bindings: 0 = dx, 1 = cols. Push constants as f_im2col, with total = N*H*W*C.
// Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer Cols { float cols[]; };

layout(push_constant) uniform Push {
    uint n, h, w, c, kh, kw, sh, sw, ph, pw, oh, ow;
    uint total;
} p;

void main() {
    uint kdim = p.kh * p.kw * p.c;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += stride) {
        uint ch = i % p.c;
        uint t = i / p.c;
        uint ix = t % p.w;
        t /= p.w;
        uint iy = t % p.h;
        uint img = t / p.h;
        float s = 0.0;
        for (int ky = int(p.kh) - 1; ky >= 0; ky--) {
            int ty = int(iy + p.ph) - ky;
            if (ty < 0 || uint(ty) % p.sh != 0u) {
                continue;
            }
            uint oy = uint(ty) / p.sh;
            if (oy >= p.oh) {
                continue;
            }
            for (int kx = int(p.kw) - 1; kx >= 0; kx--) {
                int tx = int(ix + p.pw) - kx;
                if (tx < 0 || uint(tx) % p.sw != 0u) {
                    continue;
                }
                uint ox = uint(tx) / p.sw;
                if (ox >= p.ow) {
                    continue;
                }
                s += cols[((img * p.oh + oy) * p.ow + ox) * kdim + (uint(ky) * p.kw + uint(kx)) * p.c + ch];
            }
        }
        dx[i] = s;
    }
}
