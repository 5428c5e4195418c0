package qsimd

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/vktrain/vktrain/quant"
)

// withKernel runs f with k as the active implementation.
func withKernel(k *kernel, f func()) {
	old := active
	active = k
	defer func() { active = old }()
	f()
}

func f32(b uint32) float32 { return math.Float32frombits(b) }

// specials are float32 values every kernel must reproduce exactly.
var specials = []float32{
	0, f32(0x80000000), float32(math.Inf(1)), float32(math.Inf(-1)),
	f32(0x7fc00000), f32(0xffc00000), f32(0x7fc12345), f32(0x7f800001), f32(0xff812345), // NaNs, two signalling
	f32(1), f32(0x80000001), f32(0x007fffff), f32(0x807fffff), math.SmallestNonzeroFloat32, // subnormals
	f32(0x00800000), -f32(0x00800000), math.MaxFloat32, -math.MaxFloat32,
	1 << 23, -(1 << 23), 1<<23 + 1, 1<<23 - 0.5, 1 << 24, -(1 << 24), 1<<24 + 2, 1 << 31, -(1 << 31), 1e20, -1e20, 3e38,
	0.5, -0.5, 0.49999997, -0.49999997, 0.50000006, 1.5, -1.5, 2.5, -2.5, 126.5, -127.5, 127.5, -128.5, 255.5, 7.5, -8.5,
	1, -1, 0.25, -0.75, 100, -100, 1e-30, -1e-30, 1e-40, -1e-40,
}

// ties returns values near the ties k+0.5 of the product with inv (exact
// when inv is a power of two): the tie and its float32 neighbours.
func ties(rng *rand.Rand, inv float32, n int) []float32 {
	out := make([]float32, 0, n)
	for len(out) < n {
		k := float32(rng.IntN(600) - 300)
		t := (k + 0.5) / inv
		switch rng.IntN(3) {
		case 0:
			out = append(out, t)
		case 1:
			out = append(out, math.Nextafter32(t, float32(math.Inf(1))))
		default:
			out = append(out, math.Nextafter32(t, float32(math.Inf(-1))))
		}
	}
	return out
}

// values returns n test inputs for scale 1/inv, mixing normal values at
// scales that reach and exceed a range of about ±range codes, ties and
// specials.
func values(rng *rand.Rand, n int, inv float32, span float64) []float32 {
	x := make([]float32, n)
	tie := ties(rng, inv, n)
	for i := range x {
		switch c := rng.IntN(10); {
		case c < 5:
			x[i] = float32(rng.NormFloat64() * span / float64(inv) * []float64{0.1, 0.5, 1, 2, 10}[rng.IntN(5)])
		case c < 8:
			x[i] = tie[i]
		case c < 9:
			x[i] = specials[rng.IntN(len(specials))]
		default:
			x[i] = f32(rng.Uint32())
		}
	}
	return x
}

type qrange struct{ qmin, qmax int32 }

var ranges = []qrange{{-128, 127}, {-127, 127}, {0, 255}, {-8, 7}, {-7, 7}, {0, 15}, {-2, 1}, {-1, 1}, {0, 3},
	{-1 << 15, 1<<15 - 1}, {-1 << 24, 1 << 24}, {-1<<24 - 1, 1 << 24}, {math.MinInt32, math.MaxInt32}, {5, 3}}

var invs = []float32{1, 0.25, 4, 8, 1.0 / 3, 17.3, 0.013, 1e30, 1e-30, 0, f32(1), float32(math.Inf(1))}

func pickInv(rng *rand.Rand) float32 {
	if rng.IntN(3) == 0 {
		return invs[rng.IntN(len(invs))]
	}
	return float32(1 / (rng.ExpFloat64() * 0.1))
}

func pickZ(rng *rand.Rand, r qrange) int32 {
	switch rng.IntN(5) {
	case 0:
		return 0
	case 1:
		return r.qmin
	case 2:
		return r.qmax
	case 3:
		return int32(rng.IntN(1000) - 500)
	}
	if r.qmax < r.qmin {
		return r.qmax
	}
	return r.qmin + int32(rng.Int64N(int64(r.qmax)-int64(r.qmin)+1))
}

