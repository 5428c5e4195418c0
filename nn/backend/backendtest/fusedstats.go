package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// TestFusedStats checks the ops of backend.FusedStats on each backend:
// ConvIDequantStats' y bit for bit against ConvIDequant on the same
// backend and its statistics against the float64 statistics of that y
// (checkStats); CompBNTrainStats, given the float64 statistics of x,
// against CompBNTrain (which computes them) on the same backend within
// TolBatchNorm, and against the reference's CompBNTrainStats: the
// statistics that follow from xstats by formulas bit for bit, the rest
// within TolBatchNorm; CompBNPoolQuantStats bit for bit against
// CompBNTrainStats then MaxPoolQuant on each backend.
func TestFusedStats(t *testing.T, b backend.Backend) {
	f, ok := b.(backend.FusedStats)
	if !ok {
		t.Fatalf("%s (%T) lacks backend.FusedStats, whose ops the contract declares", b.Name(), b)
	}
	for _, c := range fusedConvCases() {
		g := c.g
		name := fmt.Sprintf("ConvIDequantStats/%s_out%d_%s_%s_perChan%v_bias%v", geomName(g), c.out, c.rx.name, c.rw.name, c.perChan, c.bias)
		t.Run(name, func(t *testing.T) { testConvIDequantStats(t, f, c) })
	}
	for _, sh := range [][]int{{1, 3}, {7, 5}, {2, 3, 4, 17}, {300, 16}, {1000, 3}, {2, 24, 24, 6}} {
		for _, relu := range []bool{false, true} {
			t.Run(fmt.Sprintf("CompBNTrainStats/%s/relu=%v", shapeName(sh), relu), func(t *testing.T) {
				testCompBNTrainStats(t, f, sh, relu)
			})
		}
	}
	for i, g := range []backend.PoolGeom{
		{N: 1, H: 4, W: 4, C: 1, Size: 2, Stride: 2},
		{N: 2, H: 7, W: 6, C: 3, Size: 3, Stride: 2},
		{N: 4, H: 24, W: 24, C: 16, Size: 2, Stride: 2},
	} {
		for _, relu := range []bool{false, true} {
			r := fusedQuantSpecs()[i%4]
			t.Run(fmt.Sprintf("CompBNPoolQuantStats/n%dh%dw%dc%d_size%d/relu=%v/%s", g.N, g.H, g.W, g.C, g.Size, relu, r.name), func(t *testing.T) {
				testCompBNPoolQuantStats(t, f, g, relu, r)
			})
		}
	}
}

// hostStats returns the statistics of x [r, c] in float64: the column
// means and the sums of squared deviations from them.
func hostStats(x []float32, r, c int) (mean, sq []float64) {
	mean, sq = make([]float64, c), make([]float64, c)
	for i := range r {
		for j := range c {
			mean[j] += float64(x[i*c+j])
		}
	}
	for j := range mean {
		mean[j] /= float64(r)
	}
	for i := range r {
		for j := range c {
			d := float64(x[i*c+j]) - mean[j]
			sq[j] += d * d
		}
	}
	return mean, sq
}

