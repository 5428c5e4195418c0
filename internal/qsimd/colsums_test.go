package qsimd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// colValues returns n values: normal ones at a few scales, with specials
// (NaNs, ±Inf, ±0, subnormals, huge values) at rate p.
func colValues(rng *rand.Rand, n int, p float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch {
		case rng.Float64() < p:
			if rng.IntN(4) == 0 {
				x[i] = f32(rng.Uint32())
			} else {
				x[i] = specials[rng.IntN(len(specials))]
			}
		case rng.IntN(10) == 0:
			x[i] = float32(rng.NormFloat64() * 1e-39) // subnormal
		default:
			x[i] = float32(rng.NormFloat64() * []float64{1e-3, 1, 30, 1e6}[rng.IntN(4)])
		}
	}
	return x
}

// sameBits reports whether a and b have the same bits, or are both NaNs
// (the payload of a NaN made of two NaNs depends on the operand order the
// Go compiler picks for the generic code; see "NaN payloads" in doc.go).
func sameBits(a, b float32) bool {
	if a != a && b != b {
		if math.Float32bits(a) != math.Float32bits(b) {
			nanPayloads++
		}
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

// nanPayloads counts the NaN results whose payload differed.
var nanPayloads int

// colCase is one call of every column sum on one matrix shape and range.
type colCase struct {
	rows, cols, clo, chi     int
	x, y, h, add, beta, mean []float32
}

// colOps runs the six column sums of c (through the exported functions,
// whatever kernel is active) and returns their outputs, each in a buffer
// of cols+guard sentinels but [clo, chi).
func colOps(c colCase) [][]float32 {
	var outs [][]float32
	out := func() []float32 {
		b := sentinelF(c.cols, 0)
		outs = append(outs, b)
		return b
	}
	ColSums(out(), c.x, c.cols, c.clo, c.chi)
	ColSumsProd(out(), c.x, c.y, c.cols, c.clo, c.chi)
	ColSumsSqDev(out(), c.x, c.mean, c.cols, c.clo, c.chi)
	ColSumsComp(out(), c.x, c.add, c.beta, nil, c.cols, c.clo, c.chi)
	ColSumsComp(out(), c.x, c.add, c.beta, c.mean, c.cols, c.clo, c.chi)
	ColSumsMasked(out(), out(), c.x, c.h, c.y, c.cols, c.clo, c.chi)
	return outs
}

var colOpNames = []string{"ColSums", "ColSumsProd", "ColSumsSqDev", "ColSumsComp", "ColSumsComp(mean)", "ColSumsMasked.db", "ColSumsMasked.dg"}

func randColCase(rng *rand.Rand) colCase {
	cols := []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 64}[rng.IntN(16)]
	rows := []int{0, 1, 2, 3, 7, 64, 300}[rng.IntN(7)]
	clo := rng.IntN(cols + 1)
	chi := clo + rng.IntN(cols-clo+1)
	if rng.IntN(3) == 0 {
		clo, chi = 0, cols
	}
	p := []float64{0, 0, 0.002, 0.02, 0.3}[rng.IntN(5)]
	n := rows * cols
	extra := rng.IntN(cols) // a partial row past the matrix: ignored
	c := colCase{rows: rows, cols: cols, clo: clo, chi: chi,
		x: colValues(rng, n+extra, p), y: colValues(rng, n, p), h: colValues(rng, n, p),
		add: colValues(rng, cols, p), beta: colValues(rng, cols, p), mean: colValues(rng, cols, p)}
	if rng.IntN(2) == 0 { // y as a ReLU's input sign pattern: about half positive
		for i := range c.y {
			if rng.IntN(2) == 0 {
				c.y[i] = -c.y[i]
			}
		}
	}
	return c
}

func TestColSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range trials() {
		c := randColCase(rng)
		var want [][]float32
		withKernel(genericKernel, func() { want = colOps(c) })
		for _, k := range asmKernels(t) {
			var got [][]float32
			withKernel(k, func() { got = colOps(c) })
			for o := range want {
				for i := range want[o] {
					if !sameBits(got[o][i], want[o][i]) {
						t.Fatalf("trial %d: %s %s rows=%d cols=%d [%d, %d): [%d] = %v (%#x), want %v (%#x)",
							trial, k.name, colOpNames[o], c.rows, c.cols, c.clo, c.chi, i,
							got[o][i], math.Float32bits(got[o][i]), want[o][i], math.Float32bits(want[o][i]))
					}
				}
				checkGuardsF(t, k.name+" "+colOpNames[o], got[o], c.clo, c.chi-c.clo)
			}
		}
	}
}

