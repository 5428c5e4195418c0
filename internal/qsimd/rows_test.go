package qsimd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// rowCase is one call of every row pass on one shape and row range.
type rowCase struct {
	rows, cols, rlo, rhi                     int
	x, add, cbeta, mean, invstd, gamma, beta []float32 // BNApply, RowAdd
	dy, h, y, kk, db, dg                     []float32 // BNGradDX
	fr                                       float32
	// MaxPool2 on px [pn, ph, pw, cols] with stride ps, output rows
	// [plo, phi).
	px                       []float32
	pn, ph, pw, ps, plo, phi int
}

var rowOpNames = []string{
	"BNApply.y", "BNApply.xhat", "BNApply(relu).y", "BNApply(relu).xhat",
	"BNApply(add).y", "BNApply(add).xhat", "BNApply(add,relu).y", "BNApply(add,relu).xhat",
	"RowAdd", "RowAdd(beta)", "RowAdd(beta, in place)", "BNGradDX", "BNGradDX(masked)", "BNGradDX(masked, in place)",
	"MaxPool2.y",
}

// rowOps runs the row passes of c (through the exported functions,
// whatever kernel is active) and returns their float32 outputs, each in a
// buffer of sentinels but the rows written, and MaxPool2's arg.
func rowOps(c rowCase) (outs [][]float32, arg []int32) {
	n := c.rows * c.cols
	out := func() []float32 {
		b := sentinelF(n, 0)
		outs = append(outs, b)
		return b
	}
	for _, add := range []bool{false, true} {
		for _, relu := range []bool{false, true} {
			ad, cb := c.add, c.cbeta
			if !add {
				ad, cb = nil, nil
			}
			BNApply(out(), out(), c.x, ad, cb, c.mean, c.invstd, c.gamma, c.beta, c.cols, c.rlo, c.rhi, relu)
		}
	}
	RowAdd(out(), c.x, c.add, nil, c.cols, c.rlo, c.rhi)
	RowAdd(out(), c.x, c.add, c.beta, c.cols, c.rlo, c.rhi)
	in := out() // in place: y = x
	copy(in, c.x[:n])
	RowAdd(in, in, c.add, c.beta, c.cols, c.rlo, c.rhi)
	BNGradDX(out(), c.dy, c.h, nil, c.kk, c.db, c.dg, c.fr, c.cols, c.rlo, c.rhi)
	BNGradDX(out(), c.dy, c.h, c.y, c.kk, c.db, c.dg, c.fr, c.cols, c.rlo, c.rhi)
	in = out()
	copy(in, c.dy[:n])
	BNGradDX(in, in, c.h, c.y, c.kk, c.db, c.dg, c.fr, c.cols, c.rlo, c.rhi)
	oh, ow := (c.ph-2)/c.ps+1, (c.pw-2)/c.ps+1
	np := c.pn * oh * ow * c.cols
	py := sentinelF(np, 0)
	outs = append(outs, py)
	arg = sentinelI(np, 0)
	MaxPool2(py, arg, c.px, c.ph, c.pw, c.cols, c.ps, c.plo, c.phi)
	return outs, arg
}

// poolValues returns n values for the max-pool: mostly small integers and
// signed zeros, so that windows hold ties, with the specials of colValues
// at rate p; or colValues' values.
func poolValues(rng *rand.Rand, n int, p float64) []float32 {
	if rng.IntN(3) == 0 {
		return colValues(rng, n, p)
	}
	x := make([]float32, n)
	for i := range x {
		switch {
		case rng.Float64() < p:
			x[i] = specials[rng.IntN(len(specials))]
		case rng.IntN(8) == 0:
			x[i] = f32(0x80000000)
		default:
			x[i] = float32(rng.IntN(7) - 2)
		}
	}
	return x
}

var rowColChoices = []int{100, 257, 1024}