// checkStats checks statistics st [2, c] of x [r, c] against hostStats:
// each mean within TolBatchNorm of the column's scale (|mean| plus its
// standard deviation), each sum of squared deviations within TolBatchNorm
// of itself plus the rounding of the deviations (about r·mean²·1e-6: a
// float32 mean of a column far from 0 leaves its deviations that far off).
func checkStats(t *testing.T, what string, st, x []float32, r, c int) {
	t.Helper()
	mean, sq := hostStats(x, r, c)
	bad := 0
	for j := range c {
		sd := math.Sqrt(sq[j] / float64(r))
		gm, gq := float64(st[j]), float64(st[c+j])
		okM := math.Abs(gm-mean[j]) <= TolBatchNorm*(math.Abs(mean[j])+sd)+1e-30
		okQ := math.Abs(gq-sq[j]) <= TolBatchNorm*(sq[j]+float64(r)*mean[j]*mean[j]*1e-6)+1e-30
		if !okM || !okQ {
			if bad < maxReport {
				t.Errorf("%s column %d: mean %v, squared deviations %v; want %v, %v (float64)", what, j, gm, gq, mean[j], sq[j])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d columns off", what, bad, c)
	}
}

// testConvIDequantStats runs ConvIDequantStats and ConvIDequant on both
// backends (see TestFusedStats).
func testConvIDequantStats(t *testing.T, f backend.FusedStats, c fusedConvCase) {
	g := c.g
	e := newEnv(t, f.(backend.Backend))
	rows := g.Rows()
	in := e.convInputs(c)
	xs, ws, qx, qw, sw, bias := in.xs, in.ws, in.qx, in.qw, in.sw, in.bias
	ys := e.out("y (ConvIDequantStats)", backend.F32, rows, c.out)
	y := e.out("y (ConvIDequant)", backend.F32, rows, c.out)
	st := e.out("xstats", backend.F32, 2, c.out)
	e.run(func(b backend.Backend, s int) {
		var bt backend.Tensor
		if bias != nil {
			bt = bias.t[s]
		}
		b.(backend.FusedStats).ConvIDequantStats(ys.t[s], qx.t[s], qw.t[s], sw.t[s], bt, st.t[s], g, xs, ws)
		b.(backend.FusedConv).ConvIDequant(y.t[s], qx.t[s], qw.t[s], sw.t[s], bt, g, xs, ws)
	})
	for s, side := range []string{"backend under test", "reference"} {
		got, want := e.f32(ys, s), e.f32(y, s)
		for i := range got {
			if !sameF32(got[i], want[i]) {
				t.Fatalf("%s: ConvIDequantStats' y[%d] = %v, ConvIDequant's %v", side, i, got[i], want[i])
			}
		}
		checkStats(t, side+": xstats", e.f32(st, s), want, rows, c.out)
	}
	e.exactF32(ys)
}

// statsOf returns the float64 statistics of x [r, c] rounded to float32,
// as xstats [2, c].
func statsOf(x []float32, r, c int) []float32 {
	mean, sq := hostStats(x, r, c)
	st := make([]float32, 2*c)
	for j := range c {
		st[j], st[c+j] = float32(mean[j]), float32(sq[j])
	}
	return st
}

// testCompBNTrainStats runs CompBNTrainStats and CompBNTrain (the
// composition computing the statistics) on both backends from the same
// inputs and running statistics (see TestFusedStats).
func testCompBNTrainStats(t *testing.T, f backend.FusedStats, sh []int, relu bool) {
	const eps, momentum, cMomentum = 1e-5, 0.1, 0.2
	e := newEnv(t, f.(backend.Backend))
	r, c := rowsCols(sh)
	x, gamma, beta, cgamma, cbeta := e.compBNInputs(sh)
	xst := e.inF32("xstats", statsOf(x.f, r, c), 2, c)
	crmV, rmV, rvV := e.uniform(c, -1, 1), e.uniform(c, -1, 1), e.uniform(c, 0.5, 2)
	type outs struct{ y, xhat, mean, invstd, cmean, crm, rm, rv *pair }
	var o [2]outs
	for k, name := range []string{"stats", "composed"} {
		n := func(s string) string { return s + " (" + name + ")" }
		o[k] = outs{y: e.out(n("y"), backend.F32, sh...), xhat: e.out(n("xhat"), backend.F32, sh...),
			mean: e.out(n("mean"), backend.F32, c), invstd: e.out(n("invstd"), backend.F32, c), cmean: e.out(n("cmean"), backend.F32, c),
			crm: e.stateF32(n("cRunMean"), crmV, c), rm: e.stateF32(n("runMean"), rmV, c), rv: e.stateF32(n("runVar"), rvV, c)}
	}
	e.run(func(b backend.Backend, s int) {
		a, z := o[0], o[1]
		b.(backend.FusedStats).CompBNTrainStats(a.y.t[s], a.xhat.t[s], a.mean.t[s], a.invstd.t[s], a.cmean.t[s], x.t[s], cgamma.t[s], cbeta.t[s], a.crm.t[s],
			gamma.t[s], beta.t[s], a.rm.t[s], a.rv.t[s], xst.t[s], cMomentum, momentum, eps, relu)
		b.(backend.FusedCompBN).CompBNTrain(z.y.t[s], z.xhat.t[s], z.mean.t[s], z.invstd.t[s], z.cmean.t[s], x.t[s], cgamma.t[s], cbeta.t[s], z.crm.t[s],
			gamma.t[s], beta.t[s], z.rm.t[s], z.rv.t[s], cMomentum, momentum, eps, relu)
	})
	a, z := o[0], o[1]
	for s, side := range []string{"backend under test", "reference"} {
		for _, pp := range [][2]*pair{{a.y, z.y}, {a.xhat, z.xhat}, {a.mean, z.mean}, {a.invstd, z.invstd}, {a.cmean, z.cmean},
			{a.crm, z.crm}, {a.rm, z.rm}, {a.rv, z.rv}} {
			got, want := e.f32(pp[0], s), e.f32(pp[1], s)
			w := make([]float64, len(want))
			for k, v := range want {
				w[k] = float64(v)
			}
			checkClose(t, side+": "+pp[0].name+" vs "+pp[1].name, got, w, TolBatchNorm, 1)
		}
	}
	// From the same xstats the statistics follow by formulas.
	e.exactF32(a.cmean)
	e.exactF32(a.crm)
	e.exactF32(a.mean)
	e.exactF32(a.rm)
	e.closeF32(a.invstd, TolElementwise, 1)
	e.closeF32(a.rv, TolElementwise, 1)
	e.closeF32(a.y, TolBatchNorm, 1)
	e.closeF32(a.xhat, TolBatchNorm, 1)
}

// testCompBNPoolQuantStats runs CompBNPoolQuantStats and, as its
// composition, CompBNTrainStats into a matrix yb then MaxPoolQuant of yb
// on both backends: every output must have the composition's bits on the
// same backend; the backend under test's are held to the reference's
// within TolBatchNorm.
func testCompBNPoolQuantStats(t *testing.T, f backend.FusedStats, g backend.PoolGeom, relu bool, r codeRange) {
	const eps, momentum, cMomentum = 1e-5, 0.1, 0.2
	e := newEnv(t, f.(backend.Backend))
	sh := []int{g.N, g.H, g.W, g.C}
	rows, c := g.N*g.H*g.W, g.C
	oh, ow := g.Out()
	ysh := []int{g.N, oh, ow, g.C}
	p := e.spec(r, 1, "rand")
	x, gamma, beta, cgamma, cbeta := e.compBNInputs(sh)
	xst := e.inF32("xstats", statsOf(x.f, rows, c), 2, c)
	o := e.poolQuantOuts(ysh, c)
	yb := e.out("yb (composed)", backend.F32, rows, c)
	e.run(func(b backend.Backend, s int) {
		a, z := &o[0], &o[1]
		b.(backend.FusedStats).CompBNPoolQuantStats(a.y.t[s], a.arg.t[s], a.q.t[s], a.st.t[s], a.mean.t[s], a.invstd.t[s], a.cmean.t[s],
			x.t[s], cgamma.t[s], cbeta.t[s], a.crm.t[s], gamma.t[s], beta.t[s], a.rm.t[s], a.rv.t[s], xst.t[s], cMomentum, momentum, eps, relu, g, p)
		b.(backend.FusedStats).CompBNTrainStats(yb.t[s], nil, z.mean.t[s], z.invstd.t[s], z.cmean.t[s], x.t[s], cgamma.t[s], cbeta.t[s], z.crm.t[s],
			gamma.t[s], beta.t[s], z.rm.t[s], z.rv.t[s], xst.t[s], cMomentum, momentum, eps, relu)
		b.(backend.FusedQuantize).MaxPoolQuant(z.y.t[s], z.arg.t[s], z.q.t[s], z.st.t[s], e.view(b, yb.t[s], sh), g, p)
	})
	e.samePoolQuantOuts(o)
	a := o[0]
	e.closeF32(a.y, TolBatchNorm, 1)
	e.exactF32(a.mean)
	e.closeF32(a.invstd, TolElementwise, 1)
}
