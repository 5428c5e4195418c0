// Package shaders holds vktrain's GLSL compute shaders and their committed SPIR-V.
//
// Each shaders/NAME.comp is compiled by tools/glslc.sh to shaders/spv/NAME.spv with
// "glslc --target-env=vulkan1.2 -O" (include files are shaders/*.glsl). The compiled
// files are embedded in this package, so building vktrain needs no shader compiler;
// SPIRV returns one by name. shaders/spv/MANIFEST records the sha256 of every source and
// every output: the package test fails when a source changed without recompiling, and
// where glslc is installed it also recompiles everything and compares the bytes.
//
// Conventions for kernels: storage buffers live in descriptor set 0 at bindings 0..n-1,
// push constants are one block starting at offset 0, and tunables such as the workgroup
// size are specialization constants with constant_id 0..m-1 (see package gpu).
package shaders