func pickLen(rng *rand.Rand) int {
	if rng.IntN(8) == 0 {
		return 1000 + rng.IntN(4000)
	}
	return rng.IntN(71)
}

const guard = 9

// sentinel32 fills a buffer of n+off+guard with a sentinel and returns it.
func sentinelF(n, off int) []float32 {
	b := make([]float32, off+n+guard)
	for i := range b {
		b[i] = f32(0x7fa5a5a5)
	}
	return b
}

func sentinelI(n, off int) []int32 {
	b := make([]int32, off+n+guard)
	for i := range b {
		b[i] = -0x5a5a5a5a
	}
	return b
}

func checkGuardsF(t *testing.T, name string, b []float32, off, n int) {
	t.Helper()
	for i, v := range b {
		if (i < off || i >= off+n) && math.Float32bits(v) != 0x7fa5a5a5 {
			t.Fatalf("%s: element %d outside [%d, %d) overwritten: %#x", name, i, off, off+n, math.Float32bits(v))
		}
	}
}

func checkGuardsI(t *testing.T, name string, b []int32, off, n int) {
	t.Helper()
	for i, v := range b {
		if (i < off || i >= off+n) && v != -0x5a5a5a5a {
			t.Fatalf("%s: element %d outside [%d, %d) overwritten: %d", name, i, off, off+n, v)
		}
	}
}

// asmKernels returns the kernels to test against generic: every one this
// CPU supports but generic.
func asmKernels(t testing.TB) []*kernel {
	var ks []*kernel
	for _, k := range kernels {
		if k != genericKernel {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		t.Logf("no assembly kernel on this build (Kernel() = %s): comparing generic with itself", Kernel())
		ks = append(ks, genericKernel)
	}
	return ks
}

func trials() int {
	if testing.Short() {
		return 300
	}
	return 3000
}

func testCodes(t *testing.T, k *kernel, x []float32, inv float32, z int32, r qrange, off int) {
	t.Helper()
	n := len(x)
	xs := make([]float32, off+n)
	copy(xs[off:], x)
	want := make([]int32, n)
	codesGeneric(want, x, inv, z, r.qmin, r.qmax)
	got := sentinelI(n, off)
	withKernel(k, func() { Codes(got[off:off+n], xs[off:], inv, z, r.qmin, r.qmax) })
	for i := range want {
		if got[off+i] != want[i] {
			t.Fatalf("%s Codes(x=%v (%#x), inv=%v, z=%d, [%d, %d]) [%d of %d] = %d, want %d",
				k.name, x[i], math.Float32bits(x[i]), inv, z, r.qmin, r.qmax, i, n, got[off+i], want[i])
		}
	}
	checkGuardsI(t, k.name+" Codes", got, off, n)
}

func TestCodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range asmKernels(t) {
		// Every special value with every range, zero point and inverse scale.
		for _, r := range ranges {
			for _, inv := range invs {
				for _, z := range []int32{0, r.qmin, r.qmax, 3, -3} {
					testCodes(t, k, specials, inv, z, r, 0)
				}
			}
		}
		for trial := range trials() {
			r := ranges[rng.IntN(len(ranges))]
			inv := pickInv(rng)
			if trial%50 == 0 {
				inv = float32(math.NaN())
			}
			span := math.Min(float64(r.qmax)-float64(r.qmin), 1e6)
			testCodes(t, k, values(rng, pickLen(rng), inv, span), inv, pickZ(rng, r), r, rng.IntN(8))
		}
	}
}

// exempted counts the NaN payload differences exemptNaN allowed; the
// kernels multiply in the order the current compiler picks for the generic
// code, so it stays 0 unless the compiler changes.
var exempted int

// exemptNaN reports whether the ts term of element i may differ in NaN
// payload: g and the product x·inv are both NaN, and which of the two a
// float32 multiplication of them returns depends on the operand order the
// compiler picked.
func exemptNaN(xv, gv, inv float32) bool {
	q := float32(xv * inv)
	return q != q && gv != gv
}

