package quant

import "fmt"

// RowWords returns the number of uint32 words that hold one row of cols
// one-byte codes: ceil(cols/4). cols < 0 gives 0.
func RowWords(cols int) int {
	if cols <= 0 {
		return 0
	}
	return (cols + 3) / 4
}

// PackedLen returns the number of uint32 words that hold n codes in rows
// of cols codes, each row padded to a whole word: n/cols rows of
// RowWords(cols) words. n <= 0 gives 0; otherwise cols must be positive
// and divide n, or PackedLen panics (programmer error).
func PackedLen(n, cols int) int {
	if n <= 0 {
		return 0
	}
	if cols <= 0 || n%cols != 0 {
		panic(fmt.Sprintf("quant: PackedLen: %d codes do not make rows of %d", n, cols))
	}
	return n / cols * RowWords(cols)
}

// Pack4 packs the codes q, rows of cols codes, into dst in the layout of
// the package documentation: row r starts at word r·RowWords(cols); code j
// of the row goes to byte j%4 of the row's word j/4, byte 0 in bits 0..7
// (little endian), as its low 8 bits (two's complement for negative codes).
// The bytes after the last code of a row are 0 (code 0). Codes outside
// [-128, 255] are truncated, so callers pass codes of a valid Scheme;
// codes narrower than 8 bits still use a whole byte. cols must be positive
// and divide len(q) (unless q is empty), and len(dst) must equal
// PackedLen(len(q), cols); a mismatch panics (programmer error).
func Pack4(dst []uint32, q []int32, cols int) {
	if len(dst) != PackedLen(len(q), cols) {
		panic(fmt.Sprintf("quant: Pack4: len(dst)=%d, want PackedLen(%d, %d)=%d", len(dst), len(q), cols, PackedLen(len(q), cols)))
	}
	if len(q) == 0 {
		return
	}
	rw := RowWords(cols)
	full := cols / 4
	for r := range len(q) / cols {
		row, out := q[r*cols:(r+1)*cols], dst[r*rw:(r+1)*rw]
		for w := range full {
			c := row[4*w : 4*w+4 : 4*w+4]
			out[w] = uint32(uint8(c[0])) | uint32(uint8(c[1]))<<8 | uint32(uint8(c[2]))<<16 | uint32(uint8(c[3]))<<24
		}
		if full < rw {
			var word uint32
			for b, v := range row[4*full:] {
				word |= uint32(uint8(v)) << (8 * b)
			}
			out[full] = word
		}
	}
}

// Unpack4 is the inverse of Pack4: it reads len(dst) codes, rows of cols
// codes, from src, sign extending each byte when signed is true and zero
// extending it otherwise. Padding bytes are not read. cols must be
// positive and divide len(dst) (unless dst is empty), and len(src) must
// equal PackedLen(len(dst), cols); a mismatch panics (programmer error).
func Unpack4(dst []int32, src []uint32, cols int, signed bool) {
	if len(src) != PackedLen(len(dst), cols) {
		panic(fmt.Sprintf("quant: Unpack4: len(src)=%d, want PackedLen(%d, %d)=%d", len(src), len(dst), cols, PackedLen(len(dst), cols)))
	}
	if len(dst) == 0 {
		return
	}
	rw := RowWords(cols)
	for r := range len(dst) / cols {
		row, in := dst[r*cols:(r+1)*cols], src[r*rw:(r+1)*rw]
		for j := range row {
			b := uint8(in[j/4] >> (8 * (j % 4)))
			if signed {
				row[j] = int32(int8(b))
			} else {
				row[j] = int32(b)
			}
		}
	}
}
