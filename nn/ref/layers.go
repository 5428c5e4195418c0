package ref

import (
	"fmt"
	"math"

	"github.com/vktrain/vktrain/nn/backend"
)

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
	d, ok := backend.OpAddBias.Check(&b.err, b, backend.Params{}, y, bias)
	if !ok {
		return
	}
	yt, bt := y.(*Tensor), bias.(*Tensor)
	r, c := d.R, d.C
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
	d, ok := backend.OpColSum.Check(&b.err, b, backend.Params{}, s, x)
	if !ok {
		return
	}
	st, xt := s.(*Tensor), x.(*Tensor)
	c := d.C
	b.parallel(c, 8, func(lo, hi int) { colSums(st.st.f, xt.st.f, c, lo, hi) })
}

// ReLU writes y = x where x > 0, else 0 (NaN gives 0). y may alias x.
func (b *Backend) ReLU(y, x backend.Tensor) {
	d, ok := backend.OpReLU.Check(&b.err, b, backend.Params{}, y, x)
	if !ok {
		return
	}
	yt, xt := y.(*Tensor), x.(*Tensor)
	b.parallel(d.Len, 1<<15, func(lo, hi int) {
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
	d, ok := backend.OpReLUGrad.Check(&b.err, b, backend.Params{}, dx, dy, y)
	if !ok {
		return
	}
	dxt, dyt, yt := dx.(*Tensor), dy.(*Tensor), y.(*Tensor)
	b.parallel(d.Len, 1<<15, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := dyt.st.f[i]
			if !(yt.st.f[i] > 0) {
				v = 0
			}
			dxt.st.f[i] = v
		}
	})
}

// MaxPool writes the window maxima of x into y and their flat indices into
// arg. Within a window (row-major order) the first element is kept and
// replaced only by a strictly greater one.
func (b *Backend) MaxPool(y, arg, x backend.Tensor, g backend.PoolGeom) {
	if _, ok := backend.OpMaxPool.Check(&b.err, b, backend.Params{Pool: g}, y, arg, x); !ok {
		return
	}
	yt, at, xt := y.(*Tensor), arg.(*Tensor), x.(*Tensor)
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
	if _, ok := backend.OpMaxPoolGrad.Check(&b.err, b, backend.Params{Pool: g}, dx, dy, arg); !ok {
		return
	}
	dxt, dyt, at := dx.(*Tensor), dy.(*Tensor), arg.(*Tensor)
	// The op-specific runtime check: indices are data, not shapes.
	for i, a := range at.st.i {
		if a < 0 || int(a) >= dxt.Len() {
			b.record(fmt.Errorf("MaxPoolGrad: arg[%d] = %d outside dx %v", i, a, dxt.shape))
			return
		}
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
	d, ok := backend.OpBatchNormTrain.Check(&b.err, b, backend.Params{Momentum: momentum, Eps: eps},
		y, xhat, mean, invstd, x, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	yt, ht, mt, it := y.(*Tensor), xhat.(*Tensor), mean.(*Tensor), invstd.(*Tensor)
	xt, gt, bt := x.(*Tensor), gamma.(*Tensor), beta.(*Tensor)
	rm, rv := runMean.(*Tensor), runVar.(*Tensor)
	r, c := d.R, d.C
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
	d, ok := backend.OpBatchNormInfer.Check(&b.err, b, backend.Params{Eps: eps}, y, x, gamma, beta, runMean, runVar)
	if !ok {
		return
	}
	yt, xt, gt, bt := y.(*Tensor), x.(*Tensor), gamma.(*Tensor), beta.(*Tensor)
	rm, rv := runMean.(*Tensor), runVar.(*Tensor)
	r, c := d.R, d.C
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
	d, ok := backend.OpBatchNormGrad.Check(&b.err, b, backend.Params{}, dx, dgamma, dbeta, dy, xhat, invstd, gamma)
	if !ok {
		return
	}
	dxt, dg, db := dx.(*Tensor), dgamma.(*Tensor), dbeta.(*Tensor)
	dyt, ht, it, gt := dy.(*Tensor), xhat.(*Tensor), invstd.(*Tensor), gamma.(*Tensor)
	r, c := d.R, d.C
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
	d, ok := backend.OpCompensateTrain.Check(&b.err, b, backend.Params{Momentum: momentum}, y, mean, x, gamma, beta, runMean)
	if !ok {
		return
	}
	yt, mt, xt := y.(*Tensor), mean.(*Tensor), x.(*Tensor)
	gt, bt, rm := gamma.(*Tensor), beta.(*Tensor), runMean.(*Tensor)
	r, c := d.R, d.C
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
	d, ok := backend.OpCompensateInfer.Check(&b.err, b, backend.Params{}, y, x, gamma, beta, runMean)
	if !ok {
		return
	}
	yt, xt, gt, bt, rm := y.(*Tensor), x.(*Tensor), gamma.(*Tensor), beta.(*Tensor), runMean.(*Tensor)
	r, c := d.R, d.C
	compensate(b, yt.st.f, xt.st.f, gt.st.f, bt.st.f, rm.st.f, r, c)
}

// CompensateGrad writes s = Σ_r dy (float32, increasing r), dbeta = s,
// dgamma = mean·s and dx = dy + (gamma·s)/R when train, else dx = dy.
// dx may alias dy.
func (b *Backend) CompensateGrad(dx, dgamma, dbeta, dy, mean, gamma backend.Tensor, train bool) {
	d, ok := backend.OpCompensateGrad.Check(&b.err, b, backend.Params{Train: train}, dx, dgamma, dbeta, dy, mean, gamma)
	if !ok {
		return
	}
	dxt, dg, db := dx.(*Tensor), dgamma.(*Tensor), dbeta.(*Tensor)
	dyt, mt, gt := dy.(*Tensor), mean.(*Tensor), gamma.(*Tensor)
	r, c := d.R, d.C
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
