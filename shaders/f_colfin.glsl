// f_colfin.glsl: the second pass of the per-channel reductions (see f_colpart.glsl): one
// invocation per column j adds the partial sums part(base + l*C + j) over the row lanes l in
// order. part is an input declared with io.glsl's IN_F32 (a function), so the kernel reads
// it through a texel buffer in its texel build. Specialization: 0 = workgroup size.
layout(local_size_x_id = 0) in;

#define COLFIN_SUM(part, base, lanes, c, j, out_)  \
    {                                              \
        float s_ = 0.0;                            \
        for (uint l_ = 0u; l_ < (lanes); l_++) {   \
            s_ += part((base) + l_ * (c) + (j));   \
        }                                          \
        out_ = s_;                                 \
    }
