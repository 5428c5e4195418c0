#version 450
// q_dequant2: q_dequant (y[m,n] = float(scale[n]*float(v)) + bias[n], v the wrapping int32
// acc[m,n] - zb[n]*sa[m] - za*sb[n] + kzz[n], each float step rounded) for even N, each
// invocation owning a pair of columns whose acc and y it reads and writes as 64-bit words:
// on CPU drivers such as lavapipe a 64-bit load or store costs about what a 32-bit one does,
// and sa[m] is loaded once per pair. The same results as q_dequant. Needs shaderInt64.
// prm[off + n] = scale bits, prm[off + N + n] = zb, prm[off + 2N + n] = kzz.
// Invocation x is a column pair (its constants loaded once); y walks the rows with a stride
// of the dispatch's height.
// acc, sa, sb, bias and prm are read through io.glsl: in the texel build acc is read as two
// 32-bit texels per pair (a texel fetch is cheap on CPU drivers, a storage load is not);
// y is always written as 64-bit words.
//
// Bindings: 0 = acc, 1 = sa, 2 = sb, 3 = bias, 4 = y, 5 = prm. Push constants {M, N, za, off}.
// Specialization: 0, 1 = workgroup size x, y; 2 = HAS_BIAS.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint HAS_BIAS = 0u;

#ifdef VKT_TEXEL
IN_I32(0, acc)
ivec2 accPair(uint i) { return ivec2(acc(2u * i), acc(2u * i + 1u)); }
#else
layout(std430, set = 0, binding = 0) readonly buffer Acc { uint64_t acc[]; };
ivec2 accPair(uint i) { return ivec2(unpackUint2x32(acc[i])); }
#endif
IN_I32(1, sa)
IN_I32(2, sb)
IN_F32(3, bias)
layout(std430, set = 0, binding = 4) writeonly buffer Y { uint64_t y[]; };
IN_U32(5, prm)

layout(push_constant) uniform Push {
    uint M;
    uint N;
    int za;
    uint off;
} p;

void main() {
    uint np = gl_GlobalInvocationID.x;
    uint cp = p.N / 2u;
    if (np >= cp) {
        return;
    }
    uint n0 = 2u * np, n1 = n0 + 1u;
    float scale0 = uintBitsToFloat(prm(p.off + n0)), scale1 = uintBitsToFloat(prm(p.off + n1));
    int zb0 = int(prm(p.off + p.N + n0)), zb1 = int(prm(p.off + p.N + n1));
    int c0 = int(prm(p.off + 2u * p.N + n0)) - p.za * sb(n0);
    int c1 = int(prm(p.off + 2u * p.N + n1)) - p.za * sb(n1);
    float bn0 = HAS_BIAS != 0u ? bias(n0) : 0.0;
    float bn1 = HAS_BIAS != 0u ? bias(n1) : 0.0;
    uint step = gl_NumWorkGroups.y * gl_WorkGroupSize.y;
    for (uint m = gl_GlobalInvocationID.y; m < p.M; m += step) {
        uint i = m * cp + np;
        ivec2 a = accPair(i);
        int s = sa(m);
        int v0 = a.x - zb0 * s + c0;
        int v1 = a.y - zb1 * s + c1;
        precise float f0 = scale0 * float(v0);
        precise float f1 = scale1 * float(v1);
        if (HAS_BIAS != 0u) {
            precise float fb0 = f0 + bn0;
            precise float fb1 = f1 + bn1;
            f0 = fb0;
            f1 = fb1;
        }
        y[i] = packUint2x32(floatBitsToUint(vec2(f0, f1)));
    }
}
