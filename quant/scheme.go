package quant

import (
	"errors"
	"fmt"
)

// MinBits and MaxBits bound the bit widths a Scheme may use.
const (
	MinBits = 2
	MaxBits = 8
)

// ErrScheme is wrapped by the errors that report an invalid Scheme.
var ErrScheme = errors.New("quant: invalid scheme")

// Scheme is an integer code format: a bit width in [MinBits, MaxBits] and a
// signedness. Signed schemes use the symmetric range [-(2^(b-1)-1), 2^(b-1)-1]
// (the most negative two's-complement code is never produced, so the range
// is symmetric about 0); unsigned schemes use [0, 2^b-1].
//
// A Scheme is plain data; construct it with Weights, Activations or a
// literal and check it with Validate. Functions without an error result
// (Range, Quantize, FromMinMax, ...) panic on an invalid Scheme: passing one
// is a programmer error.
type Scheme struct {
	// Bits is the code width in bits, MinBits..MaxBits.
	Bits int
	// Signed selects the symmetric signed range instead of [0, 2^Bits-1].
	Signed bool
}

// Weights returns the signed scheme of the given width, the usual choice for
// weights.
func Weights(bits int) Scheme { return Scheme{Bits: bits, Signed: true} }

// Activations returns the unsigned scheme of the given width, the usual
// choice for (post-ReLU) activations.
func Activations(bits int) Scheme { return Scheme{Bits: bits, Signed: false} }

// Validate reports whether the bit width is within [MinBits, MaxBits].
// The returned error wraps ErrScheme.
func (s Scheme) Validate() error {
	if s.Bits < MinBits || s.Bits > MaxBits {
		return fmt.Errorf("%w: %d bits, want %d..%d", ErrScheme, s.Bits, MinBits, MaxBits)
	}
	return nil
}

// Range returns the inclusive code range of the scheme:
// signed [-(2^(b-1)-1), 2^(b-1)-1] (e.g. [-127, 127] at 8 bits),
// unsigned [0, 2^b-1] (e.g. [0, 255] at 8 bits).
// It panics if the scheme is invalid (see Validate).
func (s Scheme) Range() (qmin, qmax int32) {
	if err := s.Validate(); err != nil {
		panic(err.Error())
	}
	if s.Signed {
		m := int32(1)<<(s.Bits-1) - 1
		return -m, m
	}
	return 0, int32(1)<<s.Bits - 1
}

// Levels returns the number of codes in the range, qmax-qmin+1.
// It panics if the scheme is invalid.
func (s Scheme) Levels() int {
	lo, hi := s.Range()
	return int(hi-lo) + 1
}

// String returns "int<b>" for signed and "uint<b>" for unsigned schemes,
// e.g. "int8" or "uint4".
func (s Scheme) String() string {
	if s.Signed {
		return fmt.Sprintf("int%d", s.Bits)
	}
	return fmt.Sprintf("uint%d", s.Bits)
}
