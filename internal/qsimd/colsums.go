package qsimd

import "math"

// Column sums: the reductions of the batch norm over the rows of a
// row-major matrix x [rows, cols] (rows = len(x)/cols), for the columns
// [clo, chi). Each column's sum is one float32 chain over increasing rows,
// s = ((0 + t[0]) + t[1]) + ..., the order the definitions specify. A
// vector kernel holds column c's running sum in lane c-c0 of one register
// and adds row after row, so every lane does exactly the float32 additions
// of the scalar chain, in the same order: the bits are those of the Go
// code. Terms that are products are rounded to float32 before they are
// added (a multiplication then an addition; never a fused multiply-add).

// colKernels are the vector implementations of the column sums. Each runs
// on one block of w columns starting at the column its pointers point to
// (dst, x and the other matrices at element [0, c0], the per-column
// vectors at element c0), over rows ≥ 1 rows of cols elements:
// w = width, or any w in [1, width] where partial.
type colKernels struct {
	width   int
	partial bool
	sum     func(dst, x *float32, rows, cols, w int)
	prod    func(dst, x, y *float32, rows, cols, w int)
	sqDev   func(dst, x, mean *float32, rows, cols, w int)
	comp    func(dst, x, add, beta *float32, rows, cols, w int)
	compSq  func(dst, x, add, beta, mean *float32, rows, cols, w int)
	masked  func(db, dg, dy, h, y *float32, rows, cols, w int)
}

// ColSumsWidth is the number of columns one vector of the active
// column-sum kernel holds: 16 with AVX-512, 8 with AVX2, 1 for the
// generic code. The column sums of a block of that many columns cost
// about as much as those of one column.
func ColSumsWidth() int {
	if k := active.cols; k != nil {
		return k.width
	}
	return 1
}

// colRows checks the column range and returns the rows of x.
func colRows(name string, dst []float32, x []float32, cols, clo, chi int) int {
	if cols <= 0 || clo < 0 || clo > chi || chi > cols || len(dst) < chi {
		panic("qsimd: " + name + ": bad column range")
	}
	return len(x) / cols
}

// colBlocks returns the active column kernels k and where they stop: k
// takes the columns [clo, end) in blocks of k.width (the last one
// narrower where k.partial), the generic code the columns [end, chi).
// Without a kernel or rows, k is nil and end = clo.
func colBlocks(rows, clo, chi int) (k *colKernels, end int) {
	k = active.cols
	switch {
	case k == nil || rows == 0:
		return nil, clo
	case k.partial:
		return k, chi
	}
	return k, clo + (chi-clo)/k.width*k.width
}

// ColSums writes dst[c] = Σ_r x[r·cols+c] for the columns c in [clo, chi)
// of the matrix x [rows, cols], rows = len(x)/cols: a float32 sum over
// increasing r (from +0). dst must hold at least chi elements; only
// dst[clo:chi] is written.
func ColSums(dst, x []float32, cols, clo, chi int) {
	rows := colRows("ColSums", dst, x, cols, clo, chi)
	k, end := colBlocks(rows, clo, chi)
	for c := clo; c < end; c += k.width {
		w := min(k.width, end-c)
		k.sum(&dst[c], &x[c], rows, cols, w)
	}
	colSumsGeneric(dst, x, cols, end, chi)
}

// ColSumsProd is ColSums of the products float32(x·y), element by
// element (x first); y must hold at least rows·cols elements.
func ColSumsProd(dst, x, y []float32, cols, clo, chi int) {
	rows := colRows("ColSumsProd", dst, x, cols, clo, chi)
	if len(y) < rows*cols {
		panic("qsimd: ColSumsProd: y shorter than x")
	}
	k, end := colBlocks(rows, clo, chi)
	for c := clo; c < end; c += k.width {
		w := min(k.width, end-c)
		k.prod(&dst[c], &x[c], &y[c], rows, cols, w)
	}
	colSumsProdGeneric(dst, x, y, cols, end, chi)
}

