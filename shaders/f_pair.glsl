// f_pair.glsl: helpers of the pair kernels (NAME2.comp), which handle two floats per
// invocation step and write them as one 64-bit word: on CPU drivers such as lavapipe a
// 64-bit load or store costs about what a 32-bit one does. The including kernel enables
// GL_ARB_gpu_shader_int64 and includes io.glsl first.
//
//   IN_PAIR(B, NAME)  uvec2 NAME(uint i)   elements 2i and 2i+1 of the 32-bit array at
//                                          binding B, as bits
//
// In the storage-buffer build (NAME.spv) the binding is a readonly std430 buffer of 64-bit
// words, one load per pair; in the texel build (VKT_TEXEL, NAME_tex.spv) it is the R32_UINT
// texel view of io.glsl, two fetches per pair (a 64-bit texel format is no cheaper there).
#ifdef VKT_TEXEL
#define IN_PAIR(B, NAME)                                          \
    layout(set = 0, binding = B) uniform usamplerBuffer NAME##_t; \
    uvec2 NAME(uint i) {                                          \
        int e = int(2u * i);                                      \
        return uvec2(texelFetch(NAME##_t, e).x, texelFetch(NAME##_t, e + 1).x); \
    }
#else
#define IN_PAIR(B, NAME)                                                                   \
    layout(std430, set = 0, binding = B) readonly buffer NAME##_b { uint64_t NAME##_d[]; }; \
    uvec2 NAME(uint i) { return unpackUint2x32(NAME##_d[i]); }
#endif

// ld2 returns the two floats of a pair read through IN_PAIR.
vec2 ld2(uvec2 w) { return uintBitsToFloat(w); }

// st2 packs two floats into a 64-bit word.
uint64_t st2(vec2 v) { return packUint2x32(floatBitsToUint(v)); }

// IN_OCT(B, NAME)  u64vec4 NAME(uint i)  elements 8i .. 8i+7 of the 32-bit array at binding
//                                       B as four pairs of bits (pair k in component k),
//                  uint64_t NAME_pair(uint i)  elements 2i and 2i+1 as one pair (for the
//                                       elements after the last whole group of eight)
//
// The storage-buffer build loads one 32-byte vector: lavapipe loads and stores a storage
// buffer one SIMD lane at a time, all components of a lane in one step, so a wide vector
// costs about what a scalar does (the binding is also declared as 64-bit words for
// NAME_pair). The texel build makes eight fetches.
#ifdef VKT_TEXEL
#define IN_OCT(B, NAME)                                                                \
    layout(set = 0, binding = B) uniform usamplerBuffer NAME##_t;                      \
    uint64_t NAME##_pair(uint i) {                                                     \
        int e = int(2u * i);                                                           \
        return packUint2x32(uvec2(texelFetch(NAME##_t, e).x, texelFetch(NAME##_t, e + 1).x)); \
    }                                                                                  \
    u64vec4 NAME(uint i) {                                                             \
        uint q = 4u * i;                                                               \
        return u64vec4(NAME##_pair(q), NAME##_pair(q + 1u), NAME##_pair(q + 2u), NAME##_pair(q + 3u)); \
    }
#else
#define IN_OCT(B, NAME)                                                                      \
    layout(std430, set = 0, binding = B) readonly buffer NAME##_b { u64vec4 NAME##_d[]; };   \
    layout(std430, set = 0, binding = B) readonly buffer NAME##_b1 { uint64_t NAME##_d1[]; }; \
    u64vec4 NAME(uint i) { return NAME##_d[i]; }                                             \
    uint64_t NAME##_pair(uint i) { return NAME##_d1[i]; }
#endif
