package qsimd

import "math"

// Row passes: the element-wise passes of the batch norm, the compensation
// and the 2×2 max-pool over the rows [rlo, rhi) of row-major matrices
// [·, cols] (per-column vectors of at least cols elements). Each output
// element is computed from its own inputs by the float32 operations of
// the Go definitions below, in their order (each product rounded: no fused
// multiply-add), so a vector kernel that does these operations lane by
// lane gives the same bits.

// rowKernels are the vector implementations of the row passes. Each runs
// on rows ≥ 1 rows of cols elements (the row pointers at element [rlo, 0],
// the per-column vectors at element 0), for the columns [0, w):
// w = cols where partial (any cols ≥ 1), else w a positive multiple of
// width, the rest of the columns left to the generic code.
type rowKernels struct {
	width   int
	partial bool
	// bnApply is BNApply; flags: bnRelu, bnAdd (add and cbeta not nil).
	bnApply func(y, h, x, add, cbeta, mean, invstd, gamma, beta *float32, rows, cols, w, flags int)
	// rowAdd is RowAdd (beta may be nil).
	rowAdd func(y, x, add, beta *float32, rows, cols, w int)
	// bnGradDX is BNGradDX (y may be nil).
	bnGradDX func(dx, dy, h, y, kk, db, dg *float32, fr float32, rows, cols, w int)
	// maxPool2 is MaxPool2 for one output row of ow windows: x at the
	// window (0, 0)'s first element, whose index in the input is i0 (as
	// int32: the indices wrap as MaxPool2's conversions do), the next
	// window xstep elements on; row elements from a window's top row to
	// its bottom row; y and arg at the output row's first element.
	maxPool2 func(y *float32, arg *int32, x *float32, i0, ow, cols, w, xstep, row int)
}

// The flags of rowKernels.bnApply.
const (
	bnRelu = 1 << iota // y = ReLU(·)
	bnAdd              // add and cbeta not nil
)

// rowRange checks a row range of matrices of cols columns and returns the
// elements they need.
func rowRange(name string, cols, rlo, rhi int) int {
	if cols <= 0 || rlo < 0 || rlo > rhi {
		panic("qsimd: " + name + ": bad row range")
	}
	return rhi * cols
}

// rowCols returns the active row kernels k and the columns [0, w) they
// take (the generic code takes [w, cols)); k is nil and w = 0 without a
// kernel or rows.
func rowCols(cols, rows int) (k *rowKernels, w int) {
	k = active.rows
	switch {
	case k == nil || rows <= 0:
		return nil, 0
	case k.partial:
		return k, cols
	}
	w = cols / k.width * k.width
	if w == 0 {
		return nil, 0
	}
	return k, w
}

// tooShort panics: an operand of name is shorter than its shape needs.
func tooShort(name string) { panic("qsimd: " + name + ": slice too short") }

// BNApply is the batch norm's normalisation for the rows [rlo, rhi) of
// x [·, cols]: per element, with k its column,
//
//	xhat = (((x + add[k]) + cbeta[k]) - mean[k]) · invstd[k]   (add not nil)
//	xhat = (x - mean[k]) · invstd[k]                           (add nil)
//	y    = float32(gamma[k]·xhat) + beta[k], then ReLU(y) where relu
//
// each operation rounded to float32, ReLU(v) = v where v > 0, else +0
// (NaN and -0 give +0). y, xhat and x must hold at least rhi·cols
// elements, mean, invstd, gamma, beta and a non-nil add and cbeta at
// least cols; only the rows [rlo, rhi) of y and xhat are written.
func BNApply(y, xhat, x, add, cbeta, mean, invstd, gamma, beta []float32, cols, rlo, rhi int, relu bool) {
	n := rowRange("BNApply", cols, rlo, rhi)
	if len(y) < n || len(xhat) < n || len(x) < n {
		tooShort("BNApply")
	}
	if len(mean) < cols || len(invstd) < cols || len(gamma) < cols || len(beta) < cols ||
		(add != nil && (len(add) < cols || len(cbeta) < cols)) {
		tooShort("BNApply")
	}
	k, w := rowCols(cols, rhi-rlo)
	if k != nil {
		o := rlo * cols
		flags := 0
		var ap, cp *float32
		if relu {
			flags |= bnRelu
		}
		if add != nil {
			flags |= bnAdd
			ap, cp = &add[0], &cbeta[0]
		}
		k.bnApply(&y[o], &xhat[o], &x[o], ap, cp, &mean[0], &invstd[0], &gamma[0], &beta[0], rhi-rlo, cols, w, flags)
	}
	if w < cols {
		bnApplyGeneric(y, xhat, x, add, cbeta, mean, invstd, gamma, beta, cols, rlo, rhi, w, cols, relu)
	}
}

