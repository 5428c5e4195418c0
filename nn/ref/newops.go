package ref

import "github.com/vktrain/vktrain/nn/backend"

// Add writes y = a + b elementwise (float32 sums). y may alias a.
func (b *Backend) Add(y, a, bt backend.Tensor) {
	d, ok := backend.OpAdd.Check(&b.err, b, backend.Params{}, y, a, bt)
	if !ok {
		return
	}
	j := &b.jobs.add
	*j = addJob{y: y.(*Tensor).st.f[:d.Len], a: a.(*Tensor).st.f[:d.Len], b: bt.(*Tensor).st.f[:d.Len]}
	b.run(j, d.Len, 1<<15)
	*j = addJob{}
}

type addJob struct{ y, a, b []float32 }

func (j *addJob) run(lo, hi, _ int) {
	a, bb := j.a[lo:hi], j.b[lo:hi]
	y := j.y[lo:hi]
	bb, y = bb[:len(a)], y[:len(a)]
	for i, v := range a {
		y[i] = v + bb[i]
	}
}

// poolInv returns the float32 reciprocal of the window area kh·kw, a
// correctly rounded float32 division (GPU kernels receive it from the
// host, since GPU division need not be correctly rounded).
func poolInv(kh, kw int) float32 { return 1 / float32(kh*kw) }

// AvgPool writes y = the window means of x: for each output element, the
// float32 sum, starting from 0, of the window's elements in row-major
// window order (ky, then kx), times inv = 1/float32(kh·kw) rounded to
// float32, the product rounded to float32. Windows are g.Window() (kh×kw,
// steps sh, sw), without padding.
func (b *Backend) AvgPool(y, x backend.Tensor, g backend.PoolGeom) {
	if _, ok := backend.OpAvgPool.Check(&b.err, b, backend.Params{Pool: g}, y, x); !ok {
		return
	}
	j := &b.jobs.avgPool
	*j = avgPoolJob{y: y.(*Tensor).st.f, x: x.(*Tensor).st.f, g: g}
	oh, _ := g.Out()
	// Every output element is its own float32 sum; the accumulators are
	// y's elements, the channels of one output position side by side.
	b.run(j, g.N*oh, 1)
	*j = avgPoolJob{}
}

type avgPoolJob struct {
	y, x []float32
	g    backend.PoolGeom
}

func (j *avgPoolJob) run(lo, hi, _ int) {
	yf, xf, g := j.y, j.x, j.g
	kh, kw, sh, sw := g.Window()
	oh, ow := g.Out()
	inv := poolInv(kh, kw)
	for r := lo; r < hi; r++ {
		n, py := r/oh, r%oh
		for px := range ow {
			out := yf[(r*ow+px)*g.C : (r*ow+px+1)*g.C]
			clear(out)
			for ky := range kh {
				row := (n*g.H+py*sh+ky)*g.W + px*sw
				for kx := range kw {
					in := xf[(row+kx)*g.C : (row+kx+1)*g.C]
					for c, v := range in {
						out[c] += v
					}
				}
			}
			for c := range out {
				out[c] = float32(out[c] * inv)
			}
		}
	}
}

// AvgPoolGrad writes dx = the adjoint of AvgPool applied to dy: dx is
// zeroed, then for the outputs in increasing (flat NHWC) order the float32
// product dy·inv (inv as in AvgPool) is added to each element of the
// output's window. Each dx element is thus the float32 sum, starting from
// 0, of its terms in increasing output order.
func (b *Backend) AvgPoolGrad(dx, dy backend.Tensor, g backend.PoolGeom) {
	if _, ok := backend.OpAvgPoolGrad.Check(&b.err, b, backend.Params{Pool: g}, dx, dy); !ok {
		return
	}
	dxf, dyf := dx.(*Tensor).st.f, dy.(*Tensor).st.f
	// The outputs of image n only touch image n: split by image, each
	// image in increasing output order.
	j := &b.jobs.avgPoolGrad
	*j = avgPoolGradJob{dx: dxf, dy: dyf, g: g}
	b.run(j, g.N, 1)
	*j = avgPoolGradJob{}
}

