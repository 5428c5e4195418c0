package sgemm

import (
	"fmt"
	"os"
)

// Block sizes (in elements). kcMax·nr·4 bytes of a B micro-panel and
// kcMax·mr·4 bytes of an A micro-panel stay in L1; an mcMax×kcMax block of
// packed A (~96 KiB) stays in L2; a kcMax×ncMax block of packed B (2 MiB) in
// L3.
const (
	kcMax = 256
	mcMax = 96
	ncMax = 2048
)

// maxTile bounds mr·nr of every kernel (the scratch tile for edges).
const maxTile = 12 * 32

// microKernel computes the mr×nr tile
//
//	c[i*ldc+j] = alpha·Σ_p a[i*rsa+p*csa]·b[p*nr+j] + beta·c[i*ldc+j]
//
// for i < mr, j < nr, p < k (k ≥ 0). beta == 0 means c is written without
// being read. a holds an mr-row micro-panel of A with row stride rsa and k
// stride csa (packed: rsa = 1, csa = mr); b holds a packed nr-column
// micro-panel of B. The slices may be longer than needed; they must cover
// every element named above.
type microKernel func(k int, a []float32, rsa, csa int, b []float32, c []float32, ldc int, alpha, beta float32)

// kernel describes one micro-kernel implementation.
type kernel struct {
	name   string
	mr, nr int
	fn     microKernel
	// anyRowStride: fn accepts any rsa; otherwise only rsa == 1 (with any csa).
	anyRowStride bool
	// transpose, if set, sets dst[p*ldd+j] = src[j*lds+p] for j < rows&^7,
	// p < cols&^7 (packing a transposed B); the rest is left to Go code.
	transpose func(dst []float32, ldd int, src []float32, lds int, rows, cols int)
	// copyPanel, if set, sets dst[p*ldd+j] = src[p*lds+j] for j < cols, 0
	// for cols ≤ j < ldd, p < rows (packing B with ldd = nr).
	copyPanel func(dst []float32, ldd int, src []float32, lds int, rows, cols int)
	// narrow, if set, is used instead when n ≤ its nr (a wide tile would be
	// mostly padding).
	narrow *kernel
}

var genericKernel = &kernel{name: "generic", mr: 4, nr: 4, fn: kernelGeneric, anyRowStride: true}

// kernels lists the kernels usable on this CPU, preferred first; generic is
// always last. Assembly files append to it in init.
var kernels []*kernel

// active is the kernel Sgemm uses, chosen once at start-up.
var active *kernel

func init() {
	kernels = append(archKernels(), genericKernel)
	active = kernels[0]
	if want := os.Getenv("VKTRAIN_SGEMM"); want != "" {
		for _, k := range kernels {
			if k.name == want {
				active = k
			}
		}
	}
}

// Kernel names the micro-kernel chosen at run time for this CPU ("avx2-fma",
// "avx512", "neon", "generic"). The environment variable VKTRAIN_SGEMM,
// read at start-up, overrides the choice with any of those names that the
// CPU supports (VKTRAIN_SGEMM=generic forces the portable Go code).
func Kernel() string { return active.name }

// Context holds packing buffers; the zero value is ready to use; not safe for
// concurrent use (the caller runs one Context per goroutine).
type Context struct {
	apack []float32
	bpack []float32
	tile  [maxTile]float32
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// single-threaded. op(A) is m×k (A is m×k with lda ≥ k, or k×m with lda ≥ m
// when transA), op(B) is k×n (B is k×n with ldb ≥ n, or n×k with ldb ≥ k when
// transB), C is m×n with ldc ≥ n. beta == 0 means C is overwritten (NaN/Inf
// already in C are ignored), as in BLAS. After buffers have grown once for a
// shape, it does not allocate. Bad dimensions or short slices panic.
func (c *Context) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cm []float32, ldc int) {
	c.sgemm(active, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
}

func (c *Context) sgemm(kern *kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cm []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, cm, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, cm, ldc)
		return
	}
	if kern.narrow != nil && n <= kern.narrow.nr {
		kern = kern.narrow
	}
	c.gemm(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
}

func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, cm []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	check := func(name string, s []float32, rows, cols, ld int) {
		if ld < max(cols, 1) {
			panic(fmt.Sprintf("sgemm: ld%s=%d < %d columns", name, ld, cols))
		}
		if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
			panic(fmt.Sprintf("sgemm: len(%s)=%d < %d needed for %d×%d with ld%s=%d", name, len(s), (rows-1)*ld+cols, rows, cols, name, ld))
		}
	}
	check("a", a, ar, ac, lda)
	check("b", b, br, bc, ldb)
	check("c", cm, m, n, ldc)
}

