#version 450
// f_gemm_sg: f_gemm (see f_gemm.glsl) whose panel shared by all invocations is loaded once
// per subgroup and broadcast (subgroup ballot operations): for CPU drivers, where each
// load is a loop over the SIMD lanes.
#extension GL_KHR_shader_subgroup_ballot : require
#define F_GEMM_SG 1
#include "f_gemm.glsl"
