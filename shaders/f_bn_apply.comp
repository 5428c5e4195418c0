#version 450
// f_bn_apply: the elementwise part of BatchNormTrain for the matrix x [R, C]:
// xhat = (x-mean)*invstd, y = gamma*xhat + beta, each product rounded before the sum as
// in the reference.
//
// Bindings: 0 = y, 1 = xhat, 2 = x, 3 = mean, 4 = invstd, 5 = gamma, 6 = beta.
// Push constants {uint n = R*C, c}. Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) writeonly buffer XH { float xhat[]; };
layout(std430, set = 0, binding = 2) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 4) readonly buffer Invstd { float invstd[]; };
layout(std430, set = 0, binding = 5) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 6) readonly buffer Beta { float beta[]; };

layout(push_constant) uniform Push {
    uint n;
    uint c;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        uint j = i % p.c;
        precise float h = (x[i] - mean[j]) * invstd[j];
        precise float g = gamma[j] * h;
        xhat[i] = h;
        y[i] = g + beta[j];
    }
}
