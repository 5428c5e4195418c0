#version 450
// f_gemm_sg64: f_gemm_sg (see f_gemm.glsl) loading each vec4 of an operand as two 64-bit
// words: for CPU drivers with shaderInt64, where a load costs the same whatever its width up
// to 64 bits (a vec4 costs four). The same results as f_gemm_sg.
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_ARB_gpu_shader_int64 : require
#define F_GEMM_SG 1
#define F_GEMM_U64 1
#include "f_gemm.glsl"
