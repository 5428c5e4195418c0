#version 450
// q_gemmi_dot: q_gemmi for packed operands (FA, FB: 0 unsigned, 1 signed) with the 4x8-bit
// packed integer dot products of SPV_KHR_integer_dot_product (OpSDot, OpUDot, OpSUDot),
// reached through GL_EXT_spirv_intrinsics. Needs the device's shaderIntegerDotProduct feature.
#extension GL_EXT_spirv_intrinsics : require
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint FA = 0u;
layout(constant_id = 3) const uint FB = 0u;
layout(constant_id = 4) const uint VEC4 = 0u;
layout(constant_id = 5) const uint VLOAD = 0u;

// Capabilities 6018 DotProductInput4x8BitPacked, 6019 DotProduct; format 0 = 4x8 bit packed.
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6018, 6019], id = 4450)
int sdot4(uint x, uint y, spirv_literal int fmt);
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6018, 6019], id = 4451)
uint udot4(uint x, uint y, spirv_literal int fmt);
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6018, 6019], id = 4452)
int sudot4(uint x, uint y, spirv_literal int fmt);

layout(std430, set = 0, binding = 0) readonly buffer A { uint a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { uint b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Acc { int acc[]; };
// The same buffer as acc, bound again to store four results at once when N % 4 == 0 (VEC4).
layout(std430, set = 0, binding = 3) writeonly buffer Acc4 { ivec4 acc4[]; };
// a and b bound again to load four words at once when KW % 4 == 0 (VLOAD).
layout(std430, set = 0, binding = 4) readonly buffer A4 { uvec4 a4[]; };
layout(std430, set = 0, binding = 5) readonly buffer B4 { uvec4 b4[]; };

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint K;
    uint KW;
    uint KC; // words per split of k (workgroup z); acc holds one M*N slice per split
} p;

int dot4(uint x, uint y) {
    if (FA == 1u && FB == 1u) {
        return sdot4(x, y, 0);
    }
    if (FA == 1u) {
        return sudot4(x, y, 0);
    }
    if (FB == 1u) {
        return sudot4(y, x, 0);
    }
    return int(udot4(x, y, 0));
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
    uint w = gl_WorkGroupID.z * p.KC;
    if (VLOAD != 0u) {
        // KW and KC are multiples of 4: whole uvec4s of each row.
        for (; w < wEnd; w += 4u) {
            uvec4 A0 = a4[(ra0 + w) / 4u], A1 = a4[(ra1 + w) / 4u], A2 = a4[(ra2 + w) / 4u], A3 = a4[(ra3 + w) / 4u];
            uvec4 B0 = b4[(rb0 + w) / 4u], B1 = b4[(rb1 + w) / 4u], B2 = b4[(rb2 + w) / 4u], B3 = b4[(rb3 + w) / 4u];
            for (uint j = 0u; j < 4u; j++) {
                uint a0 = A0[j], a1 = A1[j], a2 = A2[j], a3 = A3[j];
                uint b0 = B0[j], b1 = B1[j], b2 = B2[j], b3 = B3[j];
                c0 += ivec4(dot4(a0, b0), dot4(a0, b1), dot4(a0, b2), dot4(a0, b3));
                c1 += ivec4(dot4(a1, b0), dot4(a1, b1), dot4(a1, b2), dot4(a1, b3));
                c2 += ivec4(dot4(a2, b0), dot4(a2, b1), dot4(a2, b2), dot4(a2, b3));
                c3 += ivec4(dot4(a3, b0), dot4(a3, b1), dot4(a3, b2), dot4(a3, b3));
            }
        }
    }
    for (; w < wEnd; w++) {
        uint a0 = a[ra0 + w], a1 = a[ra1 + w], a2 = a[ra2 + w], a3 = a[ra3 + w];
        uint b0 = b[rb0 + w], b1 = b[rb1 + w], b2 = b[rb2 + w], b3 = b[rb3 + w];
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