type avgPoolGradJob struct {
	dx, dy []float32
	g      backend.PoolGeom
}

func (j *avgPoolGradJob) run(nlo, nhi, _ int) {
	dxf, dyf, g := j.dx, j.dy, j.g
	kh, kw, sh, sw := g.Window()
	oh, ow := g.Out()
	inv := poolInv(kh, kw)
	img := g.H * g.W * g.C
	clear(dxf[nlo*img : nhi*img])
	for n := nlo; n < nhi; n++ {
		for py := range oh {
			for px := range ow {
				o := ((n*oh+py)*ow + px) * g.C
				grad := dyf[o : o+g.C]
				for ky := range kh {
					row := (n*g.H+py*sh+ky)*g.W + px*sw
					for kx := range kw {
						dst := dxf[(row+kx)*g.C : (row+kx+1)*g.C]
						for c, v := range grad {
							dst[c] += float32(v * inv)
						}
					}
				}
			}
		}
	}
}

// dwTaps returns the filters w [C, KH, KW] transposed to [KH·KW, C] (tap
// t = kh·KW+kw, then channel) with sub (one value, or one per channel)
// subtracted from every weight: the layout in which the depthwise loops
// read all channels of one tap contiguously.
func dwTaps[T int32 | float32](buf *[]T, w []T, g backend.ConvGeom, sub []T) []T {
	k := g.KH * g.KW
	if cap(*buf) < k*g.C {
		*buf = make([]T, k*g.C)
	}
	out := (*buf)[:k*g.C]
	for c := range g.C {
		var z T
		if len(sub) == 1 {
			z = sub[0]
		} else if len(sub) > 1 {
			z = sub[c]
		}
		for t := range k {
			out[t*g.C+c] = w[c*k+t] - z
		}
	}
	return out
}

// dwRows runs f for the output rows (n, oy) in [lo, hi) of a depthwise
// convolution and, within a row, for each output column ox: out is the
// flat index of output (n, oy, ox, channel 0) and f(out, tap, in) is
// called for the taps inside the image in row-major tap order (kh, then
// kw) with in the flat index of input (n, iy, ix, channel 0).
func dwRows(g backend.ConvGeom, lo, hi int, start func(out int), tap func(out, t, in int)) {
	oh, ow := g.Out()
	for r := lo; r < hi; r++ {
		n, oy := r/oh, r%oh
		for ox := range ow {
			out := (r*ow + ox) * g.C
			start(out)
			for kh := range g.KH {
				iy := oy*g.StrideH - g.PadH + kh
				if iy < 0 || iy >= g.H {
					continue
				}
				for kw := range g.KW {
					ix := ox*g.StrideW - g.PadW + kw
					if ix < 0 || ix >= g.W {
						continue
					}
					tap(out, kh*g.KW+kw, ((n*g.H+iy)*g.W+ix)*g.C)
				}
			}
		}
	}
}

// DWConvI is the integer depthwise convolution, see backend.Backend:
// acc[n,oh,ow,c] = Σ over the taps inside the image of
// (x[n,iy,ix,c]-pa.Zero[0])·(w[c,kh,kw]-pb.Zero[c]) in wrapping int32
// (exact modulo 2^32, so the order does not matter), iy = oh·StrideH -
// PadH + kh and ix = ow·StrideW - PadW + kw.
func (b *Backend) DWConvI(acc, x, w backend.Tensor, g backend.ConvGeom, pa, pb backend.QuantSpec) {
	if _, ok := backend.OpDWConvI.Check(&b.err, b, backend.Params{Conv: g, P: pa, PB: pb}, acc, x, w); !ok {
		return
	}
	af, xf := acc.(*Tensor).st.i, x.(*Tensor).st.i
	wt := dwTaps(&b.tapsI, w.(*Tensor).st.i, g, pb.Zero)
	za := pa.Zero[0]
	oh, _ := g.Out()
	j := &b.jobs.dwConvI
	*j = dwConvIJob{acc: af, x: xf, w: wt, za: za, g: g}
	b.run(j, g.N*oh, 1)
	*j = dwConvIJob{}
}