func testGradTerms(t *testing.T, k *kernel, x, g []float32, s, inv float32, z int32, r qrange, off int, withDx bool) {
	t.Helper()
	n := len(x)
	xs, gs := make([]float32, off+n), make([]float32, off+n)
	copy(xs[off:], x)
	copy(gs[off:], g)
	wdx, wts, wtz := make([]float32, n), make([]float32, n), make([]float32, n)
	if !withDx {
		wdx = nil
	}
	gradTermsGeneric(wdx, x, g, wts, wtz, s, inv, z, r.qmin, r.qmax)
	dx, ts, tz := sentinelF(n, off), sentinelF(n, off), sentinelF(n, off)
	var dxa []float32
	if withDx {
		dxa = dx[off : off+n]
	}
	withKernel(k, func() {
		GradTerms(dxa, xs[off:], gs[off:off+n], ts[off:off+n], tz[off:off+n], s, inv, z, r.qmin, r.qmax)
	})
	for i := range n {
		check := func(what string, got, want float32) {
			if math.Float32bits(got) != math.Float32bits(want) {
				if what == "ts" && exemptNaN(x[i], g[i], inv) && got != got && want != want {
					exempted++
					return
				}
				t.Fatalf("%s GradTerms(x=%v (%#x), g=%v (%#x), s=%v, inv=%v, z=%d, [%d, %d]) [%d of %d]: %s = %v (%#x), want %v (%#x)",
					k.name, x[i], math.Float32bits(x[i]), g[i], math.Float32bits(g[i]), s, inv, z, r.qmin, r.qmax, i, n,
					what, got, math.Float32bits(got), want, math.Float32bits(want))
			}
		}
		if withDx {
			check("dx", dx[off+i], wdx[i])
		}
		check("ts", ts[off+i], wts[i])
		check("tz", tz[off+i], wtz[i])
	}
	if withDx {
		checkGuardsF(t, k.name+" GradTerms dx", dx, off, n)
	} else {
		checkGuardsF(t, k.name+" GradTerms dx (nil)", dx, 0, 0)
	}
	checkGuardsF(t, k.name+" GradTerms ts", ts, off, n)
	checkGuardsF(t, k.name+" GradTerms tz", tz, off, n)
}

func grads(rng *rand.Rand, n int) []float32 {
	g := make([]float32, n)
	for i := range g {
		switch rng.IntN(8) {
		case 0:
			g[i] = specials[rng.IntN(len(specials))]
		case 1:
			g[i] = f32(rng.Uint32())
		default:
			g[i] = float32(rng.NormFloat64())
		}
	}
	return g
}

func TestGradTerms(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range asmKernels(t) {
		for _, r := range ranges {
			for _, inv := range invs {
				for _, z := range []int32{0, r.qmin, r.qmax, 3} {
					for _, s := range []float32{1 / inv, 0.1, 1} {
						testGradTerms(t, k, specials, grads(rng, len(specials)), s, inv, z, r, 1, true)
						// g: every special against every x special.
						for _, gv := range specials[:12] {
							g := make([]float32, len(specials))
							for i := range g {
								g[i] = gv
							}
							testGradTerms(t, k, specials, g, s, inv, z, r, 0, z == 0)
						}
					}
				}
			}
		}
		for range trials() {
			r := ranges[rng.IntN(len(ranges))]
			inv := pickInv(rng)
			span := math.Min(float64(r.qmax)-float64(r.qmin), 1e6)
			n := pickLen(rng)
			s := 1 / inv
			if rng.IntN(4) == 0 {
				s = specials[rng.IntN(len(specials))]
				if s != s {
					s = 0.5
				}
			}
			testGradTerms(t, k, values(rng, n, inv, span), grads(rng, n), s, inv, pickZ(rng, r), r, rng.IntN(8), rng.IntN(2) == 0)
		}
	}
}

