package quant

import "fmt"

// PackedLen returns the number of uint32 words that hold n one-byte codes:
// ceil(n/4). n < 0 gives 0.
func PackedLen(n int) int {
	if n <= 0 {
		return 0
	}
	return (n + 3) / 4
}

// Pack4 packs codes four to a uint32 word, the layout the GPU shaders read:
// element i goes to word i/4, byte i%4, with byte 0 in bits 0..7 (little
// endian). Each code is stored as its low 8 bits (two's complement for
// negative codes); codes outside [-128, 255] are truncated, so callers pass
// codes of a valid Scheme. Codes narrower than 8 bits still use a whole byte.
// The unused bytes of the last word are set to the low 8 bits of pad
// (callers pad with the zero point, so padding dequantizes to 0).
// len(dst) must equal PackedLen(len(q)); a mismatch panics (programmer error).
func Pack4(dst []uint32, q []int32, pad int32) {
	if len(dst) != PackedLen(len(q)) {
		panic(fmt.Sprintf("quant: Pack4: len(dst)=%d, want PackedLen(%d)=%d", len(dst), len(q), PackedLen(len(q))))
	}
	full := len(q) / 4
	for w := range full {
		c := q[4*w : 4*w+4 : 4*w+4]
		dst[w] = uint32(uint8(c[0])) | uint32(uint8(c[1]))<<8 | uint32(uint8(c[2]))<<16 | uint32(uint8(c[3]))<<24
	}
	if rest := len(q) - 4*full; rest > 0 {
		var word uint32
		for b := range 4 {
			v := pad
			if b < rest {
				v = q[4*full+b]
			}
			word |= uint32(uint8(v)) << (8 * b)
		}
		dst[full] = word
	}
}

// Unpack4 is the inverse of Pack4: it reads len(dst) codes from src, sign
// extending each byte when signed is true and zero extending it otherwise.
// Padding bytes beyond len(dst) are not read. len(src) must equal
// PackedLen(len(dst)); a mismatch panics (programmer error).
func Unpack4(dst []int32, src []uint32, signed bool) {
	if len(src) != PackedLen(len(dst)) {
		panic(fmt.Sprintf("quant: Unpack4: len(src)=%d, want PackedLen(%d)=%d", len(src), len(dst), PackedLen(len(dst))))
	}
	for i := range dst {
		b := uint8(src[i/4] >> (8 * (i % 4)))
		if signed {
			dst[i] = int32(int8(b))
		} else {
			dst[i] = int32(b)
		}
	}
}
