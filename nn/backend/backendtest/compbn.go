package backendtest

import (
	"fmt"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// fusedCompBN returns b's FusedCompBN ability, failing the test when b
// lacks it (the ability's ops are declared, so a backend of this project
// must have them).
func fusedCompBN(t *testing.T, b backend.Backend) backend.FusedCompBN {
	t.Helper()
	f, ok := b.(backend.FusedCompBN)
	if !ok {
		t.Fatalf("%s (%T) lacks backend.FusedCompBN, whose ops the contract declares", b.Name(), b)
	}
	return f
}

// TestCompBN checks the fused compensation + batch norm (+ ReLU) ops on
// the backend under test against the composed ops they replace, run on
// the reference: CompensateTrain then BatchNormTrain (then ReLU);
// CompensateInfer then BatchNormInfer (then ReLU); (ReLUGrad then)
// BatchNormGrad then CompensateGrad. The batch-norm outputs are held to
// TolBatchNorm, the compensation's statistics to TolCompensate and the
// gradients of both layers' parameters (sums over rows) to
// TolBatchNorm·sqrt(R). On the reference backend itself the fused ops
// must give the composition's bits. The backward runs twice: from the
// forward's xhat and from an arbitrary xhat, whose column sums are not 0
// (the compensation's gradient sums are then not mere rounding noise).
// CompBNTrain without xhat and CompBNGradFromX are held to CompBNTrain
// and CompBNGrad on the same backend (testCompBNFromX).
func TestCompBN(t *testing.T, b backend.Backend) {
	const eps, momentum, cMomentum = 1e-5, 0.1, 0.2
	f := fusedCompBN(t, b)
	_, exact := b.(*ref.Backend)
	for _, sh := range [][]int{{1, 3}, {2, 1}, {7, 5}, {2, 3, 4, 17}, {300, 16}, {1000, 3}, {2, 24, 24, 6}} {
		for _, relu := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/relu=%v", shapeName(sh), relu), func(t *testing.T) {
				testCompBN(t, f, sh, relu, exact, eps, momentum, cMomentum)
			})
			t.Run(fmt.Sprintf("%s/relu=%v/fromx", shapeName(sh), relu), func(t *testing.T) {
				testCompBNFromX(t, f, sh, relu, exact, eps, momentum, cMomentum)
			})
		}
	}
}

// compBNInputs makes the inputs of a FusedCompBN case of shape sh: the
// compensation's input x, the batch norm's gamma and beta, the
// compensation's cgamma and cbeta.
func (e *env) compBNInputs(sh []int) (x, gamma, beta, cgamma, cbeta *pair) {
	r, c := rowsCols(sh)
	xv, gv, bv := e.bnData(r, c)
	return e.inF32("x", xv, sh...), e.inF32("gamma", gv, c), e.inF32("beta", bv, c),
		e.inF32("cgamma", e.uniform(c, -0.5, 0.5), c), e.inF32("cbeta", e.uniform(c, -0.5, 0.5), c)
}

