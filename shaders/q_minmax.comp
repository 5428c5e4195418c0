#version 450
// q_minmax: [min, max, non-finite count] of x, min and max over the finite values (0, 0 when
// there are none), -0 ordered below +0 (Go's min and max). PASS 0: each workgroup reduces a
// grid-stride share of x into part[4*g..] (min key, max key, non-finite count, finite
// count). PASS 1: one workgroup reduces the p.groups partials into d[0..2].
// Floats are compared as order keys (q_common.glsl's f32key: integer min/max, no branches);
// a workgroup's partials are combined by invocation 0 after one barrier (a barrier tree of
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
layout(std430, set = 0, binding = 1) buffer Part { uint part[]; };
layout(std430, set = 0, binding = 2) writeonly buffer D { float d[]; };

layout(push_constant) uniform Push {
    uint n;
    uint groups;
} p;

shared int slo[gl_WorkGroupSize.x];
shared int shi[gl_WorkGroupSize.x];
shared uint sbad[gl_WorkGroupSize.x];
shared uint sfin[gl_WorkGroupSize.x];

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

void main() {
    uint lid = gl_LocalInvocationID.x;
    if (PASS == 0u) {
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
            lo = min(lo, int(part[4u * g]));
            hi = max(hi, int(part[4u * g + 1u]));
            bad += part[4u * g + 2u];
            fin += part[4u * g + 3u];
        }
    }
    slo[lid] = lo;
    shi[lid] = hi;
    sbad[lid] = bad;
    sfin[lid] = fin;
    barrier();
    if (lid != 0u) {
        return;
    }
    for (uint j = 1u; j < gl_WorkGroupSize.x; j++) {
        lo = min(lo, slo[j]);
        hi = max(hi, shi[j]);
        bad += sbad[j];
        fin += sfin[j];
    }
    if (PASS == 0u) {
        uint g = gl_WorkGroupID.x;
        part[4u * g] = uint(lo);
        part[4u * g + 1u] = uint(hi);
        part[4u * g + 2u] = bad;
        part[4u * g + 3u] = fin;
    } else {
        bool any = fin > 0u;
        d[0] = any ? f32unkey(lo) : 0.0;
        d[1] = any ? f32unkey(hi) : 0.0;
        d[2] = float(bad);
    }
}
