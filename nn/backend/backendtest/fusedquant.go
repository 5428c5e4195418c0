package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// fusedQuantize returns b's FusedQuantize ability, failing the test when
// b lacks it (the ability's ops are declared, so a backend of this
// project must have them).
func fusedQuantize(t *testing.T, b backend.Backend) backend.FusedQuantize {
	t.Helper()
	f, ok := b.(backend.FusedQuantize)
	if !ok {
		t.Fatalf("%s (%T) lacks backend.FusedQuantize, whose ops the contract declares", b.Name(), b)
	}
	return f
}

// fusedQuantSpecs are the per-tensor specs of TestFusedQuantize: unsigned
// 8-bit (the activations'), 4-bit, signed 8-bit over the full range, and
// a range with both signs beyond 8 bits (codes that a packing backend
// stores one per word).
func fusedQuantSpecs() []codeRange {
	return []codeRange{{"u8", 0, 255}, {"u4", 0, 15}, {"s8full", -128, 127}, {"mixed", -100, 200}}
}

// TestFusedQuantize checks the FusedQuantize ops on the backend under
// test against the compositions they replace, run on the reference:
// MinMax then Quantize (QuantizeMinMax); MaxPool, MinMax and Quantize of
// its output (MaxPoolQuant); ReLU, MinMax and Quantize (ReLUQuant), with
// the codes written into tensors of the quantized tensor's shape and of
// other shapes (a consumer's matrix). Every output is exact (copies,
// order-free min/max, integer codes), so all are compared bit for bit;
// the inputs hold NaN, infinities and signed zeros, so the statistics'
// non-finite counts and the codes of special values are checked too.
func TestFusedQuantize(t *testing.T, b backend.Backend) {
	f := fusedQuantize(t, b)
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1e-40}
	// data returns n values across p's code range (and beyond it), the
	// special values at spread positions when sp.
	data := func(e *env, n int, p backend.QuantSpec, sp bool) []float32 {
		x := e.quantInput(n, p, n, false)
		if sp {
			for i, v := range special {
				x[(i*7919+3)%n] = v
			}
		}
		return x
	}
	// QuantizeMinMax: x's shape, and q of other shapes.
	for i, c := range []struct{ x, q []int }{
		{[]int{1}, []int{1}},
		{[]int{37, 11}, []int{37, 11}},
		{[]int{2, 6, 6, 3}, []int{2, 108}},
		{[]int{5, 3, 3, 2}, []int{5, 3, 3, 2}},
		{[]int{16, 28, 28, 1}, []int{16, 28, 28, 1}},
		{[]int{3, 1000}, []int{3, 1000}},
		{[]int{70001}, []int{70001}},
		{[]int{64, 1152}, []int{64, 1152}},
	} {
		r := fusedQuantSpecs()[i%4]
		t.Run(fmt.Sprintf("QuantizeMinMax/%v/q%v/%s", c.x, c.q, r.name), func(t *testing.T) {
			e := newEnv(t, b)
			p := e.spec(r, 1, "rand")
			x := e.inF32("x", data(e, shapeLen(c.x), p, i%2 == 0), c.x...)
			q := e.out("q", backend.Q8, c.q...)
			st := e.out("stats", backend.F32, 3)
			e.run(func(b backend.Backend, s int) {
				if s == under {
					f.QuantizeMinMax(q.t[s], st.t[s], x.t[s], p)
					return
				}
				b.MinMax(st.t[s], x.t[s])
				b.Quantize(q.t[s], e.view(b, x.t[s], c.q), p)
			})
			e.exactF32(st)
			e.exactI32(q)
		})
	}
	// MaxPoolQuant: codes in y's shape and as the matrix [N, OH·OW·C] of
	// the fc layer that reads them.
	for i, g := range []backend.PoolGeom{
		{N: 1, H: 4, W: 4, C: 1, Size: 2, Stride: 2},
		{N: 2, H: 7, W: 6, C: 3, Size: 3, Stride: 2},
		{N: 3, H: 9, W: 8, C: 5, Size: 2, Stride: 1},
		{N: 2, H: 5, W: 7, C: 3, Size: 2, Stride: 2},
		{N: 4, H: 24, W: 24, C: 16, Size: 2, Stride: 2},
		{N: 2, H: 26, W: 26, C: 32, Size: 2, Stride: 2},
	} {
		for _, flat := range []bool{false, true} {
			r := fusedQuantSpecs()[i%4]
			name := fmt.Sprintf("MaxPoolQuant/n%dh%dw%dc%d_size%d_stride%d/flat%v/%s", g.N, g.H, g.W, g.C, g.Size, g.Stride, flat, r.name)
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, b)
				p := e.spec(r, 1, "rand")
				oh, ow := g.Out()
				ysh, qsh := []int{g.N, oh, ow, g.C}, []int{g.N, oh, ow, g.C}
				if flat {
					qsh = []int{g.N, oh * ow * g.C}
				}
				xv := data(e, g.N*g.H*g.W*g.C, p, !flat)
				if i%2 == 1 {
					// Ties: values from a few codes, maxima repeated in windows.
					for k := range xv {
						if !math.IsNaN(float64(xv[k])) && !math.IsInf(float64(xv[k]), 0) {
							xv[k] = p.Scale[0] * float32(e.rng.IntN(3))
						}
					}
				}
				x := e.inF32("x", xv, g.N, g.H, g.W, g.C)
				y := e.out("y", backend.F32, ysh...)
				arg := e.out("arg", backend.I32, ysh...)
				q := e.out("q", backend.Q8, qsh...)
				st := e.out("stats", backend.F32, 3)
				e.run(func(b backend.Backend, s int) {
					if s == under {
						f.MaxPoolQuant(y.t[s], arg.t[s], q.t[s], st.t[s], x.t[s], g, p)
						return
					}
					b.MaxPool(y.t[s], arg.t[s], x.t[s], g)
					b.MinMax(st.t[s], y.t[s])
					b.Quantize(q.t[s], e.view(b, y.t[s], qsh), p)
				})
				e.exactF32(y)
				e.exactI32(arg)
				e.exactF32(st)
				e.exactI32(q)
			})
		}
	}
	// CompBNPoolQuant: against CompBNTrain then MaxPoolQuant (see
	// testCompBNPoolQuant), with and without the ReLU, channels that make
	// a word of codes one pooled pixel's (C % 4 == 0) or not.
	for i, g := range []backend.PoolGeom{
		{N: 1, H: 4, W: 4, C: 1, Size: 2, Stride: 2},
		{N: 2, H: 7, W: 6, C: 3, Size: 3, Stride: 2},
		{N: 4, H: 24, W: 24, C: 16, Size: 2, Stride: 2},
		{N: 2, H: 8, W: 8, C: 8, Size: 2, Stride: 2},
	} {
		for _, relu := range []bool{false, true} {
			r := fusedQuantSpecs()[i%4]
			t.Run(fmt.Sprintf("CompBNPoolQuant/n%dh%dw%dc%d_size%d_stride%d/relu=%v/%s", g.N, g.H, g.W, g.C, g.Size, g.Stride, relu, r.name), func(t *testing.T) {
				testCompBNPoolQuant(t, b, g, relu, r)
			})
		}
	}
	// ReLUQuant: short and long tensors, codes in x's shape or another.
	for i, c := range []struct{ x, q []int }{
		{[]int{6}, []int{6}},
		{[]int{7, 5}, []int{7, 5}},
		{[]int{3, 9, 9, 17}, []int{3, 1377}},
		{[]int{64, 128}, []int{64, 128}},
		{[]int{2, 3, 64, 64}, []int{2, 3, 64, 64}},
		{[]int{131073}, []int{131073}},
	} {
		r := fusedQuantSpecs()[i%4]
		t.Run(fmt.Sprintf("ReLUQuant/%v/q%v/%s", c.x, c.q, r.name), func(t *testing.T) {
			e := newEnv(t, b)
			p := e.spec(r, 1, "rand")
			n := shapeLen(c.x)
			xv := data(e, n, p, true)
			for k := range xv {
				if k%3 == 0 {
					xv[k] = -xv[k] // about half negative: ReLU's zeros
				}
			}
			x := e.inF32("x", xv, c.x...)
			y := e.out("y", backend.F32, c.x...)
			q := e.out("q", backend.Q8, c.q...)
			st := e.out("stats", backend.F32, 3)
			e.run(func(b backend.Backend, s int) {
				if s == under {
					f.ReLUQuant(y.t[s], q.t[s], st.t[s], x.t[s], p)
					return
				}
				b.ReLU(y.t[s], x.t[s])
				b.MinMax(st.t[s], y.t[s])
				b.Quantize(q.t[s], e.view(b, y.t[s], c.q), p)
			})
			e.exactF32(y)
			e.exactF32(st)
			e.exactI32(q)
		})
	}
}

// view returns t (of the reference side) viewed as shape, failing the
// test on an error.
func (e *env) view(b backend.Backend, t backend.Tensor, shape []int) backend.Tensor {
	e.t.Helper()
	v, err := b.Reshape(t, shape...)
	if err != nil {
		e.t.Fatalf("Reshape(%v, %v): %v", t.Shape(), shape, err)
	}
	return v
}

// shapeLen returns the number of elements of shape.
func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
