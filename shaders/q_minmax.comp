#version 450
// q_minmax: [min, max, non-finite count] of x, min and max over the finite values (0, 0 when
// there are none), -0 ordered below +0 (Go's min and max). PASS 0: each workgroup reduces a
// grid-stride share of x into part[g] (a uvec4: min key, max key, non-finite count, finite
// count). PASS 1: one workgroup reduces the p.groups partials into d[0..2]. PASS 2: PASS 0 and
// PASS 1 in one dispatch of a single workgroup (p.groups = 1), writing d directly: the same
// integer reduction, so the same result.
// Floats are compared as order keys (q_common.glsl's f32key: integer min/max, no branches).
// A workgroup's partials are combined in two steps after barriers: invocations 0..7 each
// combine every eighth entry, then invocation 0 the eight (a deeper barrier tree of
// shared-memory steps is slow on CPU drivers).
// x is read through io.glsl (a texel buffer in the texel build); part stays a storage buffer
// (written by PASS 0, read by PASS 1).
//
// Bindings: 0 = x, 1 = part, 2 = d. Push constants {uint n; uint groups}.
// Specialization: 0 = workgroup size (a power of two), 1 = PASS.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint PASS = 0u;

IN_F32(0, x)
layout(std430, set = 0, binding = 1) buffer Part { uvec4 part[]; };
layout(std430, set = 0, binding = 2) writeonly buffer D { float d[]; };

layout(push_constant) uniform Push {
    uint n;
    uint groups;
} p;

// One (lo, hi, bad, fin) entry per invocation: a vector, so that a shared-memory load (a
// loop over the SIMD lanes on CPU drivers) fetches all four at once.
shared uvec4 sh[gl_WorkGroupSize.x];

// R invocations combine the entries in a first step (R = 8: one SIMD batch of lavapipe,
// whose shared-memory loads cost as much for one active lane as for eight).
const uint R = gl_WorkGroupSize.x < 8u ? gl_WorkGroupSize.x : 8u;

// Running reduction of one invocation.
int lo = 0x7fffffff, hi = int(0x80000000u);
uint bad = 0u, fin = 0u;

void add(float v) {
    bool ok = abs(v) <= 3.40282347e38; // finite (false for NaN)
    int k = f32key(v);
    lo = ok ? min(lo, k) : lo;
    hi = ok ? max(hi, k) : hi;
    fin += ok ? 1u : 0u;
    bad += ok ? 0u : 1u;
}

// combine adds an entry of another invocation to this one's.
void combine(uvec4 e) {
    lo = min(lo, int(e.x));
    hi = max(hi, int(e.y));
    bad += e.z;
    fin += e.w;
}

void main() {
    uint lid = gl_LocalInvocationID.x;
    if (PASS != 1u) {
        // Four elements per iteration, step apart (a gather over the lanes each).
        uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
        uint i = gl_GlobalInvocationID.x;
        for (; i + 3u * step < p.n; i += 4u * step) {
            float a = x(i), b = x(i + step), c = x(i + 2u * step), e = x(i + 3u * step);
            add(a);
            add(b);
            add(c);
            add(e);
        }
        for (; i < p.n; i += step) {
            add(x(i));
        }
    } else {
        for (uint g = lid; g < p.groups; g += gl_WorkGroupSize.x) {
            combine(part[g]);
        }
    }
    sh[lid] = uvec4(uint(lo), uint(hi), bad, fin);
    barrier();
    if (lid < R) {
        for (uint j = lid + R; j < gl_WorkGroupSize.x; j += R) {
            combine(sh[j]);
        }
        sh[lid] = uvec4(uint(lo), uint(hi), bad, fin);
    }
    barrier();
    if (lid != 0u) {
        return;
    }
    for (uint j = 1u; j < R; j++) {
        combine(sh[j]);
    }
    if (PASS == 0u) {
        part[gl_WorkGroupID.x] = uvec4(uint(lo), uint(hi), bad, fin);
    } else {
        bool any = fin > 0u;
        d[0] = any ? f32unkey(lo) : 0.0;
        d[1] = any ? f32unkey(hi) : 0.0;
        d[2] = float(bad);
    }
}
