package nn

import (
	"math"
	"slices"
	"testing"

	"github.com/vktrain/vktrain/nn/ref"
)

// TestFusedBNReLUMatchesComposed trains the same nets with the fused ops
// (batch norm + ReLU, and the integer GEMMs with their dequantization) and
// with the composed ones on the reference backend, whose fused ops are
// defined to be the composition bit for bit:
// the losses and the parameters must be identical, and the fused run must
// have fused the layers it should (a bn read by anything else stays apart).
func TestFusedBNReLUMatchesComposed(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		fused []string
	}{
		{"conv:8:3,comp,bn,relu,pool:2,fc:16,comp,relu,fc:10,comp", []string{"relu1"}},
		{"conv:8:3:1:1,bn,relu,res:8:1,gap,fc:10,comp", []string{"relu1", "res1.relu1"}},
	} {
		run := func(unfused bool) ([]float64, *Model) {
			layers, err := ParseLayers(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Build([]int{12, 12, 1}, layers, 10, Options{Quant: QuantConfig{Bits: 8}, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			m.Unfused = unfused
			b := ref.New()
			t.Cleanup(func() { b.Close() })
			tr, err := NewTrainer(m, b, TrainConfig{LR: 0.05, Momentum: 0.9, Threshold: 1})
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, 16*144)
			lab := make([]int32, 16)
			for i := range x {
				x[i] = float32(math.Sin(float64(i) * 0.37))
			}
			for i := range lab {
				lab[i] = int32(i % 10)
			}
			var losses []float64
			for range 3 {
				st, err := tr.TrainStep(x, lab)
				if err != nil {
					t.Fatal(err)
				}
				losses = append(losses, st.Loss)
			}
			if err := m.SyncBuffers(); err != nil {
				t.Fatal(err)
			}
			return losses, m
		}
		lf, mf := run(false)
		lu, mu := run(true)
		if got := mf.Fused(); !slices.Equal(got, tc.fused) {
			t.Errorf("%s: fused layers %v, want %v", tc.spec, got, tc.fused)
		}
		if got := mu.Fused(); len(got) != 0 {
			t.Errorf("%s: Unfused model fused %v", tc.spec, got)
		}
		if !slices.Equal(lf, lu) {
			t.Errorf("%s: losses fused %v, composed %v", tc.spec, lf, lu)
		}
		pf, pu := mf.Params(), mu.Params()
		for i := range pf {
			for j := range pf[i].Data {
				if math.Float32bits(pf[i].Data[j]) != math.Float32bits(pu[i].Data[j]) {
					t.Fatalf("%s: %s[%d] fused %v, composed %v", tc.spec, pf[i].Name, j, pf[i].Data[j], pu[i].Data[j])
				}
			}
		}
	}
}
