package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// matShapes are the [R, C] matrices (some given with more dimensions) of
// the per-channel tests.
func matShapes() [][]int {
	return [][]int{{1, 1}, {7, 5}, {2, 3, 4, 17}, {300, 17}, {43, 3, 3, 2}, {1000, 33}}
}

func rowsCols(shape []int) (r, c int) {
	c = shape[len(shape)-1]
	r = 1
	for _, d := range shape[:len(shape)-1] {
		r *= d
	}
	return r, c
}

// TestAddBias checks AddBias (in place) against the reference and y+bias
// in float64.
func TestAddBias(t *testing.T, b backend.Backend) {
	for _, sh := range matShapes() {
		t.Run(shapeName(sh), func(t *testing.T) {
			e := newEnv(t, b)
			r, c := rowsCols(sh)
			y0 := e.uniform(r*c, -2, 2)
			y := e.stateF32("y", append([]float32(nil), y0...), sh...)
			bias := e.inF32("bias", e.uniform(c, -1, 1), c)
			e.run(func(b backend.Backend, s int) { b.AddBias(y.t[s], bias.t[s]) })
			got := e.closeF32(y, TolElementwise, 1)
			want := make([]float64, r*c)
			for i := range want {
				want[i] = float64(y0[i]) + float64(bias.f[i%c])
			}
			checkClose(t, "y vs y+bias", got, want, TolElementwise, 1)
		})
	}
}

// TestColSum checks ColSum against the reference and a float64 sum.
func TestColSum(t *testing.T, b backend.Backend) {
	for _, sh := range matShapes() {
		t.Run(shapeName(sh), func(t *testing.T) {
			e := newEnv(t, b)
			r, c := rowsCols(sh)
			x := e.inF32("x", e.uniform(r*c, -1, 2), sh...)
			s := e.out("s", backend.F32, c)
			e.run(func(b backend.Backend, side int) { b.ColSum(s.t[side], x.t[side]) })
			got := e.closeF32(s, TolSum, r)
			want := make([]float64, c)
			for i, v := range x.f {
				want[i%c] += float64(v)
			}
			checkClose(t, "s vs float64 sum", got, want, TolSum, r)
		})
	}
}

// TestReLU checks ReLU and ReLUGrad bit for bit against the reference and
// the definition (y = x where x > 0, else +0; NaN gives 0), also in place,
// on short and long tensors.
func TestReLU(t *testing.T, b backend.Backend) {
	special := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), 0, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40}
	data := func(e *env, n int) []float32 {
		x := e.uniform(n, -1, 1)
		for i, v := range special {
			x[(i*37)%n] = v
		}
		return x
	}
	// Short tensors, and long ones (a multiple of 8 and not, even and
	// odd) that reach the main loops of vectorised kernels.
	shapes := [][]int{{6}, {7, 5}, {3, 9, 9, 17}, {8}, {1000}, {1002}, {1004}, {1006}, {2, 3, 64, 64}, {262144}, {262150}, {131073}}
	for _, sh := range shapes {
		for _, inPlace := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/inPlace%v", sh, inPlace), func(t *testing.T) {
				e := newEnv(t, b)
				n := sh[0]
				for _, d := range sh[1:] {
					n *= d
				}
				x0 := data(e, n)
				dy0 := data(e, n)
				var x, y, dy, dx *pair
				if inPlace {
					x = e.stateF32("x", append([]float32(nil), x0...), sh...)
					y = x
					dy = e.stateF32("dy", append([]float32(nil), dy0...), sh...)
					dx = dy
				} else {
					x = e.inF32("x", x0, sh...)
					y = e.out("y", backend.F32, sh...)
					dy = e.inF32("dy", dy0, sh...)
					dx = e.out("dx", backend.F32, sh...)
				}
				// y0 feeds ReLUGrad: the forward output of x0.
				y0 := make([]float32, n)
				for i, v := range x0 {
					if v > 0 {
						y0[i] = v
					}
				}
				yg := e.inF32("y for ReLUGrad", y0, sh...)
				e.run(func(b backend.Backend, s int) {
					b.ReLU(y.t[s], x.t[s])
					b.ReLUGrad(dx.t[s], dy.t[s], yg.t[s])
				})
				gotY := e.exactF32(y)
				gotDX := e.exactF32(dx)
				for i := range n {
					if !sameF32(gotY[i], y0[i]) {
						t.Fatalf("ReLU(%v) = %v, want %v", x0[i], gotY[i], y0[i])
					}
					var w float32
					if y0[i] > 0 {
						w = dy0[i]
					}
					if !sameF32(gotDX[i], w) {
						t.Fatalf("ReLUGrad(dy %v, y %v) = %v, want %v", dy0[i], y0[i], gotDX[i], w)
					}
				}
			})
		}
	}
}