func testCompBN(t *testing.T, f backend.FusedCompBN, sh []int, relu, exact bool, eps, momentum, cMomentum float32) {
	e := newEnv(t, f.(backend.Backend))
	r, c := rowsCols(sh)
	// close compares an output within tol·(1+|want|)·sqrt(n), or bit for
	// bit on the reference.
	close := func(p *pair, tol float64, n int) {
		t.Helper()
		if exact {
			e.exactF32(p)
			return
		}
		e.closeF32(p, tol, n)
	}
	x, gamma, beta, cgamma, cbeta := e.compBNInputs(sh)
	crm := e.stateF32("cRunMean", e.uniform(c, -1, 1), c)
	rm := e.stateF32("runMean", e.uniform(c, -1, 1), c)
	rv := e.stateF32("runVar", e.uniform(c, 0.5, 2), c)
	y := e.out("y", backend.F32, sh...)
	xhat := e.out("xhat", backend.F32, sh...)
	mean := e.out("mean", backend.F32, c)
	invstd := e.out("invstd", backend.F32, c)
	cmean := e.out("cmean", backend.F32, c)
	yc := e.out("yc (composed)", backend.F32, sh...)
	e.run(func(b backend.Backend, s int) {
		if s == under {
			f.CompBNTrain(y.t[s], xhat.t[s], mean.t[s], invstd.t[s], cmean.t[s], x.t[s], cgamma.t[s], cbeta.t[s], crm.t[s],
				gamma.t[s], beta.t[s], rm.t[s], rv.t[s], cMomentum, momentum, eps, relu)
			return
		}
		b.CompensateTrain(yc.t[s], cmean.t[s], x.t[s], cgamma.t[s], cbeta.t[s], crm.t[s], cMomentum)
		b.BatchNormTrain(y.t[s], xhat.t[s], mean.t[s], invstd.t[s], yc.t[s], gamma.t[s], beta.t[s], rm.t[s], rv.t[s], momentum, eps)
		if relu {
			b.ReLU(y.t[s], y.t[s])
		}
	})
	close(y, TolBatchNorm, 1)
	close(xhat, TolBatchNorm, 1)
	close(mean, TolBatchNorm, 1)
	close(invstd, TolBatchNorm, 1)
	close(rm, TolBatchNorm, 1)
	close(rv, TolBatchNorm, 1)
	close(cmean, TolCompensate, r)
	close(crm, TolCompensate, r)

	yi := e.out("y (infer)", backend.F32, sh...)
	e.run(func(b backend.Backend, s int) {
		if s == under {
			f.CompBNInfer(yi.t[s], x.t[s], cgamma.t[s], cbeta.t[s], crm.t[s], gamma.t[s], beta.t[s], rm.t[s], rv.t[s], eps, relu)
			return
		}
		b.CompensateInfer(yc.t[s], x.t[s], cgamma.t[s], cbeta.t[s], crm.t[s])
		b.BatchNormInfer(yi.t[s], yc.t[s], gamma.t[s], beta.t[s], rm.t[s], rv.t[s], eps)
		if relu {
			b.ReLU(yi.t[s], yi.t[s])
		}
	})
	close(yi, TolBatchNorm, 1)

	// Backward through the forward's (reference) outputs, then with an
	// arbitrary xhat.
	dy := e.inF32("dy", e.uniform(r*c, -1, 1), sh...)
	var yIn *pair
	if relu {
		yIn = e.inF32("y (grad)", e.f32(y, refer), sh...)
	}
	iIn := e.inF32("invstd (grad)", e.f32(invstd, refer), c)
	cmIn := e.inF32("cmean (grad)", e.f32(cmean, refer), c)
	for _, h := range []struct {
		name string
		v    []float32
	}{{"forward", e.f32(xhat, refer)}, {"arbitrary", e.uniform(r*c, -2, 2)}} {
		hIn := e.inF32("xhat (grad, "+h.name+")", h.v, sh...)
		masked := e.out("relu grad", backend.F32, sh...)
		dxc := e.out("dxc (composed)", backend.F32, sh...)
		dx := e.out("dx", backend.F32, sh...)
		dg := e.out("dgamma", backend.F32, c)
		db := e.out("dbeta", backend.F32, c)
		dcg := e.out("dcgamma", backend.F32, c)
		dcb := e.out("dcbeta", backend.F32, c)
		e.run(func(b backend.Backend, s int) {
			if s == under {
				var yt backend.Tensor
				if relu {
					yt = yIn.t[s]
				}
				f.CompBNGrad(dx.t[s], dg.t[s], db.t[s], dcg.t[s], dcb.t[s], dy.t[s], yt, hIn.t[s], iIn.t[s], gamma.t[s], cmIn.t[s], cgamma.t[s])
				return
			}
			d := dy.t[s]
			if relu {
				b.ReLUGrad(masked.t[s], dy.t[s], yIn.t[s])
				d = masked.t[s]
			}
			b.BatchNormGrad(dxc.t[s], dg.t[s], db.t[s], d, hIn.t[s], iIn.t[s], gamma.t[s])
			b.CompensateGrad(dx.t[s], dcg.t[s], dcb.t[s], dxc.t[s], cmIn.t[s], cgamma.t[s], true)
		})
		close(dx, TolBatchNorm, 1)
		close(dg, TolBatchNorm, r)
		close(db, TolBatchNorm, r)
		close(dcg, TolBatchNorm, r)
		close(dcb, TolBatchNorm, r)
	}
}

