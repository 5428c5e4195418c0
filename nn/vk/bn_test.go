package vk

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
)

// testBatchNormElementwise checks the elementwise passes of BatchNormTrain
// (y, xhat) and BatchNormGrad (dx) bit for bit against the reference's
// formulas, evaluated here from the device's own per-channel statistics:
// at the shape of a training step (43264x32), with more column pairs than
// a workgroup (37x1280), few rows, C even (the pair kernels f_bn_apply2,
// f_bn_gradx2) and C odd (f_bn_apply, f_bn_gradx), reading through texel
// and storage buffers.
func testBatchNormElementwise(t *testing.T, newB newRecorded) {
	for _, reads := range []string{ReadsTexel, ReadsStorage} {
		b := newB(t, Options{Reads: reads}, nil)
		for _, sh := range [][2]int{{43264, 32}, {1001, 24}, {37, 1280}, {3, 8}, {333, 6}, {77, 5}} {
			t.Run(fmt.Sprintf("%s/%dx%d", b.Reads(), sh[0], sh[1]), func(t *testing.T) {
				bnElementwiseCheck(t, b, sh[0], sh[1])
			})
		}
	}
}

func bnElementwiseCheck(t *testing.T, b *Backend, r, c int) {
	rng := rand.New(rand.NewPCG(uint64(r), uint64(c)))
	var all []backend.Tensor
	defer func() {
		for _, x := range all {
			b.Free(x)
		}
	}()
	mk := func(v []float32, shape ...int) backend.Tensor {
		x, err := b.New(backend.F32, shape...)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, x)
		if v != nil {
			if err := b.WriteF32(x, v); err != nil {
				t.Fatal(err)
			}
		}
		return x
	}
	read := func(x backend.Tensor, n int) []float32 {
		v := make([]float32, n)
		if err := b.ReadF32(x, v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	xv, dyv, gv, bv := floatRand(rng, r*c), floatRand(rng, r*c), floatRand(rng, c), floatRand(rng, c)
	x, dy, g, be := mk(xv, r, c), mk(dyv, r, c), mk(gv, c), mk(bv, c)
	y, xh, dx := mk(nil, r, c), mk(nil, r, c), mk(nil, r, c)
	m, is, rm, rv, dg, db := mk(nil, c), mk(nil, c), mk(nil, c), mk(nil, c), mk(nil, c), mk(nil, c)
	b.BatchNormTrain(y, xh, m, is, x, g, be, rm, rv, 0.1, 1e-5)
	b.BatchNormGrad(dx, dg, db, dy, xh, is, g)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	mv, iv, yv, hv := read(m, c), read(is, c), read(y, r*c), read(xh, r*c)
	dgv, dbv, dxv := read(dg, c), read(db, c), read(dx, r*c)
	fr := float32(r)
	for i := range r {
		for j := range c {
			o := i*c + j
			h := float32(float32(xv[o]-mv[j]) * iv[j])
			wy := float32(gv[j]*h) + bv[j]
			k := float32(gv[j]*iv[j]) / fr
			d := float32(fr*dyv[o]) - dbv[j] - float32(hv[o]*dgv[j])
			wdx := k * d
			for _, p := range []struct {
				name      string
				got, want float32
			}{{"xhat", hv[o], h}, {"y", yv[o], wy}, {"dx", dxv[o], wdx}} {
				if math.Float32bits(p.got) != math.Float32bits(p.want) {
					t.Fatalf("%s[%d, %d] = %v, want %v", p.name, i, j, p.got, p.want)
				}
			}
		}
	}
}

// BenchmarkBatchNormKernels reports the device time of the elementwise
// kernels of BatchNormTrain and BatchNormGrad (f_bn_apply*, f_bn_gradx*)
// at the shape of a training step, texel reads, from the profiler.
func BenchmarkBatchNormKernels(bm *testing.B) {
	dev := gputest.OpenBench(bm)
	b, err := New(dev, Options{Reads: ReadsTexel})
	if err != nil {
		bm.Fatal(err)
	}
	defer b.Close()
	const r, c = 64 * 26 * 26, 32
	rng := rand.New(rand.NewPCG(7, 8))
	mk := func(shape ...int) backend.Tensor {
		x, err := b.New(backend.F32, shape...)
		if err != nil {
			bm.Fatal(err)
		}
		if err := b.WriteF32(x, floatRand(rng, x.Len())); err != nil {
			bm.Fatal(err)
		}
		return x
	}
	x, y, xh, dy, dx := mk(r, c), mk(r, c), mk(r, c), mk(r, c), mk(r, c)
	s, g, be, m, is, rm, rv := mk(c), mk(c), mk(c), mk(c), mk(c), mk(c), mk(c)
	step := func() {
		b.BatchNormTrain(y, xh, m, is, x, g, be, rm, rv, 0.1, 1e-5)
		b.BatchNormGrad(dx, s, m, dy, xh, is, g)
	}
	step()
	if err := b.Sync(); err != nil {
		bm.Fatal(err)
	}
	bm.ResetTimer()
	b.StartProfile()
	for range bm.N {
		step()
	}
	var apply, gradx time.Duration
	for _, k := range b.StopProfile() {
		switch {
		case strings.HasPrefix(k.Name, "f_bn_apply"):
			apply += k.Total
		case strings.HasPrefix(k.Name, "f_bn_gradx"):
			gradx += k.Total
		}
	}
	bm.ReportMetric(float64(apply.Microseconds())/1e3/float64(bm.N), "apply-ms/op")
	bm.ReportMetric(float64(gradx.Microseconds())/1e3/float64(bm.N), "gradx-ms/op")
}
