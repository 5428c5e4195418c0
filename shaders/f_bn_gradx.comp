#version 450
// f_bn_gradx: the elementwise part of BatchNormGrad for the matrix dy [R, C]:
// dx = (gamma*invstd/R) * ((R*dy - dbeta) - xhat*dgamma), with the reference's roundings.
//
// Bindings: 0 = dx, 1 = dy, 2 = xhat, 3 = invstd, 4 = gamma, 5 = dgamma, 6 = dbeta.
// Push constants {uint n = R*C, c; float r (R as a float)}. Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer XH { float xhat[]; };
layout(std430, set = 0, binding = 3) readonly buffer Invstd { float invstd[]; };
layout(std430, set = 0, binding = 4) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 5) readonly buffer DG { float dgamma[]; };
layout(std430, set = 0, binding = 6) readonly buffer DB { float dbeta[]; };

layout(push_constant) uniform Push {
    uint n;
    uint c;
    float r;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        uint j = i % p.c;
        precise float gi = gamma[j] * invstd[j];
        precise float k = gi / p.r;
        precise float rd = p.r * dy[i];
        precise float hd = xhat[i] * dgamma[j];
        precise float d = (rd - dbeta[j]) - hd;
        dx[i] = k * d;
    }
}
