#version 450
// q_quantgrad: straight-through backward of fake quantization (see backend.Backend).
// PASS 0, workgroup (chunk, channel): dx for its elements and the partial sums of the dScale
// and dZero terms, into part[2*(channel*chunks+chunk)..]. PASS 1, one invocation per
// channel: dScale and dZero as the sums of the channel's partials in chunk order.
// prm[off + c] = inv bits, prm[off + nch + c] = zero point, prm[off + 2*nch + c] = scale bits.
// x, g (dxhat) and prm are read through io.glsl (texel buffers in the texel build); part stays
// a storage buffer (written by PASS 0, read by PASS 1). A workgroup's partial sums are added
// by invocation 0 in invocation order after one barrier (a barrier tree of shared-memory
// steps is slow on CPU drivers).
//
// Bindings: 0 = x, 1 = g, 2 = dx, 3 = part, 4 = ds, 5 = dz, 6 = prm. Push constants as below.
// Specialization: 0 = workgroup size, 1 = PASS, 2 = HAS_DX.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint PASS = 0u;
layout(constant_id = 2) const uint HAS_DX = 1u;

IN_F32(0, x)
IN_F32(1, g)
layout(std430, set = 0, binding = 2) writeonly buffer DX { float dx[]; };
layout(std430, set = 0, binding = 3) buffer Part { float part[]; };
layout(std430, set = 0, binding = 4) writeonly buffer DS { float ds[]; };
layout(std430, set = 0, binding = 5) writeonly buffer DZ { float dz[]; };
IN_U32(6, prm)

layout(push_constant) uniform Push {
    uint slice;
    uint chunks;
    uint chunkLen;
    int qmin;
    int qmax;
    uint off;
    uint nch;
} p;

shared float ss[gl_WorkGroupSize.x];
shared float sz[gl_WorkGroupSize.x];

void main() {
    uint lid = gl_LocalInvocationID.x;
    if (PASS == 1u) {
        uint c = gl_GlobalInvocationID.x;
        if (c >= p.nch) {
            return;
        }
        float a = 0.0, b = 0.0;
        for (uint k = 0u; k < p.chunks; k++) {
            a += part[2u * (c * p.chunks + k)];
            b += part[2u * (c * p.chunks + k) + 1u];
        }
        ds[c] = a;
        dz[c] = b;
        return;
    }
    uint c = gl_WorkGroupID.y;
    uint chunk = gl_WorkGroupID.x;
    float inv = uintBitsToFloat(prm(p.off + c));
    int z = int(prm(p.off + p.nch + c));
    float s = uintBitsToFloat(prm(p.off + 2u * p.nch + c));
    float lowT = float(p.qmin - z), highT = float(p.qmax - z);
    uint begin = c * p.slice + chunk * p.chunkLen;
    uint end = min(begin + p.chunkLen, (c + 1u) * p.slice);
    float sumS = 0.0, sumZ = 0.0;
    for (uint i = begin + lid; i < end; i += gl_WorkGroupSize.x) {
        float gv = g(i);
        precise float q = x(i) * inv;
        float r = roundAway(q);
        precise float v = r + float(z);
        // Branch-free: below the range adds gv*lowT to the dScale sum, above it gv*highT,
        // inside gv*(r-q); outside the range also -gv*s to the dZero sum and dx = 0.
        bool low = v < float(p.qmin), high = v > float(p.qmax);
        bool clipped = low || high;
        precise float e = r - q;
        precise float t = gv * (low ? lowT : (high ? highT : e));
        precise float u = gv * s;
        sumS += t;
        sumZ = clipped ? sumZ - u : sumZ;
        float d = clipped ? 0.0 : gv;
        if (HAS_DX != 0u) {
            dx[i] = d;
        }
    }
    ss[lid] = sumS;
    sz[lid] = sumZ;
    barrier();
    if (lid == 0u) {
        for (uint j = 1u; j < gl_WorkGroupSize.x; j++) {
            sumS += ss[j];
            sumZ += sz[j];
        }
        part[2u * (c * p.chunks + chunk)] = sumS;
        part[2u * (c * p.chunks + chunk) + 1u] = sumZ;
    }
}
