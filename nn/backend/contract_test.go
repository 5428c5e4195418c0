package backend

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// memoryMethods are the Backend methods that are not ops.
var memoryMethods = map[string]bool{
	"Name": true, "New": true, "Reshape": true, "Free": true, "WriteF32": true, "WriteI32": true,
	"ReadF32": true, "ReadI32": true, "Sync": true, "Err": true, "Close": true,
	"PrefersEpilogueStats": true, // FusedStats' preference, not an op
}

// abilities are the optional op interfaces whose ops the contract
// declares besides Backend's.
var abilities = []reflect.Type{reflect.TypeFor[FusedBNReLU](), reflect.TypeFor[FusedGemmIDequant](), reflect.TypeFor[FusedCompBN](), reflect.TypeFor[FusedConv](), reflect.TypeFor[FusedQuantize](), reflect.TypeFor[FusedWeightGrad](), reflect.TypeFor[FusedStats]()}

// TestOpsMatchBackend checks the declarations against the Backend
// interface and the optional abilities: one op per op method, with the
// method's name and as many operands as the method has Tensor arguments;
// IDs in order.
func TestOpsMatchBackend(t *testing.T) {
	tensor := reflect.TypeFor[Tensor]()
	declared := map[string]bool{}
	for i, op := range Ops() {
		if op.ID != i {
			t.Errorf("%s: ID %d at position %d", op.Name, op.ID, i)
		}
		if declared[op.Name] {
			t.Errorf("%s declared twice", op.Name)
		}
		declared[op.Name] = true
		if got, err := OpByName(op.Name); err != nil || got != op {
			t.Errorf("OpByName(%q) = %v, %v", op.Name, got, err)
		}
	}
	for _, bt := range append([]reflect.Type{reflect.TypeFor[Backend]()}, abilities...) {
		for i := range bt.NumMethod() {
			m := bt.Method(i)
			if memoryMethods[m.Name] {
				continue
			}
			op, err := OpByName(m.Name)
			if err != nil {
				t.Errorf("Backend.%s has no op declaration", m.Name)
				continue
			}
			n := 0
			for j := range m.Type.NumIn() {
				if m.Type.In(j) == tensor {
					n++
				}
			}
			if n != len(op.Operands) {
				t.Errorf("Backend.%s has %d tensor arguments, its declaration %d operands", m.Name, n, len(op.Operands))
			}
			delete(declared, m.Name)
		}
	}
	for name := range declared {
		t.Errorf("op %s is not a Backend method", name)
	}
	if _, err := OpByName("Nope"); err == nil {
		t.Error("OpByName of an unknown name: no error")
	}
}

// TestOperandDeclarations checks each declaration's operands: unique
// names, SameAs and MayAlias naming operands that exist (MayAlias an
// input of the output's dtype), at least one output.
func TestOperandDeclarations(t *testing.T) {
	for _, op := range Ops() {
		names := map[string]Operand{}
		outs := 0
		for _, od := range op.Operands {
			if _, dup := names[od.Name]; dup || od.Name == "" {
				t.Errorf("%s: operand name %q empty or repeated", op.Name, od.Name)
			}
			names[od.Name] = od
			if od.Out {
				outs++
			}
		}
		if outs == 0 {
			t.Errorf("%s has no output", op.Name)
		}
		if op.Doc == "" {
			t.Errorf("%s has no Doc", op.Name)
		}
		for _, od := range op.Operands {
			if od.DType == 0 {
				if p, ok := names[od.SameAs]; !ok || p.SameAs != od.Name {
					t.Errorf("%s.%s: dtype 0 with SameAs %q, which is not a partner", op.Name, od.Name, od.SameAs)
				}
			}
			if od.MayAlias != "" {
				in, ok := names[od.MayAlias]
				if !od.Out || !ok || in.Out || in.DType != od.DType {
					t.Errorf("%s.%s: MayAlias %q must name an input of the same dtype from an output", op.Name, od.Name, od.MayAlias)
				}
			}
		}
	}
}

// fakeRes is a Resolver over fakeT handles, counting the ops that ran.
type fakeRes struct {
	ran map[string]int
}

type fakeT struct {
	shape []int
	dt    DType
	store *int
	freed bool
}

func (f *fakeT) Shape() []int { return f.shape }
func (f *fakeT) DType() DType { return f.dt }
func (f *fakeT) Len() int     { return shapeLen(f.shape) }

var errFreedT = errors.New("was freed")