// ColSumsSqDev is ColSums of the squared deviations float32(d·d),
// d = x[r·cols+c] - mean[c]; mean must hold at least chi elements.
func ColSumsSqDev(dst, x, mean []float32, cols, clo, chi int) {
	rows := colRows("ColSumsSqDev", dst, x, cols, clo, chi)
	if len(mean) < chi {
		panic("qsimd: ColSumsSqDev: mean shorter than chi")
	}
	k, end := colBlocks(rows, clo, chi)
	for c := clo; c < end; c += k.width {
		w := min(k.width, end-c)
		k.sqDev(&dst[c], &x[c], &mean[c], rows, cols, w)
	}
	colSumsSqDevGeneric(dst, x, mean, cols, end, chi)
}

// ColSumsComp is ColSums (mean nil) or ColSumsSqDev (mean not nil) of the
// compensated matrix yc[r,c] = (x[r·cols+c] + add[c]) + beta[c], each
// element computed with these two float32 additions as it is read (yc is
// not stored). add, beta and a non-nil mean must hold at least chi
// elements.
func ColSumsComp(dst, x, add, beta, mean []float32, cols, clo, chi int) {
	rows := colRows("ColSumsComp", dst, x, cols, clo, chi)
	if len(add) < chi || len(beta) < chi || (mean != nil && len(mean) < chi) {
		panic("qsimd: ColSumsComp: per-column vector shorter than chi")
	}
	k, end := colBlocks(rows, clo, chi)
	for c := clo; c < end; c += k.width {
		w := min(k.width, end-c)
		if mean == nil {
			k.comp(&dst[c], &x[c], &add[c], &beta[c], rows, cols, w)
		} else {
			k.compSq(&dst[c], &x[c], &add[c], &beta[c], &mean[c], rows, cols, w)
		}
	}
	colSumsCompGeneric(dst, x, add, beta, mean, cols, end, chi)
}

// ColSumsMasked writes db[c] = Σ_r m and dg[c] = Σ_r float32(m·h[r·cols+c])
// (m first) with m = dy[r·cols+c] where y[r·cols+c] > 0, else +0 (a
// float32 comparison: +0 for y NaN, ±0 or negative; the bits of dy, even
// a NaN's, where y is positive, subnormals and +Inf included), for the columns
// c in [clo, chi) of the matrices dy, h and y [rows, cols],
// rows = len(dy)/cols, each a float32 chain over increasing r: the sums
// of a batch norm's backward taken of a ReLU's backward output, which is
// never written. db and dg must hold at least chi elements, h and y at
// least rows·cols.
func ColSumsMasked(db, dg, dy, h, y []float32, cols, clo, chi int) {
	rows := colRows("ColSumsMasked", db, dy, cols, clo, chi)
	if len(dg) < chi || len(h) < rows*cols || len(y) < rows*cols {
		panic("qsimd: ColSumsMasked: slice too short")
	}
	k, end := colBlocks(rows, clo, chi)
	for c := clo; c < end; c += k.width {
		w := min(k.width, end-c)
		k.masked(&db[c], &dg[c], &dy[c], &h[c], &y[c], rows, cols, w)
	}
	colSumsMaskedGeneric(db, dg, dy, h, y, cols, end, chi)
}

// Masked returns the ReLU backward's value of dy v for the ReLU output y:
// v where y > 0 (positive, including subnormals and +Inf; not ±0, not a
// negative value, not a NaN), else +0, computed on the bits without a
// branch: ColSumsMasked's m, and the CPU backend's ReLU and ReLU backward.
func Masked(v, y float32) float32 {
	return math.Float32frombits(math.Float32bits(v) & PositiveMask(math.Float32bits(y)))
}

// PositiveMask is all ones where the float32 of bits u is > 0, else 0,
// computed without a branch: the sign of activations is a coin flip the
// branch predictor loses. u-1 < 0x7f800000 exactly when
// (u-1) - 0x7f800000, in int64, is negative, whose arithmetic shift by 63
// is then all ones. (The vector kernels compare y > 0 as float32, ordered,
// which is the same predicate.)
func PositiveMask(u uint32) uint32 {
	return uint32((int64(u-1) - 0x7f800000) >> 63)
}

