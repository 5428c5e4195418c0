#version 450
// f_bn_gradsums: the second pass of BatchNormGrad's sums (see f_colfin.glsl and
// f_colpart_bngrad): dbeta = column sum of dy, dgamma = column sum of dy*xhat.
//
// COMP (specialization 1; CompBNGrad): part [3, L, C] also holds the partial column sums
// of xhat (f_colpart_bngrad COMP), and the gradient sums of the error-compensation layer
// before the batch norm follow from the sums alone: the batch norm's dx,
// k*((R*dy - dbeta) - xhat*dgamma) with k = (gamma*invstd)/R, sums over the rows to
// s = k*(R*(sum dy - dbeta) - dgamma*(sum xhat)) = -(k*(dgamma*(sum xhat))), since dbeta is
// sum dy; then dcbeta = s and dcgamma = cmean*s (f_comp_gradsums). The composed ops sum
// the rounded dx instead: the two agree up to rounding.
//
// Bindings: 0 = dgamma, 1 = dbeta, 2 = part [2 (3), L, C], 3 = dcgamma, 4 = dcbeta,
// 5 = gamma, 6 = invstd, 7 = cmean (2 and 5 to 7 read through io.glsl; 3 to 7 used only
// with COMP, any buffers bound otherwise). Push constants {uint c, lanes; float rf (R)}.
// Specialization: 0 = workgroup size, 1 = COMP.
#include "io.glsl"
#include "f_colfin.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer DG { float dgamma[]; };
layout(std430, set = 0, binding = 1) writeonly buffer DB { float dbeta[]; };
IN_F32(2, part)
layout(std430, set = 0, binding = 3) writeonly buffer DCG { float dcgamma[]; };
layout(std430, set = 0, binding = 4) writeonly buffer DCB { float dcbeta[]; };
IN_F32(5, gamma)
IN_F32(6, invstd)
IN_F32(7, cmean)
layout(constant_id = 1) const bool COMP = false;

layout(push_constant) uniform Push {
    uint c;
    uint lanes;
    float rf;
} p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float sb;
        float sg;
        COLFIN_SUM(part, 0u, p.lanes, p.c, j, sb)
        COLFIN_SUM(part, p.lanes * p.c, p.lanes, p.c, j, sg)
        dbeta[j] = sb;
        dgamma[j] = sg;
        if (COMP) {
            float sh;
            COLFIN_SUM(part, 2u * p.lanes * p.c, p.lanes, p.c, j, sh)
            precise float gi = gamma(j) * invstd(j);
            precise float k = gi / p.rf;
            precise float gh = sg * sh;
            precise float s = -(k * gh);
            dcbeta[j] = s;
            dcgamma[j] = cmean(j) * s;
        }
    }
}
