#version 450
// q_quantmm: the input quantization of a quantized layer fused into the op that produces its
// input (backend.FusedQuantize): the produced tensor y (PROD 0: y is x itself, not written;
// PROD 1: y = ReLU(x); PROD 2: y = the window maxima of the NHWC image x, with their flat
// indices in arg), its codes q (per tensor) and the min/max statistics of y, in one pass.
//
// y and arg are written as f_relu and f_maxpool write them (float bits: y gets x's bits;
// max-pool windows in row-major order, the first maximum kept, NaN never greater nor beaten).
// Codes are q_quantize's (PERCH 0): clamp(roundAway(y*inv) + z, qmin, qmax), NaN -> z, inv =
// 1/s rounded on the host, the product precise; packed words (WIDE 0: rows of cols codes
// padded to rowWords words with code 0, JMAX = min(cols, 4) codes in a full word) or one int
// per code (WIDE 1). Element i of y (row-major) is code i of q, laid out by q's own shape.
// The statistics are q_minmax's integer reduction on order keys (f32key): each workgroup
// reduces its invocations' entries as q_minmax PASS 0 does and writes part[g] (DIRECT 0; then
// q_minmax PASS 1 reduces the partials into d), or, launched as a single workgroup, writes
// d[0..2] directly as q_minmax PASS 2 does (DIRECT 1): the same reduction, so the same bits.
//
// Items are q's words (one code each where WIDE or JMAX 1): an invocation owns whole words, a
// grid-stride range of them. With VEC (cols a multiple of 4: no padding) word t holds
// elements 4t..4t+3; otherwise one qdiv places it, and past a row's end the last element is
// read again, its code masked out and not counted. x is read through io.glsl.
//
// PROD 3 (FusedQuantize.CompBNPoolQuant) is PROD 2 over the batch norm's output of x: each
// element a window reads is normalised as it is read, as f_bn_apply computes it (f_bnhat.glsl,
// with COMP the compensation's term first, with RELU the ReLU after), so that output is never
// stored; its per-channel constants are read once per invocation where the grid stride keeps
// an invocation on the same channels (PV4 with the stride a multiple of C/4), else per window.
//
// Bindings: 0 = x (uint bits), 1 = y (uint bits), 2 = arg, 3 = q, 4 = part, 5 = d, 6 = mean,
// 7 = invstd, 8 = gamma, 9 = beta, 10 = cgamma, 11 = cbeta, 12 = cmean (y and arg are bound
// but unused below PROD 2, y below PROD 1; 6 to 12 read only with PROD 3, 10 to 12 only with
// COMP). Push constants as below. Specialization: 0 = workgroup size (a power of two),
// 1 = PROD, 2 = DIRECT, 3 = WIDE, 4 = JMAX (1..4, packed only), 5 = VEC, 6 = the pool window
// size (PROD 2 and 3; equal to the geometry's, a constant so that the window loop unrolls),
// 7 = PV4 (PROD 2 or 3 with VEC and channels a multiple of 4: a word's four elements are
// neighbouring channels of one output pixel, whose position is computed once and whose y and
// arg are stored as one uvec4 / ivec4, as f_maxpool's V = 4: on CPU drivers a store is a loop
// over the SIMD lanes), 8 = RELU, 9 = COMP (PROD 3).
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint PROD = 0u;
layout(constant_id = 2) const uint DIRECT = 0u;
layout(constant_id = 3) const uint WIDE = 0u;
layout(constant_id = 4) const uint JMAX = 4u;
layout(constant_id = 5) const uint VEC = 0u;
layout(constant_id = 6) const uint SIZE = 2u;
layout(constant_id = 7) const uint PV4 = 0u;
layout(constant_id = 8) const bool RELU = false;
layout(constant_id = 9) const bool COMP = false;

