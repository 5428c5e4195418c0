#version 450
// f_comp_gradx: dx = dy + (gamma*dbeta)/R per channel of the matrix dy [R, C] (the
// gradient of the compensation layer through the batch mean) when TRAIN, else dx = dy.
// dx may alias dy.
//
// Bindings: 0 = dx, 1 = dy, 2 = gamma, 3 = dbeta. Push constants {uint n = R*C, c; float r}.
// Specialization: 0 = workgroup size, 1 = TRAIN.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool TRAIN = true;

layout(std430, set = 0, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 3) readonly buffer DB { float dbeta[]; };

layout(push_constant) uniform Push {
    uint n;
    uint c;
    float r;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        if (!TRAIN) {
            dx[i] = dy[i];
            continue;
        }
        uint j = i % p.c;
        precise float g = gamma[j] * dbeta[j];
        precise float add = g / p.r;
        dx[i] = dy[i] + add;
    }
}
