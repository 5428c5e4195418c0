#version 450
// f_relugrad2: f_relugrad (dx = dy where y > 0, else +0, bit for bit) for an even number of
// elements, two per 64-bit word (see f_pair.glsl). dx may alias dy.
//
// Bindings: 0 = dx, 1 = dy, 2 = y. Push constants {uint n}. Specialization: 0 = workgroup size.
#extension GL_ARB_gpu_shader_int64 : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer DX { uint64_t dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { uint64_t dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer Y { uint64_t y[]; };

layout(push_constant) uniform Push {
    uint n;
} p;

bool pos(uint v) { return v != 0u && v <= 0x7f800000u; }

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n / 2u; i += stride) {
        uvec2 v = unpackUint2x32(y[i]);
        uvec2 d = unpackUint2x32(dy[i]);
        dx[i] = packUint2x32(uvec2(pos(v.x) ? d.x : 0u, pos(v.y) ? d.y : 0u));
    }
}
