// Package vk is the Vulkan implementation of backend.Backend: every op of
// the set runs as a GLSL compute shader (package shaders) on a gpu.Device.
//
// Execution model: ops validate their arguments on the host, then record
// dispatches into one gpu.Sequence (a full barrier between consecutive
// dispatches). Nothing runs until Sync, a Read or a Write, which submit the
// recording and wait. Errors follow backend.Backend: the first one sticks,
// later ops are skipped.
//
// Memory: one storage buffer per tensor, shared by its views. F32 and I32
// tensors are plain arrays. Q8 tensors (integer codes) are packed four to
// a uint32 with each row of the last dimension padded to a whole word, so a
// GEMM row starts word-aligned; the backend tracks on the host whether a
// tensor's codes are signed or unsigned (every op that writes codes knows
// their range) and unpacks them with bitfieldExtract accordingly. On
// unified-memory devices (integrated GPUs, lavapipe) buffers are mapped and
// Read/Write are copies; elsewhere they go through a staging buffer.
//
// Integer GEMM variants (Options.Variant): "packed" reads four codes per
// 32-bit load and is portable; "int8" loads through 8-bit storage; "dot"
// uses the packed 4x8 integer dot product (OpSDot/OpUDot/OpSUDot). Auto
// picks "dot" where the device accelerates it and "packed" otherwise.
// Workgroup and tile sizes are specialization constants chosen from the
// device's limits.
package vk
