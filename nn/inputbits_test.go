package nn

import (
	"path/filepath"
	"testing"
)

// TestInputBits checks that QuantConfig.InputBits sets the code width of
// the quantizers of the layers reading the model input only, that a
// checkpoint keeps it, and that 0 keeps every quantizer at Bits (as
// checkpoints written before the option were).
func TestInputBits(t *testing.T) {
	layers, err := ParseLayers("conv:4:3:1:1,bn,relu,res:4:1,gap,fc:10,comp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build([]int{8, 8, 1}, layers, 10, Options{Quant: QuantConfig{Bits: 4, InputBits: 8}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := bitsOf(m)
	for name, bits := range got {
		want := 4
		if name == "conv1.xq" {
			want = 8
		}
		if bits != want {
			t.Errorf("%s: %d bits, want %d (all: %v)", name, bits, want, got)
		}
	}
	if len(got) < 6 {
		t.Fatalf("only %d quantizers: %v", len(got), got)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveCheckpoint(path, m, nil); err != nil {
		t.Fatal(err)
	}
	m2, _, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if g2 := bitsOf(m2); g2["conv1.xq"] != 8 || g2["fc1.xq"] != 4 {
		t.Errorf("after a checkpoint round trip: %v", g2)
	}
	m0, err := Build([]int{8, 8, 1}, layers, 10, Options{Quant: QuantConfig{Bits: 4}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, bits := range bitsOf(m0) {
		if bits != 4 {
			t.Errorf("InputBits 0: %s has %d bits, want 4", name, bits)
		}
	}
	if _, err := Build([]int{8, 8, 1}, layers, 10, Options{Quant: QuantConfig{Bits: 4, InputBits: 9}}); err == nil {
		t.Error("InputBits 9: no error")
	}
}

// TestOutputBits checks that QuantConfig.OutputBits sets the code width of
// the last quantized layer's weights and input only (in a spec that ends
// in a compensation layer and in a residual one), that a checkpoint keeps
// it, and that a bad width is refused.
func TestOutputBits(t *testing.T) {
	for _, tc := range []struct {
		spec, last string
	}{
		{"conv:4:3,comp,bn,relu,pool:2,fc:16,comp,relu,fc:10,comp", "fc2"},
		{"conv:4:3:1:1,bn,relu,res:4:1,gap,fc:10,comp", "fc1"},
	} {
		layers, err := ParseLayers(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Build([]int{8, 8, 1}, layers, 10, Options{Quant: QuantConfig{Bits: 4, InputBits: 8, OutputBits: 6}, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		got := bitsOf(m)
		if _, ok := got[tc.last+".wq"]; !ok {
			t.Fatalf("%s: no quantizer %s.wq: %v", tc.spec, tc.last, got)
		}
		for name, bits := range got {
			want := 4
			switch name {
			case "conv1.xq":
				want = 8
			case tc.last + ".wq", tc.last + ".xq":
				want = 6
			}
			if bits != want {
				t.Errorf("%s: %s has %d bits, want %d (all: %v)", tc.spec, name, bits, want, got)
			}
		}
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := SaveCheckpoint(path, m, nil); err != nil {
			t.Fatal(err)
		}
		m2, _, err := LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		if g2 := bitsOf(m2); g2[tc.last+".wq"] != 6 || g2[tc.last+".xq"] != 6 || g2["conv1.wq"] != 4 {
			t.Errorf("%s: after a checkpoint round trip: %v", tc.spec, g2)
		}
	}
	layers, _ := ParseLayers("fc:10")
	if _, err := Build([]int{8, 8, 1}, layers, 10, Options{Quant: QuantConfig{Bits: 4, OutputBits: 1}}); err == nil {
		t.Error("OutputBits 1: no error")
	}
	// A model of one layer: the image input keeps InputBits, the weights
	// take OutputBits.
	m, err := Build([]int{8, 8, 1}, layers, 10, Options{Quant: QuantConfig{Bits: 4, InputBits: 8, OutputBits: 6}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if q := m.quantCodes().Quantizers; q["fc1.xq"].Bits != 8 || q["fc1.wq"].Bits != 6 {
		t.Errorf("one layer: xq %d bits, wq %d bits; want 8 and 6", q["fc1.xq"].Bits, q["fc1.wq"].Bits)
	}
}

// bitsOf returns the code width of each of m's quantizers by name.
func bitsOf(m *Model) map[string]int {
	got := map[string]int{}
	for name, r := range m.quantCodes().Quantizers {
		got[name] = r.Bits
	}
	return got
}
