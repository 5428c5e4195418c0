package nn

import (
	"fmt"
	"math"
	"slices"

	"github.com/vktrain/vktrain/quant"
)

// ScaleFloor is the smallest value a learned quantization scale may take;
// SGD.Step clamps scales there to keep them positive. A scale at the floor
// has collapsed: its channel's codes all saturate and carry no signal.
const ScaleFloor = 1e-8

// QuantHealth describes the state of a model's quantizers: which learned
// scales sit at ScaleFloor and which weight channels have every weight
// clipped (every code saturated at an end of the range), so that the
// channel passes no gradient and is dead.
type QuantHealth struct {
	// Scales counts the scale entries inspected (weights and activations).
	Scales int
	// Channels counts the weight channels inspected.
	Channels int
	// AtFloor names each scale entry at or below ScaleFloor, as
	// "fc1.wq.scale[5]".
	AtFloor []string
	// Saturated names each weight channel whose weights are all clipped
	// (codes at qmin or qmax, beyond the range), named by its scale entry,
	// as "fc1.wq.scale[5]".
	Saturated []string
}

// Collapsed is the number of collapsed scales: at the floor, or with
// every code of their channel saturated (a channel counted once).
func (h QuantHealth) Collapsed() int {
	seen := make(map[string]bool, len(h.AtFloor)+len(h.Saturated))
	for _, s := range h.AtFloor {
		seen[s] = true
	}
	n := len(h.AtFloor)
	for _, s := range h.Saturated {
		if !seen[s] {
			n++
		}
	}
	return n
}

// String summarises the health in one line, naming up to four entries.
func (h QuantHealth) String() string {
	if h.Scales == 0 {
		return "no quantizers"
	}
	s := fmt.Sprintf("%d of %d scales at the floor, %d of %d weight channels saturated", len(h.AtFloor), h.Scales, len(h.Saturated), h.Channels)
	names := append([]string(nil), h.AtFloor...)
	for _, n := range h.Saturated {
		if !slices.Contains(h.AtFloor, n) {
			names = append(names, n)
		}
	}
	if len(names) > 0 {
		if len(names) > 4 {
			names = append(names[:4:4], "…")
		}
		s += fmt.Sprintf(" (%v)", names)
	}
	return s
}

// QuantHealth inspects the host copy of the quantizers and weights (the
// trainer keeps them current; after Bind without training, call
// SyncBuffers first if the backend changed them).
func (m *Model) QuantHealth() QuantHealth {
	var h QuantHealth
	for _, l := range m.Layers {
		q, ok := l.(quantLayer)
		if !ok {
			continue
		}
		wq, xq := q.quantizers()
		if wq == nil {
			continue
		}
		for _, qz := range []*Quantizer{wq, xq} {
			for i, s := range qz.Scale.Data {
				h.Scales++
				if !(s > ScaleFloor) {
					h.AtFloor = append(h.AtFloor, fmt.Sprintf("%s[%d]", qz.Scale.Name, i))
				}
			}
		}
		d := q.core()
		spec := wq.Spec()
		per := len(d.W.Data) / wq.channels
		for c := 0; c < wq.channels; c++ {
			h.Channels++
			if channelSaturated(d.W.Data[c*per:(c+1)*per], spec.Scale[c], spec.Zero[c], spec.QMin, spec.QMax) {
				h.Saturated = append(h.Saturated, fmt.Sprintf("%s[%d]", wq.Scale.Name, c))
			}
		}
	}
	return h
}

// channelSaturated reports whether every weight of w is clipped: its
// rounded value round(w·fl32(1/s))+z lies outside [qmin, qmax], so its code
// sits at an end of the range and neither it nor the scale gets gradient
// from it (the regions of quant.Grad). A channel of all-zero weights is
// not saturated: it is merely 0.
func channelSaturated(w []float32, s float32, z, qmin, qmax int32) bool {
	nonzero := false
	for _, v := range w {
		if v == 0 {
			continue
		}
		nonzero = true
		r := math.Round(float64(quant.Scaled(v, s))) + float64(z)
		if r >= float64(qmin) && r <= float64(qmax) {
			return false
		}
	}
	return nonzero
}
