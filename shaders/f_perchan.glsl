// f_perchan.glsl: the launch shape of the per-channel elementwise kernels over a matrix
// [R, C]. A workgroup is CW columns (x) by RW rows (y); each invocation owns one column j
// at a time, reads that column's per-channel values once and walks the rows
// i = y, y + RW*(row groups), ... (grid-stride over column and row groups), so an element
// costs no integer division and no per-channel loads. The elementwise per-channel kernels
// are launched with CW = C (or C/2 column pairs) up to the workgroup size, whole rows per
// workgroup (nn/vk perChanRows): on CPU drivers narrower workgroups share cache lines
// between threads. Specialization: 0 = CW, 1 = RW.
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 0) const uint CW = 8;
layout(constant_id = 1) const uint RW = 32;

// The first column of this invocation, the column step, the first row and the row step.
uint pcCol0() { return gl_WorkGroupID.x * CW + gl_LocalInvocationID.x; }
uint pcColStep() { return gl_NumWorkGroups.x * CW; }
uint pcRow0() { return gl_WorkGroupID.y * RW + gl_LocalInvocationID.y; }
uint pcRowStep() { return gl_NumWorkGroups.y * RW; }

// The elementwise kernels walk the flat offsets o = i*c + j of their column j (c: the row
// length in the kernel's elements): from pcOff0(j, c) in steps of pcOffStep(c), below r*c.
// They take two rows per loop iteration (o and o + step), which on lavapipe saves about a
// sixth of the time: a loop iteration's own cost is a good part of an element's there.
uint pcOff0(uint j, uint c) { return pcRow0() * c + j; }
uint pcOffStep(uint c) { return pcRowStep() * c; }
