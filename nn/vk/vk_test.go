package vk

import (
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/gpu/gputest"
	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/backend/backendtest"
)

// newTestBackend opens a validated device and a backend with the GemmI
// variant v on it; both close when the test ends.
func newTestBackend(t *testing.T, v string) *Backend {
	t.Helper()
	dev := gputest.Open(t)
	b, err := New(dev, Options{Variant: v})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// variants lists the GemmI variants of the test device.
func variants(t *testing.T) []string {
	dev := gputest.Open(t)
	return Variants(dev)
}

// quantGroups are the op groups this file checks (the float groups are
// tested in float_test.go).
var quantGroups = map[string]bool{
	"Memory": true, "MinMax": true, "Histogram": true, "Quantize": true, "Dequantize": true, "QuantGrad": true,
	"Im2ColI": true, "GemmI": true, "RowSumI": true, "Dequant": true, "ConvI": true,
}

func TestOps(t *testing.T) {
	for _, g := range backendtest.Groups() {
		if !quantGroups[g.Name] {
			continue
		}
		t.Run(g.Name, func(t *testing.T) {
			b := newTestBackend(t, "")
			g.Test(t, b)
		})
	}
}

func TestVariantsAvailable(t *testing.T) {
	v := variants(t)
	if len(v) == 0 || v[0] != VariantPacked {
		t.Fatalf("Variants = %v, want packed first", v)
	}
}

func TestUnknownVariant(t *testing.T) {
	dev := gputest.Open(t)
	if _, err := New(dev, Options{Variant: "fast"}); err == nil {
		t.Fatal("New with variant \"fast\": no error")
	}
}

func TestTooBig(t *testing.T) {
	b := newTestBackend(t, "")
	lim := int(b.dev.Info().Limits.MaxStorageBufferRange)
	if _, err := b.New(backend.F32, lim/4+1); err == nil {
		t.Fatal("New past maxStorageBufferRange: no error")
	}
	_ = gpu.Storage
}
