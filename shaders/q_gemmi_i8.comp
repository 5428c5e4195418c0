#version 450
// q_gemmi_i8: q_gemmi for packed operands (FA, FB: 0 unsigned, 1 signed) loading the codes
// through 8-bit storage (four int8 per i8vec4 load, widened to int). Needs the device's
// storageBuffer8BitAccess and shaderInt8 features.
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint FA = 0u;
layout(constant_id = 3) const uint FB = 0u;
layout(constant_id = 4) const uint VEC4 = 0u;

layout(std430, set = 0, binding = 0) readonly buffer A { i8vec4 a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { i8vec4 b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Acc { int acc[]; };
// The same buffer as acc, bound again to store four results at once when N % 4 == 0 (VEC4).
layout(std430, set = 0, binding = 3) writeonly buffer Acc4 { ivec4 acc4[]; };

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint K;
    uint KW;
    uint KC; // words per split of k (workgroup z); acc holds one M*N slice per split
} p;

ivec4 widen(i8vec4 v, uint fmt) {
    ivec4 w = ivec4(v);
    return fmt == 1u ? w : (w & 0xff);
}

int dot4(ivec4 u, ivec4 v) {
    return u.x * v.x + u.y * v.y + u.z * v.z + u.w * v.w;
}

// store writes the in-range part of one row of a 4x4 block.
void store(uint m, uint n0, ivec4 v) {
    if (m >= p.M) {
        return;
    }
    uint o = gl_WorkGroupID.z * p.M * p.N + m * p.N + n0;
    if (VEC4 != 0u) {
        acc4[o / 4u] = v;
        return;
    }
    acc[o] = v.x;
    if (n0 + 1u < p.N) acc[o + 1u] = v.y;
    if (n0 + 2u < p.N) acc[o + 2u] = v.z;
    if (n0 + 3u < p.N) acc[o + 3u] = v.w;
}

// block computes acc[m0..m0+3, n0..n0+3] over this workgroup's split of k.
void block(uint m0, uint n0) {
    uint ra0 = m0 * p.KW, ra1 = min(m0 + 1u, p.M - 1u) * p.KW, ra2 = min(m0 + 2u, p.M - 1u) * p.KW, ra3 = min(m0 + 3u, p.M - 1u) * p.KW;
    uint rb0 = n0 * p.KW, rb1 = min(n0 + 1u, p.N - 1u) * p.KW, rb2 = min(n0 + 2u, p.N - 1u) * p.KW, rb3 = min(n0 + 3u, p.N - 1u) * p.KW;
    ivec4 c0 = ivec4(0), c1 = ivec4(0), c2 = ivec4(0), c3 = ivec4(0);
    uint wEnd = min(p.KW, (gl_WorkGroupID.z + 1u) * p.KC);
    for (uint w = gl_WorkGroupID.z * p.KC; w < wEnd; w++) {
        ivec4 a0 = widen(a[ra0 + w], FA), a1 = widen(a[ra1 + w], FA), a2 = widen(a[ra2 + w], FA), a3 = widen(a[ra3 + w], FA);
        ivec4 b0 = widen(b[rb0 + w], FB), b1 = widen(b[rb1 + w], FB), b2 = widen(b[rb2 + w], FB), b3 = widen(b[rb3 + w], FB);
        c0 += ivec4(dot4(a0, b0), dot4(a0, b1), dot4(a0, b2), dot4(a0, b3));
        c1 += ivec4(dot4(a1, b0), dot4(a1, b1), dot4(a1, b2), dot4(a1, b3));
        c2 += ivec4(dot4(a2, b0), dot4(a2, b1), dot4(a2, b2), dot4(a2, b3));
        c3 += ivec4(dot4(a3, b0), dot4(a3, b1), dot4(a3, b2), dot4(a3, b3));
    }
    store(m0, n0, c0);
    store(m0 + 1u, n0, c1);
    store(m0 + 2u, n0, c2);
    store(m0 + 3u, n0, c3);
}

void main() {
    uint n0 = gl_GlobalInvocationID.x * 4u;
    if (n0 >= p.N) {
        return;
    }
    // Grid-stride over m: a dispatch may have fewer workgroups than blocks.
    uint step = gl_NumWorkGroups.y * gl_WorkGroupSize.y * 4u;
    for (uint m0 = gl_GlobalInvocationID.y * 4u; m0 < p.M; m0 += step) {
        block(m0, n0);
    }
}
