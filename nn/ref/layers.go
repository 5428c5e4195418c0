package ref

import (
	"math"

	"github.com/vktrain/vktrain/nn/backend"
)

// channels checks that each of ts (named by names) has c elements.
func (o *op) channels(c int, what string, names []string, ts ...*Tensor) {
	for i, t := range ts {
		o.wantLen(names[i], t, c, what)
	}
}

// colSums returns Σ_r x[r,c] for columns [clo, chi) of the matrix x
// [·, cols], accumulated in float32 over increasing r, into dst.
func colSums(dst, x []float32, cols, clo, chi int) {
	s := dst[clo:chi]
	clear(s)
	for r := 0; r+cols <= len(x); r += cols {
		for j, v := range x[r+clo : r+chi] {
			s[j] += v
		}
	}
}

// AddBias adds bias[c] to every row of y, in place.
func (b *Backend) AddBias(y, bias backend.Tensor) {
	o := b.begin("AddBias")
	bt := o.input("bias", bias, backend.F32)
	yt := o.output("y", y, backend.F32)
	var r, c int
	if yt != nil {
		r, c = matrix(yt)
	}
	o.wantLen("bias", bt, c, "columns of y "+shapeStr(yt))
	if !o.done() {
		return
	}
	b.parallel(r, max(1, 1<<14/c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := yt.st.f[i*c : (i+1)*c]
			for j, v := range bt.st.f {
				row[j] += v
			}
		}
	})
}

// ColSum writes s[c] = Σ_r x[r,c], summed over increasing r in float32.
func (b *Backend) ColSum(s, x backend.Tensor) {
	o := b.begin("ColSum")
	xt := o.input("x", x, backend.F32)
	st := o.output("s", s, backend.F32)
	var c int
	if xt != nil {
		_, c = matrix(xt)
	}
	o.wantLen("s", st, c, "columns of x "+shapeStr(xt))
	if !o.done() {
		return
	}
	b.parallel(c, 8, func(lo, hi int) { colSums(st.st.f, xt.st.f, c, lo, hi) })
}

// ReLU writes y = x where x > 0, else 0 (NaN gives 0). y may alias x.
func (b *Backend) ReLU(y, x backend.Tensor) {
	o := b.begin("ReLU")
	xt := o.input("x", x, backend.F32)
	yt := o.output("y", y, backend.F32)
	o.wantLen("y", yt, lenOf(xt), "x is "+shapeStr(xt))
	o.mayAlias(yt, xt)
	if !o.done() {
		return
	}
	b.parallel(xt.Len(), 1<<15, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := xt.st.f[i]
			if !(v > 0) {
				v = 0
			}
			yt.st.f[i] = v
		}
	})
}

// ReLUGrad writes dx = dy where y > 0, else 0. dx may alias dy.
func (b *Backend) ReLUGrad(dx, dy, y backend.Tensor) {
	o := b.begin("ReLUGrad")
	dyt := o.input("dy", dy, backend.F32)
	yt := o.input("y", y, backend.F32)
	dxt := o.output("dx", dx, backend.F32)
	o.wantLen("y", yt, lenOf(dyt), "dy is "+shapeStr(dyt))
	o.wantLen("dx", dxt, lenOf(dyt), "dy is "+shapeStr(dyt))
	o.mayAlias(dxt, dyt)
	if !o.done() {
		return
	}
	b.parallel(dyt.Len(), 1<<15, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := dyt.st.f[i]
			if !(yt.st.f[i] > 0) {
				v = 0
			}
			dxt.st.f[i] = v
		}
	})
}

func (o *op) poolArgs(g backend.PoolGeom, x, y *Tensor, xName, yName string) {
	o.Pool(g, xName, shapeOf(x), yName, shapeOf(y))
}

