#version 450
// q_wprep: QuantizeWeights (see backend.FusedWeightGrad): for the weights w [rows, cols], the
// codes q (as q_quantize writes them: format FMT, packed rows of rowWords words padded with
// code 0, or one int per code), the row sums s of the codes (as q_rowsumi: wrapping int32,
// here exact) and the dequantized weights x̂ = s·float(q-z) (as q_dequantize), in one pass.
// Codes: clamp(roundAway(w·inv) + z, qmin, qmax), NaN -> z, with inv = 1/s rounded to float32
// on the host and the product rounded to float32 (precise): q_quantize's arithmetic.
//
// A workgroup walks rows r = gl_WorkGroupID.x, + gl_NumWorkGroups.x, ...; its invocations walk
// the row's items (words, or codes when wide) from gl_LocalInvocationID.x in steps of the
// workgroup size, two per loop iteration (on CPU drivers such as lavapipe each assignment of a
// loop-carried variable costs a masked store), and add their codes; the row sum is the sum of
// the invocations' sums (integers: any order gives the same), added as in q_quantgrad: the
// first R invocations each every R-th partial, then invocation 0 those R. The row's channel
// is r (PERCH 1) or 0 (PERCH 0). A word's codes are JMAX straight-line reads; past a row's
// end the last code is read again and masked out. With VEC (cols a multiple of 4) a word's
// four x̂ go out as one vec4 store.
//
// Bindings: 0 = w, 1 = q, 2 = s (not written unless SW), 3 = x̂ (also viewed as vec4s; not
// written unless WHAT), 4 = prm: prm[off + c] = inv bits, prm[off + nch + c] = zero point,
// prm[off + 2*nch + c] = scale bits. w and prm are read through io.glsl (texel buffers in the
// texel build). Push constants as below.
// Specialization: 0 = workgroup size, 1 = FMT, 2 = JMAX (1..4, packed only), 3 = VEC,
// 4 = PERCH, 5 = SW, 6 = WHAT.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FMT = 0u;
layout(constant_id = 2) const uint JMAX = 4u;
layout(constant_id = 3) const uint VEC = 0u;
layout(constant_id = 4) const uint PERCH = 1u;
layout(constant_id = 5) const uint SW = 1u;
layout(constant_id = 6) const uint WHAT = 1u;

IN_F32(0, w)
layout(std430, set = 0, binding = 1) writeonly buffer Q { uint q[]; };
layout(std430, set = 0, binding = 2) writeonly buffer S { int s[]; };
layout(std430, set = 0, binding = 3) writeonly buffer X { float xh[]; };
layout(std430, set = 0, binding = 3) writeonly buffer X4 { vec4 xh4[]; };
IN_U32(4, prm)

layout(push_constant) uniform Push {
    uint rows;
    uint cols;
    uint rowWords;
    int qmin;
    int qmax;
    uint off;
    uint nch;
} p;

// Channel holds the constants of the row's channel.
struct Channel {
    float inv;
    float s;
    int z;
};

int quant(float v, Channel ch) {
    precise float qf = v * ch.inv;
    precise float vz = roundAway(qf) + float(ch.z);
    vz = clamp(vz, float(p.qmin), float(p.qmax));
    return isnan(v) ? ch.z : int(vz);
}

float value(int code, Channel ch) {
    precise float v = ch.s * float(code - ch.z);
    return v;
}

// item writes item j (a word, or a code when wide) of the row at base (its first element)
// and wbase (its first word), and returns the sum of its codes.
int item(uint base, uint wbase, uint j, Channel ch) {
    if (FMT == Q8_WIDE) {
        int c = quant(w(base + j), ch);
        q[base + j] = uint(c);
        if (WHAT != 0u) {
            xh[base + j] = value(c, ch);
        }
        return c;
    }
    uint c0 = 4u * j;
    uint valid = VEC != 0u ? 4u : min(p.cols - c0, JMAX); // codes in this word
    uint word = 0u;
    int sum = 0;
    vec4 v = vec4(0.0);
    for (uint k = 0u; k < JMAX; k++) {
        int c = quant(w(base + c0 + min(k, valid - 1u)), ch);
        bool inWord = k < valid;
        word |= inWord ? (uint(c) & 0xffu) << (8u * k) : 0u;
        sum += inWord ? c : 0;
        v[k] = value(c, ch);
    }
    q[wbase + j] = word;
    if (WHAT != 0u) {
        if (VEC != 0u) {
            xh4[(base >> 2u) + j] = v;
        } else {
            for (uint k = 0u; k < JMAX; k++) {
                if (k < valid) {
                    xh[base + c0 + k] = v[k];
                }
            }
        }
    }
    return sum;
}

shared int sh[gl_WorkGroupSize.x];

// R invocations add the partial sums in a first step.
const uint R = gl_WorkGroupSize.x < 8u ? gl_WorkGroupSize.x : 8u;

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint step = gl_WorkGroupSize.x;
    uint items = FMT == Q8_WIDE ? p.cols : p.rowWords;
    for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
        uint c = PERCH != 0u ? r : 0u;
        Channel ch = Channel(uintBitsToFloat(prm(p.off + c)), uintBitsToFloat(prm(p.off + 2u * p.nch + c)), int(prm(p.off + p.nch + c)));
        uint base = r * p.cols, wbase = r * p.rowWords;
        int sum = 0;
        uint j = lid;
        for (; j + step < items; j += 2u * step) {
            int a = item(base, wbase, j, ch), b = item(base, wbase, j + step, ch);
            sum += a + b;
        }
        if (j < items) {
            sum += item(base, wbase, j, ch);
        }
        if (SW == 0u) {
            continue;
        }
        sh[lid] = sum;
        barrier();
        if (lid < R) {
            for (uint k = lid + R; k < step; k += R) {
                sum += sh[k];
            }
            sh[lid] = sum;
        }
        barrier();
        if (lid == 0u) {
            for (uint k = 1u; k < R; k++) {
                sum += sh[k];
            }
            s[r] = sum;
        }
        barrier(); // sh is written again for the next row
    }
}
