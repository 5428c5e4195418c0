// q_gemmi_tiled.glsl: the body of q_gemmi_tiled.comp and q_gemmi_tiled_dot.comp (USE_DOT).
//
// acc[m,n] = sum_k a[m,k]*b[n,k] in wrapping int32 for packed Q8 matrices a [M, K] and
// b [N, K] (FA, FB: 0 unsigned, 1 signed; rows of KW words padded with code 0), with
// shared-memory tiles: a workgroup of WX x WY invocations computes a BM x BN tile of acc
// (BM = 4*WY, BN = 4*WX), staging BKW words of k of both operands in shared memory per step
// (stored k-major and padded, so neither the stores nor the reads conflict on banks).
// Invocation (lx, ly) owns rows ly + WY*i and columns lx + WX*j (i, j < 4), so consecutive
// invocations read consecutive shared words and write consecutive columns. Workgroup z sums
// the words [z*KC, (z+1)*KC) into slice z of acc (split k); y loops over the row tiles when
// the dispatch has fewer.
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint BKW = 8u;
layout(constant_id = 3) const uint FA = 0u;
layout(constant_id = 4) const uint FB = 0u;

layout(std430, set = 0, binding = 0) readonly buffer A { uint a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { uint b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Acc { int acc[]; };

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint K;
    uint KW;
    uint KC;
} p;

const uint WX = gl_WorkGroupSize.x;
const uint WY = gl_WorkGroupSize.y;
const uint BM = 4u * WY;
const uint BN = 4u * WX;

shared uint ta[BKW * (BM + 1u)];
shared uint tb[BKW * (BN + 1u)];

#ifdef USE_DOT
int dot4w(uint x, uint y) {
    if (FA == 1u && FB == 1u) {
        return sdot4(x, y, 0);
    }
    if (FA == 1u) {
        return sudot4(x, y, 0);
    }
    if (FB == 1u) {
        return sudot4(y, x, 0);
    }
    return int(udot4(x, y, 0));
}
#else
int dot4w(uint x, uint y) {
    ivec4 u = q8word(x, FA), v = q8word(y, FB);
    return u.x * v.x + u.y * v.y + u.z * v.z + u.w * v.w;
}
#endif

void main() {
    uint lx = gl_LocalInvocationID.x, ly = gl_LocalInvocationID.y;
    uint lid = ly * WX + lx;
    uint nBase = gl_WorkGroupID.x * BN;
    uint wBegin = gl_WorkGroupID.z * p.KC;
    uint wEnd = min(p.KW, wBegin + p.KC);
    uint slice = gl_WorkGroupID.z * p.M * p.N;
    for (uint mBase = gl_WorkGroupID.y * BM; mBase < p.M; mBase += gl_NumWorkGroups.y * BM) {
        int c[16];
        for (uint i = 0u; i < 16u; i++) {
            c[i] = 0;
        }
        for (uint w0 = wBegin; w0 < wEnd; w0 += BKW) {
            for (uint e = lid; e < BM * BKW; e += WX * WY) {
                uint r = e / BKW, kk = e - r * BKW;
                uint row = mBase + r, w = w0 + kk;
                ta[kk * (BM + 1u) + r] = (row < p.M && w < wEnd) ? a[row * p.KW + w] : 0u;
            }
            for (uint e = lid; e < BN * BKW; e += WX * WY) {
                uint r = e / BKW, kk = e - r * BKW;
                uint row = nBase + r, w = w0 + kk;
                tb[kk * (BN + 1u) + r] = (row < p.N && w < wEnd) ? b[row * p.KW + w] : 0u;
            }
            barrier();
            for (uint kk = 0u; kk < BKW; kk++) {
                uint av[4], bv[4];
                for (uint i = 0u; i < 4u; i++) {
                    av[i] = ta[kk * (BM + 1u) + ly + WY * i];
                    bv[i] = tb[kk * (BN + 1u) + lx + WX * i];
                }
                for (uint i = 0u; i < 4u; i++) {
                    for (uint j = 0u; j < 4u; j++) {
                        c[4u * i + j] += dot4w(av[i], bv[j]);
                    }
                }
            }
            barrier();
        }
        for (uint i = 0u; i < 4u; i++) {
            uint m = mBase + ly + WY * i;
            if (m >= p.M) {
                continue;
            }
            for (uint j = 0u; j < 4u; j++) {
                uint n = nBase + lx + WX * j;
                if (n < p.N) {
                    acc[slice + m * p.N + n] = c[4u * i + j];
                }
            }
        }
    }
}
