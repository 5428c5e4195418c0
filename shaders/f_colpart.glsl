// f_colpart.glsl: the first pass of the per-channel (column) reductions over a matrix
// [R, C], without shared memory or barriers (barriers are expensive on CPU drivers). The
// launch is f_perchan.glsl's; with L = (row groups)*RW row lanes, row lane l of column j
// sums rows l, l+L, l+2L, ... and writes part[l*C + j]. A second pass (f_colfin.glsl) adds
// the L partial sums of each column in order.
#include "f_perchan.glsl"

// The row lane of this invocation and the number of row lanes.
uint cpLane() { return gl_GlobalInvocationID.y; }
uint cpLanes() { return gl_NumWorkGroups.y * RW; }
