package vk

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/backend/backendtest"
	"github.com/vktrain/vktrain/nn/ref"
)

// Cases of TestSuite that reach kernel paths (paths.go) at shapes the
// shared suite does not use: each runs ops on a recorded Vulkan backend
// and on the reference with the same inputs and compares the results
// (bit for bit where the ops are exact, else within the suite's
// tolerances).

// pathCase runs f on sides of a backend from newB (opts, tweak) and the
// reference, then syncs the Vulkan side.
func pathCase(t *testing.T, newB newRecorded, opts Options, tweak func(*Backend), f func(s sides, rng *rand.Rand)) {
	t.Helper()
	b := newB(t, opts, tweak)
	f(sides{t, [2]backend.Backend{b, ref.New()}}, rand.New(rand.NewPCG(11, 12)))
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}

// inF makes F32 tensors holding v on both sides.
func (s sides) inF(v []float32, shape ...int) [2]backend.Tensor {
	s.t.Helper()
	x := s.newT(backend.F32, shape...)
	for i, b := range s.bk {
		if err := b.WriteF32(x[i], v); err != nil {
			s.t.Fatal(err)
		}
	}
	return x
}

// readF returns the contents of the F32 tensors x on both sides.
func (s sides) readF(name string, x [2]backend.Tensor) [2][]float32 {
	s.t.Helper()
	var got [2][]float32
	for i, b := range s.bk {
		got[i] = make([]float32, x[i].Len())
		if err := b.ReadF32(x[i], got[i]); err != nil {
			s.t.Fatalf("%s: side %d: %v", name, i, err)
		}
	}
	return got
}

// near checks the F32 tensors x against the reference: within
// tol·(1+|want|)·sqrt(terms), or bit for bit when tol is 0.
func (s sides) near(name string, x [2]backend.Tensor, tol float64, terms int) {
	s.t.Helper()
	got := s.readF(name, x)
	for k, w := range got[1] {
		g := got[0][k]
		if tol == 0 {
			if math.Float32bits(g) != math.Float32bits(w) {
				s.t.Fatalf("%s[%d] = %v, reference %v (want the same bits)", name, k, g, w)
			}
			continue
		}
		if d := math.Abs(float64(g - w)); !(d <= tol*(1+math.Abs(float64(w)))*math.Sqrt(float64(terms))) {
			s.t.Fatalf("%s[%d] = %v, reference %v", name, k, g, w)
		}
	}
}

func randCodes(rng *rand.Rand, n int, lo, hi int32) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = lo + rng.Int32N(hi-lo+1)
	}
	return v
}

// pathCases are the cases of TestSuite that reach kernel paths the shared
// suite's shapes miss.
func pathCases() []vkCase {
	return []vkCase{
		{"ReLULoops", testReLULoops},
		{"QuantGradChunks", testQuantGradChunks},
		{"NormRows", testNormRows},
		{"DequantPairs", testDequantPairs},
		{"Im2ColISigned", testIm2ColISigned},
		{"TiledSigned", testTiledSigned},
		{"GemmRows", testGemmRows},
		{"GemmIDequantFused", testGemmIDequantFused},
		{"ColSumCols", testColSumCols},
		{"ConvGradWQuantExact", testConvGradWQuantExact},
	}
}

// testColSumCols runs ColSum over more rows than colDirect reads
// directly, at 9 to 16 columns (two columns per invocation of
// f_colpart_sum on CPU drivers, the last ragged) and at more (four).
func testColSumCols(t *testing.T, newB newRecorded) {
	pathCase(t, newB, Options{}, nil, func(s sides, rng *rand.Rand) {
		for _, c := range []int{12, 16, 40} {
			const r = 1001
			x := s.inF(floatRand(rng, r*c), r, c)
			sum := s.newT(backend.F32, c)
			for i, b := range s.bk {
				b.ColSum(sum[i], x[i])
			}
			s.near(fmt.Sprintf("ColSum (c %d)", c), sum, backendtest.TolSum, r)
		}
	})
}

// testGemmRows runs Gemm at tall shapes with a short k (the gradient of a
// first convolution's im2col matrix), which f_gemm_rows takes on CPU
// drivers: op(B) = B and B^T, beta 0 and not, rows a multiple of eight
// and not, k of 1 to 16; storage and texel reads.
func testGemmRows(t *testing.T, newB newRecorded) {
	for _, reads := range []string{ReadsStorage, ReadsTexel} {
		testGemmRowsReads(t, newB, reads)
	}
}

