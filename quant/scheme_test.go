package quant

import (
	"errors"
	"testing"
)

func TestSchemeRange(t *testing.T) {
	cases := []struct {
		s          Scheme
		qmin, qmax int32
		name       string
	}{
		{Weights(8), -127, 127, "int8"},
		{Weights(4), -7, 7, "int4"},
		{Weights(2), -1, 1, "int2"},
		{Activations(8), 0, 255, "uint8"},
		{Activations(4), 0, 15, "uint4"},
		{Activations(2), 0, 3, "uint2"},
	}
	for _, c := range cases {
		if err := c.s.Validate(); err != nil {
			t.Errorf("%v: Validate: %v", c.s, err)
		}
		lo, hi := c.s.Range()
		if lo != c.qmin || hi != c.qmax {
			t.Errorf("%v: Range = [%d, %d], want [%d, %d]", c.s, lo, hi, c.qmin, c.qmax)
		}
		if c.s.String() != c.name {
			t.Errorf("String = %q, want %q", c.s.String(), c.name)
		}
		if got := c.s.Levels(); got != int(c.qmax-c.qmin)+1 {
			t.Errorf("%v: Levels = %d", c.s, got)
		}
	}
}

func TestSchemeValidate(t *testing.T) {
	for _, bits := range []int{-1, 0, 1, 9, 16, 32} {
		for _, s := range []Scheme{Weights(bits), Activations(bits)} {
			err := s.Validate()
			if !errors.Is(err, ErrScheme) {
				t.Errorf("%d bits: Validate = %v, want ErrScheme", bits, err)
			}
			if !panics(func() { s.Range() }) {
				t.Errorf("%d bits: Range did not panic", bits)
			}
		}
	}
}

// panics reports whether f panics.
func panics(f func()) (p bool) {
	defer func() { p = recover() != nil }()
	f()
	return false
}

// allSchemes lists every valid scheme.
func allSchemes() []Scheme {
	var ss []Scheme
	for b := MinBits; b <= MaxBits; b++ {
		ss = append(ss, Weights(b), Activations(b))
	}
	return ss
}