func randRowCase(rng *rand.Rand) rowCase {
	cols := 1 + rng.IntN(40)
	if rng.IntN(8) == 0 {
		cols = rowColChoices[rng.IntN(len(rowColChoices))]
	}
	rows := rng.IntN(51)
	if cols > 40 {
		rows = rng.IntN(9)
	}
	rlo, rhi := 0, rows
	if rng.IntN(2) == 0 {
		rlo = rng.IntN(rows + 1)
		rhi = rlo + rng.IntN(rows-rlo+1)
	}
	p := []float64{0, 0, 0.002, 0.02, 0.3}[rng.IntN(5)]
	n := rows * cols
	extra := rng.IntN(cols + 1) // elements past the matrix: ignored
	vals := func(k int) []float32 { return colValues(rng, k, p) }
	c := rowCase{rows: rows, cols: cols, rlo: rlo, rhi: rhi,
		x: vals(n + extra), add: vals(cols), cbeta: vals(cols), mean: vals(cols), invstd: vals(cols),
		gamma: vals(cols), beta: vals(cols),
		dy: vals(n + extra), h: vals(n), y: vals(n), kk: vals(cols), db: vals(cols), dg: vals(cols),
		fr: []float32{1, 64, 36864, 3, float32(rows)}[rng.IntN(5)]}
	if rng.IntN(2) == 0 { // y as a ReLU's output sign pattern: about half positive
		for i := range c.y {
			if rng.IntN(2) == 0 {
				c.y[i] = -c.y[i]
			}
		}
	}
	c.ps = 1 + rng.IntN(3)
	c.ph, c.pw = 2+rng.IntN(7), 2+rng.IntN(7)
	if cols > 40 {
		c.ph, c.pw = 2+rng.IntN(3), 2+rng.IntN(3)
	}
	c.pn = 1 + rng.IntN(3)
	oh := (c.ph-2)/c.ps + 1
	c.plo, c.phi = 0, c.pn*oh
	if rng.IntN(2) == 0 {
		c.plo = rng.IntN(c.phi + 1)
		c.phi = c.plo + rng.IntN(c.pn*oh-c.plo+1)
	}
	c.px = poolValues(rng, c.pn*c.ph*c.pw*cols, p)
	return c
}

// checkRows compares the outputs of the row passes of c under kernel k
// with want (the generic code's), bit for bit, and the guards: only the
// rows in range written.
func checkRows(t *testing.T, trial int, k *kernel, c rowCase, want [][]float32, wantArg []int32) {
	t.Helper()
	got, gotArg := rowOps(c)
	desc := func() string {
		return fmt.Sprintf("trial %d: %s rows=%d cols=%d [%d, %d); pool %dx%dx%d stride %d [%d, %d)",
			trial, k.name, c.rows, c.cols, c.rlo, c.rhi, c.pn, c.ph, c.pw, c.ps, c.plo, c.phi)
	}
	for o := range want {
		for i := range want[o] {
			// Max-pool selects: its NaNs are the inputs' bits. The other
			// passes compute: a NaN made of two NaNs may carry either's
			// payload (see sameBits).
			if o == len(want)-1 && math.Float32bits(got[o][i]) != math.Float32bits(want[o][i]) || !sameBits(got[o][i], want[o][i]) {
				t.Fatalf("%s: %s [%d] = %v (%#x), want %v (%#x)", desc(), rowOpNames[o], i,
					got[o][i], math.Float32bits(got[o][i]), want[o][i], math.Float32bits(want[o][i]))
			}
		}
	}
	for i := range wantArg {
		if gotArg[i] != wantArg[i] {
			t.Fatalf("%s: MaxPool2.arg [%d] = %d, want %d", desc(), i, gotArg[i], wantArg[i])
		}
	}
	last := len(want) - 1
	for o := range last {
		if o == 10 || o == 13 { // in place: the input outside the rows
			continue
		}
		checkGuardsF(t, desc()+" "+rowOpNames[o], got[o], c.rlo*c.cols, (c.rhi-c.rlo)*c.cols)
	}
	_, ow := (c.ph-2)/c.ps+1, (c.pw-2)/c.ps+1
	pr := ow * c.cols
	checkGuardsF(t, desc()+" MaxPool2.y", got[last], c.plo*pr, (c.phi-c.plo)*pr)
	checkGuardsI(t, desc()+" MaxPool2.arg", gotArg, c.plo*pr, (c.phi-c.plo)*pr)
}

// TestRows holds every kernel's row passes to the generic code's, bit for
// bit (any NaN for a NaN made of two NaNs, see sameBits), on random shapes, row ranges and values (NaNs of several payloads,
// ±Inf, ±0, subnormals, huge values).
func TestRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := range trials() {
		c := randRowCase(rng)
		var want [][]float32
		var wantArg []int32
		withKernel(genericKernel, func() { want, wantArg = rowOps(c) })
		for _, k := range asmKernels(t) {
			withKernel(k, func() { checkRows(t, trial, k, c, want, wantArg) })
		}
	}
}

