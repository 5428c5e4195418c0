package quant

import (
	"math/rand/v2"
	"testing"
)

func TestPackGolden(t *testing.T) {
	dst := make([]uint32, 2)
	Pack4(dst, []int32{1, 2, 3, 4, 5}, 0)
	if dst[0] != 0x04030201 || dst[1] != 0x00000005 {
		t.Errorf("unsigned: %08x %08x", dst[0], dst[1])
	}
	Pack4(dst, []int32{-1, -127, 127, 0, -2, 3}, -128)
	if dst[0] != 0x007F81FF || dst[1] != 0x808003FE {
		t.Errorf("signed with pad: %08x %08x", dst[0], dst[1])
	}
	Pack4(dst[:1], []int32{255, 128, 0}, 200)
	if dst[0] != 0xC80080FF {
		t.Errorf("unsigned high codes with pad: %08x", dst[0])
	}
	for n, want := range map[int]int{0: 0, 1: 1, 3: 1, 4: 1, 5: 2, 8: 2, 9: 3, -1: 0} {
		if got := PackedLen(n); got != want {
			t.Errorf("PackedLen(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestPackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, s := range allSchemes() {
		qmin, qmax := s.Range()
		for n := 0; n <= 21; n++ {
			q := make([]int32, n)
			for i := range q {
				q[i] = qmin + r.Int32N(qmax-qmin+1)
			}
			pad := qmin + r.Int32N(qmax-qmin+1)
			words := make([]uint32, PackedLen(n))
			Pack4(words, q, pad)
			got := make([]int32, n)
			Unpack4(got, words, s.Signed)
			for i := range q {
				if got[i] != q[i] {
					t.Fatalf("%v n=%d: element %d unpacks to %d, want %d", s, n, i, got[i], q[i])
				}
			}
			// Pad bytes: unpacking the whole last word shows the pad code.
			if n%4 != 0 {
				all := make([]int32, 4*len(words))
				Unpack4(all, words, s.Signed)
				for i := n; i < len(all); i++ {
					if all[i] != pad {
						t.Fatalf("%v n=%d: pad byte %d = %d, want %d", s, n, i, all[i], pad)
					}
				}
			}
		}
	}
}

func TestPackPanics(t *testing.T) {
	if !panics(func() { Pack4(make([]uint32, 1), make([]int32, 5), 0) }) {
		t.Error("Pack4 accepted a short dst")
	}
	if !panics(func() { Pack4(make([]uint32, 3), make([]int32, 5), 0) }) {
		t.Error("Pack4 accepted a long dst")
	}
	if !panics(func() { Unpack4(make([]int32, 5), make([]uint32, 1), true) }) {
		t.Error("Unpack4 accepted a short src")
	}
}
