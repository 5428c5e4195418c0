#version 450
// test_texel_float: a float samplerBuffer, which package gpu must refuse (its texel views are R32_UINT).
layout(local_size_x = 1) in;
layout(std430, set = 0, binding = 0) writeonly buffer Y { float y[]; };
layout(set = 0, binding = 1) uniform samplerBuffer x;
void main() { y[0] = texelFetch(x, 0).x; }
