// f_perchan.glsl: the launch shape of the per-channel elementwise kernels over a matrix
// [R, C]. A workgroup is CW columns (x) by RW rows (y); each invocation owns one column j
// at a time, reads that column's per-channel values once and walks the rows
// i = y, y + RW*(row groups), ... (grid-stride over column and row groups), so an element
// costs no integer division and no per-channel loads. Specialization: 0 = CW, 1 = RW.
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 0) const uint CW = 8;
layout(constant_id = 1) const uint RW = 32;

// The first column of this invocation, the column step, the first row and the row step.
uint pcCol0() { return gl_WorkGroupID.x * CW + gl_LocalInvocationID.x; }
uint pcColStep() { return gl_NumWorkGroups.x * CW; }
uint pcRow0() { return gl_WorkGroupID.y * RW + gl_LocalInvocationID.y; }
uint pcRowStep() { return gl_NumWorkGroups.y * RW; }