// TestRowsSpecials runs the row passes on specials only, so that every
// pair of NaN payloads, Inf - Inf, 0·Inf, signed zeros and subnormals
// meet in every lane.
func TestRowsSpecials(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	pick := func(k int) []float32 {
		v := make([]float32, k)
		for i := range v {
			v[i] = specials[rng.IntN(len(specials))]
		}
		return v
	}
	for trial := range 2000 {
		cols := []int{16, 8, 24, 5, 19}[trial%5]
		rows := 1 + rng.IntN(4)
		n := rows * cols
		c := rowCase{rows: rows, cols: cols, rlo: 0, rhi: rows,
			x: pick(n), add: pick(cols), cbeta: pick(cols), mean: pick(cols), invstd: pick(cols), gamma: pick(cols), beta: pick(cols),
			dy: pick(n), h: pick(n), y: pick(n), kk: pick(cols), db: pick(cols), dg: pick(cols), fr: 64,
			pn: 1, ph: 2 + rng.IntN(3), pw: 2 + rng.IntN(3), ps: 1 + rng.IntN(2)}
		c.phi = (c.ph-2)/c.ps + 1
		c.px = pick(c.ph * c.pw * cols)
		var want [][]float32
		var wantArg []int32
		withKernel(genericKernel, func() { want, wantArg = rowOps(c) })
		for _, k := range asmKernels(t) {
			withKernel(k, func() { checkRows(t, trial, k, c, want, wantArg) })
		}
	}
}

// TestRowsGenericColumns holds the generic code's column ranges (the
// columns AVX2 leaves to it) to one pass over all columns.
func TestRowsGenericColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for trial := range 300 {
		c := randRowCase(rng)
		split := 1 + rng.IntN(c.cols)
		n := c.rows * c.cols
		bn := func(relu bool, add, cb []float32, clo, chi int, y, h []float32) {
			bnApplyGeneric(y, h, c.x, add, cb, c.mean, c.invstd, c.gamma, c.beta, c.cols, c.rlo, c.rhi, clo, chi, relu)
		}
		for _, relu := range []bool{false, true} {
			y1, h1, y2, h2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			bn(relu, c.add, c.cbeta, 0, c.cols, y1, h1)
			bn(relu, c.add, c.cbeta, 0, split, y2, h2)
			bn(relu, c.add, c.cbeta, split, c.cols, y2, h2)
			r1, r2 := make([]float32, n), make([]float32, n)
			rowAddGeneric(r1, c.x, c.add, c.beta, c.cols, c.rlo, c.rhi, 0, c.cols)
			rowAddGeneric(r2, c.x, c.add, c.beta, c.cols, c.rlo, c.rhi, 0, split)
			rowAddGeneric(r2, c.x, c.add, c.beta, c.cols, c.rlo, c.rhi, split, c.cols)
			d1, d2 := make([]float32, n), make([]float32, n)
			bnGradDXGeneric(d1, c.dy, c.h, c.y, c.kk, c.db, c.dg, c.fr, c.cols, c.rlo, c.rhi, 0, c.cols)
			bnGradDXGeneric(d2, c.dy, c.h, c.y, c.kk, c.db, c.dg, c.fr, c.cols, c.rlo, c.rhi, 0, split)
			bnGradDXGeneric(d2, c.dy, c.h, c.y, c.kk, c.db, c.dg, c.fr, c.cols, c.rlo, c.rhi, split, c.cols)
			for i := range n {
				for _, p := range [][2]float32{{y1[i], y2[i]}, {h1[i], h2[i]}, {r1[i], r2[i]}, {d1[i], d2[i]}} {
					if math.Float32bits(p[0]) != math.Float32bits(p[1]) {
						t.Fatalf("trial %d: cols %d split at %d: [%d] %#x, whole %#x", trial, c.cols, split, i,
							math.Float32bits(p[1]), math.Float32bits(p[0]))
					}
				}
			}
		}
	}
}