// MaxPool writes the window maxima of x into y and their flat indices into
// arg. Within a window (row-major order) the first element is kept and
// replaced only by a strictly greater one.
func (b *Backend) MaxPool(y, arg, x backend.Tensor, g backend.PoolGeom) {
	o := b.begin("MaxPool")
	xt := o.input("x", x, backend.F32)
	yt := o.output("y", y, backend.F32)
	at := o.output("arg", arg, backend.I32)
	o.poolArgs(g, xt, yt, "x", "y")
	o.wantLen("arg", at, lenOf(yt), "y is "+shapeStr(yt))
	if !o.done() {
		return
	}
	oh, ow := g.Out()
	b.parallel(g.N*oh, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, py := r/oh, r%oh
			for px := range ow {
				out := (r*ow + px) * g.C
				for c := range g.C {
					best := int32(-1)
					var bv float32
					for ky := range g.Size {
						for kx := range g.Size {
							idx := int32(((n*g.H+py*g.Stride+ky)*g.W+px*g.Stride+kx)*g.C + c)
							v := xt.st.f[idx]
							if best < 0 || v > bv {
								best, bv = idx, v
							}
						}
					}
					yt.st.f[out+c], at.st.i[out+c] = bv, best
				}
			}
		}
	})
}

// MaxPoolGrad zeroes dx and adds dy[i] to dx[arg[i]] for i in increasing
// order. An index outside dx records an error (without touching dx).
func (b *Backend) MaxPoolGrad(dx, dy, arg backend.Tensor, g backend.PoolGeom) {
	o := b.begin("MaxPoolGrad")
	dyt := o.input("dy", dy, backend.F32)
	at := o.input("arg", arg, backend.I32)
	dxt := o.output("dx", dx, backend.F32)
	o.poolArgs(g, dxt, dyt, "dx", "dy")
	o.wantLen("arg", at, lenOf(dyt), "dy is "+shapeStr(dyt))
	if !o.bad() {
		for i, a := range at.st.i {
			if a < 0 || int(a) >= dxt.Len() {
				o.failf("arg[%d] = %d outside dx %v", i, a, dxt.shape)
				break
			}
		}
	}
	if !o.done() {
		return
	}
	clear(dxt.st.f)
	for i, a := range at.st.i {
		dxt.st.f[a] += dyt.st.f[i]
	}
}

