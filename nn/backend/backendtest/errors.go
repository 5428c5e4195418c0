package backendtest

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// The error contract. Most of its cases are derived from the op
// declarations (backend.Ops()): from one valid call per op (opCalls) the
// suite makes, for every operand, a call with a wrong dtype, with nil
// (which must fail for a required operand and succeed for an optional
// one), with a freed tensor and with tensors of another backend, and for
// every output a call where it shares storage with each input or output
// of its dtype (which must fail unless the declaration's MayAlias allows
// it). The error must start with "Op: " followed by the operand's name.
// What cannot be derived (shapes that do not fit, bad geometries, bad
// quantization specs, non-finite scalars) is listed per op in errCases.

// derivedKind is what a derived error case changes in the valid call.
type derivedKind int

const (
	kValid       derivedKind = iota // nothing: the sample must run
	kDType                          // operand i has dtype dt
	kNil                            // operand i is nil
	kTypedNil                       // operand i is a nil pointer of the backend's tensor type
	kFreed                          // operand i was freed
	kForeign                        // operand i was made by another backend of the same kind
	kForeignType                    // operand i is a tensor type of no backend
	kAlias                          // output i is the tensor given for operand j
	kAliasView                      // output i is a view (Reshape) of operand j's tensor
)

// derivedCase is one call derived from an op's declaration. want == ""
// means that the call must succeed; otherwise the error must start with
// "Op: "+want and contain contains.
type derivedCase struct {
	name     string
	kind     derivedKind
	i, j     int
	dt       backend.DType
	want     string
	contains string
}

// derivedCases returns the derived cases of op for a valid call with
// operands of dtypes dts and shapes shapes.
func derivedCases(op *backend.Op, dts []backend.DType, shapes [][]int) []derivedCase {
	ops := op.Operands
	cs := []derivedCase{{name: "valid", kind: kValid}}
	for i, od := range ops {
		for _, dt := range []backend.DType{backend.F32, backend.I32, backend.Q8} {
			if dt == dts[i] {
				continue
			}
			// The operand whose check fails: itself, or for an operand
			// that takes the dtype of another, the later of the two (the
			// first one checked sets the dtype).
			k, kdt := i, dt
			if od.DType == 0 {
				if p := index(op, od.SameAs); p > i {
					k, kdt = p, dts[p]
				}
			}
			cs = append(cs, derivedCase{name: fmt.Sprintf("%s/dtype_%v", od.Name, dt), kind: kDType, i: i, dt: dt,
				want: fmt.Sprintf("%s is %v", ops[k].Name, kdt)})
		}
		for _, k := range []derivedKind{kNil, kTypedNil} {
			c := derivedCase{name: od.Name + "/nil", kind: k, i: i, want: od.Name + " ", contains: "nil"}
			if k == kTypedNil {
				c.name = od.Name + "/typed_nil"
			}
			if od.Optional {
				c.name += "_optional"
				c.want, c.contains = "", ""
			}
			cs = append(cs, c)
		}
		cs = append(cs,
			derivedCase{name: od.Name + "/freed", kind: kFreed, i: i, want: od.Name + " ", contains: "freed"},
			derivedCase{name: od.Name + "/other_backend", kind: kForeign, i: i, want: od.Name + " ", contains: "another backend"},
			derivedCase{name: od.Name + "/foreign_type", kind: kForeignType, i: i, want: od.Name + " ", contains: "another backend"},
		)
	}
	for i, o := range ops {
		if !o.Out {
			continue
		}
		for j, x := range ops {
			if j == i || dts[j] != dts[i] || (x.Out && j < i) {
				continue
			}
			var want string
			switch {
			case x.Out:
				want = fmt.Sprintf("outputs %s and %s share storage", o.Name, x.Name)
			case o.MayAlias == x.Name:
				if product(shapes[i]) != product(shapes[j]) {
					continue // allowed, but this sample's sizes differ
				}
				want = "" // allowed: must run
			default:
				want = fmt.Sprintf("output %s shares storage with input %s", o.Name, x.Name)
			}
			for _, k := range []derivedKind{kAlias, kAliasView} {
				name := fmt.Sprintf("%s/aliases_%s", o.Name, x.Name)
				if k == kAliasView {
					name += "_view"
				}
				cs = append(cs, derivedCase{name: name, kind: k, i: i, j: j, want: want})
			}
		}
	}
	return cs
}

func index(op *backend.Op, name string) int {
	for i, od := range op.Operands {
		if od.Name == name {
			return i
		}
	}
	return -1
}

// fakeTensor is a tensor of no backend.
type fakeTensor struct {
	shape []int
	dt    backend.DType
}

func (f *fakeTensor) Shape() []int         { return f.shape }
func (f *fakeTensor) DType() backend.DType { return f.dt }
func (f *fakeTensor) Len() int             { return product(f.shape) }

// opCount returns how many calls of op passed their checks on b, and
// whether b reports counts.
func opCount(b backend.Backend, op *backend.Op) (int, bool) {
	r, ok := b.(OpCountReporter)
	if !ok {
		return 0, false
	}
	c := r.OpCounts()
	if op.ID >= len(c) {
		return 0, true
	}
	return c[op.ID], true
}

