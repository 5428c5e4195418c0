// f_pair.glsl: helpers of the column-pair kernels (NAME2.comp), which read and write two
// floats as one 64-bit word: on CPU drivers such as lavapipe a 64-bit load or store costs
// about what a 32-bit one does. The including kernel enables GL_ARB_gpu_shader_int64.

// ld2 returns the two floats of a 64-bit word (element 2i, then 2i+1).
vec2 ld2(uint64_t w) { return uintBitsToFloat(unpackUint2x32(w)); }

// st2 packs two floats into a 64-bit word.
uint64_t st2(vec2 v) { return packUint2x32(floatBitsToUint(v)); }
