#version 450
// f_gemm: C = alpha*op(A)*op(B) + beta*C for float32 matrices, register-blocked; see
// f_gemm.glsl. This variant needs no subgroup operations.
#define F_GEMM_SG 0
#include "f_gemm.glsl"
