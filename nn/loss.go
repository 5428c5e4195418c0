package nn

import (
	"fmt"
	"math"
)

// SoftmaxCrossEntropy computes the mean softmax cross-entropy of logits
// [N, classes] against labels, writes its gradient with respect to the
// logits into dlogits (may be nil), and counts correct argmax predictions.
// It runs on the host in float64 (the loss is the host's share of the step).
func SoftmaxCrossEntropy(logits []float32, labels []int32, classes int, dlogits []float32) (loss float64, correct int, err error) {
	n := len(labels)
	if classes <= 0 || len(logits) != n*classes {
		return 0, 0, fmt.Errorf("loss: %d logits for %d labels and %d classes", len(logits), n, classes)
	}
	if dlogits != nil && len(dlogits) != len(logits) {
		return 0, 0, fmt.Errorf("loss: gradient buffer has %d elements, want %d", len(dlogits), len(logits))
	}
	inv := 1 / float64(n)
	for i := 0; i < n; i++ {
		row := logits[i*classes : (i+1)*classes]
		y := int(labels[i])
		if y < 0 || y >= classes {
			return 0, 0, fmt.Errorf("loss: label %d of example %d outside [0, %d)", y, i, classes)
		}
		mx, arg := math.Inf(-1), 0
		for j, v := range row {
			if float64(v) > mx {
				mx, arg = float64(v), j
			}
		}
		if math.IsNaN(mx) || math.IsInf(mx, 0) {
			return 0, 0, fmt.Errorf("loss: example %d has non-finite logits", i)
		}
		if arg == y {
			correct++
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - mx)
		}
		lse := mx + math.Log(sum)
		loss += (lse - float64(row[y])) * inv
		if dlogits != nil {
			d := dlogits[i*classes : (i+1)*classes]
			for j, v := range row {
				p := math.Exp(float64(v) - lse)
				if j == y {
					p--
				}
				d[j] = float32(p * inv)
			}
		}
	}
	return loss, correct, nil
}

// Softmax turns one row of logits into probabilities that sum to 1.
func Softmax(dst, logits []float32) {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for i, v := range logits {
		e := math.Exp(float64(v) - mx)
		dst[i] = float32(e)
		sum += e
	}
	for i := range dst[:len(logits)] {
		dst[i] = float32(float64(dst[i]) / sum)
	}
}

// compensationL2 adds λ·(‖γ‖² + ‖β‖²) of every compensation layer to the
// loss and 2λ·θ to the gradients (METHOD.md S200.5).
func compensationL2(ps []*Param, lambda float32) float64 {
	if lambda == 0 {
		return 0
	}
	var l2 float64
	for _, p := range ps {
		if p.Kind != KindCompGamma && p.Kind != KindCompBeta {
			continue
		}
		for i, v := range p.Data {
			l2 += float64(v) * float64(v)
			p.Grad[i] += 2 * lambda * v
		}
	}
	return float64(lambda) * l2
}
