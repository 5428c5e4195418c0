package ref

import (
	"errors"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

func TestResolve(t *testing.T) {
	b, other := New(), New()
	x, _ := b.New(backend.F32, 2, 3)
	shape, dt, store, err := b.Resolve(x)
	if err != nil || dt != backend.F32 || len(shape) != 2 || shape[0] != 2 || shape[1] != 3 {
		t.Fatalf("Resolve: %v %v %v", shape, dt, err)
	}
	v, _ := b.Reshape(x, 6)
	if _, _, s2, _ := b.Resolve(v); s2 != store {
		t.Error("a view resolves to another storage")
	}
	var typedNil *Tensor
	for _, c := range []struct {
		name string
		t    backend.Tensor
		want error
	}{
		{"nil", nil, backend.ErrNil},
		{"typed nil", typedNil, backend.ErrNil},
		{"foreign", func() backend.Tensor { y, _ := other.New(backend.F32, 1); return y }(), errForeign},
	} {
		if _, _, _, err := b.Resolve(c.t); !errors.Is(err, c.want) {
			t.Errorf("%s: Resolve error %v, want %v", c.name, err, c.want)
		}
	}
	b.Free(v)
	if _, _, _, err := b.Resolve(x); !errors.Is(err, errFreed) {
		t.Errorf("freed: Resolve error %v", err)
	}
	y, _ := b.New(backend.F32, 1)
	b.Close()
	if _, _, _, err := b.Resolve(y); !errors.Is(err, errClosed) {
		t.Errorf("closed: Resolve error %v", err)
	}
	b.Fill(y, 1)
	if err := b.Err(); err == nil || err.Error() != "Fill: t backend is closed" {
		t.Errorf("Fill after Close: %v", err)
	}
}

// TestContractErrors checks that ops reject bad calls with the contract's
// messages and skip everything after the first.
func TestContractErrors(t *testing.T) {
	b := New()
	x, _ := b.New(backend.F32, 4)
	q, _ := b.New(backend.Q8, 4)
	b.ReLU(x, nil)
	if err := b.Err(); err == nil || !strings.HasPrefix(err.Error(), "ReLU: x is nil") {
		t.Fatalf("ReLU(x, nil): %v", err)
	}
	b.Fill(x, 1) // skipped: the first error sticks
	if f, _ := b.HostF32(x); f[0] != 0 {
		t.Fatal("op ran after an error")
	}

	b = New()
	x, _ = b.New(backend.F32, 4)
	q, _ = b.New(backend.Q8, 4)
	b.ReLU(x, q)
	if err := b.Err(); err == nil || !strings.HasPrefix(err.Error(), "ReLU: x is q8") {
		t.Errorf("ReLU of a Q8 tensor: %v", err)
	}
	b = New()
	x, _ = b.New(backend.F32, 4)
	y, _ := b.New(backend.F32, 5)
	b.Add(y, x, x)
	if err := b.Err(); err == nil || !strings.HasPrefix(err.Error(), "Add: y is [5]") {
		t.Errorf("Add of mismatched lengths: %v", err)
	}
}

func TestOpCounts(t *testing.T) {
	b := New()
	if got := b.OpCounts(); len(got) != len(backend.Ops()) {
		t.Fatalf("OpCounts has %d entries, want %d", len(got), len(backend.Ops()))
	}
	x, _ := b.New(backend.F32, 4)
	y, _ := b.New(backend.F32, 4)
	b.ReLU(y, x)
	b.ReLU(y, x)
	b.Add(y, y, x)
	c := b.OpCounts()
	if c[backend.OpReLU.ID] != 2 || c[backend.OpAdd.ID] != 1 || c[backend.OpFill.ID] != 0 {
		t.Errorf("counts ReLU %d, Add %d, Fill %d; want 2, 1, 0", c[backend.OpReLU.ID], c[backend.OpAdd.ID], c[backend.OpFill.ID])
	}
	c[backend.OpReLU.ID] = 100 // a copy
	z, _ := b.New(backend.F32, 5)
	b.ReLU(z, x) // rejected: not counted
	if c := b.OpCounts(); c[backend.OpReLU.ID] != 2 {
		t.Errorf("ReLU count %d after a rejected call, want 2", c[backend.OpReLU.ID])
	}
}

// TestMaxPoolGradBadIndex checks MaxPoolGrad's runtime check: an index
// outside dx is an error and dx is left alone.
func TestMaxPoolGradBadIndex(t *testing.T) {
	b := New()
	g := backend.PoolGeom{N: 1, H: 2, W: 2, C: 1, Size: 2, Stride: 2}
	dx := tensorF(t, b, []float32{7, 7, 7, 7}, 1, 2, 2, 1)
	dy := tensorF(t, b, []float32{1}, 1, 1, 1, 1)
	arg := tensorI(t, b, backend.I32, []int32{4}, 1, 1, 1, 1)
	b.MaxPoolGrad(dx, dy, arg, g)
	if err := b.Err(); err == nil || err.Error() != "MaxPoolGrad: arg[0] = 4 outside dx [1 2 2 1]" {
		t.Fatalf("MaxPoolGrad with a bad index: %v", err)
	}
	if f, _ := b.HostF32(dx); f[0] != 7 || f[3] != 7 {
		t.Errorf("dx touched: %v", f)
	}
}