type dwConvIJob struct {
	acc, x, w []int32
	za        int32
	g         backend.ConvGeom
}

func (j *dwConvIJob) run(lo, hi, _ int) {
	af, xf, wt, za, g := j.acc, j.x, j.w, j.za, j.g
	C := g.C
	dwRows(g, lo, hi,
		func(out int) { clear(af[out : out+C]) },
		func(out, t, in int) {
			dst, src, wv := af[out:out+C], xf[in:in+C], wt[t*C:(t+1)*C]
			for c, v := range src {
				dst[c] += (v - za) * wv[c]
			}
		})
}

// DWConv is the float depthwise convolution: each output element
// y[n,oh,ow,c] is the float32 sum, starting from 0, of the float32
// products x[n,iy,ix,c]·w[c,kh,kw] over the taps inside the image in
// row-major tap order (kh, then kw); taps outside the image are skipped.
func (b *Backend) DWConv(y, x, w backend.Tensor, g backend.ConvGeom) {
	if _, ok := backend.OpDWConv.Check(&b.err, b, backend.Params{Conv: g}, y, x, w); !ok {
		return
	}
	yf, xf := y.(*Tensor).st.f, x.(*Tensor).st.f
	wt := dwTaps(&b.tapsF, w.(*Tensor).st.f, g, nil)
	oh, _ := g.Out()
	j := &b.jobs.dwConv
	*j = dwConvJob{y: yf, x: xf, w: wt, g: g}
	b.run(j, g.N*oh, 1)
	*j = dwConvJob{}
}

type dwConvJob struct {
	y, x, w []float32
	g       backend.ConvGeom
}

func (j *dwConvJob) run(lo, hi, _ int) {
	yf, xf, wt, g := j.y, j.x, j.w, j.g
	C := g.C
	dwRows(g, lo, hi,
		func(out int) { clear(yf[out : out+C]) },
		func(out, t, in int) {
			dst, src, wv := yf[out:out+C], xf[in:in+C], wt[t*C:(t+1)*C]
			for c, v := range src {
				dst[c] += float32(v * wv[c])
			}
		})
}

// DWConvGradX writes dx, the input gradient of DWConv: each element
// dx[n,iy,ix,c] is the float32 sum, starting from 0, of the float32
// products dy[n,oh,ow,c]·w[c,kh,kw] over the outputs (oh, ow) whose window
// reads it (kh = iy + PadH - oh·StrideH, kw = ix + PadW - ow·StrideW within
// the filter), in increasing output order: oh ascending, then ow
// ascending. Elements read by no window are 0.
func (b *Backend) DWConvGradX(dx, dy, w backend.Tensor, g backend.ConvGeom) {
	if _, ok := backend.OpDWConvGradX.Check(&b.err, b, backend.Params{Conv: g}, dx, dy, w); !ok {
		return
	}
	dxf, dyf := dx.(*Tensor).st.f, dy.(*Tensor).st.f
	wt := dwTaps(&b.tapsF, w.(*Tensor).st.f, g, nil)
	// Gather: each input row (n, iy) is written by one goroutine, its
	// terms visited in increasing output order.
	j := &b.jobs.dwConvGradX
	*j = dwConvGradXJob{dx: dxf, dy: dyf, w: wt, g: g}
	b.run(j, g.N*g.H, 1)
	*j = dwConvGradXJob{}
}

type dwConvGradXJob struct {
	dx, dy, w []float32
	g         backend.ConvGeom
}

