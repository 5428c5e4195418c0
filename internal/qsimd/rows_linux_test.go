package qsimd

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestRowsPageEnd runs the row passes with each operand in turn (inputs,
// per-column vectors and outputs) ending where an inaccessible page
// begins: a kernel that loaded or stored a whole vector past the last
// column of a row would fault.
func TestRowsPageEnd(t *testing.T) {
	all := guardedFloats(t)
	atEnd := func(v []float32) []float32 { return atPageEnd(all, v) }
	rng := rand.New(rand.NewPCG(31, 32))
	for _, cols := range []int{1, 3, 5, 8, 13, 16, 17, 21, 40} {
		const rows = 7
		n := rows * cols
		m := func() []float32 { return colValues(rng, n, 0.01) }
		v := func() []float32 { return colValues(rng, cols, 0.01) }
		// Each op: its operands, and the indices of its outputs.
		type op struct {
			name string
			args [][]float32
			outs []int
			run  func(a [][]float32)
		}
		ops := []op{
			{"BNApply", [][]float32{m(), m(), m(), v(), v(), v(), v(), v(), v()}, []int{0, 1}, func(a [][]float32) {
				BNApply(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], cols, 0, rows, true)
			}},
			{"BNApply(no add)", [][]float32{m(), m(), m(), v(), v(), v(), v()}, []int{0, 1}, func(a [][]float32) {
				BNApply(a[0], a[1], a[2], nil, nil, a[3], a[4], a[5], a[6], cols, 0, rows, false)
			}},
			{"RowAdd", [][]float32{m(), m(), v(), v()}, []int{0}, func(a [][]float32) {
				RowAdd(a[0], a[1], a[2], a[3], cols, 0, rows)
			}},
			{"BNGradDX", [][]float32{m(), m(), m(), m(), v(), v(), v()}, []int{0}, func(a [][]float32) {
				BNGradDX(a[0], a[1], a[2], a[3], a[4], a[5], a[6], 7, cols, 0, rows)
			}},
			{"BNGradDX(no mask)", [][]float32{m(), m(), m(), v(), v(), v()}, []int{0}, func(a [][]float32) {
				BNGradDX(a[0], a[1], a[2], nil, a[3], a[4], a[5], 7, cols, 0, rows)
			}},
			// 3x4 images, stride 1: 2x3 windows each; arg as float32 bits.
			{"MaxPool2", [][]float32{make([]float32, 2*6*cols), make([]float32, 2*6*cols), poolValues(rng, 2*12*cols, 0.02)}, []int{0, 1},
				func(a [][]float32) {
					MaxPool2(a[0], unsafe.Slice((*int32)(unsafe.Pointer(&a[1][0])), len(a[1])), a[2], 3, 4, cols, 1, 0, 4)
				}},
		}
		for _, o := range ops {
			clone := func() [][]float32 {
				c := make([][]float32, len(o.args))
				for i, a := range o.args {
					c[i] = append([]float32(nil), a...)
				}
				return c
			}
			want := clone()
			withKernel(genericKernel, func() { o.run(want) })
			for _, k := range asmKernels(t) {
				for end := range o.args {
					got := clone()
					got[end] = atEnd(got[end])
					withKernel(k, func() { o.run(got) })
					for _, oi := range o.outs {
						for i := range want[oi] {
							if !sameBits(got[oi][i], want[oi][i]) {
								t.Fatalf("%s %s cols=%d operand %d at the page end: output %d [%d] = %#x, want %#x",
									k.name, o.name, cols, end, oi, i, math.Float32bits(got[oi][i]), math.Float32bits(want[oi][i]))
							}
						}
					}
				}
			}
		}
	}
}
