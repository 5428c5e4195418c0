#version 450
// q_dequant2: q_dequant (y[m,n] = float(scale[n]*float(v)) + bias[n], v the wrapping int32
// acc[m,n] - zb[n]*sa[m] - za*sb[n] + kzz[n], each float step rounded) for even N, each
// invocation owning a pair of columns whose acc and y it reads and writes as 64-bit words:
// on CPU drivers such as lavapipe a 64-bit load or store costs about what a 32-bit one does,
// and sa[m] is loaded once per pair. The same results as q_dequant. Needs shaderInt64.
// prm[off + n] = scale bits, prm[off + N + n] = zb, prm[off + 2N + n] = kzz.
//
// Launch of f_perchan.glsl over the matrix of column pairs [M, N/2] (nn/vk perChanRows:
// workgroups of whole rows): an invocation owns column pair j at a time (its constants
// loaded once) and walks the rows, two per loop iteration.
// acc, sa, sb, bias and prm are read through io.glsl: in the texel build acc is read as two
// 32-bit texels per pair (a texel fetch is cheap on CPU drivers, a storage load is not);
// y is always written as 64-bit words.
//
// Bindings: 0 = acc, 1 = sa, 2 = sb, 3 = bias, 4 = y, 5 = prm. Push constants {M, N, za, off}.
// Specialization: 0 = CW, 1 = RW (f_perchan.glsl), 2 = HAS_BIAS.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_perchan.glsl"
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

// f returns y's pair i of row m: zb, c and scale of the two columns, bias bn.
uint64_t f(uint i, uint m, ivec2 zb, ivec2 c, vec2 scale, vec2 bn) {
    ivec2 a = accPair(i);
    int s = sa(m);
    int v0 = a.x - zb.x * s + c.x;
    int v1 = a.y - zb.y * s + c.y;
    precise float f0 = scale.x * float(v0);
    precise float f1 = scale.y * float(v1);
    if (HAS_BIAS != 0u) {
        precise float fb0 = f0 + bn.x;
        precise float fb1 = f1 + bn.y;
        f0 = fb0;
        f1 = fb1;
    }
    return packUint2x32(floatBitsToUint(vec2(f0, f1)));
}

void main() {
    uint cp = p.N / 2u;
    uint ms = pcRowStep();
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        uint n0 = 2u * j, n1 = n0 + 1u;
        vec2 scale = uintBitsToFloat(uvec2(prm(p.off + n0), prm(p.off + n1)));
        ivec2 zb = ivec2(prm(p.off + p.N + n0), prm(p.off + p.N + n1));
        ivec2 c = ivec2(prm(p.off + 2u * p.N + n0), prm(p.off + 2u * p.N + n1)) - p.za * ivec2(sb(n0), sb(n1));
        vec2 bn = HAS_BIAS != 0u ? vec2(bias(n0), bias(n1)) : vec2(0.0);
        // Two rows per iteration (m, m + ms); only m is carried (see f_perchan.glsl).
        uint m = pcRow0();
        for (; m + ms < p.M; m += 2u * ms) {
            uint i = m * cp + j, i1 = i + ms * cp;
            uint64_t v0 = f(i, m, zb, c, scale, bn), v1 = f(i1, m + ms, zb, c, scale, bn);
            y[i] = v0;
            y[i1] = v1;
        }
        if (m < p.M) {
            uint i = m * cp + j;
            y[i] = f(i, m, zb, c, scale, bn);
        }
    }
}
