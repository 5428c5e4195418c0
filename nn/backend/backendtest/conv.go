package backendtest

import (
	"fmt"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// fusedConvCase is one geometry of TestFusedConv: Out filters, the code
// ranges of the image (rx) and of the weights (rw), per-channel weights,
// bias.
type fusedConvCase struct {
	g       backend.ConvGeom
	out     int
	rx, rw  codeRange
	perChan bool
	bias    bool
}

// convGeom returns the geometry of n images h×w×c under kh×kw filters
// with strides sh, sw and padding ph, pw.
func convGeom(n, h, w, c, kh, kw, sh, sw, ph, pw int) backend.ConvGeom {
	return backend.ConvGeom{N: n, H: h, W: w, C: c, KH: kh, KW: kw, StrideH: sh, StrideW: sw, PadH: ph, PadW: pw}
}

// fusedConvCases are TestFusedConv's geometries: padding, strides 2, one
// and several channels, a number of filters that is not a multiple of 4,
// K above 32 (a backend's direct kernels may stop short of that), image
// codes of both signs, and the first convolutions of the MNIST nets (5×5
// and 3×3 over one channel, batch 64 rows of 28×28).
func fusedConvCases() []fusedConvCase {
	rs := codeRanges()
	mixed := codeRange{"mixed", -8, 200} // codes of both signs
	g := convGeom
	return []fusedConvCase{
		{g(1, 5, 5, 1, 3, 3, 1, 1, 0, 0), 1, rs[6], rs[2], false, false},
		{g(2, 7, 6, 3, 3, 3, 1, 1, 1, 1), 8, rs[6], rs[2], true, true},
		{g(3, 9, 11, 2, 3, 3, 2, 2, 1, 1), 5, rs[3], rs[6], false, true},
		{g(1, 8, 7, 2, 5, 3, 2, 1, 2, 0), 6, mixed, rs[1], true, false},
		{g(2, 9, 8, 1, 5, 5, 1, 1, 2, 1), 16, rs[5], rs[2], true, true},
		{g(2, 6, 6, 8, 3, 3, 1, 1, 1, 1), 12, rs[6], rs[2], true, true}, // K = 72
		{g(64, 28, 28, 1, 5, 5, 1, 1, 0, 0), 16, rs[6], rs[2], true, true},
		{g(16, 28, 28, 1, 3, 3, 1, 1, 1, 1), 32, rs[6], rs[2], true, true},
	}
}

// convInputs are the inputs of a fusedConvCase: the image's and the
// weights' specs and codes, the weights' row sums and the bias (nil
// without).
type convInputs struct {
	xs, ws           backend.QuantSpec
	qx, qw, sw, bias *pair
}

// convInputs makes the inputs of c.
func (e *env) convInputs(c fusedConvCase) convInputs {
	g, k := c.g, c.g.K()
	nw := 1
	if c.perChan {
		nw = c.out
	}
	in := convInputs{xs: e.spec(c.rx, 1, "rand"), ws: e.spec(c.rw, nw, "rand")}
	in.qx = e.inQ8("qx", e.codes(g.N*g.H*g.W*g.C, c.rx.min, c.rx.max), g.N, g.H, g.W, g.C)
	in.qw = e.inQ8("qw", e.codes(c.out*k, c.rw.min, c.rw.max), c.out, k)
	_, _, hsw := hostGemmI(nil, in.qw.i, 0, k, c.out)
	in.sw = e.inI32("sw", hsw, c.out)
	if c.bias {
		in.bias = e.inF32("bias", e.uniform(c.out, -0.1, 0.1), c.out)
	}
	return in
}

// TestFusedConv checks the fused convolution ops (backend.FusedConv) on
// the backend under test against the composed ops they replace, run on
// the reference: ConvIDequant bit for bit against Im2ColI and
// GemmIDequant, ConvGradWQ against Im2ColI, Dequantize and Gemm within
// Gemm's tolerance, ConvGradX against Gemm and Col2Im within theirs.
func TestFusedConv(t *testing.T, b backend.Backend) {
	f, ok := b.(backend.FusedConv)
	if !ok {
		t.Fatalf("%s (%T) lacks backend.FusedConv, whose ops the contract declares", b.Name(), b)
	}
	for _, c := range fusedConvCases() {
		g := c.g
		name := fmt.Sprintf("%s_out%d_%s_%s_perChan%v_bias%v", geomName(g), c.out, c.rx.name, c.rw.name, c.perChan, c.bias)
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, b)
			rows, k := g.Rows(), g.K()
			in := e.convInputs(c)
			xs, ws, qx, qw, sw, bias := in.xs, in.ws, in.qx, in.qw, in.sw, in.bias
			dy := e.inF32("dy", e.uniform(rows*c.out, -1, 1), rows, c.out)
			w := e.inF32("w", e.uniform(c.out*k, -0.5, 0.5), c.out, k)
			cols := e.out("cols", backend.Q8, rows, k)
			colsF := e.out("colsF", backend.F32, rows, k)
			dcols := e.out("dcols", backend.F32, rows, k)
			y := e.out("y", backend.F32, rows, c.out)
			dw := e.out("dw", backend.F32, c.out, k)
			dx := e.out("dx", backend.F32, g.N, g.H, g.W, g.C)
			e.run(func(b backend.Backend, s int) {
				var bt backend.Tensor
				if bias != nil {
					bt = bias.t[s]
				}
				if s == under {
					f.ConvIDequant(y.t[s], qx.t[s], qw.t[s], sw.t[s], bt, g, xs, ws)
					f.ConvGradWQ(dw.t[s], dy.t[s], qx.t[s], g, xs)
					f.ConvGradX(dx.t[s], dy.t[s], w.t[s], g)
					return
				}
				b.Im2ColI(cols.t[s], qx.t[s], g, xs.Zero[0])
				b.(backend.FusedGemmIDequant).GemmIDequant(y.t[s], cols.t[s], qw.t[s], sw.t[s], bt, xs, ws)
				b.Dequantize(colsF.t[s], cols.t[s], xs)
				b.Gemm(dw.t[s], dy.t[s], colsF.t[s], true, false, 1, 0)
				b.Gemm(dcols.t[s], dy.t[s], w.t[s], false, false, 1, 0)
				b.Col2Im(dx.t[s], dcols.t[s], g)
			})
			e.exactF32(y)
			e.closeF32(dw, TolGemm, rows)
			e.closeF32(dx, TolGemm, c.out*g.KH*g.KW)
		})
	}
}
