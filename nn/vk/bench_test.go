package vk

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// gemmIShapes are the benchmark shapes: the first convolution of a small
// CNN over a 208x208 image (M = 43264 rows, K = 9, N = 32), a deep one
// (M = 64, K = 5408, N = 128) and a small last layer (M = 64, K = 128, N = 10).
var gemmIShapes = [][3]int{{43264, 9, 32}, {64, 5408, 128}, {64, 128, 10}}

func benchGemmI(b *testing.B, bk backend.Backend, m, k, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	av, bv := make([]int32, m*k), make([]int32, n*k)
	for i := range av {
		av[i] = int32(rng.IntN(256))
	}
	for i := range bv {
		bv[i] = int32(rng.IntN(255)) - 127
	}
	mk := func(dt backend.DType, v []int32, shape ...int) backend.Tensor {
		t, err := bk.New(dt, shape...)
		if err != nil {
			b.Fatal(err)
		}
		if v != nil {
			if err := bk.WriteI32(t, v); err != nil {
				b.Fatal(err)
			}
		}
		return t
	}
	a, w, acc := mk(backend.Q8, av, m, k), mk(backend.Q8, bv, n, k), mk(backend.I32, nil, m, n)
	bk.GemmI(acc, a, w) // warm up: lavapipe compiles at the first dispatch
	if err := bk.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		bk.GemmI(acc, a, w)
		if err := bk.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
}

// BenchmarkGemmI times GemmI (recording, submit and wait) per variant,
// with and without the shared-memory tiles, and the reference backend.
func BenchmarkGemmI(b *testing.B) {
	dev := gputest.OpenBench(b)
	for _, sh := range gemmIShapes {
		m, k, n := sh[0], sh[1], sh[2]
		b.Run(fmt.Sprintf("%dx%dx%d/ref", m, k, n), func(b *testing.B) { benchGemmI(b, ref.New(), m, k, n) })
		for _, v := range Variants(dev) {
			for _, tiled := range []bool{false, true} {
				name := v
				if tiled {
					if v == VariantInt8 {
						continue
					}
					name += "-tiled"
				}
				b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, name), func(b *testing.B) {
					bk, err := New(dev, Options{Variant: v})
					if err != nil {
						b.Fatal(err)
					}
					defer bk.Close()
					bk.tune.tiled = tiled
					benchGemmI(b, bk, m, k, n)
				})
			}
		}
	}
}

// BenchmarkQuantOps times the quantization-side ops at the shapes of a
// training step of the default model on the Vulkan backend, reading inputs
// through storage buffers (vk-storage) and texel buffers (vk-texel), and on
// the reference. conv: the first convolution (a 64x28x28x1 input, 3x3
// kernel, 32 channels: cols [64*26*26, 9], y [64*26*26, 32]; QuantGrad
// without dx, as for a first layer). fc: the first dense layer (x [64,
// 5408], weights [128, 5408] quantized per channel). Without the
// validation layer (which would distort timings); besides ns/op it reports
// the process CPU time per op (cpu-ns/op, lavapipe's threads included),
// steadier than wall time on a shared machine.
func BenchmarkQuantOps(bm *testing.B) {
	vs, vt := readModes(bm, gputest.OpenBench(bm))
	for _, bk := range []backend.Backend{vs, vt, ref.New()} {
		all, ops := quantBenchOps(bm, bk)
		runBenchOps(bm, bk, ops, all)
	}
}

// cpuTime returns the CPU time (user and system) of the process so far, in
// nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// benchOp is one op of the side-by-side op benchmarks.
type benchOp struct {
	name string
	f    func()
}

// runBenchOps times each op on bk as the sub-benchmark OP/BACKEND (ref,
// vk-storage or vk-texel) after one warm-up call (pipeline compile),
// reporting besides ns/op the process CPU time per op (cpu-ns/op,
// lavapipe's threads included, steadier than wall time on a shared
// machine), then frees the tensors all.
func runBenchOps(bm *testing.B, bk backend.Backend, ops []benchOp, all []backend.Tensor) {
	name := "ref"
	if v, ok := bk.(*Backend); ok {
		name = "vk-" + v.Reads()
	}
	for _, op := range ops {
		bm.Run(op.name+"/"+name, func(bm *testing.B) {
			op.f()
			if err := bk.Sync(); err != nil {
				bm.Fatal(err)
			}
			bm.ResetTimer()
			cpu0 := cpuTime()
			for range bm.N {
				op.f()
				if err := bk.Sync(); err != nil {
					bm.Fatal(err)
				}
			}
			bm.ReportMetric(float64(cpuTime()-cpu0)/float64(bm.N), "cpu-ns/op")
		})
	}
	for _, t := range all {
		bk.Free(t)
	}
}

