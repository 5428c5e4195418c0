#version 450
// q_minmax: [min, max, non-finite count] of x, min and max over the finite values (0, 0 when
// there are none). PASS 0: each workgroup reduces a grid-stride share of x into part[4*g..]
// (min bits, max bits, non-finite count, finite count). PASS 1: one workgroup reduces the
// p.groups partials into d[0..2].
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint PASS = 0u;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) buffer Part { uint part[]; };
layout(std430, set = 0, binding = 2) writeonly buffer D { float d[]; };

layout(push_constant) uniform Push {
    uint n;
    uint groups;
} p;

shared float slo[gl_WorkGroupSize.x];
shared float shi[gl_WorkGroupSize.x];
shared uint sbad[gl_WorkGroupSize.x];
shared uint sfin[gl_WorkGroupSize.x];

void main() {
    uint lid = gl_LocalInvocationID.x;
    float lo = uintBitsToFloat(0x7f800000u);  // +inf
    float hi = uintBitsToFloat(0xff800000u);  // -inf
    uint bad = 0u, fin = 0u;
    if (PASS == 0u) {
        uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
        for (uint i = gl_GlobalInvocationID.x; i < p.n; i += step) {
            float v = x[i];
            if (isnan(v) || isinf(v)) {
                bad++;
                continue;
            }
            if (f32less(v, lo)) lo = v;
            if (f32less(hi, v)) hi = v;
            fin++;
        }
    } else {
        for (uint g = lid; g < p.groups; g += gl_WorkGroupSize.x) {
            if (part[4u * g + 3u] == 0u) {
                bad += part[4u * g + 2u];
                continue;
            }
            float l = uintBitsToFloat(part[4u * g]), h = uintBitsToFloat(part[4u * g + 1u]);
            if (f32less(l, lo)) lo = l;
            if (f32less(hi, h)) hi = h;
            bad += part[4u * g + 2u];
            fin += part[4u * g + 3u];
        }
    }
    slo[lid] = lo;
    shi[lid] = hi;
    sbad[lid] = bad;
    sfin[lid] = fin;
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
        barrier();
        if (lid < s) {
            if (sfin[lid + s] > 0u) {
                if (sfin[lid] == 0u || f32less(slo[lid + s], slo[lid])) slo[lid] = slo[lid + s];
                if (sfin[lid] == 0u || f32less(shi[lid], shi[lid + s])) shi[lid] = shi[lid + s];
            }
            sbad[lid] += sbad[lid + s];
            sfin[lid] += sfin[lid + s];
        }
    }
    if (lid != 0u) {
        return;
    }
    if (PASS == 0u) {
        uint g = gl_WorkGroupID.x;
        part[4u * g] = floatBitsToUint(slo[0]);
        part[4u * g + 1u] = floatBitsToUint(shi[0]);
        part[4u * g + 2u] = sbad[0];
        part[4u * g + 3u] = sfin[0];
    } else {
        bool any = sfin[0] > 0u;
        d[0] = any ? slo[0] : 0.0;
        d[1] = any ? shi[0] : 0.0;
        d[2] = float(sbad[0]);
    }
}