func testGemmRowsReads(t *testing.T, newB newRecorded, reads string) {
	pathCase(t, newB, Options{Reads: reads}, nil, func(s sides, rng *rand.Rand) {
		for _, c := range []struct {
			m, n, k     int
			transB      bool
			alpha, beta float32
		}{{4096, 25, 16, false, 1, 0}, {2053, 9, 3, true, 0.5, 0}, {1544, 20, 13, false, 1, 0.75}, {2051, 7, 1, true, -2, 1}} {
			bs := []int{c.k, c.n}
			if c.transB {
				bs = []int{c.n, c.k}
			}
			a, b := s.inF(floatRand(rng, c.m*c.k), c.m, c.k), s.inF(floatRand(rng, c.n*c.k), bs...)
			out := s.inF(floatRand(rng, c.m*c.n), c.m, c.n)
			for i, bk := range s.bk {
				bk.Gemm(out[i], a[i], b[i], false, c.transB, c.alpha, c.beta)
			}
			s.near(fmt.Sprintf("Gemm %+v", c), out, backendtest.TolGemm, c.k)
		}
	})
}

// testReLULoops runs ReLU and ReLUGrad (out of place) where f_relu2's
// loop over groups of eight runs, with and without pairs after it, and
// where f_relu's invocations take two elements per iteration and a last
// one: on the device's tuning and a GPU's.
func testReLULoops(t *testing.T, newB newRecorded) {
	for _, tweak := range []func(*Backend){nil, gpuTuning} {
		pathCase(t, newB, Options{}, tweak, func(s sides, rng *rand.Rand) {
			for _, n := range []int{40, 26, 9001} {
				x := floatRand(rng, n)
				for i := 0; i < n; i += 7 {
					x[i] = float32(math.Copysign(0, -1)) // -0 gives +0
				}
				xt, dy := s.inF(x, n), s.inF(floatRand(rng, n), n)
				y, dx := s.newT(backend.F32, n), s.newT(backend.F32, n)
				for i, b := range s.bk {
					b.ReLU(y[i], xt[i])
					b.ReLUGrad(dx[i], dy[i], y[i])
				}
				s.near(fmt.Sprintf("ReLU y (n %d)", n), y, 0, 1)
				s.near(fmt.Sprintf("ReLUGrad dx (n %d)", n), dx, 0, 1)
			}
		})
	}
}

// testQuantGradChunks runs QuantGrad on slices longer than one chunk of
// q_quantgrad (its partial sums then added by the second pass), per
// tensor and per channel, on the device's tuning and a GPU's.
func testQuantGradChunks(t *testing.T, newB newRecorded) {
	for _, tweak := range []func(*Backend){nil, gpuTuning} {
		pathCase(t, newB, Options{}, tweak, func(s sides, rng *rand.Rand) {
			for _, c := range []struct {
				shape []int
				nch   int
			}{{[]int{20001}, 1}, {[]int{2, 9000}, 2}, {[]int{3, 4099}, 3}} {
				n := product(c.shape)
				p := backend.QuantSpec{Scale: make([]float32, c.nch), Zero: make([]int32, c.nch), QMin: -8, QMax: 7}
				for i := range p.Scale {
					p.Scale[i], p.Zero[i] = 0.1*float32(i+1), int32(i)-1
				}
				x := floatRand(rng, n)
				for i := range x {
					x[i] *= 3 // some outside the range
				}
				xt, g := s.inF(x, c.shape...), s.inF(floatRand(rng, n), c.shape...)
				dx := s.newT(backend.F32, c.shape...)
				ds, dz := s.newT(backend.F32, c.nch), s.newT(backend.F32, c.nch)
				for i, b := range s.bk {
					b.QuantGrad(dx[i], ds[i], dz[i], xt[i], g[i], p)
				}
				s.near(fmt.Sprintf("dx %v", c.shape), dx, 0, 1)
				s.near(fmt.Sprintf("dScale %v", c.shape), ds, backendtest.TolSum, n/c.nch)
				s.near(fmt.Sprintf("dZero %v", c.shape), dz, backendtest.TolSum, n/c.nch)
			}
		})
	}
}

