// Package backend defines the op set that vktrain's layers are built from
// and the Backend interface that executes it.
//
// A Backend owns tensor storage; a Tensor is only a handle with a shape and
// a dtype. Layers never touch elements directly: they record ops (integer
// im2col and GEMM, dequantization, compensation, batch norm, ReLU,
// max-pool, the float GEMMs of the backward pass) on a backend, and read
// back only what the host needs (statistics, logits, gradients).
//
// The pure-Go reference backend (package nn/ref) defines the meaning of
// every op. Other backends, such as the Vulkan one, are checked against it
// by the shared suite in package backendtest: integer results bit-exact,
// float results within tolerances declared per op.
//
// The op contract: every op is declared once (Ops, one *Op per Backend
// method: operands with dtypes, directions and allowed aliasing, and one
// rule for shapes and scalar arguments). Each backend's op method begins
// with the declaration's Check, which resolves the tensors through the
// backend (Resolver), checks everything and returns the sizes the kernel
// needs (Dims), so every backend rejects bad arguments with the same
// conditions and messages; OutputShapes derives output shapes from the
// same rule. docs/ADDING_AN_OP.md lists the places an op is written.
package backend
