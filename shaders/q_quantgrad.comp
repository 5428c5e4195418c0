#version 450
// q_quantgrad: straight-through backward of fake quantization (see backend.Backend).
// PASS 0, workgroup (chunk, channel): dx for its elements and the partial sums of the dScale
// and dZero terms, into part[2*(channel*chunks+chunk)..]. PASS 1, one invocation per
// channel: dScale and dZero as the sums of the channel's partials in chunk order. PASS 2 (one
// chunk per channel, p.chunks = 1): PASS 0 writing dScale and dZero directly, as PASS 1 would
// (its sum 0 + partial, i.e. the partial with -0 made +0).
// prm[off + c] = inv bits, prm[off + nch + c] = zero point, prm[off + 2*nch + c] = scale bits.
// x, g (dxhat) and prm are read through io.glsl (texel buffers in the texel build); part stays
// a storage buffer (written by PASS 0, read by PASS 1). A workgroup's partial sums are added
// in two steps after barriers, in a fixed order: invocations 0..7 each add every eighth
// partial, then invocation 0 the eight (a deeper barrier tree of shared-memory steps is slow
// on CPU drivers).
// PASS 0 takes two elements per loop iteration: on CPU drivers such as lavapipe each
// assignment of a loop-carried variable (the index and the sums) costs a masked store.
// (Quads of elements per invocation with vec4 stores of dx were slower there.)
//
// KSUM (ConvGradWQuant): g holds p.parts partial sums of dxhat, each of the p.nch*p.slice
// elements, one after the other (a split-k GEMM's partial products); element i's dxhat is
// their sum in order from 0.0, as f_gemm_ksum adds them (alpha 1, beta 0), so dxhat is never
// stored.
//
// Bindings: 0 = x, 1 = g, 2 = dx, 3 = part, 4 = ds, 5 = dz, 6 = prm. Push constants as below.
// Specialization: 0 = workgroup size, 1 = PASS, 2 = HAS_DX, 3 = KSUM.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint PASS = 0u;
layout(constant_id = 2) const uint HAS_DX = 1u;
layout(constant_id = 3) const uint KSUM = 0u;

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
    uint parts; // KSUM: the partial sums in g
} p;

// dxhat returns element i of the gradient: g(i), or with KSUM the sum of its partials.
float dxhat(uint i) {
    if (KSUM == 0u) {
        return g(i);
    }
    uint mn = p.slice * p.nch;
    float s = 0.0;
    for (uint z = 0u; z < p.parts; z++) {
        s += g(z * mn + i);
    }
    return s;
}

// Chan holds a channel's constants.
struct Chan {
    float inv, s, lowT, highT;
    int z;
};

// elem returns dx of element i and adds its dScale and dZero terms to sumS and sumZ.
float elem(uint i, Chan ch, inout float sumS, inout float sumZ) {
    float gv = dxhat(i);
    precise float q = x(i) * ch.inv;
    float r = roundAway(q);
    precise float v = r + float(ch.z);
    // Branch-free: below the range adds gv*lowT to the dScale sum, above it gv*highT,
    // inside gv*(r-q); outside the range also -gv*s to the dZero sum and dx = 0.
    bool low = v < float(p.qmin), high = v > float(p.qmax);
    bool clipped = low || high;
    precise float e = r - q;
    precise float t = gv * (low ? ch.lowT : (high ? ch.highT : e));
    precise float u = gv * ch.s;
    sumS += t;
    sumZ = clipped ? sumZ - u : sumZ;
    return clipped ? 0.0 : gv;
}

// One (dScale, dZero) partial per invocation: a vector, so that a shared-memory load (a loop
// over the SIMD lanes on CPU drivers) fetches both at once.
shared vec2 sh[gl_WorkGroupSize.x];

// R invocations add the partials in a first step (R = 8: one SIMD batch of lavapipe, whose
// shared-memory loads cost as much for one active lane as for eight).
const uint R = gl_WorkGroupSize.x < 8u ? gl_WorkGroupSize.x : 8u;

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
    Chan ch;
    ch.inv = uintBitsToFloat(prm(p.off + c));
    ch.z = int(prm(p.off + p.nch + c));
    ch.s = uintBitsToFloat(prm(p.off + 2u * p.nch + c));
    ch.lowT = float(p.qmin - ch.z);
    ch.highT = float(p.qmax - ch.z);
    uint begin = c * p.slice + chunk * p.chunkLen;
    uint end = min(begin + p.chunkLen, (c + 1u) * p.slice);
    float sumS = 0.0, sumZ = 0.0;
    // Two elements per loop iteration (i, i + workgroup size).
    uint i = begin + lid;
    for (; i + gl_WorkGroupSize.x < end; i += 2u * gl_WorkGroupSize.x) {
        float a = elem(i, ch, sumS, sumZ), b = elem(i + gl_WorkGroupSize.x, ch, sumS, sumZ);
        if (HAS_DX != 0u) {
            dx[i] = a;
            dx[i + gl_WorkGroupSize.x] = b;
        }
    }
    if (i < end) {
        float d = elem(i, ch, sumS, sumZ);
        if (HAS_DX != 0u) {
            dx[i] = d;
        }
    }
    sh[lid] = vec2(sumS, sumZ);
    barrier();
    if (lid < R) {
        for (uint j = lid + R; j < gl_WorkGroupSize.x; j += R) {
            vec2 e = sh[j];
            sumS += e.x;
            sumZ += e.y;
        }
        sh[lid] = vec2(sumS, sumZ);
    }
    barrier();
    if (lid == 0u) {
        for (uint j = 1u; j < R; j++) {
            vec2 e = sh[j];
            sumS += e.x;
            sumZ += e.y;
        }
        if (PASS == 2u) {
            ds[c] = sumS == 0.0 ? 0.0 : sumS;
            dz[c] = sumZ == 0.0 ? 0.0 : sumZ;
            return;
        }
        part[2u * (c * p.chunks + chunk)] = sumS;
        part[2u * (c * p.chunks + chunk) + 1u] = sumZ;
    }
}