// testNormRows runs the batch-norm and compensation ops on matrices with
// more rows than the per-channel kernels have row lanes (so that an
// invocation walks two rows per iteration), with an odd and an even
// number of channels (the column-pair kernels), and CompensateGrad both
// in training and in inference, out of place.
func testNormRows(t *testing.T, newB newRecorded) {
	for _, reads := range []string{ReadsStorage, ReadsTexel} {
		t.Run(reads, func(t *testing.T) { normRows(t, newB, reads) })
	}
}

func normRows(t *testing.T, newB newRecorded, reads string) {
	pathCase(t, newB, Options{Reads: reads}, nil, func(s sides, rng *rand.Rand) {
		for _, sh := range [][2]int{{3001, 5}, {3001, 6}, {9, 4}} {
			r, c := sh[0], sh[1]
			x, dy := s.inF(floatRand(rng, r*c), r, c), s.inF(floatRand(rng, r*c), r, c)
			gamma, beta := s.inF(floatRand(rng, c), c), s.inF(floatRand(rng, c), c)
			ones := make([]float32, c)
			for i := range ones {
				ones[i] = 1
			}
			rm, rv := s.inF(make([]float32, c), c), s.inF(ones, c)
			y, xhat, mean, invstd := s.newT(backend.F32, r, c), s.newT(backend.F32, r, c), s.newT(backend.F32, c), s.newT(backend.F32, c)
			yi, dx, dg, db := s.newT(backend.F32, r, c), s.newT(backend.F32, r, c), s.newT(backend.F32, c), s.newT(backend.F32, c)
			cy, cmean, crm, cyi := s.newT(backend.F32, r, c), s.newT(backend.F32, c), s.inF(make([]float32, c), c), s.newT(backend.F32, r, c)
			cdx, cdxi, cdg, cdb := s.newT(backend.F32, r, c), s.newT(backend.F32, r, c), s.newT(backend.F32, c), s.newT(backend.F32, c)
			for i, b := range s.bk {
				b.BatchNormTrain(y[i], xhat[i], mean[i], invstd[i], x[i], gamma[i], beta[i], rm[i], rv[i], 0.1, 1e-5)
				b.BatchNormInfer(yi[i], x[i], gamma[i], beta[i], rm[i], rv[i], 1e-5)
				b.BatchNormGrad(dx[i], dg[i], db[i], dy[i], xhat[i], invstd[i], gamma[i])
				b.CompensateTrain(cy[i], cmean[i], x[i], gamma[i], beta[i], crm[i], 0.1)
				b.CompensateInfer(cyi[i], x[i], gamma[i], beta[i], crm[i])
				b.CompensateGrad(cdx[i], cdg[i], cdb[i], dy[i], cmean[i], gamma[i], true)
				b.CompensateGrad(cdxi[i], cdg[i], cdb[i], dy[i], cmean[i], gamma[i], false)
			}
			name := fmt.Sprintf("[%d %d] ", r, c)
			tb, tc := backendtest.TolBatchNorm, backendtest.TolCompensate
			s.near(name+"BatchNormTrain y", y, tb, 1)
			s.near(name+"BatchNormInfer y", yi, tb, 1)
			s.near(name+"BatchNormGrad dx", dx, tb, 1)
			s.near(name+"BatchNormGrad dgamma", dg, tb, r)
			s.near(name+"CompensateTrain y", cy, tc, r)
			s.near(name+"CompensateInfer y", cyi, tc, r)
			s.near(name+"CompensateGrad dx (train)", cdx, tc, r)
			s.near(name+"CompensateGrad dx (inference)", cdxi, 0, 1)
			s.near(name+"CompensateGrad dbeta", cdb, tc, r)
		}
	})
}