func TestDequantize(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ints := []int32{0, 1, -1, 127, -128, 255, math.MaxInt32, math.MinInt32, 1 << 24, 1<<24 + 1, -(1<<24 + 1), 1<<30 + 77, 16777217}
	for _, k := range asmKernels(t) {
		for range trials() {
			n := pickLen(rng)
			off := rng.IntN(8)
			q := make([]int32, off+n)
			for i := range q {
				switch rng.IntN(4) {
				case 0:
					q[i] = ints[rng.IntN(len(ints))]
				case 1:
					q[i] = int32(rng.Uint32())
				default:
					q[i] = int32(rng.IntN(512) - 256)
				}
			}
			z := int32(rng.IntN(300) - 150)
			if rng.IntN(5) == 0 {
				z = ints[rng.IntN(len(ints))]
			}
			s := float32(rng.ExpFloat64() * 0.01)
			if rng.IntN(4) == 0 {
				s = specials[rng.IntN(len(specials))]
			}
			want := make([]float32, n)
			dequantizeGeneric(want, q[off:], s, z)
			got := sentinelF(n, off)
			withKernel(k, func() { Dequantize(got[off:off+n], q[off:], s, z) })
			for i := range want {
				if math.Float32bits(got[off+i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s Dequantize(q=%d, s=%v, z=%d) = %v, want %v", k.name, q[off+i], s, z, got[off+i], want[i])
				}
			}
			checkGuardsF(t, k.name+" Dequantize", got, off, n)
		}
	}
}

func TestMinMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	zeros := []float32{0, f32(0x80000000)}
	bads := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), f32(0x7fc00000), f32(0xffc00000), f32(0x7f800001), f32(0xff812345)}
	for _, k := range asmKernels(t) {
		for trial := range trials() {
			n := pickLen(rng)
			off := rng.IntN(8)
			x := make([]float32, off+n)
			mode := trial % 6
			for i := range x {
				switch c := rng.IntN(10); {
				case mode == 0: // only signed zeros
					x[i] = zeros[rng.IntN(2)]
				case mode == 1: // zeros and non-finite
					if c < 5 {
						x[i] = zeros[rng.IntN(2)]
					} else {
						x[i] = bads[rng.IntN(len(bads))]
					}
				case mode == 2: // only non-finite
					x[i] = bads[rng.IntN(len(bads))]
				case mode == 3: // one sign of zero, the other at the end
					x[i] = zeros[trial/6%2]
					if i == len(x)-1 && rng.IntN(2) == 0 {
						x[i] = zeros[1-trial/6%2]
					}
				case c < 1:
					x[i] = specials[rng.IntN(len(specials))]
				case c < 2:
					x[i] = f32(rng.Uint32())
				case c < 3:
					x[i] = zeros[rng.IntN(2)]
				default:
					x[i] = float32(rng.NormFloat64() * 100)
				}
			}
			x = x[off:]
			wlo, whi, wseen, wbad := minMaxGeneric(x)
			var lo, hi float32
			var seen bool
			var bad int
			withKernel(k, func() { lo, hi, seen, bad = MinMax(x) })
			if math.Float32bits(lo) != math.Float32bits(wlo) || math.Float32bits(hi) != math.Float32bits(whi) || seen != wseen || bad != wbad {
				t.Fatalf("%s MinMax(%d values, mode %d) = %v (%#x), %v (%#x), %v, %d; want %v (%#x), %v (%#x), %v, %d",
					k.name, n, mode, lo, math.Float32bits(lo), hi, math.Float32bits(hi), seen, bad,
					wlo, math.Float32bits(wlo), whi, math.Float32bits(whi), wseen, wbad)
			}
		}
	}
}

