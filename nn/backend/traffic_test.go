package backend

import "testing"

// trafficRes is a fakeRes that sums the declared traffic of the calls
// that passed their checks.
type trafficRes struct {
	fakeRes
	bytes map[string]int64
}

func (r *trafficRes) OpTraffic(op *Op, n int64) { r.bytes[op.Name] += n }

func TestEveryOpDeclaresTraffic(t *testing.T) {
	for _, op := range Ops() {
		if !op.HasTraffic() {
			t.Errorf("op %s declares no traffic", op.Name)
		}
	}
	if (&Op{Name: "Undeclared"}).HasTraffic() {
		t.Error("an op without a traffic rule has one")
	}
}

// TestDeclaredTraffic checks the bytes of a few calls against numbers
// worked out by hand.
func TestDeclaredTraffic(t *testing.T) {
	cases := []struct {
		name string
		op   *Op
		p    Params
		ts   []Tensor
		want int64
	}{
		// acc [4 3] i32 written (48), a [4 6] and b [3 6] q8 read (24+18).
		{"GemmI", OpGemmI, Params{}, []Tensor{ft(I32, 4, 3), ft(Q8, 4, 6), ft(Q8, 3, 6)}, 48 + 24 + 18},
		// c [2 3] written (24), a [2 5] (40), b [5 3] (60) read; beta 0: c not read.
		{"Gemm beta 0", OpGemm, Params{Alpha: 1}, []Tensor{ft(F32, 2, 3), ft(F32, 2, 5), ft(F32, 5, 3)}, 24 + 40 + 60},
		// beta 1: c read as well.
		{"Gemm beta 1", OpGemm, Params{Alpha: 1, Beta: 1}, []Tensor{ft(F32, 2, 3), ft(F32, 2, 5), ft(F32, 5, 3)}, 24 + 40 + 60 + 24},
		// y [2 3] read and written (2·24), bias [3] read (12).
		{"AddBias", OpAddBias, Params{}, []Tensor{ft(F32, 2, 3), ft(F32, 3)}, 2*24 + 12},
		// QuantGrad without dx: dScale, dZero [1] written (4+4), x and dxhat [10] read (40+40).
		{"QuantGrad", OpQuantGrad, Params{P: QuantSpec{Scale: []float32{0.1}, Zero: []int32{0}, QMin: -128, QMax: 127}},
			[]Tensor{nil, ft(F32, 1), ft(F32, 1), ft(F32, 10), ft(F32, 10)}, 4 + 4 + 40 + 40},
		// Copy of q8 codes [5 4]: 20 read, 20 written.
		{"Copy q8", OpCopy, Params{}, []Tensor{ft(Q8, 5, 4), ft(Q8, 5, 4)}, 40},
	}
	for _, c := range cases {
		r := &trafficRes{fakeRes: fakeRes{ran: map[string]int{}}, bytes: map[string]int64{}}
		var err error
		if _, ok := c.op.Check(&err, r, c.p, c.ts...); !ok {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := r.bytes[c.op.Name]; got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, got, c.want)
		}
	}
	// A call that fails its checks moves nothing.
	r := &trafficRes{fakeRes: fakeRes{ran: map[string]int{}}, bytes: map[string]int64{}}
	var err error
	if _, ok := OpGemmI.Check(&err, r, Params{}, ft(I32, 4, 3), ft(Q8, 4, 6), ft(Q8, 3, 5)); ok || len(r.bytes) != 0 {
		t.Errorf("failed GemmI: ok %v, traffic %v", ok, r.bytes)
	}
}
