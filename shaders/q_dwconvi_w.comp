#version 450
// q_dwconvi_w: the first pass of q_dwconvi: the depthwise filters with their zero points
// subtracted, wz[t*C + j] = w[j, t] - zb[j] (tap t = ky*KW + kx, channel fastest, one int
// each), from the Q8 filters w (C*taps codes, of any shape: read as rows of wcols codes in
// format WFMT, see q_common.glsl). zb[j] = prm[off + j*zstep] (zstep 0: one zero point).
//
// Bindings: 0 = wz, 1 = w, 2 = prm (1 and 2 read through io.glsl). Push constants as
// below. Specialization: 0 = workgroup size, 1 = WFMT.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint WFMT = 0u;

layout(std430, set = 0, binding = 0) writeonly buffer WZ { int wz[]; };
IN_U32(1, w)
IN_U32(2, prm)

layout(push_constant) uniform Push {
    uint c, taps;
    uint wcols, wrowWords;
    uint off, zstep;
} p;

void main() {
    uint n = p.c * p.taps;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        uint t = i / p.c, j = i - t * p.c;
        uint f = j * p.taps + t;  // flat index of w[j, t]
        int code;
        if (WFMT == Q8_WIDE) {
            code = int(w(f));
        } else {
            uint row = f / p.wcols, col = f - row * p.wcols;
            code = q8byte(w(row * p.wrowWords + (col >> 2u)), col & 3u, WFMT);
        }
        wz[i] = code - int(prm(p.off + j * p.zstep));
    }
}
