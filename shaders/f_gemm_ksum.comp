#version 450
// f_gemm_ksum: the second pass of a split-k f_gemm: C = alpha*(sum over z of part[z]) +
// beta*C, summing the chunks' partial products in order (no atomics). With beta == 0 C is
// not read.
//
// Bindings: 0 = C [m, n], 1 = part [chunks, m, n].
// Push constants {uint mn = m*n, chunks; float alpha, beta}. Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) buffer Cm { float c[]; };
layout(std430, set = 0, binding = 1) readonly buffer Part { float part[]; };

layout(push_constant) uniform Push {
    uint mn;
    uint chunks;
    float alpha;
    float beta;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.mn; i += stride) {
        float s = 0.0;
        for (uint z = 0; z < p.chunks; z++) {
            s += part[z * p.mn + i];
        }
        float v = p.alpha * s;
        if (p.beta != 0.0) {
            v += p.beta * c[i];
        }
        c[i] = v;
    }
}
