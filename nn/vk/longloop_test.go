package vk_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
	"github.com/vktrain/vktrain/nn/vk"
)

// TestLongReductions runs the per-channel reductions and the float GEMM
// over more rows than one invocation may loop on some drivers (lavapipe
// ends an invocation's loops after 65535 iterations): an evaluation batch
// of 256 26×26 feature maps has 173056 rows. (It also passed with 300000.)
func TestLongReductions(t *testing.T) {
	dev := gputest.Open(t)
	vb, err := vk.New(dev, vk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer vb.Close()
	rb := ref.New()
	defer rb.Close()
	const r, c = 173056, 8
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, r*c)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	ones := make([]float32, c)
	for i := range ones {
		ones[i] = 1
	}
	type outs struct{ colsum, mean, invstd, dgamma, dbeta, gemm []float32 }
	run := func(b backend.Backend) outs {
		mk := func(shape ...int) backend.Tensor {
			tt, err := b.New(backend.F32, shape...)
			if err != nil {
				t.Fatal(err)
			}
			return tt
		}
		xt := mk(r, c)
		if err := b.WriteF32(xt, x); err != nil {
			t.Fatal(err)
		}
		g, be, rm, rv := mk(c), mk(c), mk(c), mk(c)
		_ = b.WriteF32(g, ones)
		_ = b.WriteF32(rv, ones)
		s, y, xh, mean, inv := mk(c), mk(r, c), mk(r, c), mk(c), mk(c)
		b.ColSum(s, xt)
		b.BatchNormTrain(y, xh, mean, inv, xt, g, be, rm, rv, 0.1, 1e-5)
		dx, dg, db := mk(r, c), mk(c), mk(c)
		b.BatchNormGrad(dx, dg, db, xt, xh, inv, g)
		gm := mk(c, c)
		b.Gemm(gm, xt, xt, true, false, 1, 0)
		o := outs{make([]float32, c), make([]float32, c), make([]float32, c), make([]float32, c), make([]float32, c), make([]float32, c*c)}
		for _, p := range []struct {
			t backend.Tensor
			d []float32
		}{{s, o.colsum}, {mean, o.mean}, {inv, o.invstd}, {dg, o.dgamma}, {db, o.dbeta}, {gm, o.gemm}} {
			if err := b.ReadF32(p.t, p.d); err != nil {
				t.Fatal(err)
			}
		}
		return o
	}
	want, got := run(rb), run(vb)
	check := func(name string, w, g []float32, tol float64) {
		for i := range w {
			if d := math.Abs(float64(w[i] - g[i])); d > tol*(1+math.Abs(float64(w[i]))) {
				t.Errorf("%s[%d] = %v on Vulkan, %v on the reference", name, i, g[i], w[i])
				return
			}
		}
	}
	tol := 1e-5 * math.Sqrt(r)
	check("ColSum", want.colsum, got.colsum, tol)
	check("BatchNormTrain mean", want.mean, got.mean, tol)
	check("BatchNormTrain invstd", want.invstd, got.invstd, tol)
	check("BatchNormGrad dgamma", want.dgamma, got.dgamma, tol)
	check("BatchNormGrad dbeta", want.dbeta, got.dbeta, tol)
	check("Gemm xᵀx", want.gemm, got.gemm, 1e-4*math.Sqrt(r))
}

// TestLargeGemm checks Gemm at products large enough for the largest
// register tiles (at least 2^25 multiply-adds), whose sizes are not
// multiples of the tiles, in the layouts of the weight and input
// gradients.
func TestLargeGemm(t *testing.T) {
	dev := gputest.Open(t)
	vb, err := vk.New(dev, vk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer vb.Close()
	rb := ref.New()
	defer rb.Close()
	const m, n, k = 72, 520, 900 // 3.4e7 multiply-adds
	rng := rand.New(rand.NewPCG(2, 3))
	rnd := func(size int) []float32 {
		v := make([]float32, size)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	av, bv := rnd(m*k), rnd(k*n)
	for _, transA := range []bool{false, true} {
		run := func(b backend.Backend) []float32 {
			mk := func(v []float32, r, c int) backend.Tensor {
				tt, err := b.New(backend.F32, r, c)
				if err != nil {
					t.Fatal(err)
				}
				if v != nil {
					if err := b.WriteF32(tt, v); err != nil {
						t.Fatal(err)
					}
				}
				return tt
			}
			ar, ac := m, k
			if transA {
				ar, ac = k, m // the same values read as the transpose
			}
			a, bt, c := mk(av, ar, ac), mk(bv, k, n), mk(nil, m, n)
			b.Gemm(c, a, bt, transA, false, 1, 0)
			out := make([]float32, m*n)
			if err := b.ReadF32(c, out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		want, got := run(rb), run(vb)
		for i := range want {
			if d := math.Abs(float64(want[i] - got[i])); d > 1e-4*math.Sqrt(k)*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("transA %v: c[%d] = %v on Vulkan, %v on the reference", transA, i, got[i], want[i])
			}
		}
	}
}
