#version 450
// q_dequant: y[m,n] = float(scale[n] * float(v)) + bias[n] with the wrapping int32
// v = acc[m,n] - zb[n]*sa[m] - za*sb[n] + kzz[n] (kzz = K*za*zb, scale = sa*sb[n] rounded
// to float32, both from the host), each float step rounded (precise), as nn/ref.
// prm[off + n] = scale bits, prm[off + N + n] = zb, prm[off + 2N + n] = kzz.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HAS_BIAS = 0u;

layout(std430, set = 0, binding = 0) readonly buffer Acc { int acc[]; };
layout(std430, set = 0, binding = 1) readonly buffer SA { int sa[]; };
layout(std430, set = 0, binding = 2) readonly buffer SB { int sb[]; };
layout(std430, set = 0, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 5) readonly buffer Prm { uint prm[]; };

layout(push_constant) uniform Push {
    uint M;
    uint N;
    int za;
    uint off;
} p;

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint total = p.M * p.N;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += step) {
        uint m = i / p.N;
        uint n = i - m * p.N;
        float scale = uintBitsToFloat(prm[p.off + n]);
        int zb = int(prm[p.off + p.N + n]);
        int kzz = int(prm[p.off + 2u * p.N + n]);
        int v = acc[i] - zb * sa[m] - p.za * sb[n] + kzz;
        precise float f = scale * float(v);
        if (HAS_BIAS != 0u) {
            precise float fb = f + bias[n];
            f = fb;
        }
        y[i] = f;
    }
}
