package qsimd

import (
	"math/rand/v2"
	"testing"
)

// TestColSumsPageEnd runs the column sums on matrices that end where an
// inaccessible page begins: a kernel that loaded a whole vector past the
// last element of a block would fault.
func TestColSumsPageEnd(t *testing.T) {
	all := guardedFloats(t)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, cols := range []int{1, 3, 5, 8, 13, 17, 21} {
		rows := 7
		n := rows * cols
		// Five matrices of n elements, each ending at the guard page in
		// turn (the others before it).
		for end := range 5 {
			var m [5][]float32
			off := len(all) - n
			m[end] = all[off:]
			for i := range m {
				if i != end {
					off -= n
					m[i] = all[off : off+n]
				}
			}
			for i := range m {
				copy(m[i], colValues(rng, n, 0.01))
			}
			c := colCase{rows: rows, cols: cols, clo: 0, chi: cols, x: m[0], y: m[1], h: m[2],
				add: m[3][n-cols:], beta: m[4][n-cols:], mean: m[end][n-cols:]}
			var want [][]float32
			withKernel(genericKernel, func() { want = colOps(c) })
			for _, k := range asmKernels(t) {
				for _, lo := range []int{0, cols / 2, cols - 1} {
					c.clo = lo
					var got [][]float32
					withKernel(k, func() { got = colOps(c) })
					for o := range want {
						for i := lo; i < cols; i++ {
							if !sameBits(got[o][i], want[o][i]) {
								t.Fatalf("%s %s cols=%d [%d:]: [%d] = %v, want %v", k.name, colOpNames[o], cols, lo, i, got[o][i], want[o][i])
							}
						}
					}
				}
			}
		}
	}
}
