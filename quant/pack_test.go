package quant

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

func TestPackGolden(t *testing.T) {
	dst := make([]uint32, 2)
	Pack4(dst, []int32{1, 2, 3, 4, 5}, 5)
	if dst[0] != 0x04030201 || dst[1] != 0x00000005 {
		t.Errorf("unsigned: %08x %08x", dst[0], dst[1])
	}
	Pack4(dst, []int32{-1, -127, 127, 0, -2, 3}, 6)
	if dst[0] != 0x007F81FF || dst[1] != 0x000003FE {
		t.Errorf("signed: %08x %08x", dst[0], dst[1])
	}
	Pack4(dst[:1], []int32{255, 128, 0}, 3)
	if dst[0] != 0x000080FF {
		t.Errorf("unsigned high codes: %08x", dst[0])
	}
	// Two rows of 5: each row starts on a word and is padded with code 0.
	dst = make([]uint32, 4)
	Pack4(dst, []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, -1}, 5)
	if want := []uint32{0x04030201, 0x00000005, 0x09080706, 0x000000FF}; !equalWords(dst, want) {
		t.Errorf("rows of 5: %08x, want %08x", dst, want)
	}
	// Rows of 3 take one word each, not 3/4 of a word.
	dst = dst[:3]
	Pack4(dst, []int32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 3)
	if want := []uint32{0x00030201, 0x00060504, 0x00090807}; !equalWords(dst, want) {
		t.Errorf("rows of 3: %08x, want %08x", dst, want)
	}
	for _, c := range []struct{ n, cols, want int }{
		{0, 0, 0}, {0, 3, 0}, {-1, 5, 0}, {1, 1, 1}, {3, 3, 1}, {4, 4, 1}, {5, 5, 2}, {8, 8, 2}, {9, 9, 3},
		{6, 3, 2}, {10, 5, 4}, {12, 4, 3}, {12, 1, 12}, {64, 9, -1},
	} {
		if c.want < 0 {
			if !panics(func() { PackedLen(c.n, c.cols) }) {
				t.Errorf("PackedLen(%d, %d) accepted a partial row", c.n, c.cols)
			}
			continue
		}
		if got := PackedLen(c.n, c.cols); got != c.want {
			t.Errorf("PackedLen(%d, %d) = %d, want %d", c.n, c.cols, got, c.want)
		}
	}
	for cols, want := range map[int]int{-1: 0, 0: 0, 1: 1, 4: 1, 5: 2, 9: 3} {
		if got := RowWords(cols); got != want {
			t.Errorf("RowWords(%d) = %d, want %d", cols, got, want)
		}
	}
}

func equalWords(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// rowPaddedBytes is the documented layout as bytes (the form the Vulkan
// backend uploads): row r at byte r·4·RowWords(cols), code j at byte j of
// the row, zero bytes after the row's last code.
func rowPaddedBytes(q []int32, cols int) []byte {
	rb := 4 * RowWords(cols)
	out := make([]byte, len(q)/cols*rb)
	for i, v := range q {
		out[i/cols*rb+i%cols] = byte(v)
	}
	return out
}

// TestPackLayout checks Pack4 against the documented byte layout (each row
// padded with code 0 to a whole word, words little endian) for every row
// length up to 13, and that Unpack4 reverses it.
func TestPackLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, s := range allSchemes() {
		qmin, qmax := s.Range()
		for cols := 1; cols <= 13; cols++ {
			for rows := 0; rows <= 4; rows++ {
				q := make([]int32, rows*cols)
				for i := range q {
					q[i] = qmin + r.Int32N(qmax-qmin+1)
				}
				words := make([]uint32, PackedLen(len(q), cols))
				for i := range words {
					words[i] = r.Uint32() // Pack4 must overwrite every word
				}
				Pack4(words, q, cols)
				raw := make([]byte, 4*len(words))
				for i, w := range words {
					binary.LittleEndian.PutUint32(raw[4*i:], w)
				}
				want := rowPaddedBytes(q, cols)
				if string(raw) != string(want) {
					t.Fatalf("%v rows %d cols %d: bytes % x, want % x", s, rows, cols, raw, want)
				}
				got := make([]int32, len(q))
				Unpack4(got, words, cols, s.Signed)
				for i := range q {
					if got[i] != q[i] {
						t.Fatalf("%v rows %d cols %d: element %d unpacks to %d, want %d", s, rows, cols, i, got[i], q[i])
					}
				}
			}
		}
	}
}

func TestPackPanics(t *testing.T) {
	if !panics(func() { Pack4(make([]uint32, 1), make([]int32, 5), 5) }) {
		t.Error("Pack4 accepted a short dst")
	}
	if !panics(func() { Pack4(make([]uint32, 3), make([]int32, 5), 5) }) {
		t.Error("Pack4 accepted a long dst")
	}
	if !panics(func() { Pack4(make([]uint32, 2), make([]int32, 6), 4) }) {
		t.Error("Pack4 accepted a partial row")
	}
	if !panics(func() { Pack4(make([]uint32, 2), make([]int32, 6), 0) }) {
		t.Error("Pack4 accepted cols 0")
	}
	if !panics(func() { Unpack4(make([]int32, 5), make([]uint32, 1), 5, true) }) {
		t.Error("Unpack4 accepted a short src")
	}
	if !panics(func() { Unpack4(make([]int32, 10), make([]uint32, 3), 5, true) }) {
		t.Error("Unpack4 accepted two rows of 5 in 3 words")
	}
	if panics(func() { Pack4(nil, nil, 0); Unpack4(nil, nil, 0, false) }) {
		t.Error("empty input panicked")
	}
}