// maxPool64 is an independent max-pool: the maxima and the first index
// of each maximum in window order.
func maxPool64(x []float64, g backend.PoolGeom) (y []float64, arg []int32) {
	oh, ow := g.Out()
	for n := range g.N {
		for py := range oh {
			for px := range ow {
				for c := range g.C {
					best, bi := math.Inf(-1), -1
					for ky := range g.Size {
						for kx := range g.Size {
							i := ((n*g.H+py*g.Stride+ky)*g.W+px*g.Stride+kx)*g.C + c
							if bi < 0 || x[i] > best {
								best, bi = x[i], i
							}
						}
					}
					y = append(y, best)
					arg = append(arg, int32(bi))
				}
			}
		}
	}
	return y, arg
}

// TestMaxPool checks MaxPool (values and indices bit for bit, ties
// resolved to the first maximum in window order) and MaxPoolGrad (against
// the reference and central finite differences of the forward), with
// overlapping windows (stride < size).
func TestMaxPool(t *testing.T, b backend.Backend) {
	geoms := []backend.PoolGeom{
		{N: 1, H: 4, W: 4, C: 1, Size: 2, Stride: 2},
		{N: 2, H: 7, W: 6, C: 3, Size: 3, Stride: 2},
		{N: 1, H: 5, W: 5, C: 2, Size: 3, Stride: 1},
		{N: 3, H: 9, W: 8, C: 5, Size: 2, Stride: 1},
		{N: 2, H: 5, W: 7, C: 3, Size: 2, Stride: 2},
		{N: 2, H: 26, W: 26, C: 32, Size: 2, Stride: 2},
	}
	for _, g := range geoms {
		for _, ties := range []bool{false, true} {
			t.Run(fmt.Sprintf("n%dh%dw%dc%d_size%d_stride%d/ties%v", g.N, g.H, g.W, g.C, g.Size, g.Stride, ties), func(t *testing.T) {
				e := newEnv(t, b)
				oh, ow := g.Out()
				nx, ny := g.N*g.H*g.W*g.C, g.N*oh*ow*g.C
				// Distinct values spaced 0.01 apart, or values from {0, 1, 2}.
				x := make([]float32, nx)
				x64 := make([]float64, nx)
				perm := e.rng.Perm(nx)
				for i := range x {
					v := float64(perm[i])*0.01 - 3
					if ties {
						v = float64(e.rng.IntN(3))
					}
					x[i], x64[i] = float32(v), float64(float32(v))
				}
				xt := e.inF32("x", x, g.N, g.H, g.W, g.C)
				y := e.out("y", backend.F32, g.N, oh, ow, g.C)
				arg := e.out("arg", backend.I32, g.N, oh, ow, g.C)
				e.run(func(b backend.Backend, s int) { b.MaxPool(y.t[s], arg.t[s], xt.t[s], g) })
				gotY := e.exactF32(y)
				gotA := e.exactI32(arg)
				wantY, wantA := maxPool64(x64, g)
				for i := range wantY {
					if float64(gotY[i]) != wantY[i] || gotA[i] != wantA[i] {
						t.Fatalf("output %d: max %v at %d, want %v at %d", i, gotY[i], gotA[i], wantY[i], wantA[i])
					}
				}

				dy := e.inF32("dy", e.uniform(ny, -1, 1), g.N, oh, ow, g.C)
				argIn := e.inI32("arg (input)", wantA, g.N, oh, ow, g.C)
				dx := e.out("dx", backend.F32, g.N, g.H, g.W, g.C)
				e.run(func(b backend.Backend, s int) { b.MaxPoolGrad(dx.t[s], dy.t[s], argIn.t[s], g) })
				per := (g.Size + g.Stride - 1) / g.Stride
				gotDX := e.closeF32(dx, TolSum, per*per)
				if ties || nx > 2000 {
					return
				}
				// Central differences of L(x) = Σ dy·maxpool(x); the values
				// are 0.01 apart, so a step of 1e-3 moves no maximum.
				loss := func(x []float64) float64 {
					yv, _ := maxPool64(x, g)
					var l float64
					for i, v := range yv {
						l += float64(dy.f[i]) * v
					}
					return l
				}
				const h = 1e-3
				fd := make([]float64, nx)
				for i := range x64 {
					old := x64[i]
					x64[i] = old + h
					lp := loss(x64)
					x64[i] = old - h
					lm := loss(x64)
					x64[i] = old
					fd[i] = (lp - lm) / (2 * h)
				}
				checkGrad(t, "dx vs finite differences", gotDX, fd)
			})
		}
	}
}