func (r *fakeRes) Resolve(t Tensor) ([]int, DType, any, error) {
	f, ok := t.(*fakeT)
	if t == nil || (ok && f == nil) {
		return nil, 0, nil, ErrNil
	}
	if f.freed {
		return nil, 0, nil, errFreedT
	}
	return f.shape, f.dt, f.store, nil
}

func (r *fakeRes) OpRan(op *Op) { r.ran[op.Name]++ }

func ft(dt DType, shape ...int) *fakeT { return &fakeT{shape: shape, dt: dt, store: new(int)} }

// view returns a handle on x's storage.
func view(x *fakeT, shape ...int) *fakeT { return &fakeT{shape: shape, dt: x.dt, store: x.store} }

func TestCheck(t *testing.T) {
	r := &fakeRes{ran: map[string]int{}}
	x, y := ft(F32, 4, 3), ft(F32, 12)
	check := func(op *Op, p Params, ts ...Tensor) (Dims, error) {
		var err error
		d, ok := op.Check(&err, r, p, ts...)
		if ok != (err == nil) {
			t.Fatalf("%s: ok %v with error %v", op.Name, ok, err)
		}
		return d, err
	}
	if d, err := check(OpReLU, Params{}, y, x); err != nil || d.Len != 12 || r.ran["ReLU"] != 1 {
		t.Fatalf("ReLU: %+v, %v, ran %d", d, err, r.ran["ReLU"])
	}
	// y may alias x (through a view), and not the other way round for
	// ReLUGrad's y.
	if _, err := check(OpReLU, Params{}, view(x, 12), x); err != nil {
		t.Errorf("ReLU in place: %v", err)
	}
	dy := ft(F32, 12)
	if _, err := check(OpReLUGrad, Params{}, view(dy, 12), dy, ft(F32, 12)); err != nil {
		t.Errorf("ReLUGrad in place: %v", err)
	}
	yy := ft(F32, 12)
	if _, err := check(OpReLUGrad, Params{}, view(yy, 12), dy, yy); err == nil || err.Error() != "ReLUGrad: output dx shares storage with input y" {
		t.Errorf("ReLUGrad dx aliasing y: %v", err)
	}
	// Two outputs on one storage.
	ds := ft(F32, 1)
	p := Params{P: QuantSpec{Scale: []float32{1}, Zero: []int32{0}, QMin: -127, QMax: 127}}
	if _, err := check(OpQuantGrad, p, nil, ds, view(ds, 1), ft(F32, 5), ft(F32, 5)); err == nil || err.Error() != "QuantGrad: outputs dScale and dZero share storage" {
		t.Errorf("QuantGrad dScale = dZero: %v", err)
	}
	// The optional dx may be nil (also a typed nil); a required operand not.
	var typed *fakeT
	before := r.ran["QuantGrad"]
	for _, dx := range []Tensor{nil, typed} {
		if _, err := check(OpQuantGrad, p, dx, ft(F32, 1), ft(F32, 1), ft(F32, 5), ft(F32, 5)); err != nil {
			t.Errorf("QuantGrad without dx (%T): %v", dx, err)
		}
	}
	if r.ran["QuantGrad"] != before+2 {
		t.Errorf("QuantGrad ran %d times, want 2", r.ran["QuantGrad"]-before)
	}
	if _, err := check(OpReLU, Params{}, y, typed); err == nil || err.Error() != "ReLU: x is nil" {
		t.Errorf("ReLU of a typed nil: %v", err)
	}
	freed := ft(F32, 12)
	freed.freed = true
	if _, err := check(OpReLU, Params{}, y, freed); err == nil || err.Error() != "ReLU: x was freed" {
		t.Errorf("ReLU of a freed tensor: %v", err)
	}
	// Dtypes: declared, and Copy's shared one named on the later operand.
	if _, err := check(OpReLU, Params{}, y, ft(I32, 12)); err == nil || !strings.HasPrefix(err.Error(), "ReLU: x is i32 [12], want f32") {
		t.Errorf("ReLU of an I32 tensor: %v", err)
	}
	if _, err := check(OpCopy, Params{}, ft(Q8, 4), ft(Q8, 2, 2)); err != nil {
		t.Errorf("Copy of Q8: %v", err)
	}
	if _, err := check(OpCopy, Params{}, ft(I32, 4), ft(F32, 4)); err == nil || !strings.HasPrefix(err.Error(), "Copy: src is f32") {
		t.Errorf("Copy I32 <- F32: %v", err)
	}
	// A wrong number of tensors is an internal error.
	if _, err := check(OpReLU, Params{}, y); err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("ReLU with one tensor: %v", err)
	}
	// The first error sticks: Check does nothing and counts nothing.
	sticky := fmt.Errorf("earlier")
	n := r.ran["ReLU"]
	if _, ok := OpReLU.Check(&sticky, r, Params{}, y, x); ok || sticky.Error() != "earlier" || r.ran["ReLU"] != n {
		t.Errorf("Check after an error: ok %v, error %v, ran %d more", ok, sticky, r.ran["ReLU"]-n)
	}
	// A refused call is not counted.
	if _, err := check(OpAdd, Params{}, ft(F32, 5), x, ft(F32, 12)); err == nil || r.ran["Add"] != 0 {
		t.Errorf("Add with a short y: %v, ran %d", err, r.ran["Add"])
	}
}