func (j *dwConvGradXJob) run(lo, hi, _ int) {
	dxf, dyf, wt, g := j.dx, j.dy, j.w, j.g
	oh, ow := g.Out()
	C := g.C
	for r := lo; r < hi; r++ {
		n, iy := r/g.H, r%g.H
		oy0, oy1 := dwRange(iy+g.PadH, g.KH, g.StrideH, oh)
		for ix := range g.W {
			dst := dxf[(r*g.W+ix)*C : (r*g.W+ix+1)*C]
			clear(dst)
			ox0, ox1 := dwRange(ix+g.PadW, g.KW, g.StrideW, ow)
			for oy := oy0; oy < oy1; oy++ {
				kh := iy + g.PadH - oy*g.StrideH
				for ox := ox0; ox < ox1; ox++ {
					kw := ix + g.PadW - ox*g.StrideW
					src := dyf[((n*oh+oy)*ow+ox)*C : ((n*oh+oy)*ow+ox+1)*C]
					wv := wt[(kh*g.KW+kw)*C : (kh*g.KW+kw+1)*C]
					for c, v := range src {
						dst[c] += float32(v * wv[c])
					}
				}
			}
		}
	}
}

// dwRange returns the outputs [o0, o1) along one axis whose window (k taps
// from o·stride) covers the padded input coordinate p: those with
// 0 <= p - o·stride < k and 0 <= o < out.
func dwRange(p, k, stride, out int) (o0, o1 int) {
	// o >= (p-k+1)/stride rounded up, o <= p/stride rounded down.
	if lo := p - k + 1; lo > 0 {
		o0 = (lo + stride - 1) / stride
	}
	o1 = min(p/stride+1, out)
	return o0, max(o0, o1)
}

// DWConvGradW writes dw, the weight gradient of DWConv: each element
// dw[c,kh,kw] is the float32 sum, starting from 0, of the float32 products
// dy[n,oh,ow,c]·x[n,iy,ix,c] over the outputs whose tap (kh, kw) lies
// inside the image, in increasing output order (n, then oh, then ow);
// taps outside the image add nothing.
func (b *Backend) DWConvGradW(dw, dy, x backend.Tensor, g backend.ConvGeom) {
	if _, ok := backend.OpDWConvGradW.Check(&b.err, b, backend.Params{Conv: g}, dw, dy, x); !ok {
		return
	}
	dwf, dyf, xf := dw.(*Tensor).st.f, dy.(*Tensor).st.f, x.(*Tensor).st.f
	k := g.KH * g.KW
	// Split by tap: dw[c, t] for one tap t (all c) is written by one
	// goroutine, summing over the outputs in increasing order.
	j := &b.jobs.dwConvGradW
	*j = dwConvGradWJob{dw: dwf, dy: dyf, x: xf, g: g}
	b.run(j, k, 1)
	*j = dwConvGradWJob{}
}

type dwConvGradWJob struct {
	dw, dy, x []float32
	g         backend.ConvGeom
}

func (j *dwConvGradWJob) run(tlo, thi, _ int) {
	dwf, dyf, xf, g := j.dw, j.dy, j.x, j.g
	oh, ow := g.Out()
	k := g.KH * g.KW
	C := g.C
	for t := tlo; t < thi; t++ {
		kh, kw := t/g.KW, t%g.KW
		for c := range C {
			dwf[c*k+t] = 0
		}
		for r := range g.N * oh {
			n, oy := r/oh, r%oh
			iy := oy*g.StrideH - g.PadH + kh
			if iy < 0 || iy >= g.H {
				continue
			}
			for ox := range ow {
				ix := ox*g.StrideW - g.PadW + kw
				if ix < 0 || ix >= g.W {
					continue
				}
				src := dyf[(r*ow+ox)*C : (r*ow+ox+1)*C]
				in := xf[((n*g.H+iy)*g.W+ix)*C : ((n*g.H+iy)*g.W+ix+1)*C]
				for c, v := range src {
					dwf[c*k+t] += float32(v * in[c])
				}
			}
		}
	}
}
