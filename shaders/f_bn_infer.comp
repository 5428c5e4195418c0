#version 450
// f_bn_infer: y = gamma*(x-runMean)/sqrt(runVar+eps) + beta for the matrix x [R, C], with
// the reference's roundings: (gamma*(x-m)) / sqrt(v+eps), then + beta.
//
// Bindings: 0 = y, 1 = x, 2 = gamma, 3 = beta, 4 = runMean, 5 = runVar.
// Push constants {uint n = R*C, c; float eps}. Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 3) readonly buffer Beta { float beta[]; };
layout(std430, set = 0, binding = 4) readonly buffer RM { float runMean[]; };
layout(std430, set = 0, binding = 5) readonly buffer RV { float runVar[]; };

layout(push_constant) uniform Push {
    uint n;
    uint c;
    float eps;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        uint j = i % p.c;
        precise float sd = sqrt(runVar[j] + p.eps);
        precise float g = gamma[j] * (x[i] - runMean[j]);
        precise float q = g / sd;
        y[i] = q + beta[j];
    }
}
