package ref_test

import (
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/backend/backendtest"
	"github.com/vktrain/vktrain/nn/ref"
)

// TestSuite runs the shared op suite on the reference backend: it checks
// the reference against independent float64 maths (and against itself).
func TestSuite(t *testing.T) {
	backendtest.TestAll(t, func(t *testing.T) backend.Backend { return ref.New() })
}

// TestSingleThread runs the suite's cases with one thread: results must
// not depend on the split.
func TestSingleThread(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		b, err := ref.NewWithOptions(ref.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}, backendtest.Config{})
}
