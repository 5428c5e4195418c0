#version 450
// q_gemmi_tiled_dot: GemmI with shared-memory tiles and the packed 4x8-bit integer dot
// products of SPV_KHR_integer_dot_product (see q_gemmi_tiled.glsl and q_gemmi_dot.comp).
#extension GL_EXT_spirv_intrinsics : require
// Capabilities 6018 DotProductInput4x8BitPacked, 6019 DotProduct; format 0 = 4x8 bit packed.
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6018, 6019], id = 4450)
int sdot4(uint x, uint y, spirv_literal int fmt);
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6018, 6019], id = 4451)
uint udot4(uint x, uint y, spirv_literal int fmt);
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6018, 6019], id = 4452)
int sudot4(uint x, uint y, spirv_literal int fmt);
#define USE_DOT 1
#include "q_common.glsl"
#include "q_gemmi_tiled.glsl"