// quantBenchOps makes the tensors of BenchmarkQuantOps on bk (returned for
// freeing) and the ops to time.
func quantBenchOps(bm *testing.B, bk backend.Backend) ([]backend.Tensor, []benchOp) {
	rng := rand.New(rand.NewPCG(9, 10))
	var all []backend.Tensor
	mk := func(dt backend.DType, shape ...int) backend.Tensor {
		t, err := bk.New(dt, shape...)
		if err != nil {
			bm.Fatal(err)
		}
		switch dt {
		case backend.F32:
			err = bk.WriteF32(t, floatRand(rng, t.Len()))
		case backend.I32:
			v := make([]int32, t.Len())
			for i := range v {
				v[i] = rng.Int32N(1<<20) - 1<<19
			}
			err = bk.WriteI32(t, v)
		}
		if err != nil {
			bm.Fatal(err)
		}
		all = append(all, t)
		return t
	}
	wspec := func(c int) backend.QuantSpec {
		p := backend.QuantSpec{Scale: make([]float32, c), Zero: make([]int32, c), QMin: -127, QMax: 127}
		for i := range p.Scale {
			p.Scale[i] = float32(1+i%7) / 256
		}
		return p
	}
	xs := backend.QuantSpec{Scale: []float32{2.0 / 255}, Zero: []int32{128}, QMin: 0, QMax: 255}
	one := func() backend.Tensor { return mk(backend.F32, 1) }

	// The first convolution.
	cg := backend.ConvGeom{N: 64, H: 28, W: 28, C: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1}
	const c = 32
	r, k := cg.Rows(), cg.K()
	ws := wspec(c)
	x, dxhat, stats := mk(backend.F32, 64, 28, 28, 1), mk(backend.F32, 64, 28, 28, 1), mk(backend.F32, 3)
	qx, colsI, colsF := mk(backend.Q8, 64, 28, 28, 1), mk(backend.Q8, r, k), mk(backend.F32, r, k)
	w, qw, sw := mk(backend.F32, c, k), mk(backend.Q8, c, k), mk(backend.I32, c)
	acc, sa, y, bias := mk(backend.I32, r, c), mk(backend.I32, r), mk(backend.F32, r, c), mk(backend.F32, c)
	ds, dz := one(), one()
	bk.Quantize(qx, x, xs) // valid codes for the consumers
	bk.Im2ColI(colsI, qx, cg, xs.Zero[0])
	bk.Quantize(qw, w, ws)
	bk.RowSumI(sw, qw)

	// The first dense layer.
	const fm, fk, fn = 64, 13 * 13 * 32, 128
	fws := wspec(fn)
	fx, fdx, fdxhat, fxhat := mk(backend.F32, fm, fk), mk(backend.F32, fm, fk), mk(backend.F32, fm, fk), mk(backend.F32, fm, fk)
	fqx, fsa := mk(backend.Q8, fm, fk), mk(backend.I32, fm)
	fw, fqw, fsw, fwhat := mk(backend.F32, fn, fk), mk(backend.Q8, fn, fk), mk(backend.I32, fn), mk(backend.F32, fn, fk)
	fdw, fdwhat := mk(backend.F32, fn, fk), mk(backend.F32, fn, fk)
	facc, fy, fbias := mk(backend.I32, fm, fn), mk(backend.F32, fm, fn), mk(backend.F32, fn)
	fds, fdz, fdsw, fdzw := one(), one(), mk(backend.F32, fn), mk(backend.F32, fn)
	bk.Quantize(fqx, fx, xs)
	bk.Quantize(fqw, fw, fws)
	bk.RowSumI(fsa, fqx)
	bk.RowSumI(fsw, fqw)

	return all, []benchOp{
		{"conv/MinMax", func() { bk.MinMax(stats, x) }},
		{"conv/Quantize", func() { bk.Quantize(qx, x, xs) }},
		{"conv/QuantizeW", func() { bk.Quantize(qw, w, ws) }},
		{"conv/Im2ColI", func() { bk.Im2ColI(colsI, qx, cg, xs.Zero[0]) }},
		{"conv/RowSumI", func() { bk.RowSumI(sa, colsI) }},
		{"conv/Dequant", func() { bk.Dequant(y, acc, sa, sw, k, xs, ws, bias) }},
		{"conv/Dequantize", func() { bk.Dequantize(colsF, colsI, xs) }},
		{"conv/QuantGrad", func() { bk.QuantGrad(nil, ds, dz, x, dxhat, xs) }},
		{"fc/MinMax", func() { bk.MinMax(stats, fx) }},
		{"fc/Quantize", func() { bk.Quantize(fqx, fx, xs) }},
		{"fc/QuantizeW", func() { bk.Quantize(fqw, fw, fws) }},
		{"fc/RowSumI", func() { bk.RowSumI(fsa, fqx) }},
		{"fc/Dequant", func() { bk.Dequant(fy, facc, fsa, fsw, fk, xs, fws, fbias) }},
		{"fc/Dequantize", func() { bk.Dequantize(fxhat, fqx, xs) }},
		{"fc/DequantizeW", func() { bk.Dequantize(fwhat, fqw, fws) }},
		{"fc/QuantGrad", func() { bk.QuantGrad(fdx, fds, fdz, fx, fdxhat, xs) }},
		{"fc/QuantGradW", func() { bk.QuantGrad(fdw, fdsw, fdzw, fw, fdwhat, fws) }},
	}
}

// benchTensors makes the tensors of a benchmark on bk: F32 ones filled
// with floatRand values of rng, others left zero; all lists them for
// runBenchOps to free.
type benchTensors struct {
	tb  testing.TB
	bk  backend.Backend
	rng *rand.Rand
	all []backend.Tensor
}

// mk makes one tensor (see benchTensors).
func (m *benchTensors) mk(dt backend.DType, shape ...int) backend.Tensor {
	x, err := m.bk.New(dt, shape...)
	if err != nil {
		m.tb.Fatal(err)
	}
	if dt == backend.F32 {
		if err := m.bk.WriteF32(x, floatRand(m.rng, x.Len())); err != nil {
			m.tb.Fatal(err)
		}
	}
	m.all = append(m.all, x)
	return x
}
