#version 450
// test_texel: y[i] = a*x[i] + z[i] with x read as a uniform texel buffer (usamplerBuffer through an
// R32_UINT view) and z as a storage buffer. Infrastructure test kernel for package gpu.
// Workgroup size comes from specialization constant 0; push constants {uint n; float a}.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
layout(set = 0, binding = 1) uniform usamplerBuffer x;
layout(std430, set = 0, binding = 2) readonly buffer Z { float z[]; };

layout(push_constant) uniform Push {
    uint n;
    float a;
} p;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < p.n) {
        y[i] = p.a * uintBitsToFloat(texelFetch(x, int(i)).x) + z[i];
    }
}
