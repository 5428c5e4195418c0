#version 450
// f_comp_apply: y = (x + gamma*mean) + beta per channel of the matrix x [R, C] (the
// error-compensation layer, with the batch mean or the running mean), with the
// reference's roundings.
//
// Bindings: 0 = y, 1 = x, 2 = gamma, 3 = beta, 4 = mean. Push constants {uint n = R*C, c}.
// Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 3) readonly buffer Beta { float beta[]; };
layout(std430, set = 0, binding = 4) readonly buffer Mean { float mean[]; };

layout(push_constant) uniform Push {
    uint n;
    uint c;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        uint j = i % p.c;
        precise float g = gamma[j] * mean[j];
        precise float s = x[i] + g;
        y[i] = s + beta[j];
    }
}
