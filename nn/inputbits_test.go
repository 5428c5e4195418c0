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
	bitsOf := func(m *Model) map[string]int {
		got := map[string]int{}
		for name, r := range m.quantCodes().Quantizers {
			got[name] = r.Bits
		}
		return got
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
