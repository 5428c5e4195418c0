#version 450
// f_relu2: f_relu (y = x where x > 0, else +0, decided on the float bits) for an even number
// of elements, two per 64-bit word (see f_pair.glsl). y may alias x.
//
// Bindings: 0 = y, 1 = x. Push constants {uint n}. Specialization: 0 = workgroup size.
#extension GL_ARB_gpu_shader_int64 : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint64_t y[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { uint64_t x[]; };

layout(push_constant) uniform Push {
    uint n;
} p;

uint relu(uint v) { return (v != 0u && v <= 0x7f800000u) ? v : 0u; }

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n / 2u; i += stride) {
        uvec2 v = unpackUint2x32(x[i]);
        y[i] = packUint2x32(uvec2(relu(v.x), relu(v.y)));
    }
}