// bnForward64 is the batch-norm forward in float64 of x [r, c].
func bnForward64(x, gamma, beta []float64, r, c int, eps float64) (y, xhat, mean, variance []float64) {
	mean, variance = make([]float64, c), make([]float64, c)
	for i, v := range x {
		mean[i%c] += v
	}
	for j := range mean {
		mean[j] /= float64(r)
	}
	for i, v := range x {
		d := v - mean[i%c]
		variance[i%c] += d * d
	}
	for j := range variance {
		variance[j] /= float64(r)
	}
	y, xhat = make([]float64, len(x)), make([]float64, len(x))
	for i, v := range x {
		j := i % c
		xhat[i] = (v - mean[j]) / math.Sqrt(variance[j]+eps)
		y[i] = gamma[j]*xhat[i] + beta[j]
	}
	return
}

func to64(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

func to32(v []float64) []float32 {
	w := make([]float32, len(v))
	for i, x := range v {
		w[i] = float32(x)
	}
	return w
}

// fdGrad returns the central-difference gradient of loss with respect to
// each element of v (which it perturbs and restores).
func fdGrad(v []float64, loss func() float64) []float64 {
	const h = 1e-5
	g := make([]float64, len(v))
	for i := range v {
		old := v[i]
		v[i] = old + h
		lp := loss()
		v[i] = old - h
		lm := loss()
		v[i] = old
		g[i] = (lp - lm) / (2 * h)
	}
	return g
}

// bnData returns x [r, c] with per-channel offsets and spreads, and
// gamma and beta.
func (e *env) bnData(r, c int) (x, gamma, beta []float32) {
	x = make([]float32, r*c)
	off, spread := e.uniform(c, -3, 3), e.uniform(c, 0.2, 2)
	for i := range x {
		x[i] = off[i%c] + spread[i%c]*float32(2*e.rng.Float64()-1)
	}
	return x, e.uniform(c, 0.5, 1.5), e.uniform(c, -0.5, 0.5)
}

// TestBatchNorm checks BatchNormTrain, BatchNormInfer and BatchNormGrad
// against the reference and float64 statements of their formulas, and
// BatchNormGrad against central finite differences of the forward.
func TestBatchNorm(t *testing.T, b backend.Backend) {
	const eps, momentum = 1e-5, 0.1
	for _, sh := range [][]int{{1, 3}, {2, 1}, {7, 5}, {2, 3, 4, 17}, {300, 17}, {1000, 3}} {
		t.Run(shapeName(sh), func(t *testing.T) {
			e := newEnv(t, b)
			r, c := rowsCols(sh)
			xv, gv, bv := e.bnData(r, c)
			x := e.inF32("x", xv, sh...)
			gamma := e.inF32("gamma", gv, c)
			beta := e.inF32("beta", bv, c)
			rm0, rv0 := e.uniform(c, -1, 1), e.uniform(c, 0.5, 2)
			rm := e.stateF32("runMean", append([]float32(nil), rm0...), c)
			rv := e.stateF32("runVar", append([]float32(nil), rv0...), c)
			y := e.out("y", backend.F32, sh...)
			xhat := e.out("xhat", backend.F32, sh...)
			mean := e.out("mean", backend.F32, c)
			invstd := e.out("invstd", backend.F32, c)
			e.run(func(b backend.Backend, s int) {
				b.BatchNormTrain(y.t[s], xhat.t[s], mean.t[s], invstd.t[s], x.t[s], gamma.t[s], beta.t[s], rm.t[s], rv.t[s], momentum, eps)
			})
			gotY := e.closeF32(y, TolBatchNorm, 1)
			gotH := e.closeF32(xhat, TolBatchNorm, 1)
			gotM := e.closeF32(mean, TolBatchNorm, 1)
			gotI := e.closeF32(invstd, TolBatchNorm, 1)
			gotRM := e.closeF32(rm, TolBatchNorm, 1)
			gotRV := e.closeF32(rv, TolBatchNorm, 1)

			wy, wh, wm, wv := bnForward64(to64(xv), to64(gv), to64(bv), r, c, eps)
			wi, wrm, wrv := make([]float64, c), make([]float64, c), make([]float64, c)
			for j := range c {
				wi[j] = 1 / math.Sqrt(wv[j]+eps)
				unb := wv[j]
				if r > 1 {
					unb = wv[j] * float64(r) / float64(r-1)
				}
				wrm[j] = (1-momentum)*float64(rm0[j]) + momentum*wm[j]
				wrv[j] = (1-momentum)*float64(rv0[j]) + momentum*unb
			}
			checkClose(t, "y vs float64", gotY, wy, TolBatchNorm, 1)
			checkClose(t, "xhat vs float64", gotH, wh, TolBatchNorm, 1)
			checkClose(t, "mean vs float64", gotM, wm, TolBatchNorm, 1)
			checkClose(t, "invstd vs float64", gotI, wi, TolBatchNorm, 1)
			checkClose(t, "runMean vs float64", gotRM, wrm, TolBatchNorm, 1)
			checkClose(t, "runVar vs float64", gotRV, wrv, TolBatchNorm, 1)

			// Inference with the initial running statistics.
			yi := e.out("y (infer)", backend.F32, sh...)
			rmIn := e.inF32("runMean (infer)", rm0, c)
			rvIn := e.inF32("runVar (infer)", rv0, c)
			e.run(func(b backend.Backend, s int) {
				b.BatchNormInfer(yi.t[s], x.t[s], gamma.t[s], beta.t[s], rmIn.t[s], rvIn.t[s], eps)
			})
			gotYI := e.closeF32(yi, TolBatchNorm, 1)
			wyi := make([]float64, r*c)
			for i, v := range xv {
				j := i % c
				wyi[i] = float64(gv[j])*(float64(v)-float64(rm0[j]))/math.Sqrt(float64(rv0[j])+eps) + float64(bv[j])
			}
			checkClose(t, "y (infer) vs float64", gotYI, wyi, TolBatchNorm, 1)

			// Backward from the float64 xhat and invstd.
			dyv := e.uniform(r*c, -1, 1)
			dy := e.inF32("dy", dyv, sh...)
			xh := e.inF32("xhat (grad)", to32(wh), sh...)
			is := e.inF32("invstd (grad)", to32(wi), c)
			dx := e.out("dx", backend.F32, sh...)
			dg := e.out("dgamma", backend.F32, c)
			db := e.out("dbeta", backend.F32, c)
			e.run(func(b backend.Backend, s int) {
				b.BatchNormGrad(dx.t[s], dg.t[s], db.t[s], dy.t[s], xh.t[s], is.t[s], gamma.t[s])
			})
			gotDX := e.closeF32(dx, TolBatchNorm, 1)
			gotDG := e.closeF32(dg, TolBatchNorm, r)
			gotDB := e.closeF32(db, TolBatchNorm, r)
			if r*c > 200 {
				return
			}
			x64, g64, b64 := to64(xv), to64(gv), to64(bv)
			loss := func() float64 {
				yy, _, _, _ := bnForward64(x64, g64, b64, r, c, eps)
				var l float64
				for i, v := range yy {
					l += float64(dyv[i]) * v
				}
				return l
			}
			checkGrad(t, "dx vs finite differences", gotDX, fdGrad(x64, loss))
			checkGrad(t, "dgamma vs finite differences", gotDG, fdGrad(g64, loss))
			checkGrad(t, "dbeta vs finite differences", gotDB, fdGrad(b64, loss))
		})
	}
}

// TestCompensate checks CompensateTrain, CompensateInfer and
// CompensateGrad (train and inference, in place and not) against the
// reference, float64 formulas and central finite differences of the
// forward.
func TestCompensate(t *testing.T, b backend.Backend) {
	const momentum = 0.1
	for si, sh := range [][]int{{1, 3}, {2, 1}, {7, 5}, {2, 3, 4, 17}, {300, 17}, {1000, 3}} {
		t.Run(shapeName(sh), func(t *testing.T) {
			e := newEnv(t, b)
			r, c := rowsCols(sh)
			xv, gv, bv := e.bnData(r, c)
			x := e.inF32("x", xv, sh...)
			gamma := e.inF32("gamma", gv, c)
			beta := e.inF32("beta", bv, c)
			rm0 := e.uniform(c, -1, 1)
			rm := e.stateF32("runMean", append([]float32(nil), rm0...), c)
			y := e.out("y", backend.F32, sh...)
			mean := e.out("mean", backend.F32, c)
			e.run(func(b backend.Backend, s int) {
				b.CompensateTrain(y.t[s], mean.t[s], x.t[s], gamma.t[s], beta.t[s], rm.t[s], momentum)
			})
			gotM := e.closeF32(mean, TolCompensate, r)
			gotY := e.closeF32(y, TolCompensate, r)
			gotRM := e.closeF32(rm, TolCompensate, r)
			// forward returns y for x, gamma, beta, with the batch mean
			// (train) or m.
			forward := func(x, g, bb []float64, m []float64) (y, mean []float64) {
				mean = make([]float64, c)
				for i, v := range x {
					mean[i%c] += v / float64(r)
				}
				if m != nil {
					mean = m
				}
				y = make([]float64, len(x))
				for i, v := range x {
					y[i] = v + g[i%c]*mean[i%c] + bb[i%c]
				}
				return y, mean
			}
			wy, wm := forward(to64(xv), to64(gv), to64(bv), nil)
			wrm := make([]float64, c)
			for j := range c {
				wrm[j] = (1-momentum)*float64(rm0[j]) + momentum*wm[j]
			}
			checkClose(t, "mean vs float64", gotM, wm, TolCompensate, r)
			checkClose(t, "y vs float64", gotY, wy, TolCompensate, r)
			checkClose(t, "runMean vs float64", gotRM, wrm, TolCompensate, r)

			yi := e.out("y (infer)", backend.F32, sh...)
			rmIn := e.inF32("runMean (infer)", rm0, c)
			e.run(func(b backend.Backend, s int) {
				b.CompensateInfer(yi.t[s], x.t[s], gamma.t[s], beta.t[s], rmIn.t[s])
			})
			gotYI := e.closeF32(yi, TolCompensate, 1)
			wyi, _ := forward(to64(xv), to64(gv), to64(bv), to64(rm0))
			checkClose(t, "y (infer) vs float64", gotYI, wyi, TolCompensate, 1)

			for _, train := range []bool{true, false} {
				inPlace := si%2 == 1
				dyv := e.uniform(r*c, -1, 1)
				m := to32(wm)
				if !train {
					m = rm0
				}
				mt := e.inF32("mean (grad)", m, c)
				var dy, dx *pair
				if inPlace {
					dy = e.stateF32("dy", append([]float32(nil), dyv...), sh...)
					dx = dy
				} else {
					dy = e.inF32("dy", dyv, sh...)
					dx = e.out("dx", backend.F32, sh...)
				}
				dg := e.out("dgamma", backend.F32, c)
				db := e.out("dbeta", backend.F32, c)
				e.run(func(b backend.Backend, s int) {
					b.CompensateGrad(dx.t[s], dg.t[s], db.t[s], dy.t[s], mt.t[s], gamma.t[s], train)
				})
				gotDX := e.closeF32(dx, TolCompensate, r)
				gotDG := e.closeF32(dg, TolCompensate, r)
				gotDB := e.closeF32(db, TolCompensate, r)
				if r*c > 200 {
					continue
				}
				x64, g64, b64 := to64(xv), to64(gv), to64(bv)
				var fixed []float64
				if !train {
					fixed = to64(rm0)
				} else {
					fixed = nil
				}
				loss := func() float64 {
					yy, _ := forward(x64, g64, b64, fixed)
					var l float64
					for i, v := range yy {
						l += float64(dyv[i]) * v
					}
					return l
				}
				what := fmt.Sprintf(" (train %v) vs finite differences", train)
				checkGrad(t, "dx"+what, gotDX, fdGrad(x64, loss))
				checkGrad(t, "dgamma"+what, gotDG, fdGrad(g64, loss))
				checkGrad(t, "dbeta"+what, gotDB, fdGrad(b64, loss))
			}
		})
	}
}

// fusedBNReLU returns b's FusedBNReLU ability, failing the test when b
// lacks it (the ability's ops are declared, so a backend of this project
// must have them).
func fusedBNReLU(t *testing.T, b backend.Backend) backend.FusedBNReLU {
	t.Helper()
	f, ok := b.(backend.FusedBNReLU)
	if !ok {
		t.Fatalf("%s (%T) lacks backend.FusedBNReLU, whose ops the contract declares", b.Name(), b)
	}
	return f
}

// TestBatchNormReLU checks the fused batch norm + ReLU ops on the backend
// under test against the composed ops they replace, run on the reference
// (BatchNormTrain then ReLU; BatchNormInfer then ReLU; ReLUGrad then
// BatchNormGrad), on data whose batch-norm outputs are about half
// negative.
func TestBatchNormReLU(t *testing.T, b backend.Backend) {
	const eps, momentum = 1e-5, 0.1
	f := fusedBNReLU(t, b)
	for _, sh := range [][]int{{1, 3}, {7, 5}, {2, 3, 4, 17}, {300, 16}, {1000, 3}} {
		t.Run(shapeName(sh), func(t *testing.T) {
			e := newEnv(t, b)
			r, c := rowsCols(sh)
			xv, gv, bv := e.bnData(r, c)
			x := e.inF32("x", xv, sh...)
			gamma := e.inF32("gamma", gv, c)
			beta := e.inF32("beta", bv, c)
			rm := e.stateF32("runMean", e.uniform(c, -1, 1), c)
			rv := e.stateF32("runVar", e.uniform(c, 0.5, 2), c)
			y := e.out("y", backend.F32, sh...)
			xhat := e.out("xhat", backend.F32, sh...)
			mean := e.out("mean", backend.F32, c)
			invstd := e.out("invstd", backend.F32, c)
			e.run(func(b backend.Backend, s int) {
				if s == under {
					f.BatchNormReLUTrain(y.t[s], xhat.t[s], mean.t[s], invstd.t[s], x.t[s], gamma.t[s], beta.t[s], rm.t[s], rv.t[s], momentum, eps)
					return
				}
				b.BatchNormTrain(y.t[s], xhat.t[s], mean.t[s], invstd.t[s], x.t[s], gamma.t[s], beta.t[s], rm.t[s], rv.t[s], momentum, eps)
				b.ReLU(y.t[s], y.t[s])
			})
			gotY := e.closeF32(y, TolBatchNorm, 1)
			e.closeF32(xhat, TolBatchNorm, 1)
			e.closeF32(mean, TolBatchNorm, 1)
			e.closeF32(invstd, TolBatchNorm, 1)
			e.closeF32(rm, TolBatchNorm, 1)
			e.closeF32(rv, TolBatchNorm, 1)
			zeros := 0
			for _, v := range gotY {
				if v < 0 || v != v {
					t.Fatalf("y has %v: not a ReLU output", v)
				}
				if v == 0 {
					zeros++
				}
			}
			if r*c >= 100 && (zeros < r*c/5 || zeros > 4*r*c/5) {
				t.Fatalf("%d of %d outputs are 0: the data do not exercise the ReLU", zeros, r*c)
			}

			yi := e.out("y (infer)", backend.F32, sh...)
			e.run(func(b backend.Backend, s int) {
				if s == under {
					f.BatchNormReLUInfer(yi.t[s], x.t[s], gamma.t[s], beta.t[s], rm.t[s], rv.t[s], eps)
					return
				}
				b.BatchNormInfer(yi.t[s], x.t[s], gamma.t[s], beta.t[s], rm.t[s], rv.t[s], eps)
				b.ReLU(yi.t[s], yi.t[s])
			})
			e.closeF32(yi, TolBatchNorm, 1)

			// Backward through the fused forward's (reference) outputs.
			dy := e.inF32("dy", e.uniform(r*c, -1, 1), sh...)
			yIn := e.inF32("y (grad)", e.f32(y, refer), sh...)
			hIn := e.inF32("xhat (grad)", e.f32(xhat, refer), sh...)
			iIn := e.inF32("invstd (grad)", e.f32(invstd, refer), c)
			masked := e.out("relu grad", backend.F32, sh...)
			dx := e.out("dx", backend.F32, sh...)
			dg := e.out("dgamma", backend.F32, c)
			db := e.out("dbeta", backend.F32, c)
			e.run(func(b backend.Backend, s int) {
				if s == under {
					f.BatchNormReLUGrad(dx.t[s], dg.t[s], db.t[s], dy.t[s], yIn.t[s], hIn.t[s], iIn.t[s], gamma.t[s])
					return
				}
				b.ReLUGrad(masked.t[s], dy.t[s], yIn.t[s])
				b.BatchNormGrad(dx.t[s], dg.t[s], db.t[s], masked.t[s], hIn.t[s], iIn.t[s], gamma.t[s])
			})
			e.closeF32(dx, TolBatchNorm, 1)
			e.closeF32(dg, TolBatchNorm, r)
			e.closeF32(db, TolBatchNorm, r)
		})
	}
}
