#version 450
// test_i8dot: out[r] = sum_k a[r][k] * b[k] over signed int8 values packed four per uint32
// (byte 0 = least significant). Reads packed words and unpacks with bitfieldExtract, so it
// needs neither 8-bit storage nor shaderInt8. Infrastructure test kernel for package gpu.
// Bindings: 0 = a (rows x words uint), 1 = b (words uint), 2 = out (rows int).
// Push constants {uint rows; uint words}. Workgroup size: specialization constant 0.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer A { uint a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { uint b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Out { int o[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint words;
} p;

int dot4(uint x, uint y) {
    int s = 0;
    for (int j = 0; j < 4; j++) {
        s += bitfieldExtract(int(x), 8 * j, 8) * bitfieldExtract(int(y), 8 * j, 8);
    }
    return s;
}

void main() {
    uint r = gl_GlobalInvocationID.x;
    if (r >= p.rows) {
        return;
    }
    int acc = 0;
    uint base = r * p.words;
    for (uint k = 0; k < p.words; k++) {
        acc += dot4(a[base + k], b[k]);
    }
    o[r] = acc;
}
