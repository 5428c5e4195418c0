#version 450
// f_bn_stats: the last pass of BatchNormTrain's statistics (see f_colfin.glsl): the
// variance var of each column, invstd = 1/sqrt(var+eps), and in place
// runMean = (1-momentum)*runMean + momentum*mean,
// runVar = (1-momentum)*runVar + momentum*(var*unbias), each product rounded as in the
// reference.
//
// Default: part [L, C] holds partial sums of (x-mean)^2 (f_colpart_sqdev) and mean is an
// input; var = sum/R.
//
// WELFORD (specialization 1): part [2, L, C] holds each lane's mean and sum of squared
// deviations (f_colpart_sqdev's WELFORD form, lanes of CONTIG runs of ceil(R/L) rows);
// they are combined in lane order (Chan et al.: the mean moves by the difference of the
// means weighted by the lane's share, the squared deviations gain the difference's square
// times n_a*n_b/(n_a+n_b)), and mean is written.
//
// COMP (specialization 2, with WELFORD; CompBNTrain): x is the input of an
// error-compensation layer whose output yc = (x + cgamma*cmean) + cbeta the batch norm
// normalises. The combined lane mean m of x is the compensation's batch mean: cmean = m,
// cRunMean = (1-cmomentum)*cRunMean + cmomentum*m (f_comp_stats' roundings); the batch
// norm's mean is then (m + cgamma*m) + cbeta (yc's mean up to rounding) and its variance
// that of x (a per-channel shift does not change it).
//
// Bindings: 0 = invstd, 1 = runMean, 2 = runVar (read-write), 3 = part (read through
// io.glsl), 4 = mean (a storage buffer: read, or written with WELFORD; one access per
// column), 5 = cmean, 6 = cRunMean (read-write), 7 = cgamma, 8 = cbeta (7 and 8 read
// through io.glsl; 5 to 8 used only with COMP, any buffers bound otherwise).
// Push constants {uint c, lanes; float rf, unbias, momentum, eps; uint r; float cmomentum}.
// Specialization: 0 = workgroup size, 1 = WELFORD, 2 = COMP.
#include "io.glsl"
#include "f_colfin.glsl"
layout(constant_id = 1) const bool WELFORD = false;
layout(constant_id = 2) const bool COMP = false;

layout(std430, set = 0, binding = 0) writeonly buffer Invstd { float invstd[]; };
layout(std430, set = 0, binding = 1) buffer RM { float runMean[]; };
layout(std430, set = 0, binding = 2) buffer RV { float runVar[]; };
IN_F32(3, part)
layout(std430, set = 0, binding = 4) buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 5) writeonly buffer CMean { float cmean[]; };
layout(std430, set = 0, binding = 6) buffer CRM { float cRunMean[]; };
IN_F32(7, cgamma)
IN_F32(8, cbeta)

layout(push_constant) uniform Push {
    uint c;
    uint lanes;
    float rf;
    float unbias;
    float momentum;
    float eps;
    uint r;
    float cmomentum;
} p;

void main() {
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float variance, m;
        if (WELFORD) {
            uint chunk = (p.r + p.lanes - 1u) / p.lanes;
            uint left = p.r;  // rows of the lanes still to come
            float n = 0.0, q = 0.0;
            m = 0.0;
            for (uint l = 0u; l < p.lanes && left > 0u; l++) {
                uint nl = min(chunk, left);
                left -= nl;
                float fl = float(nl), n2 = n + fl;
                float dl = part(l * p.c + j) - m;
                float w = fl / n2;
                m += dl * w;
                q += part((p.lanes + l) * p.c + j) + dl * dl * (n * w);
                n = n2;
            }
            variance = q / p.rf;
            if (COMP) {
                cmean[j] = m;
                precise float ck = (1.0 - p.cmomentum) * cRunMean[j];
                precise float ca = p.cmomentum * m;
                cRunMean[j] = ck + ca;
                precise float cg = cgamma(j) * m;
                precise float cs = m + cg;
                precise float cm = cs + cbeta(j);
                m = cm;
            }
            mean[j] = m;
        } else {
            float sum;
            COLFIN_SUM(part, 0u, p.lanes, p.c, j, sum)
            variance = sum / p.rf;
            m = mean[j];
        }
        invstd[j] = 1.0 / sqrt(variance + p.eps);
        float keep = 1.0 - p.momentum;
        precise float km = keep * runMean[j];
        precise float am = p.momentum * m;
        runMean[j] = km + am;
        precise float uv = variance * p.unbias;
        precise float kv = keep * runVar[j];
        precise float av = p.momentum * uv;
        runVar[j] = kv + av;
    }
}
