#version 450
// q_dequant: y[m,n] = float(scale[n] * float(v)) + bias[n] with the wrapping int32
// v = acc[m,n] - zb[n]*sa[m] - za*sb[n] + kzz[n] (kzz = K*za*zb, scale = sa*sb[n] rounded
// to float32, both from the host), each float step rounded (precise), as nn/ref.
// prm[off + n] = scale bits, prm[off + N + n] = zb, prm[off + 2N + n] = kzz.
// Invocation x is a column n (its constants loaded once); y walks the rows with a stride of
// the dispatch's height. acc, sa, sb, bias and prm are read through io.glsl (texel buffers
// in the texel build).
//
// Bindings: 0 = acc, 1 = sa, 2 = sb, 3 = bias, 4 = y, 5 = prm. Push constants {M, N, za, off}.
// Specialization: 0, 1 = workgroup size x, y; 2 = HAS_BIAS.
#include "io.glsl"
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint HAS_BIAS = 0u;

IN_I32(0, acc)
IN_I32(1, sa)
IN_I32(2, sb)
IN_F32(3, bias)
layout(std430, set = 0, binding = 4) writeonly buffer Y { float y[]; };
IN_U32(5, prm)

layout(push_constant) uniform Push {
    uint M;
    uint N;
    int za;
    uint off;
} p;

void main() {
    uint n = gl_GlobalInvocationID.x;
    if (n >= p.N) {
        return;
    }
    float scale = uintBitsToFloat(prm(p.off + n));
    int zb = int(prm(p.off + p.N + n));
    int c = int(prm(p.off + 2u * p.N + n)) - p.za * sb(n);
    float bn = HAS_BIAS != 0u ? bias(n) : 0.0;
    uint step = gl_NumWorkGroups.y * gl_WorkGroupSize.y;
    for (uint m = gl_GlobalInvocationID.y; m < p.M; m += step) {
        uint i = m * p.N + n;
        int v = acc(i) - zb * sa(m) + c;
        precise float f = scale * float(v);
        if (HAS_BIAS != 0u) {
            precise float fb = f + bn;
            f = fb;
        }
        y[i] = f;
    }
}
