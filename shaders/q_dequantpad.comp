#version 450
// q_dequantpad: the padded image xp [N, HP, WP, C] of the Q8 image q [N, H, W, C] (format
// FMT, one channel of quantization: s and z): xp element (n, y, x, c) is s*float(q - z)
// (q_dequantize's value, one rounding) of q's element (n, y - PH, x - PW, c) where that is
// inside q, else +0 (what a padding code, z, dequantizes to). f_gemm_rtc reads its im2col
// matrix from xp without bounds tests.
//
// One invocation per element of xp in a grid-stride loop (a 1-D launch keeps every SIMD
// lane busy on CPU drivers); the coordinates come from qdiv (no integer division).
//
// Bindings: 0 = q (read through io.glsl), 1 = xp. Push constants below (total = N*HP*WP*C,
// rowWords = the words of q's rows of C codes when packed). Specialization: 0 = workgroup
// size, 1 = FMT.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FMT = 0u;

IN_U32(0, q)
layout(std430, set = 0, binding = 1) writeonly buffer XP { float xp[]; };

layout(push_constant) uniform Push {
    uint h, w, c, hp, wp, ph, pw;
    uint rowWords;
    uint total;
    float s;
    int z;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.total; i += stride) {
        uint r = qdiv(i, p.c);
        uint j = i - r * p.c;
        uint yq = qdiv(r, p.wp);
        uint x = r - yq * p.wp;
        uint img = qdiv(yq, p.hp);
        uint y = yq - img * p.hp;
        int iy = int(y) - int(p.ph), ix = int(x) - int(p.pw);
        bool inside = iy >= 0 && iy < int(p.h) && ix >= 0 && ix < int(p.w);
        uint row = inside ? (img * p.h + uint(iy)) * p.w + uint(ix) : 0u;
        int code;
        if (FMT == Q8_WIDE) {
            code = int(q(row * p.c + j));
        } else {
            code = q8byte(q(row * p.rowWords + (j >> 2u)), j & 3u, FMT);
        }
        precise float v = p.s * float(code - p.z);
        xp[i] = inside ? v : 0.0;
    }
}
