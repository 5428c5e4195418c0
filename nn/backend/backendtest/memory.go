package backendtest

import (
	"math"
	"slices"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// TestMemory checks New, Reshape, Write, Read, Fill, Copy (of every
// dtype) and Free.
func TestMemory(t *testing.T, b backend.Backend) {
	newT := func(dt backend.DType, shape ...int) backend.Tensor {
		t.Helper()
		x, err := b.New(dt, shape...)
		if err != nil {
			t.Fatalf("New(%v, %v): %v", dt, shape, err)
		}
		if x.DType() != dt || x.Len() != product(shape) || !slices.Equal(x.Shape(), shape) {
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
	if !slices.Equal(v.Shape(), []int{15, 7}) || v.DType() != backend.F32 || v.Len() != 105 {
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

	// Copy of Q8 codes, signed and unsigned.
	q, q2 := newT(backend.Q8, 4, 6), newT(backend.Q8, 4, 6)
	defer b.Free(q)
	defer b.Free(q2)
	wq, gq := make([]int32, 24), make([]int32, 24)
	for k := range wq {
		wq[k] = int32(k*53%384) - 128
	}
	must(t, b.WriteI32(q, wq))
	b.Copy(q2, q)
	must(t, b.ReadI32(q2, gq))
	if !slices.Equal(gq, wq) {
		t.Fatalf("Copy of Q8 codes: %v, want %v", gq, wq)
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
