// f_bnhat.glsl: the batch norm's normalised value xhat of one element and the sign of its
// output, as the forward pass (f_bn_apply, f_bn_apply2) computes them, shared with the
// backward kernels that recompute xhat and the ReLU mask from the batch norm's input
// instead of reading them (RECOMP, FusedCompBN.CompBNGradFromX): the same operations with
// the same roundings (every step `precise`, no contraction), so the recomputed values are
// the stored ones bit for bit.
//
// The including kernel declares the specialization constant COMP and, read through
// io.glsl, the per-channel inputs mean, invstd, gamma, beta, cgamma, cbeta and cmean
// (the last three read only with COMP) before including this file.

// BNC holds the constants of one channel: the compensation's term kg = cgamma*cmean and
// kb = cbeta (COMP), the batch norm's mean m, inverse standard deviation s, gamma g and
// beta b.
struct BNC {
    float kg, kb, m, s, g, b;
};

// bnConsts returns the constants of channel j.
BNC bnConsts(uint j) {
    BNC c;
    c.m = mean(j);
    c.s = invstd(j);
    c.g = gamma(j);
    c.b = beta(j);
    c.kg = 0.0;
    c.kb = 0.0;
    if (COMP) {
        precise float g = cgamma(j) * cmean(j);
        c.kg = g;
        c.kb = cbeta(j);
    }
    return c;
}

// bnHat returns xhat of the input value xv: ((xv + kg) + kb - m)*s with COMP (the
// compensated value, f_comp_apply's roundings), else (xv - m)*s.
float bnHat(float xv, BNC c) {
    if (COMP) {
        precise float s = xv + c.kg;
        precise float t = s + c.kb;
        xv = t;
    }
    precise float h = (xv - c.m) * c.s;
    return h;
}

// bnOut returns the batch norm's output g*h + b for xhat h (before any ReLU).
float bnOut(float h, BNC c) {
    precise float g = c.g * h;
    precise float v = g + c.b;
    return v;
}
