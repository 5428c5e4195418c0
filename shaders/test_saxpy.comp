#version 450
// test_saxpy: y[i] = a*x[i] + y[i] over n floats. Infrastructure test kernel for package gpu.
// Workgroup size comes from specialization constant 0; push constants {uint n; float a}.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) buffer Y { float y[]; };

layout(push_constant) uniform Push {
    uint n;
    float a;
} p;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < p.n) {
        y[i] = p.a * x[i] + y[i];
    }
}