// scaleC sets C = beta·C (C = 0 when beta == 0).
func scaleC(m, n int, beta float32, cm []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := cm[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// grow returns s with length at least n, reusing its storage when possible.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// splitBlock returns a block size ≤ maxBlock that cuts total into as few,
// nearly equal blocks as possible, rounded up to a multiple of unit.
func splitBlock(total, maxBlock, unit int) int {
	if total <= maxBlock {
		return total
	}
	nb := (total + maxBlock - 1) / maxBlock
	bs := (total + nb - 1) / nb
	bs = (bs + unit - 1) / unit * unit
	return min(bs, maxBlock)
}

func (c *Context) gemm(kern *kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cm []float32, ldc int) {
	mr, nr := kern.mr, kern.nr
	kc := splitBlock(k, kcMax, 4)
	mc := splitBlock(m, mcMax/mr*mr, mr)
	nc := splitBlock(n, ncMax, nr)

	// A is read in place (not packed) when the kernel takes its strides:
	// always for kernels that take any row stride (broadcasting one value
	// per row costs the same from any address), else when op(A) is stored
	// k-major (transA), so that each k step is mr consecutive values.
	rsa, csa := lda, 1
	if transA {
		rsa, csa = 1, lda
	}
	direct := kern.anyRowStride || transA
	// A bottom edge panel (fewer than mr rows left) is normally packed with
	// zero rows. When op(A) is stored k-major with no padding (transA, lda ==
	// m), the rows past m at k step p are the first values of step p+1: still
	// elements of A, whose products only reach tile rows that are thrown
	// away. Such an edge panel is read in place while it stays inside A.
	edgeLimit := 0
	if transA && lda == m {
		edgeLimit = k * m
	}

	c.bpack = grow(c.bpack, kc*((nc+nr-1)/nr*nr))
	if direct {
		c.apack = grow(c.apack, kc*mr)
	} else {
		c.apack = grow(c.apack, kc*((mc+mr-1)/mr*mr))
	}
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			packB(kern, c.bpack, b, ldb, transB, pc, kb, jc, nb)
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				if direct {
					c.macroDirect(kern, a, rsa, csa, edgeLimit, ic, pc, mb, nb, kb, alpha, bet, cm[ic*ldc+jc:], ldc)
					continue
				}
				packA(c.apack, a, lda, transA, ic, mb, pc, kb, mr)
				c.macro(kern, c.apack, mb, nb, kb, alpha, bet, cm[ic*ldc+jc:], ldc)
			}
		}
	}
}

// macro multiplies a packed mb×kb block of A by the packed kb×nb block of B
// into C (cm starts at the block's top-left element).
func (c *Context) macro(kern *kernel, ap []float32, mb, nb, kb int, alpha, beta float32, cm []float32, ldc int) {
	mr, nr := kern.mr, kern.nr
	for jr := 0; jr < nb; jr += nr {
		bp := c.bpack[jr*kb : (jr+nr)*kb]
		nn := min(nr, nb-jr)
		for ir := 0; ir < mb; ir += mr {
			apr := ap[ir*kb : (ir+mr)*kb]
			mm := min(mr, mb-ir)
			if mm == mr && nn == nr {
				kern.fn(kb, apr, 1, mr, bp, cm[ir*ldc+jr:], ldc, alpha, beta)
			} else {
				kern.fn(kb, apr, 1, mr, bp, c.tile[:], nr, alpha, 0)
				c.mergeTile(mm, nn, nr, beta, cm[ir*ldc+jr:], ldc)
			}
		}
	}
}

// macroDirect is macro with A read in place: rows ic.. of op(A) at k offset
// pc, element (i, p) at a[i*rsa+p*csa]. A bottom edge panel shorter than mr
// rows is packed (zero-padded) instead, unless every element the kernel
// reads for it is below edgeLimit.
func (c *Context) macroDirect(kern *kernel, a []float32, rsa, csa, edgeLimit, ic, pc, mb, nb, kb int, alpha, beta float32, cm []float32, ldc int) {
	mr, nr := kern.mr, kern.nr
	full := mb / mr * mr
	var edge []float32
	ers, ecs := 1, mr
	if full < mb {
		i0 := ic + full
		if (i0+mr-1)*rsa+(pc+kb-1)*csa < edgeLimit {
			edge, ers, ecs = a[i0*rsa+pc*csa:], rsa, csa
		} else {
			edge = c.apack[:kb*mr]
			packAPanel(edge, a, rsa, csa, i0, mb-full, pc, kb, mr)
		}
	}
	for jr := 0; jr < nb; jr += nr {
		bp := c.bpack[jr*kb : (jr+nr)*kb]
		nn := min(nr, nb-jr)
		for ir := 0; ir < mb; ir += mr {
			var ap []float32
			rs, cs := rsa, csa
			if ir < full {
				ap = a[(ic+ir)*rsa+pc*csa:]
			} else {
				ap, rs, cs = edge, ers, ecs
			}
			mm := min(mr, mb-ir)
			if mm == mr && nn == nr {
				kern.fn(kb, ap, rs, cs, bp, cm[ir*ldc+jr:], ldc, alpha, beta)
			} else {
				kern.fn(kb, ap, rs, cs, bp, c.tile[:], nr, alpha, 0)
				c.mergeTile(mm, nn, nr, beta, cm[ir*ldc+jr:], ldc)
			}
		}
	}
}

