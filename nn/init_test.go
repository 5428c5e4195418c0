package nn

import (
	"math"
	"testing"
)

// TestInit checks both weight initialisations: InitUniform draws weights
// and biases within ±1/sqrt(fan_in), spread over the interval; InitHe
// draws weights of standard deviation about sqrt(2/fan_in) and zero
// biases; an unknown name is refused.
func TestInit(t *testing.T) {
	layers, err := ParseLayers("conv:16:3,bn,relu,fc:64,fc:10")
	if err != nil {
		t.Fatal(err)
	}
	for _, init := range []Init{InitUniform, InitHe} {
		m, err := Build([]int{10, 10, 1}, layers, 10, Options{Quant: QuantConfig{Bits: 8}, Seed: 4, Init: init})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params() {
			if p.Kind != KindWeight && p.Kind != KindBias {
				continue
			}
			fanIn := map[string]int{"conv1": 9, "fc1": 8 * 8 * 16, "fc2": 64}[p.Name[:len(p.Name)-len(".weight")]]
			if p.Kind == KindBias {
				fanIn = map[string]int{"conv1": 9, "fc1": 8 * 8 * 16, "fc2": 64}[p.Name[:len(p.Name)-len(".bias")]]
			}
			var ss, maxAbs float64
			for _, v := range p.Data {
				ss += float64(v) * float64(v)
				maxAbs = max(maxAbs, math.Abs(float64(v)))
			}
			std := math.Sqrt(ss / float64(len(p.Data)))
			bound := 1 / math.Sqrt(float64(fanIn))
			switch {
			case init == InitUniform && (maxAbs > bound || maxAbs < 0.8*bound && len(p.Data) > 50):
				t.Errorf("uniform: %s max |v| %.4f, bound %.4f", p.Name, maxAbs, bound)
			case init == InitHe && p.Kind == KindBias && maxAbs != 0:
				t.Errorf("he: %s has non-zero biases", p.Name)
			case init == InitHe && p.Kind == KindWeight && math.Abs(std/math.Sqrt(2/float64(fanIn))-1) > 0.2:
				t.Errorf("he: %s std %.4f, want about %.4f", p.Name, std, math.Sqrt(2/float64(fanIn)))
			}
		}
	}
	if _, err := Build([]int{10, 10, 1}, layers, 10, Options{Init: "zeros"}); err == nil {
		t.Error("Init \"zeros\": no error")
	}
}