// tensorMaker allocates tensors on one backend and frees them in
// freeAll (before the backend is closed).
type tensorMaker struct {
	t    *testing.T
	b    backend.Backend
	made []backend.Tensor
}

func (m *tensorMaker) mk(dt backend.DType, shape ...int) backend.Tensor {
	m.t.Helper()
	x, err := m.b.New(dt, shape...)
	if err != nil {
		m.t.Fatalf("New(%v, %v): %v", dt, shape, err)
	}
	m.made = append(m.made, x)
	return x
}

func (m *tensorMaker) freeAll() {
	for _, x := range m.made {
		m.b.Free(x)
	}
	m.made = nil
}

// testDerived runs the derived error cases of op.
func testDerived(t *testing.T, newBackend func(t *testing.T) backend.Backend, op *backend.Op, oc opCall) {
	dts, shapes, err := oc.sample(op)
	if err != nil {
		t.Fatalf("test bug: %v", err)
	}
	// other makes the tensors of another backend; it must stay without
	// an error.
	other := newBackend(t)
	defer other.Close()
	om := &tensorMaker{t: t, b: other}
	defer om.freeAll()
	valid := func(m *tensorMaker) []backend.Tensor {
		ts := make([]backend.Tensor, len(shapes))
		for k := range ts {
			ts[k] = m.mk(dts[k], shapes[k]...)
		}
		return ts
	}
	for _, c := range derivedCases(op, dts, shapes) {
		t.Run(c.name, func(t *testing.T) {
			b := newBackend(t)
			defer b.Close()
			m := &tensorMaker{t: t, b: b}
			defer m.freeAll()
			ts := valid(m)
			switch c.kind {
			case kDType:
				ts[c.i] = m.mk(c.dt, shapes[c.i]...)
			case kNil:
				ts[c.i] = nil
			case kTypedNil:
				v := reflect.ValueOf(ts[c.i])
				if v.Kind() != reflect.Pointer {
					t.Skipf("the backend's tensors are %T, not pointers", ts[c.i])
				}
				ts[c.i] = reflect.Zero(v.Type()).Interface().(backend.Tensor)
			case kFreed:
				x, err := b.New(dts[c.i], shapes[c.i]...)
				if err != nil {
					t.Fatal(err)
				}
				b.Free(x)
				ts[c.i] = x
			case kForeign:
				ts[c.i] = om.mk(dts[c.i], shapes[c.i]...)
			case kForeignType:
				ts[c.i] = &fakeTensor{shape: shapes[c.i], dt: dts[c.i]}
			case kAlias:
				ts[c.i] = ts[c.j]
			case kAliasView:
				v, err := b.Reshape(ts[c.j], shapes[c.j]...)
				if err != nil {
					t.Fatalf("Reshape of %s to its own shape: %v", op.Operands[c.j].Name, err)
				}
				ts[c.i] = v
			}
			if err := b.Err(); err != nil {
				t.Fatalf("error before the call: %v", err)
			}
			n0, counted := opCount(b, op)
			oc.call(b, oc.params, ts)
			n1, _ := opCount(b, op)
			if c.want == "" {
				if err := b.Sync(); err != nil {
					t.Fatalf("a valid call failed: %v", err)
				}
				if counted && n1 != n0+1 {
					t.Fatalf("op count of %s went from %d to %d, want one more", op.Name, n0, n1)
				}
				return
			}
			err := b.Err()
			if err == nil {
				t.Fatalf("no error recorded (want %q)", op.Name+": "+c.want+"...")
			}
			first := err.Error()
			if !strings.HasPrefix(first, op.Name+": "+c.want) || !strings.Contains(first, c.contains) {
				t.Fatalf("error %q, want it to start with %q and contain %q", first, op.Name+": "+c.want, c.contains)
			}
			if counted && n1 != n0 {
				t.Fatalf("a refused call was counted as run (count %d -> %d)", n0, n1)
			}
			// Later ops, valid or not, are skipped and do not replace it.
			oc.call(b, oc.params, valid(m))
			if err := b.Sync(); err == nil || err.Error() != first {
				t.Fatalf("Sync after the error and a valid call = %v, want %q", err, first)
			}
			if n2, _ := opCount(b, op); counted && n2 != n0 {
				t.Fatalf("a call after the error was counted as run (count %d -> %d)", n0, n2)
			}
		})
	}
	if err := other.Err(); err != nil {
		t.Errorf("the backend whose tensors were passed to another got an error: %v", err)
	}
}

// errCase is a misuse that the declarations do not show (a shape, a
// geometry, a spec or a scalar that does not fit): it must record an
// error starting with "Op: " and containing want.
type errCase struct {
	name string
	op   *backend.Op
	want string
	do   func(b backend.Backend, mk func(dt backend.DType, shape ...int) backend.Tensor)
}