// TestRowsDefinitions holds the generic row passes to their definitions,
// element by element, on specials (ReLU and the mask on every special).
func TestRowsDefinitions(t *testing.T) {
	for _, v := range specials {
		want := v
		if !(v > 0) {
			want = 0
		}
		if got := relu(v); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("relu(%#x) = %#x, want %#x", math.Float32bits(v), math.Float32bits(got), math.Float32bits(want))
		}
	}
	rng := rand.New(rand.NewPCG(27, 28))
	for range 200 {
		c := randRowCase(rng)
		if c.rows == 0 {
			continue
		}
		n := c.rows * c.cols
		y, h := make([]float32, n), make([]float32, n)
		bnApplyGeneric(y, h, c.x, c.add, c.cbeta, c.mean, c.invstd, c.gamma, c.beta, c.cols, 0, c.rows, 0, c.cols, true)
		d := make([]float32, n)
		bnGradDXGeneric(d, c.dy, c.h, c.y, c.kk, c.db, c.dg, c.fr, c.cols, 0, c.rows, 0, c.cols)
		for i := range n {
			k := i % c.cols
			hv := (((c.x[i] + c.add[k]) + c.cbeta[k]) - c.mean[k]) * c.invstd[k]
			yv := float32(c.gamma[k]*hv) + c.beta[k]
			if !(yv > 0) {
				yv = 0
			}
			m := c.dy[i]
			if !(c.y[i] > 0) {
				m = 0
			}
			dv := c.kk[k] * (float32(c.fr*m) - c.db[k] - float32(c.h[i]*c.dg[k]))
			for _, p := range [][2]float32{{h[i], hv}, {y[i], yv}, {d[i], dv}} {
				if math.Float32bits(p[0]) != math.Float32bits(p[1]) && !(p[0] != p[0] && p[1] != p[1]) {
					t.Fatalf("cols %d [%d]: generic %v, definition %v", c.cols, i, p[0], p[1])
				}
			}
		}
	}
}

func TestRowsNoAllocs(t *testing.T) {
	const rows, cols = 50, 21
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(i%97) - 40
	}
	a, b, y := make([]float32, cols), make([]float32, cols), make([]float32, rows*cols)
	arg := make([]int32, rows*cols)
	if n := testing.AllocsPerRun(5, func() {
		BNApply(y, y, x, a, b, a, b, a, b, cols, 3, rows, true)
		RowAdd(y, x, a, b, cols, 0, rows)
		BNGradDX(y, x, x, x, a, b, a, 64, cols, 1, 40)
		MaxPool2(y, arg, x, 10, 5, cols, 2, 0, 4)
	}); n != 0 {
		t.Errorf("%s: %v allocations per call of the row passes, want 0", Kernel(), n)
	}
}

func BenchmarkRows(b *testing.B) {
	const rows, cols = 36864, 16 // a 16-channel 24x24 conv's output, batch 64
	rng := rand.New(rand.NewPCG(1, 1))
	v := func(n int) []float32 { return colValues(rng, n, 0) }
	x, y, h, dy := v(rows*cols), v(rows*cols), v(rows*cols), v(rows*cols)
	out, out2 := make([]float32, rows*cols), make([]float32, rows*cols)
	p := make([]float32, 8*cols)
	for i := range p {
		p[i] = float32(rng.NormFloat64())
	}
	pc := func(i int) []float32 { return p[i*cols : (i+1)*cols] }
	py := make([]float32, rows*cols/4)
	arg := make([]int32, rows*cols/4)
	ops := []struct {
		name string
		f    func()
	}{
		{"BNApply", func() { BNApply(out, out2, x, nil, nil, pc(0), pc(1), pc(2), pc(3), cols, 0, rows, false) }},
		{"BNApplyAddReLU", func() { BNApply(out, out2, x, pc(4), pc(5), pc(0), pc(1), pc(2), pc(3), cols, 0, rows, true) }},
		{"RowAdd", func() { RowAdd(out, x, pc(0), nil, cols, 0, rows) }},
		{"RowAddBeta", func() { RowAdd(out, x, pc(0), pc(1), cols, 0, rows) }},
		{"BNGradDX", func() { BNGradDX(out, dy, h, nil, pc(0), pc(1), pc(2), rows, cols, 0, rows) }},
		{"BNGradDXMasked", func() { BNGradDX(out, dy, h, y, pc(0), pc(1), pc(2), rows, cols, 0, rows) }},
		{"MaxPool2", func() { MaxPool2(py, arg, x, 24, 24, cols, 2, 0, 64*12) }},
	}
	for _, op := range ops {
		for _, k := range kernels {
			b.Run(fmt.Sprintf("%s/%dx%d/%s", op.name, rows, cols, k.name), func(b *testing.B) {
				withKernel(k, func() {
					for b.Loop() {
						op.f()
					}
				})
			})
		}
	}
}

func TestRowsNaNPayloads(t *testing.T) {
	t.Logf("%d NaN results whose payload differed from the generic code's so far (two NaNs met)", nanPayloads)
}
