#version 450
// f_relu: y = x where x > 0, else +0 (NaN and -0 give +0), decided on the float bits
// (positive, not NaN: 0 < bits <= 0x7f800000) so that subnormals behave as in the
// reference even where a driver flushes them; y gets x's bits. y may alias x.
//
// Bindings: 0 = y (uint bits), 1 = x (uint bits). Push constants {uint n}.
// Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Y { uint y[]; };
layout(std430, set = 0, binding = 1) readonly buffer X { uint x[]; };

layout(push_constant) uniform Push {
    uint n;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        uint v = x[i];
        y[i] = (v != 0u && v <= 0x7f800000u) ? v : 0u;
    }
}
