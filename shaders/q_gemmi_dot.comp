#version 450
// q_gemmi_dot: q_gemmi for packed operands (FA, FB: 0 unsigned, 1 signed) with the 4x8-bit
// packed integer dot products of SPV_KHR_integer_dot_product (OpSDot, OpUDot, OpSUDot),
// reached through GL_EXT_spirv_intrinsics. Needs the device's shaderIntegerDotProduct feature.
#extension GL_EXT_spirv_intrinsics : require
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint FA = 0u;
layout(constant_id = 3) const uint FB = 0u;

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

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint K;
    uint KW;
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

void main() {
    uint n0 = gl_GlobalInvocationID.x * 4u;
    uint m0 = gl_GlobalInvocationID.y * 4u;
    if (n0 >= p.N || m0 >= p.M) {
        return;
    }
    uint ra[4], rb[4];
    for (uint i = 0u; i < 4u; i++) {
        ra[i] = min(m0 + i, p.M - 1u) * p.KW;
        rb[i] = min(n0 + i, p.N - 1u) * p.KW;
    }
    int c[16];
    for (uint i = 0u; i < 16u; i++) {
        c[i] = 0;
    }
    for (uint w = 0u; w < p.KW; w++) {
        uint a0 = a[ra[0] + w], a1 = a[ra[1] + w], a2 = a[ra[2] + w], a3 = a[ra[3] + w];
        uint b0 = b[rb[0] + w], b1 = b[rb[1] + w], b2 = b[rb[2] + w], b3 = b[rb[3] + w];
        c[0] += dot4(a0, b0); c[1] += dot4(a0, b1); c[2] += dot4(a0, b2); c[3] += dot4(a0, b3);
        c[4] += dot4(a1, b0); c[5] += dot4(a1, b1); c[6] += dot4(a1, b2); c[7] += dot4(a1, b3);
        c[8] += dot4(a2, b0); c[9] += dot4(a2, b1); c[10] += dot4(a2, b2); c[11] += dot4(a2, b3);
        c[12] += dot4(a3, b0); c[13] += dot4(a3, b1); c[14] += dot4(a3, b2); c[15] += dot4(a3, b3);
    }
    for (uint i = 0u; i < 4u; i++) {
        if (m0 + i >= p.M) {
            break;
        }
        for (uint j = 0u; j < 4u; j++) {
            if (n0 + j < p.N) {
                acc[(m0 + i) * p.N + n0 + j] = c[4u * i + j];
            }
        }
    }
}