// TestRoundSweep compares Codes and GradTerms on float32 bit patterns with
// inv = 1 and a range of ±2^24 codes, so that the codes are the rounded
// values themselves: with QSIMD_EXHAUSTIVE=1 every bit pattern, otherwise a
// stride.
func TestRoundSweep(t *testing.T) {
	step := uint64(4099)
	if testing.Short() {
		step = 65537
	}
	if os.Getenv("QSIMD_EXHAUSTIVE") != "" {
		step = 1
	}
	const chunk = 1 << 16
	x := make([]float32, 0, chunk)
	want, got := make([]int32, chunk), make([]int32, chunk)
	g := make([]float32, chunk)
	for i := range g {
		g[i] = 1
	}
	wts, gts, tz := make([]float32, chunk), make([]float32, chunk), make([]float32, chunk)
	for _, k := range asmKernels(t) {
		flush := func() {
			n := len(x)
			codesGeneric(want[:n], x, 1, 0, -1<<24, 1<<24)
			withKernel(k, func() { Codes(got[:n], x, 1, 0, -1<<24, 1<<24) })
			for i := range n {
				if got[i] != want[i] {
					t.Fatalf("%s Codes(%v (%#x)) = %d, want %d", k.name, x[i], math.Float32bits(x[i]), got[i], want[i])
				}
			}
			gradTermsGeneric(nil, x, g, wts[:n], tz, 1, 1, 0, -1<<24, 1<<24)
			withKernel(k, func() { GradTerms(nil, x, g, gts[:n], tz, 1, 1, 0, -1<<24, 1<<24) })
			for i := range n {
				if math.Float32bits(gts[i]) != math.Float32bits(wts[i]) {
					t.Fatalf("%s GradTerms(%v (%#x)): ts = %v, want %v", k.name, x[i], math.Float32bits(x[i]), gts[i], wts[i])
				}
			}
			x = x[:0]
		}
		for b := uint64(0); b < 1<<32; b += step {
			x = append(x, f32(uint32(b)))
			if len(x) == chunk {
				flush()
			}
		}
		flush()
	}
}

// The generic functions against the specification: quant's functions and
// copies of the loops of nn/ref.

func refGradTerms(dx, x, g, ts, tz []float32, s, inv float32, z, qmin32, qmax32 int32) {
	qmin, qmax := float64(qmin32), float64(qmax32)
	lowT, highT := float32(qmin32-z), float32(qmax32-z)
	g, ts, tz = g[:len(x)], ts[:len(x)], tz[:len(x)]
	if dx != nil {
		dx = dx[:len(x)]
	}
	for i, xv := range x {
		gv := g[i]
		q := quant.ScaledInv(xv, inv)
		r := quant.Round(q)
		v := r + float64(z)
		d := gv
		switch {
		case v < qmin:
			d = 0
			ts[i], tz[i] = float32(gv*lowT), -float32(gv*s)
		case v > qmax:
			d = 0
			ts[i], tz[i] = float32(gv*highT), -float32(gv*s)
		default:
			ts[i], tz[i] = float32(gv*(float32(r)-q)), 0
		}
		if dx != nil {
			dx[i] = d
		}
	}
}

