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
// The checks of op arguments that do not depend on how a backend stores
// tensors (shapes, geometries, quantization specs, aliasing of outputs)
// live in Check, so every backend rejects bad arguments with the same
// conditions and messages.
package backend