// RowAdd writes y = (x + add[k]) + beta[k] (beta not nil) or y = x + add[k]
// (beta nil), two or one float32 additions, for the elements of the rows
// [rlo, rhi) of x [·, cols], k the column. y and x must hold at least
// rhi·cols elements, add and a non-nil beta at least cols; only the rows
// [rlo, rhi) of y are written. y may alias x.
func RowAdd(y, x, add, beta []float32, cols, rlo, rhi int) {
	n := rowRange("RowAdd", cols, rlo, rhi)
	if len(y) < n || len(x) < n || len(add) < cols || (beta != nil && len(beta) < cols) {
		tooShort("RowAdd")
	}
	k, w := rowCols(cols, rhi-rlo)
	if k != nil {
		o := rlo * cols
		var bp *float32
		if beta != nil {
			bp = &beta[0]
		}
		k.rowAdd(&y[o], &x[o], &add[0], bp, rhi-rlo, cols, w)
	}
	if w < cols {
		rowAddGeneric(y, x, add, beta, cols, rlo, rhi, w, cols)
	}
}

// BNGradDX is the batch norm backward's input gradient for the rows
// [rlo, rhi) of dy [·, cols]: per element, with k its column,
//
//	dx = kk[k] · ((float32(fr·m) - db[k]) - float32(xhat·dg[k]))
//
// each operation rounded to float32, with m = dy, or, where y is not nil,
// m = Masked(dy, y) (dy where y > 0, else +0). dx, dy, xhat and a non-nil
// y must hold at least rhi·cols elements, kk, db and dg at least cols;
// only the rows [rlo, rhi) of dx are written. dx may alias dy.
func BNGradDX(dx, dy, xhat, y, kk, db, dg []float32, fr float32, cols, rlo, rhi int) {
	n := rowRange("BNGradDX", cols, rlo, rhi)
	if len(dx) < n || len(dy) < n || len(xhat) < n || (y != nil && len(y) < n) ||
		len(kk) < cols || len(db) < cols || len(dg) < cols {
		tooShort("BNGradDX")
	}
	k, w := rowCols(cols, rhi-rlo)
	if k != nil {
		o := rlo * cols
		var yp *float32
		if y != nil {
			yp = &y[o]
		}
		k.bnGradDX(&dx[o], &dy[o], &xhat[o], yp, &kk[0], &db[0], &dg[0], fr, rhi-rlo, cols, w)
	}
	if w < cols {
		bnGradDXGeneric(dx, dy, xhat, y, kk, db, dg, fr, cols, rlo, rhi, w, cols)
	}
}

// MaxPool2 is the 2×2 max-pool with argmax of the NHWC input x
// [·, h, w, cols] with windows moved stride pixels at a time, for the
// output rows [rlo, rhi) (output row r is image r/oh, window row r%oh;
// oh = (h-2)/stride+1, ow = (w-2)/stride+1): per channel, of the window's
// four elements in row-major order the first is kept and replaced only by
// a strictly greater one (a float32 comparison, false for NaNs), y gets
// the value and arg its flat index in x (converted to int32). y and arg
// must hold at least rhi·ow·cols elements, x the inputs of the windows;
// only the rows [rlo, rhi) of y and arg are written.
func MaxPool2(y []float32, arg []int32, x []float32, h, w, cols, stride, rlo, rhi int) {
	rowRange("MaxPool2", cols, rlo, rhi)
	if h < 2 || w < 2 || stride <= 0 {
		panic("qsimd: MaxPool2: bad geometry")
	}
	oh, ow := (h-2)/stride+1, (w-2)/stride+1
	if rhi > rlo {
		n := rhi * ow * cols
		// The last window read is row rhi-1's last: its bottom right
		// element ends the input needed.
		last := (((rhi-1)/oh*h+(rhi-1)%oh*stride+1)*w + (ow-1)*stride + 2) * cols
		if len(y) < n || len(arg) < n || len(x) < last {
			tooShort("MaxPool2")
		}
	}
	k, wc := rowCols(cols, rhi-rlo)
	if k != nil {
		for r := rlo; r < rhi; r++ {
			i0 := ((r/oh*h + r%oh*stride) * w) * cols
			out := r * ow * cols
			k.maxPool2(&y[out], &arg[out], &x[i0], i0, ow, cols, wc, stride*cols, w*cols)
		}
	}
	if wc < cols {
		maxPool2Generic(y, arg, x, h, w, cols, stride, rlo, rhi, wc, cols)
	}
}

// The generic row passes: the specification (the loops nn/ref ran before
// the kernels), on the columns [clo, chi) of the rows [rlo, rhi).

// relu returns v where v > 0, else +0 (NaN and -0 give +0).
func relu(v float32) float32 { return Masked(v, v) }

