#version 450
// f_bn_gradx2: f_bn_gradx (dx = (gamma*invstd/R)*((R*dy - dbeta) - xhat*dgamma), each step
// rounded as in the reference) for even C, each invocation owning a pair of columns read and
// written as 64-bit words (see f_pair.glsl, f_perchan.glsl; the launch walks C/2 pairs).
//
// Bindings: 0 = dx, 1 = dy, 2 = xhat, 3 = invstd, 4 = gamma, 5 = dgamma, 6 = dbeta.
// Push constants {uint r, c; float rf (R)}.
#extension GL_ARB_gpu_shader_int64 : require
#include "f_perchan.glsl"
#include "f_pair.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer DX { uint64_t dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer DY { uint64_t dy[]; };
layout(std430, set = 0, binding = 2) readonly buffer XH { uint64_t xhat[]; };
layout(std430, set = 0, binding = 3) readonly buffer Invstd { float invstd[]; };
layout(std430, set = 0, binding = 4) readonly buffer Gamma { float gamma[]; };
layout(std430, set = 0, binding = 5) readonly buffer DG { float dgamma[]; };
layout(std430, set = 0, binding = 6) readonly buffer DB { float dbeta[]; };

layout(push_constant) uniform Push {
    uint r;
    uint c;
    float rf;
} p;

void main() {
    uint cp = p.c / 2u;
    for (uint j = pcCol0(); j < cp; j += pcColStep()) {
        uint j0 = 2u * j, j1 = j0 + 1u;
        precise float gi0 = gamma[j0] * invstd[j0];
        precise float gi1 = gamma[j1] * invstd[j1];
        precise float k0 = gi0 / p.rf;
        precise float k1 = gi1 / p.rf;
        vec2 g = vec2(dgamma[j0], dgamma[j1]), b = vec2(dbeta[j0], dbeta[j1]);
        for (uint i = pcRow0(); i < p.r; i += pcRowStep()) {
            uint o = i * cp + j;
            vec2 d = ld2(dy[o]), h = ld2(xhat[o]);
            precise float rd0 = p.rf * d.x;
            precise float rd1 = p.rf * d.y;
            precise float hd0 = h.x * g.x;
            precise float hd1 = h.y * g.y;
            precise float e0 = (rd0 - b.x) - hd0;
            precise float e1 = (rd1 - b.y) - hd1;
            precise float o0 = k0 * e0;
            precise float o1 = k1 * e1;
            dx[o] = st2(vec2(o0, o1));
        }
    }
}