// BatchNormTrain normalises x per channel with batch statistics, see
// backend.Backend. Sums run over increasing rows in float32; mean = sum/R,
// var = Σ(x-mean)²/R, invstd = 1/float32(sqrt(var+eps)).
func (b *Backend) BatchNormTrain(y, xhat, mean, invstd, x, gamma, beta, runMean, runVar backend.Tensor, momentum, eps float32) {
	o := b.begin("BatchNormTrain")
	xt := o.input("x", x, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	bt := o.input("beta", beta, backend.F32)
	yt := o.output("y", y, backend.F32)
	ht := o.output("xhat", xhat, backend.F32)
	mt := o.output("mean", mean, backend.F32)
	it := o.output("invstd", invstd, backend.F32)
	rm := o.output("runMean", runMean, backend.F32)
	rv := o.output("runVar", runVar, backend.F32)
	var r, c int
	if xt != nil {
		r, c = matrix(xt)
	}
	o.wantMatrix("y", yt, r, c)
	o.wantMatrix("xhat", ht, r, c)
	o.channels(c, "channels of x "+shapeStr(xt),
		[]string{"gamma", "beta", "mean", "invstd", "runMean", "runVar"}, gt, bt, mt, it, rm, rv)
	if !(momentum >= 0 && momentum <= 1) {
		o.failf("momentum = %v, want within [0, 1]", momentum)
	}
	if !(eps >= 0) || math.IsInf(float64(eps), 0) {
		o.failf("eps = %v, want finite and >= 0", eps)
	}
	if !o.done() {
		return
	}
	fr := float32(r)
	unbias := float32(1)
	if r > 1 {
		unbias = fr / float32(r-1)
	}
	b.parallel(c, 8, func(lo, hi int) {
		w := hi - lo
		mu := mt.st.f[lo:hi]
		is := it.st.f[lo:hi]
		colSums(mt.st.f, xt.st.f, c, lo, hi)
		for j := range mu {
			mu[j] /= fr
		}
		vs := make([]float32, w)
		for i := 0; i < r; i++ {
			for j, v := range xt.st.f[i*c+lo : i*c+hi] {
				d := v - mu[j]
				vs[j] += float32(d * d)
			}
		}
		for j := range vs {
			vs[j] /= fr
			is[j] = 1 / float32(math.Sqrt(float64(vs[j]+eps)))
		}
		for i := 0; i < r; i++ {
			off := i*c + lo
			for j, v := range xt.st.f[off : off+w] {
				h := (v - mu[j]) * is[j]
				ht.st.f[off+j] = h
				yt.st.f[off+j] = float32(gt.st.f[lo+j]*h) + bt.st.f[lo+j]
			}
		}
		for j := range w {
			rm.st.f[lo+j] = float32((1-momentum)*rm.st.f[lo+j]) + float32(momentum*mu[j])
			rv.st.f[lo+j] = float32((1-momentum)*rv.st.f[lo+j]) + float32(momentum*float32(vs[j]*unbias))
		}
	})
}

// BatchNormInfer writes y = gamma·(x-runMean)/sqrt(runVar+eps) + beta,
// computed as float32(gamma·(x-m))/float32(sqrt(v+eps)) + beta.
func (b *Backend) BatchNormInfer(y, x, gamma, beta, runMean, runVar backend.Tensor, eps float32) {
	o := b.begin("BatchNormInfer")
	xt := o.input("x", x, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	bt := o.input("beta", beta, backend.F32)
	rm := o.input("runMean", runMean, backend.F32)
	rv := o.input("runVar", runVar, backend.F32)
	yt := o.output("y", y, backend.F32)
	var r, c int
	if xt != nil {
		r, c = matrix(xt)
	}
	o.wantMatrix("y", yt, r, c)
	o.channels(c, "channels of x "+shapeStr(xt), []string{"gamma", "beta", "runMean", "runVar"}, gt, bt, rm, rv)
	if !(eps >= 0) || math.IsInf(float64(eps), 0) {
		o.failf("eps = %v, want finite and >= 0", eps)
	}
	if !o.done() {
		return
	}
	sd := make([]float32, c)
	for j := range sd {
		sd[j] = float32(math.Sqrt(float64(rv.st.f[j] + eps)))
	}
	b.parallel(r, max(1, 1<<14/c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for j, v := range xt.st.f[i*c : (i+1)*c] {
				yt.st.f[i*c+j] = float32(gt.st.f[j]*(v-rm.st.f[j]))/sd[j] + bt.st.f[j]
			}
		}
	})
}

// BatchNormGrad writes dbeta = Σ_r dy, dgamma = Σ_r dy·xhat (float32,
// increasing r) and dx = (gamma·invstd/R)·((R·dy - dbeta) - xhat·dgamma).
func (b *Backend) BatchNormGrad(dx, dgamma, dbeta, dy, xhat, invstd, gamma backend.Tensor) {
	o := b.begin("BatchNormGrad")
	dyt := o.input("dy", dy, backend.F32)
	ht := o.input("xhat", xhat, backend.F32)
	it := o.input("invstd", invstd, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	dxt := o.output("dx", dx, backend.F32)
	dg := o.output("dgamma", dgamma, backend.F32)
	db := o.output("dbeta", dbeta, backend.F32)
	var r, c int
	if dyt != nil {
		r, c = matrix(dyt)
	}
	o.wantMatrix("xhat", ht, r, c)
	o.wantMatrix("dx", dxt, r, c)
	o.channels(c, "channels of dy "+shapeStr(dyt), []string{"invstd", "gamma", "dgamma", "dbeta"}, it, gt, dg, db)
	if !o.done() {
		return
	}
	fr := float32(r)
	b.parallel(c, 8, func(lo, hi int) {
		colSums(db.st.f, dyt.st.f, c, lo, hi)
		sg := dg.st.f[lo:hi]
		clear(sg)
		for i := 0; i < r; i++ {
			off := i*c + lo
			h := ht.st.f[off : off+len(sg)]
			for j, v := range dyt.st.f[off : off+len(sg)] {
				sg[j] += float32(v * h[j])
			}
		}
		for i := 0; i < r; i++ {
			for j := lo; j < hi; j++ {
				off := i*c + j
				k := float32(gt.st.f[j]*it.st.f[j]) / fr
				d := float32(fr*dyt.st.f[off]) - db.st.f[j] - float32(ht.st.f[off]*dg.st.f[j])
				dxt.st.f[off] = k * d
			}
		}
	})
}

// CompensateTrain writes mean = Σ_r x/R (float32, increasing r),
// y = (x + gamma·mean) + beta and updates runMean, see backend.Backend.
func (b *Backend) CompensateTrain(y, mean, x, gamma, beta, runMean backend.Tensor, momentum float32) {
	o := b.begin("CompensateTrain")
	xt := o.input("x", x, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	bt := o.input("beta", beta, backend.F32)
	yt := o.output("y", y, backend.F32)
	mt := o.output("mean", mean, backend.F32)
	rm := o.output("runMean", runMean, backend.F32)
	var r, c int
	if xt != nil {
		r, c = matrix(xt)
	}
	o.wantMatrix("y", yt, r, c)
	o.channels(c, "channels of x "+shapeStr(xt), []string{"gamma", "beta", "mean", "runMean"}, gt, bt, mt, rm)
	if !(momentum >= 0 && momentum <= 1) {
		o.failf("momentum = %v, want within [0, 1]", momentum)
	}
	if !o.done() {
		return
	}
	b.parallel(c, 8, func(lo, hi int) {
		colSums(mt.st.f, xt.st.f, c, lo, hi)
		for j := lo; j < hi; j++ {
			mt.st.f[j] /= float32(r)
			rm.st.f[j] = float32((1-momentum)*rm.st.f[j]) + float32(momentum*mt.st.f[j])
		}
	})
	compensate(b, yt.st.f, xt.st.f, gt.st.f, bt.st.f, mt.st.f, r, c)
}

func compensate(b *Backend, y, x, gamma, beta, mean []float32, r, c int) {
	b.parallel(r, max(1, 1<<14/c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for j, v := range x[i*c : (i+1)*c] {
				y[i*c+j] = (v + float32(gamma[j]*mean[j])) + beta[j]
			}
		}
	})
}

// CompensateInfer writes y = (x + gamma·runMean) + beta.
func (b *Backend) CompensateInfer(y, x, gamma, beta, runMean backend.Tensor) {
	o := b.begin("CompensateInfer")
	xt := o.input("x", x, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	bt := o.input("beta", beta, backend.F32)
	rm := o.input("runMean", runMean, backend.F32)
	yt := o.output("y", y, backend.F32)
	var r, c int
	if xt != nil {
		r, c = matrix(xt)
	}
	o.wantMatrix("y", yt, r, c)
	o.channels(c, "channels of x "+shapeStr(xt), []string{"gamma", "beta", "runMean"}, gt, bt, rm)
	if !o.done() {
		return
	}
	compensate(b, yt.st.f, xt.st.f, gt.st.f, bt.st.f, rm.st.f, r, c)
}

// CompensateGrad writes s = Σ_r dy (float32, increasing r), dbeta = s,
// dgamma = mean·s and dx = dy + (gamma·s)/R when train, else dx = dy.
// dx may alias dy.
func (b *Backend) CompensateGrad(dx, dgamma, dbeta, dy, mean, gamma backend.Tensor, train bool) {
	o := b.begin("CompensateGrad")
	dyt := o.input("dy", dy, backend.F32)
	mt := o.input("mean", mean, backend.F32)
	gt := o.input("gamma", gamma, backend.F32)
	dxt := o.output("dx", dx, backend.F32)
	dg := o.output("dgamma", dgamma, backend.F32)
	db := o.output("dbeta", dbeta, backend.F32)
	var r, c int
	if dyt != nil {
		r, c = matrix(dyt)
	}
	o.wantMatrix("dx", dxt, r, c)
	o.channels(c, "channels of dy "+shapeStr(dyt), []string{"mean", "gamma", "dgamma", "dbeta"}, mt, gt, dg, db)
	o.mayAlias(dxt, dyt)
	if !o.done() {
		return
	}
	b.parallel(c, 8, func(lo, hi int) {
		colSums(db.st.f, dyt.st.f, c, lo, hi)
		for j := lo; j < hi; j++ {
			dg.st.f[j] = mt.st.f[j] * db.st.f[j]
		}
	})
	if !train {
		copy(dxt.st.f, dyt.st.f)
		return
	}
	add := make([]float32, c)
	for j := range add {
		add[j] = float32(gt.st.f[j]*db.st.f[j]) / float32(r)
	}
	b.parallel(r, max(1, 1<<14/c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for j, v := range dyt.st.f[i*c : (i+1)*c] {
				dxt.st.f[i*c+j] = v + add[j]
			}
		}
	})
}