// bnApplyGeneric is BNApply in portable Go.
func bnApplyGeneric(yf, hf, xf, add, cbeta, mean, invstd, gamma, beta []float32, cols, rlo, rhi, clo, chi int, rl bool) {
	c := chi - clo
	mu, is, g, be := mean[clo:chi], invstd[clo:chi], gamma[clo:chi], beta[clo:chi]
	var ad, cb []float32
	if add != nil {
		ad, cb = add[clo:chi], cbeta[clo:chi]
	}
	for i := rlo; i < rhi; i++ {
		o := i*cols + clo
		x := xf[o : o+c]
		h := hf[o : o+c]
		y := yf[o : o+c]
		x, h, y = x[:c], h[:c], y[:c]
		switch {
		case ad != nil && rl:
			for k, v := range x {
				hv := (((v + ad[k]) + cb[k]) - mu[k]) * is[k]
				h[k] = hv
				y[k] = relu(float32(g[k]*hv) + be[k])
			}
		case ad != nil:
			for k, v := range x {
				hv := (((v + ad[k]) + cb[k]) - mu[k]) * is[k]
				h[k] = hv
				y[k] = float32(g[k]*hv) + be[k]
			}
		case rl: // the ReLU as each value is written (the same values as a second pass)
			for k, v := range x {
				hv := (v - mu[k]) * is[k]
				h[k] = hv
				y[k] = relu(float32(g[k]*hv) + be[k])
			}
		default:
			for k, v := range x {
				hv := (v - mu[k]) * is[k]
				h[k] = hv
				y[k] = float32(g[k]*hv) + be[k]
			}
		}
	}
}

// rowAddGeneric is RowAdd in portable Go.
func rowAddGeneric(yf, xf, add, beta []float32, cols, rlo, rhi, clo, chi int) {
	c := chi - clo
	ad := add[clo:chi]
	for i := rlo; i < rhi; i++ {
		o := i*cols + clo
		x := xf[o : o+c]
		y := yf[o : o+c]
		x, y = x[:c], y[:c]
		if beta == nil {
			for k, v := range x {
				y[k] = v + ad[k]
			}
			continue
		}
		be := beta[clo:chi]
		for k, v := range x {
			y[k] = (v + ad[k]) + be[k]
		}
	}
}

// bnGradDXGeneric is BNGradDX in portable Go.
func bnGradDXGeneric(dxf, dyf, hf, yf, kkf, dbf, dgf []float32, fr float32, cols, rlo, rhi, clo, chi int) {
	c := chi - clo
	kk, db, dg := kkf[clo:chi], dbf[clo:chi], dgf[clo:chi]
	for i := rlo; i < rhi; i++ {
		o := i*cols + clo
		dy := dyf[o : o+c]
		h := hf[o : o+c]
		dx := dxf[o : o+c]
		dy, h, dx = dy[:c], h[:c], dx[:c]
		if yf != nil {
			y := yf[o : o+c]
			y = y[:c]
			for k, v := range dy {
				d := float32(fr*Masked(v, y[k])) - db[k] - float32(h[k]*dg[k])
				dx[k] = kk[k] * d
			}
			continue
		}
		for k, v := range dy {
			d := float32(fr*v) - db[k] - float32(h[k]*dg[k])
			dx[k] = kk[k] * d
		}
	}
}

// maxPool2Generic is MaxPool2 in portable Go.
func maxPool2Generic(yf []float32, argf []int32, xf []float32, h, wd, cols, stride, rlo, rhi, clo, chi int) {
	oh, ow := (h-2)/stride+1, (wd-2)/stride+1
	C := cols
	row := wd * C
	for r := rlo; r < rhi; r++ {
		n, py := r/oh, r%oh
		for px := range ow {
			out := (r*ow+px)*C + clo
			i0 := ((n*h+py*stride)*wd+px*stride)*C + clo
			a := xf[i0 : i0+chi-clo]
			b := xf[i0+C : i0+C+len(a)]
			c := xf[i0+row : i0+row+len(a)]
			d := xf[i0+row+C : i0+row+C+len(a)]
			y := yf[out : out+len(a)]
			arg := argf[out : out+len(a)]
			b, c, d, y, arg = b[:len(a)], c[:len(a)], d[:len(a)], y[:len(a)], arg[:len(a)]
			for k, v := range a {
				ua, ub := math.Float32bits(v), math.Float32bits(b[k])
				uc, ud := math.Float32bits(c[k]), math.Float32bits(d[k])
				at := int32(i0 + k)
				if max(ua, ub, uc, ud) <= 0x7f800000 {
					// No NaN, no negative value (nor -0): the floats
					// compare as their bits do, integer comparisons whose
					// selections compile to conditional moves (the
					// float comparisons' branches are coin flips that a
					// branch predictor loses).
					if ub > ua {
						ua, at = ub, int32(i0+C+k)
					}
					if uc > ua {
						ua, at = uc, int32(i0+row+k)
					}
					if ud > ua {
						ua, at = ud, int32(i0+row+C+k)
					}
					y[k], arg[k] = math.Float32frombits(ua), at
					continue
				}
				if w := b[k]; w > v {
					v, at = w, int32(i0+C+k)
				}
				if w := c[k]; w > v {
					v, at = w, int32(i0+row+k)
				}
				if w := d[k]; w > v {
					v, at = w, int32(i0+row+C+k)
				}
				y[k], arg[k] = v, at
			}
		}
	}
}