// TestColSumsSpecials sums columns that each hold one pair of specials
// (every pair of specials in one row or another), so that NaN payloads,
// Inf - Inf, signed zeros and subnormals reach every lane.
func TestColSumsSpecials(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const cols = 16
	for _, rows := range []int{1, 2, 3} {
		for trial := range 400 {
			n := rows * cols
			pick := func(k int) []float32 {
				v := make([]float32, k)
				for i := range v {
					v[i] = specials[rng.IntN(len(specials))]
				}
				return v
			}
			c := colCase{rows: rows, cols: cols, clo: 0, chi: cols, x: pick(n), y: pick(n), h: pick(n),
				add: pick(cols), beta: pick(cols), mean: pick(cols)}
			if trial%2 == 1 {
				c.clo, c.chi = 3, 11
			}
			var want [][]float32
			withKernel(genericKernel, func() { want = colOps(c) })
			for _, k := range asmKernels(t) {
				var got [][]float32
				withKernel(k, func() { got = colOps(c) })
				for o := range want {
					for i := range want[o] {
						if !sameBits(got[o][i], want[o][i]) {
							t.Fatalf("%s %s rows=%d [%d]: %#x, want %#x (x %v)", k.name, colOpNames[o], rows, i,
								math.Float32bits(got[o][i]), math.Float32bits(want[o][i]), c.x)
						}
					}
				}
			}
		}
	}
}

// TestColSumsGenericIsSpec holds the generic column sums to the
// definitions: one column at a time, one float32 chain over the rows.
func TestColSumsGenericIsSpec(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 300 {
		c := randColCase(rng)
		var got [][]float32
		withKernel(genericKernel, func() { got = colOps(c) })
		for col := c.clo; col < c.chi; col++ {
			var s [7]float32
			for r := range c.rows {
				i := r*c.cols + col
				x := c.x[i]
				s[0] += x
				s[1] += float32(x * c.y[i])
				d := x - c.mean[col]
				s[2] += float32(d * d)
				yc := (x + c.add[col]) + c.beta[col]
				s[3] += yc
				d = yc - c.mean[col]
				s[4] += float32(d * d)
				m := x
				if !(c.y[i] > 0) {
					m = 0
				}
				s[5] += m
				s[6] += float32(m * c.h[i])
			}
			for o := range s {
				if !sameBits(got[o][col], s[o]) && !(got[o][col] != got[o][col] && s[o] != s[o]) {
					t.Fatalf("generic %s column %d = %v, definition %v", colOpNames[o], col, got[o][col], s[o])
				}
			}
		}
	}
	for _, y := range specials {
		want := float32(0)
		if y > 0 {
			want = 1
		}
		if got := Masked(1, y); got != want {
			t.Fatalf("Masked(1, %v (%#x)) = %v, want %v", y, math.Float32bits(y), got, want)
		}
	}
}

func TestColSumsNaNPayloads(t *testing.T) {
	t.Logf("%d NaN sums whose payload differed from the generic code's (two NaNs met; kernels and the definitions)", nanPayloads)
}

func TestColSumsNoAllocs(t *testing.T) {
	const rows, cols = 50, 21
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(i%97) - 40
	}
	a, b := make([]float32, cols), make([]float32, cols)
	if n := testing.AllocsPerRun(5, func() {
		ColSums(a, x, cols, 0, cols)
		ColSumsProd(a, x, x, cols, 2, cols)
		ColSumsSqDev(a, x, b, cols, 0, 17)
		ColSumsComp(a, x, b, b, nil, cols, 0, cols)
		ColSumsComp(a, x, b, b, a, cols, 0, cols)
		ColSumsMasked(a, b, x, x, x, cols, 0, cols)
	}); n != 0 {
		t.Errorf("%s: %v allocations per call of the column sums, want 0", Kernel(), n)
	}
}

func BenchmarkColSums(b *testing.B) {
	const rows, cols = 36864, 16 // the batch norm of a 16-channel 24x24 conv, batch 64
	rng := rand.New(rand.NewPCG(1, 1))
	c := colCase{rows: rows, cols: cols, x: colValues(rng, rows*cols, 0), y: colValues(rng, rows*cols, 0),
		h: colValues(rng, rows*cols, 0), add: colValues(rng, cols, 0), beta: colValues(rng, cols, 0), mean: colValues(rng, cols, 0)}
	db, dg := make([]float32, cols), make([]float32, cols)
	ops := []struct {
		name string
		f    func(lo, hi int)
	}{
		{"Sums", func(lo, hi int) { ColSums(db, c.x, cols, lo, hi) }},
		{"Prod", func(lo, hi int) { ColSumsProd(db, c.x, c.y, cols, lo, hi) }},
		{"CompSq", func(lo, hi int) { ColSumsComp(db, c.x, c.add, c.beta, c.mean, cols, lo, hi) }},
		{"Masked", func(lo, hi int) { ColSumsMasked(db, dg, c.x, c.h, c.y, cols, lo, hi) }},
	}
	for _, op := range ops {
		for _, r := range [][2]int{{0, 16}, {0, 8}} {
			for _, k := range kernels {
				b.Run(fmt.Sprintf("%s/%d-%d/%s", op.name, r[0], r[1], k.name), func(b *testing.B) {
					withKernel(k, func() {
						for b.Loop() {
							op.f(r[0], r[1])
						}
					})
				})
			}
		}
	}
}