// mergeTile writes the top-left mm×nn part of the scratch tile (already
// scaled by alpha, row stride nr) into C: C = tile + beta·C.
func (c *Context) mergeTile(mm, nn, nr int, beta float32, cm []float32, ldc int) {
	for i := 0; i < mm; i++ {
		t := c.tile[i*nr : i*nr+nn]
		row := cm[i*ldc : i*ldc+nn]
		if beta == 0 {
			copy(row, t)
			continue
		}
		for j, v := range t {
			row[j] = v + beta*row[j]
		}
	}
}

// packA packs rows i0..i0+mb of op(A), k range p0..p0+kb, into micro-panels
// of mr rows: panel r holds, for each p, mr consecutive values; rows past mb
// are zero.
func packA(dst, a []float32, lda int, transA bool, i0, mb, p0, kb, mr int) {
	rsa, csa := lda, 1
	if transA {
		rsa, csa = 1, lda
	}
	for ir := 0; ir < mb; ir += mr {
		packAPanel(dst[ir*kb:(ir+mr)*kb], a, rsa, csa, i0+ir, min(mr, mb-ir), p0, kb, mr)
	}
}

// packAPanel packs rows i0..i0+rows (rows ≤ mr) of op(A), element (i, p) at
// a[i*rsa+p*csa], k range p0..p0+kb, into dst[p*mr+r], zero-padding rows.
func packAPanel(dst, a []float32, rsa, csa, i0, rows, p0, kb, mr int) {
	dst = dst[:kb*mr]
	if rsa == 1 {
		// Each k step is a contiguous run of rows values.
		for p := 0; p < kb; p++ {
			copyRow(dst[p*mr:p*mr+mr], a[(p0+p)*csa+i0:], rows)
		}
		return
	}
	for r := 0; r < rows; r++ {
		src := a[(i0+r)*rsa+p0*csa:]
		if csa == 1 {
			src = src[:kb]
			for p, v := range src {
				dst[p*mr+r] = v
			}
			continue
		}
		for p := 0; p < kb; p++ {
			dst[p*mr+r] = src[p*csa]
		}
	}
	for r := rows; r < mr; r++ {
		for p := 0; p < kb; p++ {
			dst[p*mr+r] = 0
		}
	}
}

// packB packs op(B) rows p0..p0+kb, columns j0..j0+nb into micro-panels of
// kern.nr columns: panel j holds, for each p, nr consecutive values; columns
// past nb are zero.
func packB(kern *kernel, dst, b []float32, ldb int, transB bool, p0, kb, j0, nb int) {
	nr := kern.nr
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		d := dst[jr*kb : (jr+nr)*kb]
		if !transB {
			// B is k×n: row p of the panel is contiguous in B.
			src := b[p0*ldb+j0+jr:]
			if kern.copyPanel != nil {
				kern.copyPanel(d, nr, src, ldb, kb, cols)
				continue
			}
			for p := 0; p < kb; p++ {
				copyRow(d[p*nr:p*nr+nr], src[p*ldb:], cols)
			}
			continue
		}
		// B is n×k: column j of op(B) is row j of B.
		src := b[(j0+jr)*ldb+p0:]
		jd, pd := 0, 0
		if kern.transpose != nil {
			kern.transpose(d, nr, src, ldb, cols, kb)
			jd, pd = cols&^7, kb&^7
			if jd == 0 || pd == 0 {
				jd, pd = 0, 0
			}
		}
		for j := 0; j < cols; j++ {
			p := 0
			if j < jd {
				p = pd
			}
			s := src[j*ldb+p : j*ldb+kb]
			for i, v := range s {
				d[(p+i)*nr+j] = v
			}
		}
		for j := cols; j < nr; j++ {
			for p := 0; p < kb; p++ {
				d[p*nr+j] = 0
			}
		}
	}
}

// copyRow sets d[:n] = s[:n] and zeroes the rest of d, in 16-byte moves
// (copy's call costs more than the move for rows this short).
func copyRow(d, s []float32, n int) {
	s = s[:n]
	for len(s) >= 4 {
		*(*[4]float32)(d) = [4]float32(s)
		d, s = d[4:], s[4:]
	}
	for i, v := range s {
		d[i] = v
	}
	d = d[len(s):]
	for len(d) >= 4 {
		*(*[4]float32)(d) = [4]float32{}
		d = d[4:]
	}
	for i := range d {
		d[i] = 0
	}
}
