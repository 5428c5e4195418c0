// q_common.glsl: helpers shared by the q_*.comp kernels of package nn/vk.
//
// Q8 code tensors come in three formats (a specialization constant of each kernel):
//   0  unsigned codes packed four per uint (byte j of a word = code 4w+j), rows padded with 0
//   1  signed codes, packed the same way
//   2  one int per code (codes of both signs)

const uint Q8_U8 = 0u;
const uint Q8_S8 = 1u;
const uint Q8_WIDE = 2u;

// q8byte returns code j (0..3) of a packed word in format fmt (0 or 1).
int q8byte(uint word, uint j, uint fmt) {
    if (fmt == Q8_S8) {
        return bitfieldExtract(int(word), int(8u * j), 8);
    }
    return int(bitfieldExtract(word, int(8u * j), 8));
}

// q8word returns the four codes of a packed word in format fmt (0 or 1).
ivec4 q8word(uint word, uint fmt) {
    if (fmt == Q8_S8) {
        int w = int(word);
        return ivec4(bitfieldExtract(w, 0, 8), bitfieldExtract(w, 8, 8), bitfieldExtract(w, 16, 8), bitfieldExtract(w, 24, 8));
    }
    return ivec4(bitfieldExtract(word, 0, 8), bitfieldExtract(word, 8, 8), bitfieldExtract(word, 16, 8), bitfieldExtract(word, 24, 8));
}

// roundAway rounds half away from zero (Go's math.Round) exactly: q - trunc(q) is exact.
float roundAway(float q) {
    precise float r = trunc(q);
    precise float f = q - r;
    if (abs(f) >= 0.5) {
        r = r + (q > 0.0 ? 1.0 : -1.0);
    }
    return r;
}

// f32less orders floats with -0 below +0 (Go's min and max).
bool f32less(float a, float b) {
    return a < b || (a == b && floatBitsToUint(a) > floatBitsToUint(b));
}

// f32key maps a float to an int whose signed order is f32less's (-0 below +0) for
// non-NaN values: integer min and max, without branches. f32unkey is its inverse.
int f32key(float v) {
    int k = floatBitsToInt(v);
    return k < 0 ? k ^ 0x7fffffff : k;
}

float f32unkey(int k) {
    return intBitsToFloat(k < 0 ? k ^ 0x7fffffff : k);
}

// qdiv returns n / d exactly for n < 2^30 and 0 < d < 2^30 without an integer division
// (which CPU drivers such as lavapipe turn into one scalar division per SIMD lane): a float
// estimate (off by at most n*2^-23/d + 1), a second one from its remainder (off by at most
// 1), and a last correction.
uint qdiv(uint n, uint d) {
    float fd = float(d);
    int q = int(float(n) / fd);
    int r = int(n) - q * int(d);
    q += int(floor(float(r) / fd));
    r = int(n) - q * int(d);
    q += r < 0 ? -1 : (r >= int(d) ? 1 : 0);
    return uint(q);
}
