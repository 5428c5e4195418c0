#version 450
// q_gemmi_tiled: GemmI with shared-memory tiles, codes unpacked with bitfieldExtract (see
// q_gemmi_tiled.glsl). For GPUs, where shared memory beats direct loads.
#include "q_common.glsl"
#include "q_gemmi_tiled.glsl"
