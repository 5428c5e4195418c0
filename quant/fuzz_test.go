package quant

import (
	"math"
	"testing"
)

func FuzzPack(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5}, true, uint8(5))
	f.Add([]byte{}, false, uint8(0))
	f.Add([]byte{0x80, 0x7f, 0xff, 1, 2, 3}, true, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, signed bool, c uint8) {
		cols := 1 + int(c)%9
		data = data[:len(data)/cols*cols]
		q := make([]int32, len(data))
		for i, b := range data {
			if signed {
				q[i] = int32(int8(b))
			} else {
				q[i] = int32(b)
			}
		}
		words := make([]uint32, PackedLen(len(q), cols))
		Pack4(words, q, cols)
		// Read each row as whole words: the codes, then code 0 as padding.
		rw := RowWords(cols)
		all := make([]int32, len(words)*4)
		Unpack4(all, words, 4*rw, signed)
		for i := range all {
			r, j := i/(4*rw), i%(4*rw)
			want := int32(0)
			if j < cols {
				want = q[r*cols+j]
			}
			if all[i] != want {
				t.Fatalf("cols %d: row %d byte %d: %d, want %d", cols, r, j, all[i], want)
			}
		}
	})
}

func FuzzQuantize(f *testing.F) {
	f.Add(float32(0.3), float32(-1), float32(2), uint8(8), true)
	f.Add(float32(-5), float32(0), float32(0), uint8(2), false)
	f.Add(float32(1e30), float32(-1e-30), float32(1e-30), uint8(4), true)
	f.Fuzz(func(t *testing.T, x, lo, hi float32, bits uint8, signed bool) {
		s := Scheme{Bits: MinBits + int(bits)%(MaxBits-MinBits+1), Signed: signed}
		qmin, qmax := s.Range()
		for _, p := range []Params{FromMinMax(lo, hi, s), FromMinMaxSymmetric(lo, hi, s)} {
			if err := p.Validate(s); err != nil {
				t.Fatalf("FromMinMax(%v, %v, %v) = %+v: %v", lo, hi, s, p, err)
			}
			if QuantizeValue(0, p, s) != p.Zero || DequantizeValue(p.Zero, p) != 0 {
				t.Fatalf("%+v: 0 not exact", p)
			}
			q := QuantizeValue(x, p, s)
			if q < qmin || q > qmax {
				t.Fatalf("code %d outside [%d, %d]", q, qmin, qmax)
			}
			if math.IsNaN(float64(x)) && q != p.Zero {
				t.Fatalf("NaN quantizes to %d, want Zero %d", q, p.Zero)
			}
			a, b := p.Representable(s)
			xh := DequantizeValue(q, p)
			if math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) || math.IsNaN(float64(x)) {
				continue
			}
			sc := float64(p.Scale)
			d := math.Abs(float64(x) - float64(xh))
			switch {
			case float64(x) < float64(a)-sc/2:
				if q != qmin {
					t.Fatalf("x=%v below range got %d", x, q)
				}
			case float64(x) > float64(b)+sc/2:
				if q != qmax {
					t.Fatalf("x=%v above range got %d", x, q)
				}
			case d > sc*(0.5+1e-4)+1e-6*math.Abs(float64(x)):
				t.Fatalf("x=%v params %+v %v: x̂=%v error %g > s/2", x, p, s, xh, d)
			}
		}
	})
}
