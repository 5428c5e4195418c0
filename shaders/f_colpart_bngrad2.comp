#version 450
// f_colpart_bngrad2: f_colpart_bngrad (partial column sums of dy and of dy*xhat, each
// product rounded) for even C, each invocation owning a pair of columns: one 64-bit word
// per row of each matrix in the storage build, two texel fetches in the texel build (see
// f_colpart_sum2). With RELU dy counts only where y > 0, as in f_colpart_bngrad. Needs
// shaderInt64.
//
// With COMP (CompBNGrad) a third set holds the partial column sums of xhat, as in
// f_colpart_bngrad.
//
// With RECOMP (CompBNGradFromX) binding 2 holds x, from which xhat and the sign of the
// output are recomputed, as in f_colpart_bngrad.
//
// Bindings: 0 = part [2 (3 with COMP), L, C], 1 = dy, 2 = xhat (x with RECOMP), 3 = y,
// 4 = mean, 5 = invstd, 6 = gamma, 7 = beta, 8 = cgamma, 9 = cbeta, 10 = cmean (as in
// f_colpart_bngrad). Push constants {uint r, c}. Specialization: 0 = CW, 1 = RW (2 and 3
// unused), 4 = RELU, 5 = COMP, 6 = RECOMP.
#extension GL_ARB_gpu_shader_int64 : require
#include "io.glsl"
#include "f_colpart.glsl"

layout(constant_id = 4) const bool RELU = false;
layout(constant_id = 5) const bool COMP = false;
layout(constant_id = 6) const bool RECOMP = false;

layout(std430, set = 0, binding = 0) writeonly buffer Part { uint64_t part[]; };
#ifdef VKT_TEXEL
IN_F32(1, dy)
IN_F32(2, xhat)
IN_U32(3, y)
vec2 dy2(uint w) { return vec2(dy(2u * w), dy(2u * w + 1u)); }
vec2 xhat2(uint w) { return vec2(xhat(2u * w), xhat(2u * w + 1u)); }
uvec2 y2(uint w) { return uvec2(y(2u * w), y(2u * w + 1u)); }
#else
layout(std430, set = 0, binding = 1) readonly buffer DY { uint64_t dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer XH { uint64_t xhat[]; };
layout(std430, set = 0, binding = 3) readonly buffer YB { uint64_t y[]; };
vec2 dy2(uint w) { return uintBitsToFloat(unpackUint2x32(dy[w])); }
vec2 xhat2(uint w) { return uintBitsToFloat(unpackUint2x32(xhat[w])); }
uvec2 y2(uint w) { return unpackUint2x32(y[w]); }
#endif

IN_F32(4, mean)
IN_F32(5, invstd)
IN_F32(6, gamma)
IN_F32(7, beta)
IN_F32(8, cgamma)
IN_F32(9, cbeta)
IN_F32(10, cmean)

#include "f_bnhat.glsl"

// consts returns the constants of column j (RECOMP; unused otherwise).
BNC consts(uint j) {
    if (RECOMP) {
        return bnConsts(j);
    }
    return BNC(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
}

// hx2 returns the xhat pair w: read, or with RECOMP recomputed from x.
vec2 hx2(uint w, BNC c0, BNC c1) {
    vec2 h = xhat2(w);
    if (RECOMP) {
        h = vec2(bnHat(h.x, c0), bnHat(h.y, c1));
    }
    return h;
}

// dm2 returns the dy pair w, each element +0 with RELU where the output is not positive
// (y's bits as f_relugrad tests them, or with RECOMP the output recomputed from the xhat
// pair h).
vec2 dm2(uint w, vec2 h, BNC c0, BNC c1) {
    vec2 d = dy2(w);
    if (RELU) {
        bvec2 pos;
        if (RECOMP) {
            pos = bvec2(bnOut(h.x, c0) > 0.0, bnOut(h.y, c1) > 0.0);
        } else {
            uvec2 v = y2(w);
            pos = bvec2(v.x != 0u && v.x <= 0x7f800000u, v.y != 0u && v.y <= 0x7f800000u);
        }
        d.x = pos.x ? d.x : 0.0;
        d.y = pos.y ? d.y : 0.0;
    }
    return d;
}

layout(push_constant) uniform Push {
    uint r;
    uint c;
} p;

void main() {
    uint lanes = cpLanes();
    uint cp = p.c / 2u;
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        float sb0 = 0.0, sb1 = 0.0, sg0 = 0.0, sg1 = 0.0, sh0 = 0.0, sh1 = 0.0;
        BNC c0 = consts(2u * j), c1 = consts(2u * j + 1u);
        for (uint i = cpLane(); i < p.r; i += lanes) {
            uint o = i * cp + j;
            vec2 h = hx2(o, c0, c1);
            vec2 d = dm2(o, h, c0, c1);
            precise float dh0 = d.x * h.x;
            precise float dh1 = d.y * h.y;
            sb0 += d.x;
            sb1 += d.y;
            sg0 += dh0;
            sg1 += dh1;
            if (COMP) {
                sh0 += h.x;
                sh1 += h.y;
            }
        }
        part[cpLane() * cp + j] = packUint2x32(floatBitsToUint(vec2(sb0, sb1)));
        part[(lanes + cpLane()) * cp + j] = packUint2x32(floatBitsToUint(vec2(sg0, sg1)));
        if (COMP) {
            part[(2u * lanes + cpLane()) * cp + j] = packUint2x32(floatBitsToUint(vec2(sh0, sh1)));
        }
    }
}
