// io.glsl: read-only inputs of a kernel, declared once and compiled two ways.
//
//   IN_F32(B, NAME)  float NAME(uint i)   element i of the float array at binding B
//   IN_I32(B, NAME)  int   NAME(uint i)   element i of an int array
//   IN_U32(B, NAME)  uint  NAME(uint i)   element i of a uint array (e.g. packed codes)
//
// Default (NAME.spv): the binding is a readonly std430 storage buffer. With VKT_TEXEL defined
// (NAME_tex.spv, built by tools/glslc.sh for every kernel that includes this file) it is a
// uniform texel buffer, usamplerBuffer read with texelFetch through the R32_UINT view that
// package gpu makes. On CPU drivers (lavapipe: a storage-buffer load is a loop over the
// SIMD lanes with a branch and a bounds check each, a texel fetch is a gather) the texel
// form reads several times faster; on GPUs storage buffers are the portable baseline.
// Callers keep indices inside the array: past the end a texel fetch returns 0 or
// undefined values, like an out-of-range storage-buffer read.
#ifdef VKT_TEXEL
#define IN_U32(B, NAME)                                           \
    layout(set = 0, binding = B) uniform usamplerBuffer NAME##_t; \
    uint NAME(uint i) { return texelFetch(NAME##_t, int(i)).x; }
#define IN_I32(B, NAME)                                           \
    layout(set = 0, binding = B) uniform usamplerBuffer NAME##_t; \
    int NAME(uint i) { return int(texelFetch(NAME##_t, int(i)).x); }
#define IN_F32(B, NAME)                                           \
    layout(set = 0, binding = B) uniform usamplerBuffer NAME##_t; \
    float NAME(uint i) { return uintBitsToFloat(texelFetch(NAME##_t, int(i)).x); }
#else
#define IN_U32(B, NAME)                                                                \
    layout(std430, set = 0, binding = B) readonly buffer NAME##_b { uint NAME##_d[]; }; \
    uint NAME(uint i) { return NAME##_d[i]; }
#define IN_I32(B, NAME)                                                               \
    layout(std430, set = 0, binding = B) readonly buffer NAME##_b { int NAME##_d[]; }; \
    int NAME(uint i) { return NAME##_d[i]; }
#define IN_F32(B, NAME)                                                                 \
    layout(std430, set = 0, binding = B) readonly buffer NAME##_b { float NAME##_d[]; }; \
    float NAME(uint i) { return NAME##_d[i]; }
#endif
