#version 450
// q_rowsumi: s[m] = sum of the codes of row m of a Q8 matrix [M, K] (format FMT; packed rows
// are rowWords words with zero padding), wrapping int32. A row's items (words, or codes when
// wide) are split S ways, interleaved: invocation id = m*S + z (a grid-stride range over
// M*S) sums items z, z+S, z+2S, ... of row m into s[z*M + m] (with S > 1 the caller adds
// the S partials, q_sumi). Neighbouring invocations read neighbouring items of a long row
// (S > 1) or neighbouring rows (S = 1), so a subgroup's reads are contiguous; S keeps long
// rows from looping too long in one invocation and gives short matrices enough
// invocations. Two items per loop iteration (on CPU drivers such as lavapipe each
// assignment of a loop-carried variable costs a masked store); no integer division (qdiv).
// ITEMS, when not 0, is the items per row, known when the pipeline is made (rows of at most
// four items, not split: a straight-line sum per row, two rows per loop iteration).
// a is read through io.glsl (a texel buffer in the texel build).
//
// Bindings: 0 = a, 1 = s. Push constants {M, K, rowWords, S}.
// Specialization: 0 = workgroup size, 1 = FMT, 2 = ITEMS.
#include "io.glsl"
#include "q_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FMT = 0u;
layout(constant_id = 2) const uint ITEMS = 0u;

IN_U32(0, a)
layout(std430, set = 0, binding = 1) writeonly buffer S { int s[]; };

layout(push_constant) uniform Push {
    uint M;
    uint K;
    uint rowWords;
    uint S; // splits of a row
} p;

// item returns the sum of the codes of item i of a.
int item(uint i) {
    if (FMT == Q8_WIDE) {
        return int(a(i));
    }
    ivec4 v = q8word(a(i), FMT);
    return (v.x + v.y) + (v.z + v.w);
}

// rowSum returns the sum of the ITEMS (a specialization constant) items of the row at base.
int rowSum(uint base) {
    int sum = 0;
    for (uint w = 0u; w < ITEMS; w++) {
        sum += item(base + w);
    }
    return sum;
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint items = FMT == Q8_WIDE ? p.K : p.rowWords;
    if (ITEMS != 0u) {
        // Short rows, not split: straight-line sums, two rows per loop iteration.
        uint m = gl_GlobalInvocationID.x;
        for (; m + step < p.M; m += 2u * step) {
            int a = rowSum(m * ITEMS), b = rowSum((m + step) * ITEMS);
            s[m] = a;
            s[m + step] = b;
        }
        if (m < p.M) {
            s[m] = rowSum(m * ITEMS);
        }
        return;
    }
    uint total = p.M * p.S;
    for (uint id = gl_GlobalInvocationID.x; id < total; id += step) {
        uint m = id;
        if (p.S != 1u) {
            m = qdiv(id, p.S);
        }
        uint z = id - m * p.S;
        uint base = m * items;
        int sum = 0;
        uint w = z;
        for (; w + p.S < items; w += 2u * p.S) {
            sum += item(base + w) + item(base + w + p.S);
        }
        if (w < items) {
            sum += item(base + w);
        }
        s[z * p.M + m] = sum;
    }
}
