#version 450
// q_gemmi_i8: q_gemmi for packed operands (FA, FB: 0 unsigned, 1 signed) loading the codes
// through 8-bit storage (four int8 per i8vec4 load, widened to int). Needs the device's
// storageBuffer8BitAccess and shaderInt8 features.
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint FA = 0u;
layout(constant_id = 3) const uint FB = 0u;

layout(std430, set = 0, binding = 0) readonly buffer A { i8vec4 a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { i8vec4 b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Acc { int acc[]; };

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint K;
    uint KW;
} p;

ivec4 widen(i8vec4 v, uint fmt) {
    ivec4 w = ivec4(v);
    return fmt == 1u ? w : (w & 0xff);
}

int dot4(ivec4 u, ivec4 v) {
    return u.x * v.x + u.y * v.y + u.z * v.z + u.w * v.w;
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
        ivec4 a0 = widen(a[ra[0] + w], FA), a1 = widen(a[ra[1] + w], FA), a2 = widen(a[ra[2] + w], FA), a3 = widen(a[ra[3] + w], FA);
        ivec4 b0 = widen(b[rb[0] + w], FB), b1 = widen(b[rb[1] + w], FB), b2 = widen(b[rb[2] + w], FB), b3 = widen(b[rb[3] + w], FB);
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