// testDequantPairs runs Dequant with and without a bias on an even
// number of columns (q_dequant2 on CPU drivers) and an odd one, with more
// rows than the kernels' row lanes.
func testDequantPairs(t *testing.T, newB newRecorded) {
	for _, tweak := range []func(*Backend){nil, gpuTuning} {
		pathCase(t, newB, Options{}, tweak, func(s sides, rng *rand.Rand) {
			for _, sh := range [][2]int{{3001, 6}, {3001, 5}, {7, 2}} {
				m, n := sh[0], sh[1]
				acc := s.newT(backend.I32, m, n)
				sa, sb := s.newT(backend.I32, m), s.newT(backend.I32, n)
				for i, b := range s.bk {
					for _, w := range []struct {
						t backend.Tensor
						v []int32
					}{{acc[i], randCodes(rand.New(rand.NewPCG(1, uint64(m))), m*n, -30000, 30000)},
						{sa[i], randCodes(rand.New(rand.NewPCG(2, uint64(m))), m, -500, 500)},
						{sb[i], randCodes(rand.New(rand.NewPCG(3, uint64(m))), n, -500, 500)}} {
						if err := b.WriteI32(w.t, w.v); err != nil {
							t.Fatal(err)
						}
					}
				}
				pa := backend.QuantSpec{Scale: []float32{0.02}, Zero: []int32{3}, QMin: 0, QMax: 255}
				pb := backend.QuantSpec{Scale: make([]float32, n), Zero: make([]int32, n), QMin: -127, QMax: 127}
				for j := range n {
					pb.Scale[j], pb.Zero[j] = 0.01*float32(j+1), int32(j%3)-1
				}
				bias := s.inF(floatRand(rng, n), n)
				y, yb := s.newT(backend.F32, m, n), s.newT(backend.F32, m, n)
				for i, b := range s.bk {
					b.Dequant(y[i], acc[i], sa[i], sb[i], 40, pa, pb, nil)
					b.Dequant(yb[i], acc[i], sa[i], sb[i], 40, pa, pb, bias[i])
				}
				s.near(fmt.Sprintf("Dequant [%d %d]", m, n), y, backendtest.TolDequant, 1)
				s.near(fmt.Sprintf("Dequant [%d %d] with bias", m, n), yb, backendtest.TolDequant, 1)
			}
		})
	}
}

// testIm2ColISigned runs Im2ColI on signed codes (cols signed, or one int
// per code where the pad is above 127) and on codes of both signs.
func testIm2ColISigned(t *testing.T, newB newRecorded) {
	pathCase(t, newB, Options{}, nil, func(s sides, rng *rand.Rand) {
		g := backend.ConvGeom{N: 2, H: 5, W: 6, C: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 2, PadH: 1, PadW: 1}
		n := g.N * g.H * g.W * g.C
		for _, c := range []struct {
			name   string
			lo, hi int32
			pad    int32
		}{{"s8", -128, 127, -5}, {"s8/pad200", -128, 127, 200}, {"mixed", -40, 250, 7}} {
			x := s.q8("x "+c.name, randCodes(rng, n, c.lo, c.hi), g.N, g.H, g.W, g.C)
			cols := s.q8("cols "+c.name, nil, g.Rows(), g.K())
			for i, b := range s.bk {
				b.Im2ColI(cols[i], x[i], g, c.pad)
			}
			s.same("Im2ColI cols "+c.name, cols)
		}
	})
}

// testTiledSigned runs GemmI through the shared-memory kernels with
// signed codes in a (the suite's long products have unsigned ones), in
// every variant that has them.
func testTiledSigned(t *testing.T, newB newRecorded) {
	for _, v := range []string{VariantPacked, VariantDot} {
		if !hasVariant(newB(t, Options{}, nil), v) {
			continue
		}
		tiled := func(b *Backend) { b.tune.tiled, b.tune.splitTarget, b.tune.gemmSG = true, 0, 0 }
		pathCase(t, newB, Options{Variant: v}, tiled, func(s sides, rng *rand.Rand) {
			const m, k, n = 19, 300, 13
			a := s.q8("a", randCodes(rng, m*k, -128, 127), m, k)
			bm := s.q8("b", randCodes(rng, n*k, 0, 255), n, k)
			acc := s.newT(backend.I32, m, n)
			for i, b := range s.bk {
				b.GemmI(acc[i], a[i], bm[i])
			}
			s.same("GemmI acc ("+v+")", acc)
		})
	}
}

// hasVariant reports whether b's device runs GemmI variant v.
func hasVariant(b *Backend, v string) bool {
	for _, h := range Variants(b.dev) {
		if h == v {
			return true
		}
	}
	return false
}
