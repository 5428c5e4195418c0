package backendtest

import (
	"fmt"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// weightCase is one weight matrix [out, k] of TestFusedWeightGrad: its
// code range, per-channel or per-tensor spec, and (for DenseGradWQ) the
// rows r of dy and of the input codes, whose range is rx.
type weightCase struct {
	out, k, r int
	rw, rx    codeRange
	perChan   bool
}

// weightCases are TestFusedWeightGrad's matrices: rows of one to a few
// codes (a last packed word of 1, 2 or 3 codes), rows that are whole
// words, the weights of the MNIST nets (16x25 conv, 128x2304 and 10x128
// fc), more rows than a backend's tile, one row, codes of both signs
// (stored one per int on a packing backend), a per-tensor slice of more
// than 2^14 elements and a long dy (more rows than a backend's kernel may
// loop over).
func weightCases() []weightCase {
	rs := codeRanges()
	mixed := codeRange{"mixed", -8, 200}
	return []weightCase{
		{1, 1, 1, rs[2], rs[6], false},
		{3, 1, 2, rs[2], rs[6], true},
		{3, 2, 5, rs[1], rs[3], true},
		{5, 3, 7, rs[0], rs[5], false},
		{7, 9, 3, rs[2], rs[6], true},
		{16, 25, 64, rs[2], rs[6], true},
		{10, 128, 64, rs[2], rs[6], true},
		{128, 2304, 64, rs[2], rs[6], true},
		{40, 36, 33, rs[6], rs[2], false},
		{33, 70, 130, rs[2], mixed, true},
		{6, 20, 9, mixed, rs[6], true},
		{300, 8, 17, rs[5], rs[4], true},
		{64, 300, 20, rs[2], rs[6], false},
		{2, 3, 33001, rs[2], rs[6], true},
	}
}

// fusedWeightGrad returns b's FusedWeightGrad ability, failing the test
// when b lacks it (the ability's ops are declared, so a backend of this
// project must have them).
func fusedWeightGrad(t *testing.T, b backend.Backend) backend.FusedWeightGrad {
	t.Helper()
	f, ok := b.(backend.FusedWeightGrad)
	if !ok {
		t.Fatalf("%s (%T) lacks backend.FusedWeightGrad, whose ops the contract declares", b.Name(), b)
	}
	return f
}

// TestFusedWeightGrad checks the fused weight ops (backend.FusedWeightGrad)
// on the backend under test against the composed ops they replace, run on
// the reference: QuantizeWeights bit for bit against Quantize, RowSumI and
// Dequantize (with and without the row sums and the dequantized weights);
// DenseGradWQ against ColSum, Dequantize, Gemm and QuantGrad, and
// ConvGradWQuant against ColSum, ConvGradWQ and QuantGrad: the bias
// gradient within ColSum's tolerance, the weight gradient within Gemm's
// (exactly 0 where the composition clips) and the quantizer's scale and
// zero-point gradients within Gemm's over the R·slice products they sum.
// On the reference backend itself the fused ops must give the
// composition's bits.
func TestFusedWeightGrad(t *testing.T, b backend.Backend) {
	f := fusedWeightGrad(t, b)
	_, exact := b.(*ref.Backend)
	for i, c := range weightCases() {
		name := fmt.Sprintf("%dx%d_r%d_%s_%s_perChan%v", c.out, c.k, c.r, c.rw.name, c.rx.name, c.perChan)
		t.Run("QuantizeWeights/"+name, func(t *testing.T) { testQuantizeWeights(t, f, c, i%3) })
		t.Run("DenseGradWQ/"+name, func(t *testing.T) { testDenseGradWQ(t, f, c, i%2 == 0, exact) })
	}
	for _, c := range convWeightCases() {
		name := fmt.Sprintf("%s_out%d_%s_%s_perChan%v_bias%v", geomName(c.g), c.out, c.rw.name, c.rx.name, c.perChan, c.bias)
		t.Run("ConvGradWQuant/"+name, func(t *testing.T) { testConvGradWQuant(t, f, c, exact) })
	}
}

// testQuantizeWeights runs one case of QuantizeWeights: with the row sums
// and the dequantized weights (opt 0), without the row sums (1), or
// without the dequantized weights (2).
func testQuantizeWeights(t *testing.T, f backend.FusedWeightGrad, c weightCase, opt int) {
	e := newEnv(t, f.(backend.Backend))
	nch, slice := 1, c.out*c.k
	if c.perChan {
		nch, slice = c.out, c.k
	}
	p := e.spec(c.rw, nch, "rand")
	w := e.inF32("w", e.quantInput(c.out*c.k, p, slice, true), c.out, c.k)
	qw := e.out("qw", backend.Q8, c.out, c.k)
	var sw, what *pair
	if opt != 1 {
		sw = e.out("sw", backend.I32, c.out)
	}
	if opt != 2 {
		what = e.out("what", backend.F32, c.out, c.k)
	}
	e.run(func(b backend.Backend, s int) {
		var st, wt backend.Tensor
		if sw != nil {
			st = sw.t[s]
		}
		if what != nil {
			wt = what.t[s]
		}
		if s == under {
			f.QuantizeWeights(qw.t[s], st, wt, w.t[s], p)
			return
		}
		b.Quantize(qw.t[s], w.t[s], p)
		if st != nil {
			b.RowSumI(st, qw.t[s])
		}
		if wt != nil {
			b.Dequantize(wt, qw.t[s], p)
		}
	})
	e.exactI32(qw)
	if sw != nil {
		e.exactI32(sw)
	}
	if what != nil {
		e.exactF32(what)
	}
}

// testDenseGradWQ runs one case of DenseGradWQ, with or without the bias
// gradient.
func testDenseGradWQ(t *testing.T, f backend.FusedWeightGrad, c weightCase, bias, exact bool) {
	e := newEnv(t, f.(backend.Backend))
	nch, slice := 1, c.out*c.k
	if c.perChan {
		nch, slice = c.out, c.k
	}
	ws := e.spec(c.rw, nch, "rand")
	xs := e.spec(c.rx, 1, "rand")
	dy := e.inF32("dy", e.uniform(c.r*c.out, -1, 1), c.r, c.out)
	qx := e.inQ8("qx", e.codes(c.r*c.k, c.rx.min, c.rx.max), c.r, c.k)
	w := e.inF32("w", e.quantInput(c.out*c.k, ws, slice, false), c.out, c.k)
	gw := e.out("gw", backend.F32, c.out, c.k)
	ds := e.out("dScale", backend.F32, nch)
	dz := e.out("dZero", backend.F32, nch)
	var db *pair
	if bias {
		db = e.out("dBias", backend.F32, c.out)
	}
	xhat := e.out("xhat (composed)", backend.F32, c.r, c.k)
	dwhat := e.out("dWHat (composed)", backend.F32, c.out, c.k)
	e.run(func(b backend.Backend, s int) {
		var dbt backend.Tensor
		if db != nil {
			dbt = db.t[s]
		}
		if s == under {
			f.DenseGradWQ(gw.t[s], ds.t[s], dz.t[s], dbt, dy.t[s], qx.t[s], w.t[s], xs, ws)
			return
		}
		if dbt != nil {
			b.ColSum(dbt, dy.t[s])
		}
		b.Dequantize(xhat.t[s], qx.t[s], xs)
		b.Gemm(dwhat.t[s], dy.t[s], xhat.t[s], true, false, 1, 0)
		b.QuantGrad(gw.t[s], ds.t[s], dz.t[s], w.t[s], dwhat.t[s], ws)
	})
	checkWeightGrad(e, gw, ds, dz, db, c.r, slice, exact)
}

// checkWeightGrad compares the outputs of a fused weight-gradient op
// (DenseGradWQ, ConvGradWQuant) over r rows of dy with the composition's:
// bit for bit where exact (the reference), else the weight gradient
// within Gemm's tolerance (exactly 0 where the composition clips), the
// scale and zero-point gradients within Gemm's over the r·slice products
// they sum, the bias gradient (db, may be nil) within ColSum's.
func checkWeightGrad(e *env, gw, ds, dz, db *pair, r, slice int, exact bool) {
	e.t.Helper()
	if exact {
		e.exactF32(gw)
		e.exactF32(ds)
		e.exactF32(dz)
		if db != nil {
			e.exactF32(db)
		}
		return
	}
	got := e.closeF32(gw, TolGemm, r)
	for i, v := range e.f32(gw, refer) {
		if v == 0 && got[i] != 0 {
			e.t.Fatalf("gw[%d] = %v, want 0 (the composition clips the weight)", i, got[i])
		}
	}
	e.closeF32(ds, TolGemm, r*slice)
	e.closeF32(dz, TolGemm, r*slice)
	if db != nil {
		e.closeF32(db, TolSum, r)
	}
}

// convWeightCases are ConvGradWQuant's conv layers (as TestFusedConv's
// cases: geometry, Out, the image's and the weights' code ranges): padding and strides
// 2 (TestFusedConv's), image codes of both signs, per-tensor and
// per-channel weights with and without the bias gradient; 512 rows (a
// backend may split its sum over the rows) with K at most 32 and above,
// with large slices (a backend's QuantGrad may split a slice into
// chunks: per tensor 64x144, per channel 2304 and 9216 elements) and
// small ones, and the first convolution of the MNIST net (5x5 over one
// channel, batch 64 of 28x28).
func convWeightCases() []fusedConvCase {
	rs := codeRanges()
	mixed := codeRange{"mixed", -8, 200} // codes of both signs
	g := convGeom
	return []fusedConvCase{
		{g(1, 5, 5, 1, 3, 3, 1, 1, 0, 0), 1, rs[6], rs[2], false, false},
		{g(2, 7, 6, 3, 3, 3, 1, 1, 1, 1), 8, rs[6], rs[2], true, true},
		{g(3, 9, 11, 2, 3, 3, 2, 2, 1, 1), 5, rs[3], rs[6], false, true},
		{g(1, 8, 7, 2, 5, 3, 2, 1, 2, 0), 6, mixed, rs[1], true, false},
		{g(2, 16, 16, 1, 3, 3, 1, 1, 1, 1), 16, rs[2], rs[5], true, true},
		{g(2, 16, 16, 4, 3, 3, 1, 1, 1, 1), 8, rs[6], rs[2], false, false},
		{g(2, 16, 16, 16, 3, 3, 1, 1, 1, 1), 64, rs[6], rs[2], false, true},
		{g(2, 16, 16, 256, 3, 3, 1, 1, 1, 1), 2, rs[6], rs[3], true, false},
		{g(1, 3, 3, 1024, 3, 3, 1, 1, 1, 1), 2, rs[4], rs[2], true, false},
		{g(64, 28, 28, 1, 5, 5, 1, 1, 0, 0), 16, rs[6], rs[2], true, false},
	}
}

// testConvGradWQuant runs one case of ConvGradWQuant against ColSum,
// ConvGradWQ and QuantGrad.
func testConvGradWQuant(t *testing.T, f backend.FusedWeightGrad, c fusedConvCase, exact bool) {
	e := newEnv(t, f.(backend.Backend))
	g := c.g
	rows, k := g.Rows(), g.K()
	nch, slice := 1, c.out*k
	if c.perChan {
		nch, slice = c.out, k
	}
	ws := e.spec(c.rw, nch, "rand")
	xs := e.spec(c.rx, 1, "rand")
	dy := e.inF32("dy", e.uniform(rows*c.out, -1, 1), rows, c.out)
	qx := e.inQ8("qx", e.codes(g.N*g.H*g.W*g.C, c.rx.min, c.rx.max), g.N, g.H, g.W, g.C)
	w := e.inF32("w", e.quantInput(c.out*k, ws, slice, false), c.out, k)
	gw := e.out("gw", backend.F32, c.out, k)
	ds := e.out("dScale", backend.F32, nch)
	dz := e.out("dZero", backend.F32, nch)
	var db *pair
	if c.bias {
		db = e.out("dBias", backend.F32, c.out)
	}
	dwhat := e.out("dWHat (composed)", backend.F32, c.out, k)
	e.run(func(b backend.Backend, s int) {
		var dbt backend.Tensor
		if db != nil {
			dbt = db.t[s]
		}
		if s == under {
			f.ConvGradWQuant(gw.t[s], ds.t[s], dz.t[s], dbt, dy.t[s], qx.t[s], w.t[s], g, xs, ws)
			return
		}
		if dbt != nil {
			b.ColSum(dbt, dy.t[s])
		}
		b.(backend.FusedConv).ConvGradWQ(dwhat.t[s], dy.t[s], qx.t[s], g, xs)
		b.QuantGrad(gw.t[s], ds.t[s], dz.t[s], w.t[s], dwhat.t[s], ws)
	})
	checkWeightGrad(e, gw, ds, dz, db, rows, slice, exact)
}