func TestGenericIsSpec(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		r := ranges[rng.IntN(len(ranges))]
		inv := pickInv(rng)
		z := pickZ(rng, r)
		n := pickLen(rng)
		x := values(rng, n, inv, 300)
		g := grads(rng, n)
		codes := make([]int32, n)
		codesGeneric(codes, x, inv, z, r.qmin, r.qmax)
		for i, v := range x {
			if w := quant.CodeInv(v, inv, z, r.qmin, r.qmax); codes[i] != w {
				t.Fatalf("codesGeneric(%v) = %d, quant.CodeInv = %d", v, codes[i], w)
			}
			if s := 1 / inv; quant.Code(v, s, z, r.qmin, r.qmax) != quant.CodeInv(v, 1/s, z, r.qmin, r.qmax) {
				t.Fatalf("quant.Code and CodeInv disagree")
			}
		}
		s := 1 / inv
		dx, ts, tz := make([]float32, n), make([]float32, n), make([]float32, n)
		wdx, wts, wtz := make([]float32, n), make([]float32, n), make([]float32, n)
		gradTermsGeneric(dx, x, g, ts, tz, s, inv, z, r.qmin, r.qmax)
		refGradTerms(wdx, x, g, wts, wtz, s, inv, z, r.qmin, r.qmax)
		for i := range n {
			for _, p := range [][2]float32{{dx[i], wdx[i]}, {ts[i], wts[i]}, {tz[i], wtz[i]}} {
				if math.Float32bits(p[0]) != math.Float32bits(p[1]) && !(p[0] != p[0] && p[1] != p[1]) {
					t.Fatalf("gradTermsGeneric differs from the spec at x=%v g=%v: %v vs %v", x[i], g[i], p[0], p[1])
				}
			}
		}
		q := codes
		deq := make([]float32, n)
		dequantizeGeneric(deq, q, s, z)
		for i, v := range q {
			if w := s * float32(v-z); math.Float32bits(deq[i]) != math.Float32bits(w) {
				t.Fatalf("dequantizeGeneric(%d) = %v, want %v", v, deq[i], w)
			}
		}
		lo, hi, seen, bad := minMaxGeneric(x)
		var rlo, rhi float32
		var rseen bool
		var rbad int
		for _, v := range x {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				rbad++
				continue
			}
			if !rseen {
				rlo, rhi, rseen = v, v, true
				continue
			}
			rlo, rhi = min(rlo, v), max(rhi, v)
		}
		if math.Float32bits(lo) != math.Float32bits(rlo) || math.Float32bits(hi) != math.Float32bits(rhi) || seen != rseen || bad != rbad {
			t.Fatalf("minMaxGeneric differs from the spec")
		}
	}
}

func TestKernel(t *testing.T) {
	t.Logf("Kernel() = %s; available: %d", Kernel(), len(kernels))
	if exempted > 0 {
		t.Logf("%d NaN payload differences of ts allowed (both factors NaN)", exempted)
	}
	if os.Getenv("VKTRAIN_QSIMD") == "generic" && Kernel() != "generic" {
		t.Fatalf("VKTRAIN_QSIMD=generic but Kernel() = %s", Kernel())
	}
}

const benchN = 1 << 16

func benchKernels(b *testing.B, f func(b *testing.B)) {
	for _, k := range kernels {
		b.Run(k.name, func(b *testing.B) {
			withKernel(k, func() {
				f(b)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/elem")
			})
		})
	}
}

func BenchmarkCodes(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, benchN)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	dst := make([]int32, benchN)
	benchKernels(b, func(b *testing.B) {
		for b.Loop() {
			Codes(dst, x, 40, 3, -128, 127)
		}
	})
}

func BenchmarkGradTerms(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, g := make([]float32, benchN), make([]float32, benchN)
	for i := range x {
		x[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	dx, ts, tz := make([]float32, benchN), make([]float32, benchN), make([]float32, benchN)
	benchKernels(b, func(b *testing.B) {
		for b.Loop() {
			GradTerms(dx, x, g, ts, tz, 1.0/40, 40, 3, -128, 127)
		}
	})
}

func BenchmarkDequantize(b *testing.B) {
	q := make([]int32, benchN)
	for i := range q {
		q[i] = int32(i%256 - 128)
	}
	dst := make([]float32, benchN)
	benchKernels(b, func(b *testing.B) {
		for b.Loop() {
			Dequantize(dst, q, 0.025, 3)
		}
	})
}

func BenchmarkMinMax(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, benchN)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	benchKernels(b, func(b *testing.B) {
		for b.Loop() {
			MinMax(x)
		}
	})
}

// TestNoAllocs checks that the kernels allocate nothing: the CPU backend
// calls them in every training step, which must not allocate.
func TestNoAllocs(t *testing.T) {
	x := make([]float32, 4099)
	for i := range x {
		x[i] = float32(i%97) - 40
	}
	q := make([]int32, len(x))
	g, dx, ts, tz := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	if n := testing.AllocsPerRun(5, func() {
		Codes(q, x, 0.5, 3, -128, 127)
		GradTerms(dx, x, g, ts, tz, 2, 0.5, 3, -128, 127)
		Dequantize(dx, q, 0.5, 3)
		MinMax(x)
	}); n != 0 {
		t.Errorf("%s: %v allocations per call of the four kernels, want 0", Kernel(), n)
	}
}