// The generic column sums: the specification (the loops nn/ref ran before
// the kernels), eight columns at a time in scalar accumulators (each
// column's sum still one chain over increasing r), then one at a time.

// colSumsGeneric is ColSums in portable Go.
func colSumsGeneric(dst, x []float32, cols, clo, chi int) {
	rows := len(x) / cols
	c := clo
	for ; c+8 <= chi; c += 8 {
		var s0, s1, s2, s3, s4, s5, s6, s7 float32
		for r := range rows {
			a := x[r*cols+c : r*cols+c+8 : r*cols+c+8]
			s0 += a[0]
			s1 += a[1]
			s2 += a[2]
			s3 += a[3]
			s4 += a[4]
			s5 += a[5]
			s6 += a[6]
			s7 += a[7]
		}
		d := dst[c : c+8 : c+8]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s0, s1, s2, s3, s4, s5, s6, s7
	}
	for ; c < chi; c++ {
		var s float32
		for r := range rows {
			s += x[r*cols+c]
		}
		dst[c] = s
	}
}

// colSumsProdGeneric is ColSumsProd in portable Go.
func colSumsProdGeneric(dst, x, y []float32, cols, clo, chi int) {
	rows := len(x) / cols
	c := clo
	for ; c+8 <= chi; c += 8 {
		var s0, s1, s2, s3, s4, s5, s6, s7 float32
		for r := range rows {
			a := x[r*cols+c : r*cols+c+8 : r*cols+c+8]
			b := y[r*cols+c : r*cols+c+8 : r*cols+c+8]
			s0 += float32(a[0] * b[0])
			s1 += float32(a[1] * b[1])
			s2 += float32(a[2] * b[2])
			s3 += float32(a[3] * b[3])
			s4 += float32(a[4] * b[4])
			s5 += float32(a[5] * b[5])
			s6 += float32(a[6] * b[6])
			s7 += float32(a[7] * b[7])
		}
		d := dst[c : c+8 : c+8]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s0, s1, s2, s3, s4, s5, s6, s7
	}
	for ; c < chi; c++ {
		var s float32
		for r := range rows {
			s += float32(x[r*cols+c] * y[r*cols+c])
		}
		dst[c] = s
	}
}

// colSumsSqDevGeneric is ColSumsSqDev in portable Go.
func colSumsSqDevGeneric(dst, x, mean []float32, cols, clo, chi int) {
	rows := len(x) / cols
	c := clo
	for ; c+8 <= chi; c += 8 {
		var s0, s1, s2, s3, s4, s5, s6, s7 float32
		m := mean[c : c+8 : c+8]
		m0, m1, m2, m3, m4, m5, m6, m7 := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
		for r := range rows {
			a := x[r*cols+c : r*cols+c+8 : r*cols+c+8]
			d0, d1, d2, d3 := a[0]-m0, a[1]-m1, a[2]-m2, a[3]-m3
			d4, d5, d6, d7 := a[4]-m4, a[5]-m5, a[6]-m6, a[7]-m7
			s0 += float32(d0 * d0)
			s1 += float32(d1 * d1)
			s2 += float32(d2 * d2)
			s3 += float32(d3 * d3)
			s4 += float32(d4 * d4)
			s5 += float32(d5 * d5)
			s6 += float32(d6 * d6)
			s7 += float32(d7 * d7)
		}
		d := dst[c : c+8 : c+8]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s0, s1, s2, s3, s4, s5, s6, s7
	}
	for ; c < chi; c++ {
		var s float32
		for r := range rows {
			d := x[r*cols+c] - mean[c]
			s += float32(d * d)
		}
		dst[c] = s
	}
}

