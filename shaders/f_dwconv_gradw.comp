#version 450
// f_dwconv_gradw: the weight gradient of f_dwconv, dw[j,ky,kx] = the sum over the outputs
// r = (n*OH + oy)*OW + ox, in increasing order, of dy[r,j]*x[n,iy,ix,j] (taps outside the
// image add nothing), each product rounded (precise).
//
// A workgroup is CW channels (x) by RW row lanes (y). An invocation owns channel j and row
// lane l, the outputs [l*chunk, min(rows, (l+1)*chunk)), stepping (ox, oy, n) with carries:
// it reads dy[r,j] once per output and adds its product with each tap's input into one of
// KH*KW sums held in registers (KH and KW are specialization constants: the tap loops
// unroll). With one lane (PART false) it writes dw[j*taps + t]; otherwise
// part[l*C*taps + j*taps + t] (dw's layout per lane; a lane past the rows writes zeros),
// and f_gemm_ksum adds the lanes in order. The lanes keep an invocation's loop below
// llvmpipe's limit and give a large reduction enough invocations.
//
// Bindings: 0 = dw (or part), 1 = dy, 2 = x (1 and 2 read through io.glsl). Push constants
// as below (rows = N*OH*OW). Specialization: 0 = CW, 1 = RW, 2 = KH, 3 = KW, 4 = PART.
#include "io.glsl"
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 0) const uint CW = 8;
layout(constant_id = 1) const uint RW = 1;
layout(constant_id = 2) const uint KH = 3;
layout(constant_id = 3) const uint KW = 3;
layout(constant_id = 4) const bool PART = false;

layout(std430, set = 0, binding = 0) writeonly buffer DW { float dw[]; };
IN_F32(1, dy)
IN_F32(2, x)

layout(push_constant) uniform Push {
    uint h, w, c;
    uint sh, sw;
    int ph, pw;
    uint oh, ow;
    uint rows, chunk;
} p;

void main() {
    uint l = gl_GlobalInvocationID.y;
    uint r0 = min(p.rows, l * p.chunk), r1 = min(p.rows, r0 + p.chunk);
    // The output position of row r0.
    uint q = r0 / p.ow;
    uint ox0 = r0 - q * p.ow, oy0 = q % p.oh, img0 = q / p.oh;
    for (uint j = gl_GlobalInvocationID.x; j < p.c; j += gl_NumWorkGroups.x * CW) {
        float s[KH * KW];
        for (uint t = 0u; t < KH * KW; t++) {
            s[t] = 0.0;
        }
        uint ox = ox0, oy = oy0, img = img0;
        int iy = int(oy * p.sh) - p.ph, ix = int(ox * p.sw) - p.pw;  // input of tap (0, 0)
        for (uint r = r0; r < r1; r++) {
            float g = dy(r * p.c + j);
            for (uint ky = 0u; ky < KH; ky++) {
                int y = iy + int(ky);
                uint row = (img * p.h + uint(y)) * p.w;
                for (uint kx = 0u; kx < KW; kx++) {
                    int xx = ix + int(kx);
                    if (uint(y) < p.h && uint(xx) < p.w) {
                        precise float v = s[ky * KW + kx] + g * x((row + uint(xx)) * p.c + j);
                        s[ky * KW + kx] = v;
                    }
                }
            }
            ox++;
            ix += int(p.sw);
            if (ox == p.ow) {
                ox = 0u;
                ix = -p.pw;
                oy++;
                iy += int(p.sh);
                if (oy == p.oh) {
                    oy = 0u;
                    iy = -p.ph;
                    img++;
                }
            }
        }
        uint base = PART ? l * p.c * KH * KW : 0u;
        for (uint t = 0u; t < KH * KW; t++) {
            dw[base + j * KH * KW + t] = s[t];
        }
    }
}
