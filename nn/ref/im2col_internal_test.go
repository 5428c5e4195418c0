package ref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// im2colNaive is the im2col matrix's definition, element by element.
func im2colNaive(g backend.ConvGeom, x []float32, pad float32) []float32 {
	oh, ow := g.Out()
	k := g.K()
	out := make([]float32, g.Rows()*k)
	for r := range g.Rows() {
		n, oy, ox := r/(oh*ow), r/ow%oh, r%ow
		for kh := range g.KH {
			for kw := range g.KW {
				for c := range g.C {
					iy, ix := oy*g.StrideH-g.PadH+kh, ox*g.StrideW-g.PadW+kw
					v := pad
					if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
						v = x[((n*g.H+iy)*g.W+ix)*g.C+c]
					}
					out[r*k+(kh*g.KW+kw)*g.C+c] = v
				}
			}
		}
	}
	return out
}

// TestIm2colRanges checks im2col (5x5 one-channel filters, whose windows
// inside the image go through the run fast path, and others) on random
// geometries and row ranges against the definition, bit for bit, and that
// nothing past the range's rows is written.
func TestIm2colRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for range 400 {
		g := backend.ConvGeom{N: 1 + rng.IntN(3), H: 5 + rng.IntN(8), W: 5 + rng.IntN(8), C: 1,
			KH: 5, KW: 5, StrideH: 1 + rng.IntN(2), StrideW: 1 + rng.IntN(3), PadH: rng.IntN(3), PadW: rng.IntN(3)}
		if rng.IntN(4) == 0 {
			g.KH, g.KW, g.C = 1+rng.IntN(5), 1+rng.IntN(5), 1+rng.IntN(3)
		}
		if g.Validate() != nil {
			continue
		}
		x := make([]float32, g.N*g.H*g.W*g.C)
		for i := range x {
			x[i] = math.Float32frombits(rng.Uint32())
		}
		pad := float32(rng.NormFloat64())
		want := im2colNaive(g, x, pad)
		k, rows := g.K(), g.Rows()
		lo := rng.IntN(rows)
		hi := lo + rng.IntN(rows-lo+1)
		got := make([]float32, (hi-lo+1)*k)
		for i := range got {
			got[i] = math.Float32frombits(0x7fa5a5a5)
		}
		im2col(got, k, x, g, pad, lo, hi)
		for i := range got {
			w := uint32(0x7fa5a5a5)
			if i < (hi-lo)*k {
				w = math.Float32bits(want[lo*k+i])
			}
			if math.Float32bits(got[i]) != w {
				t.Fatalf("%+v rows [%d, %d): element %d = %#x, want %#x", g, lo, hi, i, math.Float32bits(got[i]), w)
			}
		}
	}
}