func errCases() []errCase {
	q8 := backend.QuantSpec{Scale: []float32{0.1}, Zero: []int32{0}, QMin: -127, QMax: 127}
	g := backend.ConvGeom{N: 1, H: 5, W: 5, C: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1}
	pg := backend.PoolGeom{N: 1, H: 4, W: 4, C: 2, Size: 2, Stride: 2}
	dg := backend.ConvGeom{N: 1, H: 5, W: 5, C: 2, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1} // out 3x3
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	F, I, Q := backend.F32, backend.I32, backend.Q8
	spec := func(scale []float32, zero []int32, lo, hi int32) backend.QuantSpec {
		return backend.QuantSpec{Scale: scale, Zero: zero, QMin: lo, QMax: hi}
	}
	type mkf = func(dt backend.DType, shape ...int) backend.Tensor
	type B = backend.Backend
	w2 := spec([]float32{0.1, 0.2}, []int32{0, 1}, -127, 127)
	fw := func(b B) backend.FusedWeightGrad { return b.(backend.FusedWeightGrad) }
	return []errCase{
		{"Im2ColI pad", backend.OpIm2ColI, "pad 256", func(b B, mk mkf) { b.Im2ColI(mk(Q, g.Rows(), g.K()), mk(Q, 1, 5, 5, 2), g, 256) }},
		{"GemmI inner", backend.OpGemmI, "inner dimensions differ", func(b B, mk mkf) { b.GemmI(mk(I, 64, 32), mk(Q, 64, 9), mk(Q, 32, 8)) }},
		{"GemmI acc shape", backend.OpGemmI, "acc is", func(b B, mk mkf) { b.GemmI(mk(I, 64, 31), mk(Q, 64, 9), mk(Q, 32, 9)) }},
		{"Gemm inner", backend.OpGemm, "inner dimensions differ", func(b B, mk mkf) { b.Gemm(mk(F, 4, 5), mk(F, 4, 6), mk(F, 7, 5), false, false, 1, 0) }},
		{"Gemm trans", backend.OpGemm, "inner dimensions differ", func(b B, mk mkf) { b.Gemm(mk(F, 4, 5), mk(F, 4, 6), mk(F, 6, 5), true, false, 1, 0) }},
		{"Gemm c shape", backend.OpGemm, "c is", func(b B, mk mkf) { b.Gemm(mk(F, 4, 6), mk(F, 4, 6), mk(F, 6, 5), false, false, 1, 0) }},
		{"Quantize length", backend.OpQuantize, "q is", func(b B, mk mkf) { b.Quantize(mk(Q, 11), mk(F, 10), q8) }},
		{"Quantize zero scale", backend.OpQuantize, "p for", func(b B, mk mkf) {
			b.Quantize(mk(Q, 10), mk(F, 10), spec([]float32{0}, []int32{0}, -127, 127))
		}},
		{"Quantize NaN scale", backend.OpQuantize, "p for", func(b B, mk mkf) {
			b.Quantize(mk(Q, 10), mk(F, 10), spec([]float32{nan}, []int32{0}, -127, 127))
		}},
		{"Quantize channels", backend.OpQuantize, "p for", func(b B, mk mkf) {
			b.Quantize(mk(Q, 4, 3), mk(F, 4, 3), spec([]float32{1, 1, 1}, []int32{0, 0, 0}, -127, 127))
		}},
		{"Quantize zero points", backend.OpQuantize, "p for", func(b B, mk mkf) {
			b.Quantize(mk(Q, 4, 3), mk(F, 4, 3), spec([]float32{1, 1, 1, 1}, []int32{0, 0, 0}, -127, 127))
		}},
		{"Quantize range", backend.OpQuantize, "p for", func(b B, mk mkf) { b.Quantize(mk(Q, 10), mk(F, 10), spec([]float32{1}, []int32{0}, -127, 256)) }},
		{"Quantize zero outside range", backend.OpQuantize, "p for", func(b B, mk mkf) {
			b.Quantize(mk(Q, 10), mk(F, 10), spec([]float32{1}, []int32{-1}, 0, 255))
		}},
		{"Dequantize length", backend.OpDequantize, "x is", func(b B, mk mkf) { b.Dequantize(mk(F, 9), mk(Q, 10), q8) }},
		{"Dequantize empty range", backend.OpDequantize, "p for", func(b B, mk mkf) { b.Dequantize(mk(F, 10), mk(Q, 10), spec([]float32{1}, []int32{0}, 0, 0)) }},
		{"QuantGrad dScale", backend.OpQuantGrad, "dScale is", func(b B, mk mkf) { b.QuantGrad(nil, mk(F, 2), mk(F, 1), mk(F, 10), mk(F, 10), q8) }},
		{"QuantGrad dZero", backend.OpQuantGrad, "dZero is", func(b B, mk mkf) { b.QuantGrad(nil, mk(F, 1), mk(F, 3), mk(F, 10), mk(F, 10), q8) }},
		{"QuantGrad dx", backend.OpQuantGrad, "dx is", func(b B, mk mkf) { b.QuantGrad(mk(F, 9), mk(F, 1), mk(F, 1), mk(F, 10), mk(F, 10), q8) }},
		{"QuantGrad dxhat", backend.OpQuantGrad, "dxhat is", func(b B, mk mkf) { b.QuantGrad(nil, mk(F, 1), mk(F, 1), mk(F, 10), mk(F, 11), q8) }},
		{"QuantGrad channels", backend.OpQuantGrad, "p for", func(b B, mk mkf) {
			b.QuantGrad(nil, mk(F, 2), mk(F, 2), mk(F, 3, 4), mk(F, 3, 4), spec([]float32{1, 1}, []int32{0, 0}, -127, 127))
		}},
		{"Im2ColI image", backend.OpIm2ColI, "x is", func(b B, mk mkf) { b.Im2ColI(mk(Q, g.Rows(), g.K()), mk(Q, 1, 5, 5, 3), g, 0) }},
		{"Im2ColI cols", backend.OpIm2ColI, "cols is", func(b B, mk mkf) { b.Im2ColI(mk(Q, g.Rows(), g.K()+1), mk(Q, 1, 5, 5, 2), g, 0) }},
		{"Im2Col stride 0", backend.OpIm2Col, "conv geometry", func(b B, mk mkf) {
			bad := g
			bad.StrideH = 0
			b.Im2Col(mk(F, g.Rows(), g.K()), mk(F, 1, 5, 5, 2), bad)
		}},
		{"Im2Col negative padding", backend.OpIm2Col, "conv geometry", func(b B, mk mkf) {
			bad := g
			bad.PadW = -1
			b.Im2Col(mk(F, g.Rows(), g.K()), mk(F, 1, 5, 5, 2), bad)
		}},
		{"Im2Col kernel too large", backend.OpIm2Col, "conv geometry", func(b B, mk mkf) {
			bad := g
			bad.KH = 6
			b.Im2Col(mk(F, 1, 6), mk(F, 1, 5, 5, 2), bad)
		}},
		{"Col2Im cols", backend.OpCol2Im, "cols is", func(b B, mk mkf) { b.Col2Im(mk(F, 1, 5, 5, 2), mk(F, g.Rows()+1, g.K()), g) }},
		{"Col2Im dx", backend.OpCol2Im, "dx is", func(b B, mk mkf) { b.Col2Im(mk(F, 1, 5, 5, 3), mk(F, g.Rows(), g.K()), g) }},
		{"RowSumI length", backend.OpRowSumI, "s is", func(b B, mk mkf) { b.RowSumI(mk(I, 5), mk(Q, 4, 3)) }},
		{"Dequant y", backend.OpDequant, "y is", func(b B, mk mkf) {
			b.Dequant(mk(F, 4, 4), mk(I, 4, 3), mk(I, 4), mk(I, 3), 9, q8, q8, nil)
		}},
		{"Dequant sa", backend.OpDequant, "sa is", func(b B, mk mkf) {
			b.Dequant(mk(F, 4, 3), mk(I, 4, 3), mk(I, 3), mk(I, 3), 9, q8, q8, nil)
		}},
		{"Dequant sb", backend.OpDequant, "sb is", func(b B, mk mkf) {
			b.Dequant(mk(F, 4, 3), mk(I, 4, 3), mk(I, 4), mk(I, 4), 9, q8, q8, nil)
		}},
		{"Dequant bias", backend.OpDequant, "bias is", func(b B, mk mkf) {
			b.Dequant(mk(F, 4, 3), mk(I, 4, 3), mk(I, 4), mk(I, 3), 9, q8, q8, mk(F, 4))
		}},
		{"Dequant k", backend.OpDequant, "k = 0", func(b B, mk mkf) {
			b.Dequant(mk(F, 4, 3), mk(I, 4, 3), mk(I, 4), mk(I, 3), 0, q8, q8, nil)
		}},
		{"Dequant pb", backend.OpDequant, "pb for 3 columns", func(b B, mk mkf) {
			b.Dequant(mk(F, 4, 3), mk(I, 4, 3), mk(I, 4), mk(I, 3), 9, q8, spec([]float32{1, 1}, []int32{0, 0}, -127, 127), nil)
		}},
		{"Dequant pa per channel", backend.OpDequant, "pa must be per tensor", func(b B, mk mkf) {
			b.Dequant(mk(F, 4, 3), mk(I, 4, 3), mk(I, 4), mk(I, 3), 9, spec([]float32{1, 1}, []int32{0, 0}, -127, 127), q8, nil)
		}},
		{"AddBias length", backend.OpAddBias, "bias is", func(b B, mk mkf) { b.AddBias(mk(F, 4, 3), mk(F, 4)) }},
		{"ColSum length", backend.OpColSum, "s is", func(b B, mk mkf) { b.ColSum(mk(F, 4), mk(F, 4, 3)) }},
		{"ReLU length", backend.OpReLU, "y is", func(b B, mk mkf) { b.ReLU(mk(F, 4), mk(F, 5)) }},
		{"ReLUGrad y", backend.OpReLUGrad, "y is", func(b B, mk mkf) { b.ReLUGrad(mk(F, 4), mk(F, 4), mk(F, 5)) }},
		{"ReLUGrad dx", backend.OpReLUGrad, "dx is", func(b B, mk mkf) { b.ReLUGrad(mk(F, 3), mk(F, 4), mk(F, 4)) }},
		{"MaxPool arg", backend.OpMaxPool, "arg is", func(b B, mk mkf) {
			b.MaxPool(mk(F, 1, 2, 2, 2), mk(I, 1, 2, 2, 1), mk(F, 1, 4, 4, 2), pg)
		}},
		{"MaxPool window too large", backend.OpMaxPool, "pool geometry", func(b B, mk mkf) {
			bad := pg
			bad.Size = 5
			b.MaxPool(mk(F, 1, 2, 2, 2), mk(I, 1, 2, 2, 2), mk(F, 1, 4, 4, 2), bad)
		}},
		{"MaxPool rectangular", backend.OpMaxPool, "square windows", func(b B, mk mkf) {
			bad := pg
			bad.SizeW = 1
			b.MaxPool(mk(F, 1, 2, 4, 2), mk(I, 1, 2, 4, 2), mk(F, 1, 4, 4, 2), bad)
		}},
		{"MaxPoolGrad dy", backend.OpMaxPoolGrad, "dy is", func(b B, mk mkf) {
			b.MaxPoolGrad(mk(F, 1, 4, 4, 2), mk(F, 1, 3, 2, 2), mk(I, 1, 2, 2, 2), pg)
		}},
		{"MaxPoolGrad arg", backend.OpMaxPoolGrad, "arg is", func(b B, mk mkf) {
			b.MaxPoolGrad(mk(F, 1, 4, 4, 2), mk(F, 1, 2, 2, 2), mk(I, 1, 2, 2, 1), pg)
		}},
		{"BatchNormTrain gamma", backend.OpBatchNormTrain, "gamma is", func(b B, mk mkf) {
			b.BatchNormTrain(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 4), mk(F, 3), mk(F, 3), mk(F, 3), 0.1, 1e-5)
		}},
		{"BatchNormTrain runVar", backend.OpBatchNormTrain, "runVar is", func(b B, mk mkf) {
			b.BatchNormTrain(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 2), 0.1, 1e-5)
		}},
		{"BatchNormTrain momentum", backend.OpBatchNormTrain, "momentum =", func(b B, mk mkf) {
			b.BatchNormTrain(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), 1.5, 1e-5)
		}},
		{"BatchNormTrain eps NaN", backend.OpBatchNormTrain, "eps =", func(b B, mk mkf) {
			b.BatchNormTrain(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), 0.1, nan)
		}},
		{"BatchNormTrain eps negative", backend.OpBatchNormTrain, "eps =", func(b B, mk mkf) {
			b.BatchNormTrain(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), 0.1, -1e-5)
		}},
		{"BatchNormInfer y", backend.OpBatchNormInfer, "y is", func(b B, mk mkf) {
			b.BatchNormInfer(mk(F, 6, 4), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), 1e-5)
		}},
		{"BatchNormInfer eps Inf", backend.OpBatchNormInfer, "eps =", func(b B, mk mkf) {
			b.BatchNormInfer(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), inf)
		}},
		{"BatchNormGrad xhat", backend.OpBatchNormGrad, "xhat is", func(b B, mk mkf) {
			b.BatchNormGrad(mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 5, 3), mk(F, 3), mk(F, 3))
		}},
		{"CompensateTrain mean", backend.OpCompensateTrain, "mean is", func(b B, mk mkf) {
			b.CompensateTrain(mk(F, 6, 3), mk(F, 2), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), 0.1)
		}},
		{"CompensateTrain momentum NaN", backend.OpCompensateTrain, "momentum =", func(b B, mk mkf) {
			b.CompensateTrain(mk(F, 6, 3), mk(F, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), nan)
		}},
		{"CompensateInfer runMean", backend.OpCompensateInfer, "runMean is", func(b B, mk mkf) {
			b.CompensateInfer(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 4))
		}},
		{"CompensateGrad dgamma", backend.OpCompensateGrad, "dgamma is", func(b B, mk mkf) {
			b.CompensateGrad(mk(F, 6, 3), mk(F, 4), mk(F, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), true)
		}},
		{"CompBNTrain cgamma", backend.OpCompBNTrain, "cgamma is", func(b B, mk mkf) {
			b.(backend.FusedCompBN).CompBNTrain(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 4), mk(F, 3), mk(F, 3),
				mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), 0.1, 0.1, 1e-5, false)
		}},
		{"CompBNTrain compensation momentum", backend.OpCompBNTrain, "compensation momentum =", func(b B, mk mkf) {
			b.(backend.FusedCompBN).CompBNTrain(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3),
				mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), nan, 0.1, 1e-5, true)
		}},
		{"CompBNInfer eps", backend.OpCompBNInfer, "eps =", func(b B, mk mkf) {
			b.(backend.FusedCompBN).CompBNInfer(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), -1, false)
		}},
		{"CompBNGrad y", backend.OpCompBNGrad, "y is", func(b B, mk mkf) {
			b.(backend.FusedCompBN).CompBNGrad(mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 5, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3))
		}},
		{"CompBNGradFromX dxSum", backend.OpCompBNGradFromX, "dxSum is", func(b B, mk mkf) {
			b.(backend.FusedCompBN).CompBNGradFromX(mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 4), mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), false)
		}},
		{"CompBNGradFromX x", backend.OpCompBNGradFromX, "x is", func(b B, mk mkf) {
			b.(backend.FusedCompBN).CompBNGradFromX(mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 5, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), true)
		}},
		{"Copy length", backend.OpCopy, "dst is", func(b B, mk mkf) { b.Copy(mk(F, 4), mk(F, 5)) }},
		{"MinMax length", backend.OpMinMax, "dst is", func(b B, mk mkf) { b.MinMax(mk(F, 2), mk(F, 5)) }},
		{"Histogram empty range", backend.OpHistogram, "range", func(b B, mk mkf) { b.Histogram(mk(I, 8), mk(F, 5), 1, 1) }},
		{"Histogram infinite range", backend.OpHistogram, "range", func(b B, mk mkf) { b.Histogram(mk(I, 8), mk(F, 5), 0, inf) }},
		{"Add b", backend.OpAdd, "b is", func(b B, mk mkf) { b.Add(mk(F, 4, 3), mk(F, 4, 3), mk(F, 13)) }},
		{"Add y", backend.OpAdd, "y is", func(b B, mk mkf) { b.Add(mk(F, 11), mk(F, 4, 3), mk(F, 12)) }},
		{"AvgPool window too large", backend.OpAvgPool, "pool geometry", func(b B, mk mkf) {
			bad := pg
			bad.SizeW = 5
			b.AvgPool(mk(F, 1, 2, 1, 2), mk(F, 1, 4, 4, 2), bad)
		}},
		{"AvgPool negative StrideW", backend.OpAvgPool, "pool geometry", func(b B, mk mkf) {
			bad := pg
			bad.StrideW = -1
			b.AvgPool(mk(F, 1, 2, 2, 2), mk(F, 1, 4, 4, 2), bad)
		}},
		{"AvgPool y", backend.OpAvgPool, "y is", func(b B, mk mkf) { b.AvgPool(mk(F, 1, 2, 3, 2), mk(F, 1, 4, 4, 2), pg) }},
		{"AvgPool x", backend.OpAvgPool, "x is", func(b B, mk mkf) { b.AvgPool(mk(F, 1, 2, 2, 2), mk(F, 1, 4, 5, 2), pg) }},
		{"AvgPoolGrad dy", backend.OpAvgPoolGrad, "dy is", func(b B, mk mkf) { b.AvgPoolGrad(mk(F, 1, 4, 4, 2), mk(F, 1, 2, 2, 3), pg) }},
		{"AvgPoolGrad dx", backend.OpAvgPoolGrad, "dx is", func(b B, mk mkf) { b.AvgPoolGrad(mk(F, 1, 4, 4, 1), mk(F, 1, 2, 2, 2), pg) }},
		{"DWConvI w", backend.OpDWConvI, "w is", func(b B, mk mkf) { b.DWConvI(mk(I, 1, 3, 3, 2), mk(Q, 1, 5, 5, 2), mk(Q, 2, 3, 2), dg, q8, q8) }},
		{"DWConvI x", backend.OpDWConvI, "x is", func(b B, mk mkf) { b.DWConvI(mk(I, 1, 3, 3, 2), mk(Q, 1, 5, 4, 2), mk(Q, 2, 3, 3), dg, q8, q8) }},
		{"DWConvI acc", backend.OpDWConvI, "acc is", func(b B, mk mkf) { b.DWConvI(mk(I, 1, 3, 2, 2), mk(Q, 1, 5, 5, 2), mk(Q, 2, 3, 3), dg, q8, q8) }},
		{"DWConvI geometry", backend.OpDWConvI, "conv geometry", func(b B, mk mkf) {
			bad := dg
			bad.StrideW = 0
			b.DWConvI(mk(I, 1, 3, 3, 2), mk(Q, 1, 5, 5, 2), mk(Q, 2, 3, 3), bad, q8, q8)
		}},
		{"DWConvI pa per channel", backend.OpDWConvI, "pa must be per tensor", func(b B, mk mkf) {
			b.DWConvI(mk(I, 1, 3, 3, 2), mk(Q, 1, 5, 5, 2), mk(Q, 2, 3, 3), dg, spec([]float32{1, 1}, []int32{0, 0}, 0, 255), q8)
		}},
		{"DWConvI pb channels", backend.OpDWConvI, "pb for 2 channels", func(b B, mk mkf) {
			b.DWConvI(mk(I, 1, 3, 3, 2), mk(Q, 1, 5, 5, 2), mk(Q, 2, 3, 3), dg, q8, spec([]float32{1, 1, 1}, []int32{0, 0, 0}, -127, 127))
		}},
		{"DWConvI pb range", backend.OpDWConvI, "pb for 2 channels", func(b B, mk mkf) {
			b.DWConvI(mk(I, 1, 3, 3, 2), mk(Q, 1, 5, 5, 2), mk(Q, 2, 3, 3), dg, q8, spec([]float32{1}, []int32{0}, 5, 2))
		}},
		{"DWConv w", backend.OpDWConv, "w is", func(b B, mk mkf) { b.DWConv(mk(F, 1, 3, 3, 2), mk(F, 1, 5, 5, 2), mk(F, 3, 3, 3), dg) }},
		{"DWConv y", backend.OpDWConv, "y is", func(b B, mk mkf) { b.DWConv(mk(F, 1, 5, 5, 2), mk(F, 1, 5, 5, 2), mk(F, 2, 3, 3), dg) }},
		{"DWConv kernel too large", backend.OpDWConv, "conv geometry", func(b B, mk mkf) {
			bad := dg
			bad.KW, bad.PadW = 8, 1
			b.DWConv(mk(F, 1, 3, 1, 2), mk(F, 1, 5, 5, 2), mk(F, 2, 3, 8), bad)
		}},
		{"DWConvGradX dy", backend.OpDWConvGradX, "dy is", func(b B, mk mkf) { b.DWConvGradX(mk(F, 1, 5, 5, 2), mk(F, 1, 5, 5, 2), mk(F, 2, 3, 3), dg) }},
		{"DWConvGradX dx", backend.OpDWConvGradX, "dx is", func(b B, mk mkf) { b.DWConvGradX(mk(F, 1, 3, 3, 2), mk(F, 1, 3, 3, 2), mk(F, 2, 3, 3), dg) }},
		{"DWConvGradW dw", backend.OpDWConvGradW, "dw is", func(b B, mk mkf) { b.DWConvGradW(mk(F, 2, 3, 2), mk(F, 1, 3, 3, 2), mk(F, 1, 5, 5, 2), dg) }},
		{"DWConvGradW x", backend.OpDWConvGradW, "x is", func(b B, mk mkf) { b.DWConvGradW(mk(F, 2, 3, 3), mk(F, 1, 3, 3, 2), mk(F, 1, 5, 5, 3), dg) }},
		// ConvGradWQuant over g (9 rows, K 18) with 2 filters, ws per
		// channel (w2) unless noted.
		{"ConvGradWQuant dy", backend.OpConvGradWQuant, "dy is", func(b B, mk mkf) {
			fw(b).ConvGradWQuant(mk(F, 2, 18), mk(F, 2), mk(F, 2), nil, mk(F, 8, 2), mk(Q, 1, 5, 5, 2), mk(F, 2, 18), g, q8, w2)
		}},
		{"ConvGradWQuant qx", backend.OpConvGradWQuant, "qx is", func(b B, mk mkf) {
			fw(b).ConvGradWQuant(mk(F, 2, 18), mk(F, 2), mk(F, 2), nil, mk(F, 9, 2), mk(Q, 1, 5, 4, 2), mk(F, 2, 18), g, q8, w2)
		}},
		{"ConvGradWQuant w", backend.OpConvGradWQuant, "w is", func(b B, mk mkf) {
			fw(b).ConvGradWQuant(mk(F, 2, 18), mk(F, 2), mk(F, 2), nil, mk(F, 9, 2), mk(Q, 1, 5, 5, 2), mk(F, 2, 17), g, q8, w2)
		}},
		{"ConvGradWQuant gw", backend.OpConvGradWQuant, "gw is", func(b B, mk mkf) {
			fw(b).ConvGradWQuant(mk(F, 3, 12), mk(F, 2), mk(F, 2), nil, mk(F, 9, 2), mk(Q, 1, 5, 5, 2), mk(F, 2, 18), g, q8, w2)
		}},
		{"ConvGradWQuant dBias", backend.OpConvGradWQuant, "dBias is", func(b B, mk mkf) {
			fw(b).ConvGradWQuant(mk(F, 2, 18), mk(F, 2), mk(F, 2), mk(F, 3), mk(F, 9, 2), mk(Q, 1, 5, 5, 2), mk(F, 2, 18), g, q8, w2)
		}},
		{"ConvGradWQuant dScale", backend.OpConvGradWQuant, "dScale is", func(b B, mk mkf) {
			fw(b).ConvGradWQuant(mk(F, 2, 18), mk(F, 1), mk(F, 2), nil, mk(F, 9, 2), mk(Q, 1, 5, 5, 2), mk(F, 2, 18), g, q8, w2)
		}},
		{"ConvGradWQuant dZero", backend.OpConvGradWQuant, "dZero is", func(b B, mk mkf) {
			fw(b).ConvGradWQuant(mk(F, 2, 18), mk(F, 1), mk(F, 2), nil, mk(F, 9, 2), mk(Q, 1, 5, 5, 2), mk(F, 2, 18), g, q8, q8)
		}},
		{"ConvGradWQuant ws channels", backend.OpConvGradWQuant, "ws for [2 18]", func(b B, mk mkf) {
			w3 := spec([]float32{1, 1, 1}, []int32{0, 0, 0}, -127, 127)
			fw(b).ConvGradWQuant(mk(F, 2, 18), mk(F, 3), mk(F, 3), nil, mk(F, 9, 2), mk(Q, 1, 5, 5, 2), mk(F, 2, 18), g, q8, w3)
		}},
		{"ConvGradWQuant xs per channel", backend.OpConvGradWQuant, "xs must be per tensor", func(b B, mk mkf) {
			fw(b).ConvGradWQuant(mk(F, 2, 18), mk(F, 2), mk(F, 2), nil, mk(F, 9, 2), mk(Q, 1, 5, 5, 2), mk(F, 2, 18), g, w2, w2)
		}},
		{"ConvGradWQuant geometry", backend.OpConvGradWQuant, "conv geometry", func(b B, mk mkf) {
			bad := g
			bad.StrideW = 0
			fw(b).ConvGradWQuant(mk(F, 2, 18), mk(F, 2), mk(F, 2), nil, mk(F, 9, 2), mk(Q, 1, 5, 5, 2), mk(F, 2, 18), bad, q8, w2)
		}},
	}
}

