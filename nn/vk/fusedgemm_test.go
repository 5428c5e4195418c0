package vk

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
)

// testGemmIDequantFused runs GemmIDequant against the reference bit for
// bit (the reference's is the composition GemmI, RowSumI, Dequant, bit
// for bit) where q_gemmi_sg takes it in one dispatch with its DEQ
// epilogue — rows broadcast (the device's subgroups) and loaded by every
// invocation (subgroups of 16), whole grid and one row of workgroups
// looping over m, storage and texel reads, k in one step and in a loop,
// n a multiple of 4 and not, signed and unsigned codes, per-tensor and
// per-channel weights, with and without bias, the patent net's fc shapes
// — and where it falls back to the composed kernels (k split, codes of
// both signs stored one per int, a GPU's tuning). It checks which of the
// two ran from the recorded paths.
func testGemmIDequantFused(t *testing.T, newB newRecorded) {
	type config struct {
		name  string
		opts  Options
		tweak func(*Backend)
	}
	configs := []config{
		{"auto/storage", Options{Reads: ReadsStorage}, nil},
		{"auto/texel", Options{Reads: ReadsTexel}, nil},
		{"sg16/maxGY1", Options{Variant: VariantPacked}, func(b *Backend) { b.tune.gemmSG, b.tune.gemmMaxGY = 16, 1 }},
		{"sg8/maxGY1", Options{Variant: VariantPacked, Reads: ReadsStorage}, func(b *Backend) { b.tune.gemmSG, b.tune.gemmMaxGY = 8, 1 }},
		{"gpu", Options{}, gpuTuning},
	}
	type shape struct {
		m, k, n  int
		alo, ahi int32 // a's codes
		blo, bhi int32
		perChan  bool
		bias     bool
	}
	shapes := []shape{
		{64, 2304, 128, 0, 255, -127, 127, true, true}, // fc1 of the patent net
		{64, 128, 10, 0, 255, -127, 127, true, true},   // fc2
		{37, 25, 16, 0, 255, -7, 7, false, false},
		{19, 300, 13, -128, 127, 0, 255, true, false},
		{3000, 9, 5, 0, 15, -1, 1, true, true}, // k in one step
		{1, 1, 1, 0, 255, -128, 127, false, true},
		{40, 16, 8, -128, 127, -128, 127, false, true},
		{3, 65600, 4, 0, 3, -1, 1, true, true},       // k split: composed
		{21, 70, 12, -5, 200, -127, 127, true, true}, // a stored one code per int: composed
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			pathCase(t, newB, c.opts, c.tweak, func(s sides, rng *rand.Rand) {
				vb := s.bk[0].(*Backend)
				for _, sh := range shapes {
					name := fmt.Sprintf("%dx%dx%d a[%d,%d] b[%d,%d] perChan=%v bias=%v",
						sh.m, sh.k, sh.n, sh.alo, sh.ahi, sh.blo, sh.bhi, sh.perChan, sh.bias)
					a := s.q8("a", randCodes(rng, sh.m*sh.k, sh.alo, sh.ahi), sh.m, sh.k)
					bv := randCodes(rng, sh.n*sh.k, sh.blo, sh.bhi)
					bm := s.q8("b", bv, sh.n, sh.k)
					sbv := make([]int32, sh.n)
					for j := range sh.n {
						for _, v := range bv[j*sh.k : (j+1)*sh.k] {
							sbv[j] += v
						}
					}
					sb := s.newT(backend.I32, sh.n)
					for i, bk := range s.bk {
						if err := bk.WriteI32(sb[i], sbv); err != nil {
							t.Fatal(err)
						}
					}
					pa := backend.QuantSpec{Scale: []float32{0.01 + 0.1*rng.Float32()}, Zero: []int32{sh.alo + rng.Int32N(sh.ahi-sh.alo+1)}, QMin: sh.alo, QMax: sh.ahi}
					nb := 1
					if sh.perChan {
						nb = sh.n
					}
					pb := backend.QuantSpec{Scale: make([]float32, nb), Zero: make([]int32, nb), QMin: sh.blo, QMax: sh.bhi}
					for j := range nb {
						pb.Scale[j], pb.Zero[j] = 0.005+0.2*rng.Float32(), sh.blo+rng.Int32N(sh.bhi-sh.blo+1)
					}
					var bias [2]backend.Tensor
					if sh.bias {
						bias = s.inF(floatRand(rng, sh.n), sh.n)
					}
					y := s.newT(backend.F32, sh.m, sh.n)
					before := vb.PathsTaken()
					for i, bk := range s.bk {
						bk.(backend.FusedGemmIDequant).GemmIDequant(y[i], a[i], bm[i], sb[i], bias[i], pa, pb)
					}
					after := vb.PathsTaken()
					fused := after["q_gemmi_sg"]["out=y/bias"]+after["q_gemmi_sg"]["out=y/nobias"] >
						before["q_gemmi_sg"]["out=y/bias"]+before["q_gemmi_sg"]["out=y/nobias"]
					composed := after["q_rowsumi"]["a=u8"]+after["q_rowsumi"]["a=s8"]+after["q_rowsumi"]["a=wide"] >
						before["q_rowsumi"]["a=u8"]+before["q_rowsumi"]["a=s8"]+before["q_rowsumi"]["a=wide"]
					wantFused := vb.tune.gemmSG > 0 && sh.k < 65536 && sh.alo >= -128 && sh.ahi <= 255 && (sh.alo >= 0 || sh.ahi <= 127)
					if fused != wantFused || composed == wantFused {
						t.Errorf("%s: fused kernel ran %v, composed kernels %v; want fused %v", name, fused, composed, wantFused)
					}
					s.near("GemmIDequant y "+name, y, 0, 1)
					for _, x := range [][2]backend.Tensor{a, bm, sb, bias, y} {
						for i, bk := range s.bk {
							if x[i] != nil {
								bk.Free(x[i])
							}
						}
					}
				}
			})
		})
	}
}
