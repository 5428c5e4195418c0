#version 450
// f_relugrad: dx = dy where y > 0, else +0, with the test of f_relu on y's bits and dy's
// bits copied unchanged. dx may alias dy.
//
// Bindings: 0 = dx (uint bits), 1 = dy (uint bits), 2 = y (uint bits).
// Push constants {uint n}. Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer DX { uint dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { uint dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer Y { uint y[]; };

layout(push_constant) uniform Push {
    uint n;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        uint v = y[i];
        dx[i] = (v != 0u && v <= 0x7f800000u) ? dy[i] : 0u;
    }
}