// testCompBNFromX runs, on each backend, CompBNTrain with xhat then
// CompBNGrad, and CompBNTrain without xhat then CompBNGradFromX from the
// same inputs (and running statistics of the same values): every output of
// the second must have the first's bits on the same backend (the
// recomputation reproduces the stored xhat and y exactly), its dxSum must
// be ColSum of dx within ColSum's tolerance, and the backend under test's
// gradients are held to the reference's as in testCompBN.
func testCompBNFromX(t *testing.T, f backend.FusedCompBN, sh []int, relu, exact bool, eps, momentum, cMomentum float32) {
	e := newEnv(t, f.(backend.Backend))
	r, c := rowsCols(sh)
	x, gamma, beta, cgamma, cbeta := e.compBNInputs(sh)
	dy := e.inF32("dy", e.uniform(r*c, -1, 1), sh...)
	crmV, rmV, rvV := e.uniform(c, -1, 1), e.uniform(c, -1, 1), e.uniform(c, 0.5, 2)
	// One set of outputs per path: [0] stored xhat, [1] recomputed.
	type outs struct {
		crm, rm, rv, y, xhat, mean, invstd, cmean, dx, dg, db, dcg, dcb *pair
	}
	var o [2]outs
	for k, name := range []string{"stored", "from x"} {
		n := func(s string) string { return s + " (" + name + ")" }
		o[k] = outs{crm: e.stateF32(n("cRunMean"), crmV, c), rm: e.stateF32(n("runMean"), rmV, c), rv: e.stateF32(n("runVar"), rvV, c),
			y: e.out(n("y"), backend.F32, sh...), mean: e.out(n("mean"), backend.F32, c), invstd: e.out(n("invstd"), backend.F32, c),
			cmean: e.out(n("cmean"), backend.F32, c), dx: e.out(n("dx"), backend.F32, sh...), dg: e.out(n("dgamma"), backend.F32, c),
			db: e.out(n("dbeta"), backend.F32, c), dcg: e.out(n("dcgamma"), backend.F32, c), dcb: e.out(n("dcbeta"), backend.F32, c)}
	}
	o[0].xhat = e.out("xhat (stored)", backend.F32, sh...)
	dxs := e.out("dxSum (from x)", backend.F32, c)
	dxsC := e.out("ColSum(dx) (stored)", backend.F32, c)
	e.run(func(b backend.Backend, s int) {
		fb := b.(backend.FusedCompBN)
		a := o[0]
		fb.CompBNTrain(a.y.t[s], a.xhat.t[s], a.mean.t[s], a.invstd.t[s], a.cmean.t[s], x.t[s], cgamma.t[s], cbeta.t[s], a.crm.t[s],
			gamma.t[s], beta.t[s], a.rm.t[s], a.rv.t[s], cMomentum, momentum, eps, relu)
		var yt backend.Tensor
		if relu {
			yt = a.y.t[s]
		}
		fb.CompBNGrad(a.dx.t[s], a.dg.t[s], a.db.t[s], a.dcg.t[s], a.dcb.t[s], dy.t[s], yt, a.xhat.t[s], a.invstd.t[s], gamma.t[s], a.cmean.t[s], cgamma.t[s])
		z := o[1]
		fb.CompBNTrain(z.y.t[s], nil, z.mean.t[s], z.invstd.t[s], z.cmean.t[s], x.t[s], cgamma.t[s], cbeta.t[s], z.crm.t[s],
			gamma.t[s], beta.t[s], z.rm.t[s], z.rv.t[s], cMomentum, momentum, eps, relu)
		fb.CompBNGradFromX(z.dx.t[s], z.dg.t[s], z.db.t[s], z.dcg.t[s], z.dcb.t[s], dxs.t[s], dy.t[s], x.t[s], z.mean.t[s], z.invstd.t[s],
			gamma.t[s], beta.t[s], z.cmean.t[s], cgamma.t[s], cbeta.t[s], relu)
		b.ColSum(dxsC.t[s], a.dx.t[s])
	})
	// dxSum: ColSum of dx, within ColSum's tolerance of the op's on the
	// same backend (the fused sums run in the backend's order).
	for s, side := range []string{"backend under test", "reference"} {
		want := e.f32(dxsC, s)
		w := make([]float64, len(want))
		for k, v := range want {
			w[k] = float64(v)
		}
		checkClose(t, side+": dxSum vs ColSum(dx)", e.f32(dxs, s), w, TolSum, r)
	}
	for s, side := range []string{"backend under test", "reference"} {
		for _, pp := range [][2]*pair{{o[0].y, o[1].y}, {o[0].mean, o[1].mean}, {o[0].invstd, o[1].invstd}, {o[0].cmean, o[1].cmean},
			{o[0].crm, o[1].crm}, {o[0].rm, o[1].rm}, {o[0].rv, o[1].rv}, {o[0].dx, o[1].dx}, {o[0].dg, o[1].dg},
			{o[0].db, o[1].db}, {o[0].dcg, o[1].dcg}, {o[0].dcb, o[1].dcb}} {
			want, got := e.f32(pp[0], s), e.f32(pp[1], s)
			bad := 0
			for k := range got {
				if !sameF32(got[k], want[k]) {
					if bad < maxReport {
						t.Errorf("%s: %s[%d] = %v, %s %v", side, pp[1].name, k, got[k], pp[0].name, want[k])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Fatalf("%s: %s: %d of %d elements differ from %s", side, pp[1].name, bad, len(got), pp[0].name)
			}
		}
	}
	z := o[1]
	if exact {
		for _, p := range []*pair{z.dx, z.dg, z.db, z.dcg, z.dcb} {
			e.exactF32(p)
		}
		return
	}
	e.closeF32(z.dx, TolBatchNorm, 1)
	for _, p := range []*pair{z.dg, z.db, z.dcg, z.dcb} {
		e.closeF32(p, TolBatchNorm, r)
	}
}

// testCompBNPoolQuant runs, on each backend, CompBNPoolQuant and the
// composition it names on the same backend — CompBNTrain without xhat into
// a matrix yb, then MaxPoolQuant of yb — from the same inputs (and running
// statistics of the same values): every output must have the
// composition's bits on the same backend (the fused op normalises each
// element as the pooling reads it with the batch norm's own arithmetic),
// and the backend under test's pooled values and statistics are held to
// the reference's within TolBatchNorm (codes and argmax follow from them;
// the composed ops' own cases hold those).
// poolQuantOuts are the outputs of a CompBNPoolQuant case, fused and
// composed (the running statistics start equal).
type poolQuantOuts [2]struct {
	y, arg, q, st, mean, invstd, cmean, crm, rm, rv *pair
}

// poolQuantOuts makes the outputs of a CompBNPoolQuant case: the pooled
// image of shape ysh and its codes, c channels.
func (e *env) poolQuantOuts(ysh []int, c int) poolQuantOuts {
	crmV, rmV, rvV := e.uniform(c, -1, 1), e.uniform(c, -1, 1), e.uniform(c, 0.5, 2)
	var o poolQuantOuts
	for k, name := range []string{"fused", "composed"} {
		n := func(s string) string { return s + " (" + name + ")" }
		a := &o[k]
		a.y, a.arg, a.q = e.out(n("y"), backend.F32, ysh...), e.out(n("arg"), backend.I32, ysh...), e.out(n("q"), backend.Q8, ysh...)
		a.st, a.mean, a.invstd = e.out(n("stats"), backend.F32, 3), e.out(n("mean"), backend.F32, c), e.out(n("invstd"), backend.F32, c)
		a.cmean, a.crm = e.out(n("cmean"), backend.F32, c), e.stateF32(n("cRunMean"), crmV, c)
		a.rm, a.rv = e.stateF32(n("runMean"), rmV, c), e.stateF32(n("runVar"), rvV, c)
	}
	return o
}

// samePoolQuantOuts fails unless every fused output has the composed
// one's bits on each backend.
func (e *env) samePoolQuantOuts(o poolQuantOuts) {
	e.t.Helper()
	a, z := &o[0], &o[1]
	for s, side := range []string{"backend under test", "reference"} {
		for _, pp := range [][2]*pair{{a.y, z.y}, {a.st, z.st}, {a.mean, z.mean}, {a.invstd, z.invstd},
			{a.cmean, z.cmean}, {a.crm, z.crm}, {a.rm, z.rm}, {a.rv, z.rv}} {
			got, want := e.f32(pp[0], s), e.f32(pp[1], s)
			for k := range got {
				if !sameF32(got[k], want[k]) {
					e.t.Fatalf("%s: %s[%d] = %v, %s %v", side, pp[0].name, k, got[k], pp[1].name, want[k])
				}
			}
		}
		for _, pp := range [][2]*pair{{a.arg, z.arg}, {a.q, z.q}} {
			got, want := e.i32(pp[0], s), e.i32(pp[1], s)
			for k := range got {
				if got[k] != want[k] {
					e.t.Fatalf("%s: %s[%d] = %d, %s %d", side, pp[0].name, k, got[k], pp[1].name, want[k])
				}
			}
		}
	}
}

func testCompBNPoolQuant(t *testing.T, b backend.Backend, g backend.PoolGeom, relu bool, r codeRange) {
	const eps, momentum, cMomentum = 1e-5, 0.1, 0.2
	e := newEnv(t, b)
	sh := []int{g.N, g.H, g.W, g.C}
	rows, c := g.N*g.H*g.W, g.C
	oh, ow := g.Out()
	ysh := []int{g.N, oh, ow, g.C}
	p := e.spec(r, 1, "rand")
	x, gamma, beta, cgamma, cbeta := e.compBNInputs(sh)
	o := e.poolQuantOuts(ysh, c)
	yb := e.out("yb (composed)", backend.F32, rows, c)
	e.run(func(b backend.Backend, s int) {
		a := o[0]
		b.(backend.FusedQuantize).CompBNPoolQuant(a.y.t[s], a.arg.t[s], a.q.t[s], a.st.t[s], a.mean.t[s], a.invstd.t[s], a.cmean.t[s],
			x.t[s], cgamma.t[s], cbeta.t[s], a.crm.t[s], gamma.t[s], beta.t[s], a.rm.t[s], a.rv.t[s], cMomentum, momentum, eps, relu, g, p)
		z := o[1]
		b.(backend.FusedCompBN).CompBNTrain(yb.t[s], nil, z.mean.t[s], z.invstd.t[s], z.cmean.t[s], x.t[s], cgamma.t[s], cbeta.t[s], z.crm.t[s],
			gamma.t[s], beta.t[s], z.rm.t[s], z.rv.t[s], cMomentum, momentum, eps, relu)
		b.(backend.FusedQuantize).MaxPoolQuant(z.y.t[s], z.arg.t[s], z.q.t[s], z.st.t[s], e.view(b, yb.t[s], sh), g, p)
	})
	e.samePoolQuantOuts(o)
	a := o[0]
	if _, exact := b.(*ref.Backend); exact {
		return
	}
	e.closeF32(a.y, TolBatchNorm, 1)
	e.closeF32(a.mean, TolBatchNorm, 1)
	e.closeF32(a.invstd, TolBatchNorm, 1)
	e.closeF32(a.cmean, TolCompensate, rows)
}
