package nn_test

import (
	"fmt"
	"log"
	"testing"

	"github.com/vktrain/vktrain/data"
	"github.com/vktrain/vktrain/nn"
	"github.com/vktrain/vktrain/nn/ref"
)

// batches adapts a data.Set to nn.Batcher.
type batches struct {
	s    *data.Set
	norm data.Norm
}

func (b batches) Len() int { return b.s.N }
func (b batches) Batch(dst []float32, lab []int32, idx []int) error {
	return b.s.Batch(dst, lab, idx, b.norm)
}

// Example trains a small int8 network on the MNIST subset built into
// package data (so it runs anywhere, not only in the checkout) with the
// pure-Go backend (vk.Open(vk.Options{Device: -1}) gives the Vulkan one)
// and evaluates it.
func Example() {
	train, test, err := data.Resolve("mini")
	if err != nil {
		log.Fatal(err)
	}
	norm := data.ComputeNorm(train)
	layers, err := nn.ParseLayers("conv:16:3,comp,bn,relu,pool:2,fc:64,comp,relu,fc:10,comp")
	if err != nil {
		log.Fatal(err)
	}
	model, err := nn.Build([]int{28, 28, 1}, layers, 10, nn.Options{Quant: nn.QuantConfig{Bits: 8}, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	b := ref.New()
	defer b.Close()
	tr, err := nn.NewTrainer(model, b, nn.TrainConfig{LR: 0.01, Momentum: 0.9, Threshold: 1, CompL2: 1e-4})
	if err != nil {
		log.Fatal(err)
	}
	order := data.NewOrder(train.N, 1)
	for epoch := 0; epoch < 2; epoch++ {
		if _, err := tr.Epoch(batches{train, norm}, order.Epoch(epoch), 32, nil); err != nil {
			log.Fatal(err)
		}
	}
	res, err := tr.Evaluate(batches{test, norm}, 100)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d test images, accuracy above 85%%: %v\n", res.N, res.Accuracy > 0.85)
	// Output: 500 test images, accuracy above 85%: true
}

// TestExampleDataOutsideCheckout loads the example's data from a folder
// outside the repository, as a program using package nn after go get
// would.
func TestExampleDataOutsideCheckout(t *testing.T) {
	t.Chdir(t.TempDir())
	train, test, err := data.Resolve("mini")
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 2000 || test.N != 500 {
		t.Fatalf("mini outside the checkout: %d train, %d test images", train.N, test.N)
	}
}