func TestOutputShapes(t *testing.T) {
	g := ConvGeom{N: 2, H: 5, W: 5, C: 3, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	pg := PoolGeom{N: 2, H: 7, W: 5, C: 4, Size: 7, SizeW: 5, Stride: 1}
	for _, c := range []struct {
		op     *Op
		p      Params
		shapes [][]int
		want   [][]int
	}{
		{OpReLU, Params{}, [][]int{nil, {4, 3}}, [][]int{{4, 3}, nil}},
		{OpGemm, Params{TransB: true}, [][]int{nil, {4, 6}, {5, 6}}, [][]int{{4, 5}, nil, nil}},
		{OpIm2ColI, Params{Conv: g}, [][]int{nil, {2, 5, 5, 3}}, [][]int{{18, 27}, nil}},
		{OpAvgPool, Params{Pool: pg}, [][]int{nil, {2, 7, 5, 4}}, [][]int{{2, 1, 1, 4}, nil}},
		{OpDWConvGradW, Params{Conv: g}, [][]int{nil, {2, 3, 3, 3}, {2, 5, 5, 3}}, [][]int{{3, 3, 3}, nil, nil}},
		{OpMaxPool, Params{Pool: PoolGeom{N: 1, H: 4, W: 4, C: 2, Size: 2, Stride: 2}}, [][]int{nil, nil, {1, 4, 4, 2}},
			[][]int{{1, 2, 2, 2}, {1, 2, 2, 2}, nil}},
	} {
		got, err := c.op.OutputShapes(c.p, c.shapes...)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s.OutputShapes = %v, %v; want %v", c.op.Name, got, err, c.want)
		}
	}
	if _, err := OpHistogram.OutputShapes(Params{Lo: 0, Hi: 1}, nil, []int{5}); err == nil {
		t.Error("Histogram.OutputShapes: no error (its size is the caller's choice)")
	}
	if _, err := OpAvgPool.OutputShapes(Params{Pool: pg}, nil, []int{2, 7, 4, 4}); err == nil || !strings.HasPrefix(err.Error(), "AvgPool: x is") {
		t.Errorf("AvgPool.OutputShapes of a wrong x: %v", err)
	}
	if _, err := OpReLU.OutputShapes(Params{}, nil); err == nil {
		t.Error("OutputShapes with too few shapes: no error")
	}
}

// TestCheckDoesNotAllocate: a passing Check and a failing one cost no
// allocation (the training step's zero-allocation goal), also for an op
// with many operands and an optional one left nil.
func TestCheckDoesNotAllocate(t *testing.T) {
	r := &fakeRes{ran: map[string]int{}}
	x, y := ft(F32, 64, 8), ft(F32, 64, 8)
	var err error
	if n := testing.AllocsPerRun(100, func() {
		if _, ok := OpReLU.Check(&err, r, Params{}, y, x); !ok {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ReLU Check: %v allocations, want 0", n)
	}
	ch := func() *fakeT { return ft(F32, 8) }
	bnTs := []Tensor{ft(F32, 64, 8), ft(F32, 64, 8), ch(), ch(), x, ch(), ch(), ch(), ch()}
	p := Params{Momentum: 0.1, Eps: 1e-5}
	if n := testing.AllocsPerRun(100, func() {
		if _, ok := OpBatchNormTrain.Check(&err, r, p, bnTs...); !ok {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("BatchNormTrain Check: %v allocations, want 0", n)
	}
	s, z, dx := ft(F32, 1), ft(F32, 1), (*fakeT)(nil)
	qp := Params{P: QuantSpec{Scale: []float32{0.1}, Zero: []int32{0}, QMin: -127, QMax: 127}}
	if n := testing.AllocsPerRun(100, func() {
		if _, ok := OpQuantGrad.Check(&err, r, qp, dx, s, z, x, y); !ok {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("QuantGrad Check with nil dx: %v allocations, want 0", n)
	}
}
