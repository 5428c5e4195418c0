package backendtest

import (
	"math"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// TestMemory checks New, Reshape, Write, Read, Fill, Copy and Free.
func TestMemory(t *testing.T, b backend.Backend) {
	newT := func(dt backend.DType, shape ...int) backend.Tensor {
		t.Helper()
		x, err := b.New(dt, shape...)
		if err != nil {
			t.Fatalf("New(%v, %v): %v", dt, shape, err)
		}
		if x.DType() != dt || x.Len() != product(shape) || !equalInts(x.Shape(), shape) {
			t.Fatalf("New(%v, %v) gave %v %v (len %d)", dt, shape, x.DType(), x.Shape(), x.Len())
		}
		return x
	}
	f := newT(backend.F32, 3, 5, 7)
	i := newT(backend.I32, 105)
	defer b.Free(f)
	defer b.Free(i)

	// Zero-filled at birth.
	gf, gi := make([]float32, 105), make([]int32, 105)
	must(t, b.ReadF32(f, gf))
	must(t, b.ReadI32(i, gi))
	for k := range gf {
		if gf[k] != 0 || gi[k] != 0 {
			t.Fatalf("new tensors not zero: f[%d] = %v, i[%d] = %d", k, gf[k], k, gi[k])
		}
	}

	// Round trips, including values that do not fit in 8 bits.
	wf, wi := make([]float32, 105), make([]int32, 105)
	for k := range wf {
		wf[k] = float32(k)*0.25 - 7
		wi[k] = int32(k*k*40503) - 1<<30
	}
	wf[3], wi[4] = float32(math.Inf(-1)), math.MinInt32
	must(t, b.WriteF32(f, wf))
	must(t, b.WriteI32(i, wi))
	must(t, b.ReadF32(f, gf))
	must(t, b.ReadI32(i, gi))
	for k := range gf {
		if gf[k] != wf[k] || gi[k] != wi[k] {
			t.Fatalf("round trip [%d]: %v, %d, want %v, %d", k, gf[k], gi[k], wf[k], wi[k])
		}
	}

	// A view shares storage both ways.
	v, err := b.Reshape(f, 15, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(v.Shape(), []int{15, 7}) || v.DType() != backend.F32 || v.Len() != 105 {
		t.Fatalf("Reshape gave %v %v", v.DType(), v.Shape())
	}
	b.Fill(v, 2.5)
	must(t, b.ReadF32(f, gf))
	for k := range gf {
		if gf[k] != 2.5 {
			t.Fatalf("Fill through a view: f[%d] = %v", k, gf[k])
		}
	}
	must(t, b.WriteF32(f, wf))
	must(t, b.ReadF32(v, gf))
	if gf[10] != wf[10] {
		t.Fatalf("write to f not seen through the view")
	}

	// Copy of both dtypes.
	f2 := newT(backend.F32, 105)
	i2 := newT(backend.I32, 5, 21)
	defer b.Free(f2)
	defer b.Free(i2)
	b.Copy(f2, f)
	b.Copy(i2, i)
	must(t, b.ReadF32(f2, gf))
	must(t, b.ReadI32(i2, gi))
	for k := range gf {
		if gf[k] != wf[k] || gi[k] != wi[k] {
			t.Fatalf("Copy [%d]: %v, %d, want %v, %d", k, gf[k], gi[k], wf[k], wi[k])
		}
	}

	// Free of nil and twice.
	tmp := newT(backend.F32, 4)
	b.Free(tmp)
	b.Free(tmp)
	b.Free(nil)
	must(t, b.Sync())
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func product(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// errCase is a misuse that must record an error naming op.
type errCase struct {
	name string
	op   string
	do   func(b backend.Backend, mk func(dt backend.DType, shape ...int) backend.Tensor)
}

func errCases() []errCase {
	q8 := backend.QuantSpec{Scale: []float32{0.1}, Zero: []int32{0}, QMin: -127, QMax: 127}
	g := backend.ConvGeom{N: 1, H: 5, W: 5, C: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1}
	pg := backend.PoolGeom{N: 1, H: 4, W: 4, C: 2, Size: 2, Stride: 2}
	F, I, Q := backend.F32, backend.I32, backend.Q8
	type mkf = func(dt backend.DType, shape ...int) backend.Tensor
	return []errCase{
		{"GemmI inner", "GemmI", func(b backend.Backend, mk mkf) { b.GemmI(mk(I, 64, 32), mk(Q, 64, 9), mk(Q, 32, 8)) }},
		{"GemmI acc shape", "GemmI", func(b backend.Backend, mk mkf) { b.GemmI(mk(I, 64, 31), mk(Q, 64, 9), mk(Q, 32, 9)) }},
		{"GemmI dtype", "GemmI", func(b backend.Backend, mk mkf) { b.GemmI(mk(I, 4, 3), mk(F, 4, 9), mk(Q, 3, 9)) }},
		{"Gemm inner", "Gemm", func(b backend.Backend, mk mkf) { b.Gemm(mk(F, 4, 5), mk(F, 4, 6), mk(F, 7, 5), false, false, 1, 0) }},
		{"Gemm trans", "Gemm", func(b backend.Backend, mk mkf) { b.Gemm(mk(F, 4, 5), mk(F, 4, 6), mk(F, 6, 5), true, false, 1, 0) }},
		{"Gemm dtype", "Gemm", func(b backend.Backend, mk mkf) { b.Gemm(mk(I, 4, 5), mk(F, 4, 6), mk(F, 6, 5), false, false, 1, 0) }},
		{"Quantize dtype", "Quantize", func(b backend.Backend, mk mkf) { b.Quantize(mk(F, 10), mk(F, 10), q8) }},
		{"Quantize length", "Quantize", func(b backend.Backend, mk mkf) { b.Quantize(mk(Q, 11), mk(F, 10), q8) }},
		{"Quantize spec", "Quantize", func(b backend.Backend, mk mkf) {
			b.Quantize(mk(Q, 10), mk(F, 10), backend.QuantSpec{Scale: []float32{0}, Zero: []int32{0}, QMin: -127, QMax: 127})
		}},
		{"Quantize channels", "Quantize", func(b backend.Backend, mk mkf) {
			b.Quantize(mk(Q, 4, 3), mk(F, 4, 3), backend.QuantSpec{Scale: []float32{1, 1, 1}, Zero: []int32{0, 0, 0}, QMin: -127, QMax: 127})
		}},
		{"Dequantize dtype", "Dequantize", func(b backend.Backend, mk mkf) { b.Dequantize(mk(F, 10), mk(F, 10), q8) }},
		{"QuantGrad dScale", "QuantGrad", func(b backend.Backend, mk mkf) { b.QuantGrad(nil, mk(F, 2), mk(F, 1), mk(F, 10), mk(F, 10), q8) }},
		{"Im2ColI image", "Im2ColI", func(b backend.Backend, mk mkf) { b.Im2ColI(mk(Q, g.Rows(), g.K()), mk(Q, 1, 5, 5, 3), g, 0) }},
		{"Im2ColI cols", "Im2ColI", func(b backend.Backend, mk mkf) { b.Im2ColI(mk(Q, g.Rows(), g.K()+1), mk(Q, 1, 5, 5, 2), g, 0) }},
		{"Im2Col geometry", "Im2Col", func(b backend.Backend, mk mkf) {
			bad := g
			bad.StrideH = 0
			b.Im2Col(mk(F, g.Rows(), g.K()), mk(F, 1, 5, 5, 2), bad)
		}},
		{"Col2Im dtype", "Col2Im", func(b backend.Backend, mk mkf) { b.Col2Im(mk(F, 1, 5, 5, 2), mk(I, g.Rows(), g.K()), g) }},
		{"RowSumI length", "RowSumI", func(b backend.Backend, mk mkf) { b.RowSumI(mk(I, 5), mk(Q, 4, 3)) }},
		{"Dequant sb", "Dequant", func(b backend.Backend, mk mkf) {
			b.Dequant(mk(F, 4, 3), mk(I, 4, 3), mk(I, 4), mk(I, 4), 9, q8, q8, nil)
		}},
		{"Dequant pb", "Dequant", func(b backend.Backend, mk mkf) {
			pb := backend.QuantSpec{Scale: []float32{1, 1}, Zero: []int32{0, 0}, QMin: -127, QMax: 127}
			b.Dequant(mk(F, 4, 3), mk(I, 4, 3), mk(I, 4), mk(I, 3), 9, q8, pb, nil)
		}},
		{"AddBias length", "AddBias", func(b backend.Backend, mk mkf) { b.AddBias(mk(F, 4, 3), mk(F, 4)) }},
		{"ColSum length", "ColSum", func(b backend.Backend, mk mkf) { b.ColSum(mk(F, 4), mk(F, 4, 3)) }},
		{"ReLU length", "ReLU", func(b backend.Backend, mk mkf) { b.ReLU(mk(F, 4), mk(F, 5)) }},
		{"ReLUGrad dtype", "ReLUGrad", func(b backend.Backend, mk mkf) { b.ReLUGrad(mk(F, 4), mk(F, 4), mk(I, 4)) }},
		{"MaxPool arg dtype", "MaxPool", func(b backend.Backend, mk mkf) {
			b.MaxPool(mk(F, 1, 2, 2, 2), mk(F, 1, 2, 2, 2), mk(F, 1, 4, 4, 2), pg)
		}},
		{"MaxPool geometry", "MaxPool", func(b backend.Backend, mk mkf) {
			bad := pg
			bad.Size = 5
			b.MaxPool(mk(F, 1, 2, 2, 2), mk(I, 1, 2, 2, 2), mk(F, 1, 4, 4, 2), bad)
		}},
		{"MaxPoolGrad dy", "MaxPoolGrad", func(b backend.Backend, mk mkf) {
			b.MaxPoolGrad(mk(F, 1, 4, 4, 2), mk(F, 1, 3, 2, 2), mk(I, 1, 2, 2, 2), pg)
		}},
		{"BatchNormTrain gamma", "BatchNormTrain", func(b backend.Backend, mk mkf) {
			b.BatchNormTrain(mk(F, 6, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 4), mk(F, 3), mk(F, 3), mk(F, 3), 0.1, 1e-5)
		}},
		{"BatchNormInfer y", "BatchNormInfer", func(b backend.Backend, mk mkf) {
			b.BatchNormInfer(mk(F, 6, 4), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), mk(F, 3), 1e-5)
		}},
		{"BatchNormGrad xhat", "BatchNormGrad", func(b backend.Backend, mk mkf) {
			b.BatchNormGrad(mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 6, 3), mk(F, 5, 3), mk(F, 3), mk(F, 3))
		}},
		{"CompensateTrain mean", "CompensateTrain", func(b backend.Backend, mk mkf) {
			b.CompensateTrain(mk(F, 6, 3), mk(F, 2), mk(F, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3), 0.1)
		}},
		{"CompensateInfer dtype", "CompensateInfer", func(b backend.Backend, mk mkf) {
			b.CompensateInfer(mk(F, 6, 3), mk(I, 6, 3), mk(F, 3), mk(F, 3), mk(F, 3))
		}},
		{"CompensateGrad dgamma", "CompensateGrad", func(b backend.Backend, mk mkf) {
			b.CompensateGrad(mk(F, 6, 3), mk(F, 4), mk(F, 3), mk(F, 6, 3), mk(F, 3), mk(F, 3), true)
		}},
		{"Copy length", "Copy", func(b backend.Backend, mk mkf) { b.Copy(mk(F, 4), mk(F, 5)) }},
		{"Copy dtype", "Copy", func(b backend.Backend, mk mkf) { b.Copy(mk(I, 4), mk(F, 4)) }},
		{"Fill dtype", "Fill", func(b backend.Backend, mk mkf) { b.Fill(mk(I, 4), 1) }},
		{"MinMax length", "MinMax", func(b backend.Backend, mk mkf) { b.MinMax(mk(F, 2), mk(F, 5)) }},
		{"Histogram range", "Histogram", func(b backend.Backend, mk mkf) { b.Histogram(mk(I, 8), mk(F, 5), 1, 1) }},
	}
}

// TestErrors checks the error contract on fresh backends from newBackend:
// each misuse records an error that names the op; the first error sticks
// and is returned by Err, Sync and the Reads; later ops are skipped
// (checked through HostAccess when the backend has it); a tensor of
// another backend, or a freed one, is refused; bad Write, Read and Reshape
// arguments return errors.
func TestErrors(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	for _, c := range errCases() {
		t.Run(c.name, func(t *testing.T) {
			b := newBackend(t)
			defer b.Close()
			var made []backend.Tensor
			defer func() {
				for _, x := range made {
					b.Free(x)
				}
			}()
			mk := func(dt backend.DType, shape ...int) backend.Tensor {
				x, err := b.New(dt, shape...)
				if err != nil {
					t.Fatalf("New(%v, %v): %v", dt, shape, err)
				}
				made = append(made, x)
				return x
			}
			keep := mk(backend.F32, 4)
			if err := b.WriteF32(keep, []float32{1, 2, 3, 4}); err != nil {
				t.Fatal(err)
			}
			c.do(b, mk)
			err := b.Err()
			if err == nil {
				t.Fatalf("%s: no error recorded", c.name)
			}
			if !strings.Contains(err.Error(), c.op) {
				t.Fatalf("error %q does not name the op %s", err, c.op)
			}
			first := err.Error()
			// Later ops are skipped and do not replace the first error.
			b.Fill(keep, 9)
			b.ReLU(mk(backend.F32, 2), mk(backend.F32, 3))
			if err := b.Sync(); err == nil || err.Error() != first {
				t.Fatalf("Sync after the error = %v, want %q", err, first)
			}
			if err := b.ReadF32(keep, make([]float32, 4)); err == nil || err.Error() != first {
				t.Fatalf("ReadF32 after the error = %v, want %q", err, first)
			}
			if err := b.ReadI32(mk(backend.I32, 2), make([]int32, 2)); err == nil || err.Error() != first {
				t.Fatalf("ReadI32 after the error = %v, want %q", err, first)
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
		})
	}

	t.Run("foreign tensor", func(t *testing.T) {
		b, other := newBackend(t), newBackend(t)
		defer b.Close()
		defer other.Close()
		x, err := other.New(backend.F32, 4)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Free(x)
		y, err := b.New(backend.F32, 4)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Free(y)
		b.ReLU(y, x)
		if err := b.Err(); err == nil || !strings.Contains(err.Error(), "ReLU") {
			t.Fatalf("ReLU with another backend's tensor: error %v", err)
		}
		if err := other.Err(); err != nil {
			t.Fatalf("the other backend got an error: %v", err)
		}
	})

	t.Run("freed tensor", func(t *testing.T) {
		b := newBackend(t)
		defer b.Close()
		x, err := b.New(backend.F32, 4)
		if err != nil {
			t.Fatal(err)
		}
		y, err := b.New(backend.F32, 4)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Free(y)
		b.Free(x)
		b.ReLU(y, x)
		if err := b.Err(); err == nil || !strings.Contains(err.Error(), "ReLU") {
			t.Fatalf("ReLU of a freed tensor: error %v", err)
		}
	})

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
	})
}
