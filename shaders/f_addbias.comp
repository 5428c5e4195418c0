#version 450
// f_addbias: y[r, c] += bias[c] for the matrix y [R, C], in place.
//
// Bindings: 0 = y, 1 = bias. Push constants {uint n = R*C, c}.
// Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer Bias { float bias[]; };

layout(push_constant) uniform Push {
    uint n;
    uint c;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        y[i] += bias[i % p.c];
    }
}