IN_U32(0, x)
layout(std430, set = 0, binding = 1) writeonly buffer Y { uint y[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y4 { uvec4 y4[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Arg { int arg[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Arg4 { ivec4 arg4[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Q { uint q[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Part { uvec4 part[]; };
layout(std430, set = 0, binding = 5) writeonly buffer D { float d[]; };
IN_F32(6, mean)
IN_F32(7, invstd)
IN_F32(8, gamma)
IN_F32(9, beta)
IN_F32(10, cgamma)
IN_F32(11, cbeta)
IN_F32(12, cmean)

#include "f_bnhat.glsl"

layout(push_constant) uniform Push {
    uint n;        // elements of y
    uint cols;     // q's last dimension
    uint rowWords; // words per row of packed q
    uint items;    // words of q (codes when WIDE)
    int qmin;
    int qmax;
    uint inv0;     // float bits of 1/s
    int z0;
    uint h, w, c, stride, oh, ow; // pool geometry (PROD 2)
} p;

// ---- the producer: element i of y ----

uint relu(uint v) { return (v != 0u && v <= 0x7f800000u) ? v : 0u; }

// key maps float bits to integers ordered as the floats, with -0 == +0 and NaN below
// everything (f_maxpool's).
int key(uint v) {
    uint m = v & 0x7fffffffu;
    int s = (v & 0x80000000u) != 0u ? -int(m) : int(m);
    return m > 0x7f800000u ? -0x7fffffff - 1 : s;
}

// xin returns the bits of the pooled tensor's input at x index i: x(i), or with PROD 3 the
// batch norm's output of x(i) for the channel constants c (f_bn_apply's arithmetic and ReLU).
uint xin(uint i, BNC c) {
    if (PROD != 3u) {
        return x(i);
    }
    float v = bnOut(bnHat(uintBitsToFloat(x(i)), c), c);
    if (RELU) {
        v = v > 0.0 ? v : 0.0;
    }
    return floatBitsToUint(v);
}

// win returns the maximum's bits of the window whose first element is x[left] and sets best
// to its index (f_maxpool's); c: the channel's constants (PROD 3).
uint win(uint left, uint rowStep, out uint best, BNC c) {
    uint bv = xin(left, c);
    int bk = (bv & 0x7fffffffu) > 0x7f800000u ? 0x7fffffff : key(bv);
    best = left;
    for (uint t = 1u; t < SIZE * SIZE; t++) {
        uint ky = t / SIZE, kx = t - ky * SIZE;
        uint idx = left + ky * rowStep + kx * p.c;
        uint v = xin(idx, c);
        int k = key(v);
        bool gt = k > bk;
        best = gt ? idx : best;
        bv = gt ? v : bv;
        bk = gt ? k : bk;
    }
    return bv;
}

// windowOf returns the x index of the first element of the window of y's element i, and its
// channel in ch.
uint windowOf(uint i, out uint ch) {
    uint pix = qdiv(i, p.c);
    ch = i - pix * p.c;
    uint r = qdiv(pix, p.ow); // n*oh + py
    uint px = pix - r * p.ow;
    uint img = qdiv(r, p.oh);
    uint py = r - img * p.oh;
    return ((img * p.h + py * p.stride) * p.w + px * p.stride) * p.c + ch;
}

// noConsts stands for the channel constants where PROD is not 3.
const BNC noConsts = BNC(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);

// The constants of channels cch..cch+3 (PV4 with PROD 3), read when an item's channels differ
// from the last item's.
uint cch = 0xffffffffu;
BNC k0, k1, k2, k3;

// value computes element i of y, writes it (and its arg) unless PROD 0, and returns it.
float value(uint i) {
    if (PROD == 0u) {
        return uintBitsToFloat(x(i));
    }
    if (PROD == 1u) {
        uint v = relu(x(i));
        y[i] = v;
        return uintBitsToFloat(v);
    }
    uint best, ch;
    uint left = windowOf(i, ch);
    uint v = win(left, p.w * p.c, best, PROD == 3u ? bnConsts(ch) : noConsts);
    y[i] = v;
    arg[i] = int(best);
    return uintBitsToFloat(v);
}

// ---- the codes (q_quantize's) ----

int quant(float v) {
    precise float qf = v * uintBitsToFloat(p.inv0);
    precise float vz = roundAway(qf) + float(p.z0);
    vz = clamp(vz, float(p.qmin), float(p.qmax));
    return isnan(v) ? p.z0 : int(vz);
}

// ---- the statistics (q_minmax's) ----

shared uvec4 sh[gl_WorkGroupSize.x];
const uint R = gl_WorkGroupSize.x < 8u ? gl_WorkGroupSize.x : 8u;

int lo = 0x7fffffff, hi = int(0x80000000u);
uint bad = 0u, fin = 0u;

// add counts v; a repeated element (counted) passes it again with counted false: min and max
// do not change, the counts must not.
void add(float v, bool counted) {
    bool ok = abs(v) <= 3.40282347e38; // finite (false for NaN)
    int k = f32key(v);
    lo = ok ? min(lo, k) : lo;
    hi = ok ? max(hi, k) : hi;
    fin += ok && counted ? 1u : 0u;
    bad += !ok && counted ? 1u : 0u;
}

void combine(uvec4 e) {
    lo = min(lo, int(e.x));
    hi = max(hi, int(e.y));
    bad += e.z;
    fin += e.w;
}

// item quantizes word t of q (code t when WIDE).
void item(uint t) {
    if (WIDE != 0u) {
        float v = value(t);
        q[t] = uint(quant(v));
        add(v, true);
        return;
    }
    if (PV4 != 0u) {
        uint ch;
        uint left = windowOf(4u * t, ch), rs = p.w * p.c;
        if (PROD == 3u && ch != cch) {
            cch = ch;
            k0 = bnConsts(ch);
            k1 = bnConsts(ch + 1u);
            k2 = bnConsts(ch + 2u);
            k3 = bnConsts(ch + 3u);
        }
        uint b0, b1, b2, b3;
        uvec4 v = uvec4(win(left, rs, b0, k0), win(left + 1u, rs, b1, k1), win(left + 2u, rs, b2, k2), win(left + 3u, rs, b3, k3));
        y4[t] = v;
        arg4[t] = ivec4(b0, b1, b2, b3);
        uint wd = 0u;
        for (uint j = 0u; j < 4u; j++) {
            float f = uintBitsToFloat(v[j]);
            wd |= (uint(quant(f)) & 0xffu) << (8u * j);
            add(f, true);
        }
        q[t] = wd;
        return;
    }
    uint i0, valid;
    if (JMAX == 1u) { // one column: word t is element t
        i0 = t;
        valid = 1u;
    } else if (VEC != 0u) {
        i0 = 4u * t;
        valid = 4u;
    } else {
        uint r = qdiv(t, p.rowWords);
        uint c0 = (t - r * p.rowWords) * 4u;
        i0 = r * p.cols + c0;
        valid = min(p.cols - c0, JMAX);
    }
    uint wd = 0u;
    for (uint j = 0u; j < JMAX; j++) {
        bool in_ = j < valid;
        float v = value(i0 + min(j, valid - 1u));
        uint code = uint(quant(v)) & 0xffu;
        wd |= in_ ? code << (8u * j) : 0u;
        add(v, in_);
    }
    q[t] = wd;
}

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint t = gl_GlobalInvocationID.x; t < p.items; t += step) {
        item(t);
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
    if (DIRECT == 0u) {
        part[gl_WorkGroupID.x] = uvec4(uint(lo), uint(hi), bad, fin);
    } else {
        bool any = fin > 0u;
        d[0] = any ? f32unkey(lo) : 0.0;
        d[1] = any ? f32unkey(hi) : 0.0;
        d[2] = float(bad);
    }
}
