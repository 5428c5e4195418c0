// f_colreduce.glsl: shared code of the per-channel (column) reductions over the rows of a
// matrix [R, C]. A workgroup is CW columns (x, adjacent in memory) by RW row lanes (y);
// workgroup g owns columns g*CW .. g*CW+CW-1 (grid-stride over column groups) and lane y
// reads rows y, y+RW, ...; the RW partial sums are added through shared memory, no atomics.
// Specialization: 0 = CW, 1 = RW.
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 0) const uint CW = 8;
layout(constant_id = 1) const uint RW = 32;

shared float colPart[CW * RW];

// colReduce returns, to every invocation of the workgroup, the sum over the row lanes of v
// for this invocation's column. Call it in uniform control flow.
float colReduce(float v) {
    uint cx = gl_LocalInvocationID.x;
    uint ry = gl_LocalInvocationID.y;
    colPart[ry * CW + cx] = v;
    barrier();
    if (ry == 0u) {
        float s = 0.0;
        for (uint j = 0u; j < RW; j++) {
            s += colPart[j * CW + cx];
        }
        colPart[cx] = s;
    }
    barrier();
    float s = colPart[cx];
    barrier();
    return s;
}
