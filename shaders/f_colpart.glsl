// f_colpart.glsl: the first pass of the per-channel (column) reductions over a matrix
// [R, C], without shared memory or barriers (barriers are expensive on CPU drivers). A
// workgroup is CW columns by RW row lanes (f_perchan.glsl's specialization 0 and 1); with
// L = (row groups)*RW row lanes, row lane l of column j sums its rows of column j and
// writes part[l*C + j]. A second pass (f_colfin.glsl) adds the L partial sums of each
// column in order.
//
// Which rows a lane sums (specialization 2, CONTIG): false, rows l, l+L, l+2L, ... (on
// GPUs neighbouring invocations read neighbouring rows); true, the l-th of L contiguous
// runs of ceil(R/L) rows (on CPU drivers a SIMD group then streams through memory instead
// of striding over it).
//
// Columns per invocation (specialization 3, NCOL: 1, 2 or 4): an invocation owns the NCOL
// columns j + t*CW (t < NCOL) below C, from cpCol0() in steps of cpColStep(). With 2 or 4
// (CPU drivers) each row step fetches NCOL independent values; the kernels take them as
// explicit scalars (arrays indexed in loops are slow there). With 2 (9 to 16 columns,
// CW = 8) no fetch repeats a clamped column, as half of them would with 4.
#include "f_perchan.glsl"
layout(constant_id = 2) const bool CONTIG = false;
layout(constant_id = 3) const uint NCOL = 1;

// The row lane of this invocation and the number of row lanes.
uint cpLane() { return gl_GlobalInvocationID.y; }
uint cpLanes() { return gl_NumWorkGroups.y * RW; }

// The first column of this invocation and the column step.
uint cpCol0() { return gl_WorkGroupID.x * CW * NCOL + gl_LocalInvocationID.x; }
uint cpColStep() { return gl_NumWorkGroups.x * CW * NCOL; }

// cpRows returns the rows of this lane as the offset of the first one in x [R, C] (column
// 0), their count and the offset step between them.
void cpRows(uint r, uint c, out uint o, out uint n, out uint st) {
    uint lanes = cpLanes();
    uint l = cpLane();
    if (CONTIG) {
        uint chunk = (r + lanes - 1u) / lanes;
        uint i0 = min(l * chunk, r);
        o = i0 * c;
        n = min(i0 + chunk, r) - i0;
        st = c;
    } else {
        o = l * c;
        n = l < r ? (r - l + lanes - 1u) / lanes : 0u;
        st = lanes * c;
    }
}

// cpCols returns the offsets from column j of the invocation's other columns j + t*CW,
// t = 1..3 (clamped to the last column: their values are fetched but not stored when
// the column is past C; with NCOL = 2 the kernels ignore y and z).
uvec3 cpCols(uint j, uint c) {
    return NCOL == 1u ? uvec3(0u) : uvec3(min(j + CW, c - 1u), min(j + 2u * CW, c - 1u), min(j + 3u * CW, c - 1u)) - j;
}