// TestErrors checks the error contract on fresh backends from newBackend:
// for every op of backend.Ops(), the cases derived from its declaration
// (see derivedCases: wrong dtypes, nil, freed and foreign tensors,
// aliasing, and the valid call itself), and the op-specific misuses of
// errCases. Each misuse records an error that starts with "Op: " and
// names the operand; the first error sticks and is returned by Err, Sync
// and the Reads; later ops are skipped (checked through the op counts,
// and through HostAccess when the backend has it); bad Write, Read and
// Reshape arguments return errors. Most backends made by newBackend end
// with a recorded error, which their Close returns: newBackend must not
// treat that as a failure.
func TestErrors(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	calls := opCalls()
	for _, op := range backend.Ops() {
		oc, ok := calls[op]
		if !ok {
			t.Errorf("op %s has no call in backendtest's opCalls: its error cases cannot be derived", op.Name)
			continue
		}
		t.Run(op.Name, func(t *testing.T) { testDerived(t, newBackend, op, oc) })
	}
	for _, c := range errCases() {
		name := c.op.Name + "/misuse/" + strings.TrimPrefix(c.name, c.op.Name+" ")
		t.Run(name, func(t *testing.T) { testErrCase(t, newBackend, c) })
	}
	t.Run("bad arguments of Write, Read, Reshape, New", func(t *testing.T) {
		b := newBackend(t)
		defer b.Close()
		x, err := b.New(backend.F32, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Free(x)
		if err := b.WriteF32(x, make([]float32, 5)); err == nil {
			t.Errorf("WriteF32 of 5 values into [2 3]: no error")
		}
		if err := b.WriteI32(x, make([]int32, 6)); err == nil {
			t.Errorf("WriteI32 into an F32 tensor: no error")
		}
		if err := b.ReadF32(x, make([]float32, 7)); err == nil {
			t.Errorf("ReadF32 of [2 3] into 7 values: no error")
		}
		if _, err := b.Reshape(x, 4, 2); err == nil {
			t.Errorf("Reshape [2 3] to [4 2]: no error")
		}
		if _, err := b.New(backend.F32, 3, -1); err == nil {
			t.Errorf("New with a negative dimension: no error")
		}
		q, err := b.New(backend.Q8, 4)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Free(q)
		if err := b.WriteI32(q, []int32{0, 1, 256, 2}); err == nil {
			t.Errorf("WriteI32 of 256 into a Q8 tensor: no error")
		}
		if err := b.Err(); err != nil {
			t.Errorf("a refused Write, Read or Reshape recorded an error: %v", err)
		}
	})
}

// testErrCase runs one op-specific misuse and checks that its error
// sticks.
func testErrCase(t *testing.T, newBackend func(t *testing.T) backend.Backend, c errCase) {
	b := newBackend(t)
	defer b.Close()
	m := &tensorMaker{t: t, b: b}
	defer m.freeAll()
	keep := m.mk(backend.F32, 4)
	if err := b.WriteF32(keep, []float32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	n0, counted := opCount(b, c.op)
	c.do(b, m.mk)
	err := b.Err()
	if err == nil {
		t.Fatalf("%s: no error recorded", c.name)
	}
	first := err.Error()
	if !strings.HasPrefix(first, c.op.Name+": ") || !strings.Contains(first, c.want) {
		t.Fatalf("error %q, want it to start with %q and contain %q", first, c.op.Name+": ", c.want)
	}
	if n1, _ := opCount(b, c.op); counted && n1 != n0 {
		t.Fatalf("a refused call was counted as run (count %d -> %d)", n0, n1)
	}
	// Later ops are skipped and do not replace the first error.
	b.Fill(keep, 9)
	b.ReLU(m.mk(backend.F32, 2), m.mk(backend.F32, 3))
	if err := b.Sync(); err == nil || err.Error() != first {
		t.Fatalf("Sync after the error = %v, want %q", err, first)
	}
	if err := b.ReadF32(keep, make([]float32, 4)); err == nil || err.Error() != first {
		t.Fatalf("ReadF32 after the error = %v, want %q", err, first)
	}
	if err := b.ReadI32(m.mk(backend.I32, 2), make([]int32, 2)); err == nil || err.Error() != first {
		t.Fatalf("ReadI32 after the error = %v, want %q", err, first)
	}
	if n, _ := opCount(b, backend.OpFill); counted && n != 0 {
		t.Fatalf("Fill ran after the error (count %d)", n)
	}
	if h, ok := b.(backend.HostAccess); ok {
		v, ok := h.HostF32(keep)
		if !ok {
			t.Fatalf("HostF32 refused an F32 tensor")
		}
		if v[0] != 1 || v[3] != 4 {
			t.Fatalf("Fill ran after the error: %v", v)
		}
	}
}