// colSumsCompGeneric is ColSumsComp in portable Go.
func colSumsCompGeneric(dst, x, add, beta, mean []float32, cols, clo, chi int) {
	rows := len(x) / cols
	c := clo
	for ; c+8 <= chi; c += 8 {
		var s0, s1, s2, s3, s4, s5, s6, s7 float32
		ad := add[c : c+8 : c+8]
		a0, a1, a2, a3, a4, a5, a6, a7 := ad[0], ad[1], ad[2], ad[3], ad[4], ad[5], ad[6], ad[7]
		bd := beta[c : c+8 : c+8]
		b0, b1, b2, b3, b4, b5, b6, b7 := bd[0], bd[1], bd[2], bd[3], bd[4], bd[5], bd[6], bd[7]
		if mean == nil {
			for r := range rows {
				v := x[r*cols+c : r*cols+c+8 : r*cols+c+8]
				s0 += (v[0] + a0) + b0
				s1 += (v[1] + a1) + b1
				s2 += (v[2] + a2) + b2
				s3 += (v[3] + a3) + b3
				s4 += (v[4] + a4) + b4
				s5 += (v[5] + a5) + b5
				s6 += (v[6] + a6) + b6
				s7 += (v[7] + a7) + b7
			}
		} else {
			m := mean[c : c+8 : c+8]
			m0, m1, m2, m3, m4, m5, m6, m7 := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
			for r := range rows {
				v := x[r*cols+c : r*cols+c+8 : r*cols+c+8]
				d0, d1, d2, d3 := ((v[0]+a0)+b0)-m0, ((v[1]+a1)+b1)-m1, ((v[2]+a2)+b2)-m2, ((v[3]+a3)+b3)-m3
				d4, d5, d6, d7 := ((v[4]+a4)+b4)-m4, ((v[5]+a5)+b5)-m5, ((v[6]+a6)+b6)-m6, ((v[7]+a7)+b7)-m7
				s0 += float32(d0 * d0)
				s1 += float32(d1 * d1)
				s2 += float32(d2 * d2)
				s3 += float32(d3 * d3)
				s4 += float32(d4 * d4)
				s5 += float32(d5 * d5)
				s6 += float32(d6 * d6)
				s7 += float32(d7 * d7)
			}
		}
		d := dst[c : c+8 : c+8]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s0, s1, s2, s3, s4, s5, s6, s7
	}
	for ; c < chi; c++ {
		var s float32
		a, b := add[c], beta[c]
		for r := range rows {
			v := (x[r*cols+c] + a) + b
			if mean != nil {
				d := v - mean[c]
				v = float32(d * d)
			}
			s += v
		}
		dst[c] = s
	}
}

// colSumsMaskedGeneric is ColSumsMasked in portable Go.
func colSumsMaskedGeneric(db, dg, dy, h, y []float32, cols, clo, chi int) {
	rows := len(dy) / cols
	c := clo
	for ; c+4 <= chi; c += 4 {
		var b0, b1, b2, b3, g0, g1, g2, g3 float32
		for r := range rows {
			o := r*cols + c
			d := dy[o : o+4 : o+4]
			hh := h[o : o+4 : o+4]
			yy := y[o : o+4 : o+4]
			m0, m1, m2, m3 := Masked(d[0], yy[0]), Masked(d[1], yy[1]), Masked(d[2], yy[2]), Masked(d[3], yy[3])
			b0 += m0
			b1 += m1
			b2 += m2
			b3 += m3
			g0 += float32(m0 * hh[0])
			g1 += float32(m1 * hh[1])
			g2 += float32(m2 * hh[2])
			g3 += float32(m3 * hh[3])
		}
		db[c], db[c+1], db[c+2], db[c+3] = b0, b1, b2, b3
		dg[c], dg[c+1], dg[c+2], dg[c+3] = g0, g1, g2, g3
	}
	for ; c < chi; c++ {
		var sb, sg float32
		for r := range rows {
			m := Masked(dy[r*cols+c], y[r*cols+c])
			sb += m
			sg += float32(m * h[r*cols+c])
		}
		db[c], dg[c] = sb, sg
	}
}
