package nn

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/nn/backend"
	"github.com/vktrain/vktrain/nn/ref"
)

// TestFusedBNReLUMatchesComposed trains the same nets with the fused ops
// (batch norm + ReLU, the integer GEMMs with their dequantization, and the
// convolutions without im2col matrices) and
// with the composed ones on the reference backend, whose fused ops are
// defined to be the composition bit for bit:
// the losses and the parameters must be identical, and the fused run must
// have fused the layers it should (a bn read by anything else stays apart).
func TestFusedBNReLUMatchesComposed(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		fused []string
	}{
		{"conv:8:3,comp,bn,relu,pool:2,fc:16,comp,relu,fc:10,comp", []string{"conv1", "comp1", "relu1", "pool1", "relu2"}},
		{"conv:8:3:1:1,bn,relu,res:8:1,gap,fc:10,comp", []string{"conv1", "relu1", "res1.conv1", "res1.relu1", "res1.conv2"}},
		{"conv:6:5:2:2,relu,conv:8:3:1:1,comp,relu,gap,fc:10,comp", []string{"conv1", "relu1", "conv2"}},
	} {
		run := func(unfused bool) ([]float64, *Model) {
			b := ref.New()
			t.Cleanup(func() { b.Close() })
			return trainFusion(t, tc.spec, b, unfused)
		}
		lf, mf := run(false)
		lu, mu := run(true)
		if got := mf.Fused(); !slices.Equal(got, tc.fused) {
			t.Errorf("%s: fused layers %v, want %v", tc.spec, got, tc.fused)
		}
		if got := mu.Fused(); len(got) != 0 {
			t.Errorf("%s: Unfused model fused %v", tc.spec, got)
		}
		sameTraining(t, tc.spec, lf, lu, mf, mu)
	}
}

// trainFusion trains the net spec for 3 steps on b, fused or not, and
// returns the losses and the model (buffers synced).
func trainFusion(t *testing.T, spec string, b backend.Backend, unfused bool) ([]float64, *Model) {
	t.Helper()
	layers, err := ParseLayers(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build([]int{12, 12, 1}, layers, 10, Options{Quant: QuantConfig{Bits: 8}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	m.Unfused = unfused
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

// TestFusedCompBNMatchesComposed trains patent-style nets whose
// compensation layers feed a batch norm (with and without the ReLU after
// it) with the fused compensation + batch norm ops (backend.FusedCompBN)
// and with the composed ones: on the reference backend, whose fused ops
// are the composition bit for bit, losses and every parameter (the
// compensation's γ, β and running mean included) must be identical; on
// Vulkan, whose fused ops agree with the composition up to rounding, they
// must stay within the end-to-end tolerances of nn/vk's
// TestTrainMatchesReference. A compensation layer read by anything but a
// batch norm stays apart.
func TestFusedCompBNMatchesComposed(t *testing.T) {
	cases := []struct {
		spec  string
		comps []string // the compensation layers that must fuse
	}{
		{"conv:8:3,comp,bn,relu,pool:2,fc:16,comp,relu,fc:10,comp", []string{"comp1"}},
		{"conv:8:3,comp,bn,pool:2,fc:16,comp,bn,relu,fc:10,comp", []string{"comp1", "comp2"}},
	}
	// fusedComps returns the compensation layers m fused.
	fusedComps := func(m *Model) []string {
		var names []string
		for _, n := range m.Fused() {
			if strings.HasPrefix(n, "comp") {
				names = append(names, n)
			}
		}
		return names
	}
	t.Run("cpu", func(t *testing.T) {
		for _, tc := range cases {
			b := ref.New()
			t.Cleanup(func() { b.Close() })
			lf, mf := trainFusion(t, tc.spec, b, false)
			lu, mu := trainFusion(t, tc.spec, b, true)
			if got := fusedComps(mf); !slices.Equal(got, tc.comps) {
				t.Errorf("%s: fused compensation layers %v, want %v", tc.spec, got, tc.comps)
			}
			if got := mu.Fused(); len(got) != 0 {
				t.Errorf("%s: Unfused model fused %v", tc.spec, got)
			}
			sameTraining(t, tc.spec, lf, lu, mf, mu)
			// Recomputing xhat and the ReLU's mask backward
			// (CompBNGradFromX) instead of storing them: the same bits.
			lr, mr := trainFusion(t, tc.spec, recomputing{b}, false)
			sameTraining(t, tc.spec+" (recomputed)", lr, lu, mr, mu)
			// The batch norm's statistics from the conv's epilogue
			// (backend.FusedStats): other roundings of the same
			// statistics, so close, not the same bits.
			sp := &statsProbe{Backend: b}
			ls, ms := trainFusion(t, tc.spec, sp, false)
			if sp.conv == 0 || sp.bn == 0 {
				t.Errorf("%s: with epilogue statistics preferred, ConvIDequantStats ran %d times and the batch norms taking them %d", tc.spec, sp.conv, sp.bn)
			}
			closeTraining(t, tc.spec+" (epilogue statistics)", ls, lu, ms, mu)
		}
	})
	t.Run("vulkan", func(t *testing.T) {
		dev := openVulkan(t)
		for _, tc := range cases {
			lf, mf := trainFusion(t, tc.spec, newVulkan(t, dev), false)
			lu, mu := trainFusion(t, tc.spec, newVulkan(t, dev), true)
			if got := fusedComps(mf); !slices.Equal(got, tc.comps) {
				t.Errorf("%s: fused compensation layers %v, want %v", tc.spec, got, tc.comps)
			}
			if got := fusedComps(mu); len(got) != 0 {
				t.Errorf("%s: Unfused model fused %v", tc.spec, got)
			}
			closeTraining(t, tc.spec, lf, lu, mf, mu)
		}
	})
}

// recomputing is the reference backend preferring recomputation
// (backend.Recomputer), so that package nn uses CompBNGradFromX on it.
type recomputing struct{ *ref.Backend }

func (recomputing) PrefersRecompute() bool { return true }

// statsProbe is the reference backend preferring recomputation and the
// statistics from the conv's epilogue (backend.FusedStats), counting the
// calls of the ops that give and take them.
type statsProbe struct {
	*ref.Backend
	conv, bn int
}

func (*statsProbe) PrefersRecompute() bool     { return true }
func (*statsProbe) PrefersEpilogueStats() bool { return true }

func (p *statsProbe) ConvIDequantStats(y, qx, qw, sw, bias, xstats backend.Tensor, g backend.ConvGeom, xs, ws backend.QuantSpec) {
	p.conv++
	p.Backend.ConvIDequantStats(y, qx, qw, sw, bias, xstats, g, xs, ws)
}

func (p *statsProbe) CompBNTrainStats(y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats backend.Tensor, cMomentum, momentum, eps float32, relu bool) {
	p.bn++
	p.Backend.CompBNTrainStats(y, xhat, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats, cMomentum, momentum, eps, relu)
}

func (p *statsProbe) CompBNPoolQuantStats(y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats backend.Tensor, cMomentum, momentum, eps float32, relu bool, g backend.PoolGeom, pq backend.QuantSpec) {
	p.bn++
	p.Backend.CompBNPoolQuantStats(y, arg, q, stats, mean, invstd, cmean, x, cgamma, cbeta, cRunMean, gamma, beta, runMean, runVar, xstats, cMomentum, momentum, eps, relu, g, pq)
}

// TestFusedConvMatchesComposedOnVulkan trains nets on Vulkan with the
// fused convolution ops (backend.FusedConv) and, Unfused, with the
// composed ones: the forward ops agree bit for bit and the gradients
// within float tolerances, so losses and parameters must stay within the
// end-to-end tolerances (closeTraining). (On the reference backend
// TestFusedBNReLUMatchesComposed holds conv fusion to bit identity.)
func TestFusedConvMatchesComposedOnVulkan(t *testing.T) {
	dev := openVulkan(t)
	for _, spec := range []string{
		"conv:16:5,comp,bn,relu,pool:2,fc:16,comp,relu,fc:10,comp",
		"conv:6:3:2:1,relu,conv:8:3:1:1,comp,relu,gap,fc:10,comp",
	} {
		lf, mf := trainFusion(t, spec, newVulkan(t, dev), false)
		lu, mu := trainFusion(t, spec, newVulkan(t, dev), true)
		if !slices.Contains(mf.Fused(), "conv1") || slices.Contains(mu.Fused(), "conv1") {
			t.Fatalf("%s: fused layers %v, Unfused %v; want conv1 in the first only", spec, mf.Fused(), mu.Fused())
		}
		closeTraining(t, spec, lf, lu, mf, mu)
	}
}

// sameTraining requires the fused run (lf, mf) and the composed one (lu,
// mu) to have identical losses and parameters, bit for bit.
func sameTraining(t *testing.T, spec string, lf, lu []float64, mf, mu *Model) {
	t.Helper()
	if !slices.Equal(lf, lu) {
		t.Errorf("%s: losses fused %v, composed %v", spec, lf, lu)
	}
	pf, pu := mf.Params(), mu.Params()
	for i := range pf {
		for j := range pf[i].Data {
			if math.Float32bits(pf[i].Data[j]) != math.Float32bits(pu[i].Data[j]) {
				t.Fatalf("%s: %s[%d] fused %v, composed %v", spec, pf[i].Name, j, pf[i].Data[j], pu[i].Data[j])
			}
		}
	}
}

// closeTraining requires the fused run to stay within the end-to-end
// tolerances of nn/vk's TestTrainMatchesReference of the composed one:
// losses within 1 %, every parameter within 2e-3·(1+max|θ|).
func closeTraining(t *testing.T, spec string, lf, lu []float64, mf, mu *Model) {
	t.Helper()
	for i := range lf {
		if d := math.Abs(lf[i] - lu[i]); !(d <= 1e-2*math.Abs(lu[i])) {
			t.Errorf("%s: step %d: loss fused %v, composed %v", spec, i+1, lf[i], lu[i])
		}
	}
	pf, pu := mf.Params(), mu.Params()
	for i := range pf {
		scale := 0.0
		for _, v := range pu[i].Data {
			scale = max(scale, math.Abs(float64(v)))
		}
		for j := range pf[i].Data {
			if d := math.Abs(float64(pf[i].Data[j] - pu[i].Data[j])); !(d <= 2e-3*(1+scale)) {
				t.Fatalf("%s: %s[%d] fused %v, composed %v", spec, pf[i].Name, j, pf[i].Data[j], pu[i].Data[j])
			}
		}
	}
}

// TestFusedQuantizeMatchesComposed trains nets whose quantized layers read
// a max-pool (through the fc layer's flattening), a ReLU or the image with
// the quantization fused into the op producing its input
// (backend.FusedQuantize: MaxPoolQuant, ReLUQuant, QuantizeMinMax) and with
// the composed ops: on the reference backend, whose fused ops are the
// composition bit for bit, losses and parameters (the input quantizers'
// scales and zero points, which the statistics set, included) must be
// identical; on Vulkan, whose codes and statistics are those of the
// composition bit for bit, within closeTraining's tolerances. A ReLU inside
// a batch norm's op, or one read by anything but a quantized layer, is not
// a quantizing producer.
func TestFusedQuantizeMatchesComposed(t *testing.T) {
	cases := []struct {
		spec      string
		producers []string // the max-pools and ReLUs that must quantize for their reader
	}{
		{"conv:16:5,comp,bn,relu,pool:2,fc:128,comp,relu,fc:10,comp", []string{"pool1", "relu2"}},
		{"fc:32,relu,fc:16,relu,fc:10,comp", []string{"relu1", "relu2"}},
		{"conv:6:3:1:1,relu,pool:2,conv:8:3,relu,gap,fc:10,comp", []string{"pool1"}}, // relu1 feeds a max-pool
	}
	// producers returns the max-pools and ReLUs m lists as fused, less the
	// ReLUs inside a batch norm's op.
	producers := func(m *Model) []string {
		var names []string
		for _, l := range m.Layers {
			switch l := l.(type) {
			case *MaxPool:
				if l.quant != nil {
					names = append(names, l.Name())
				}
			case *ReLU:
				if l.quant != nil {
					names = append(names, l.Name())
				}
			}
		}
		if f := m.Fused(); !containsAll(f, names) {
			t.Errorf("Fused() = %v lacks some of %v", f, names)
		}
		return names
	}
	t.Run("cpu", func(t *testing.T) {
		for _, tc := range cases {
			bf, bu := ref.New(), ref.New()
			t.Cleanup(func() { bf.Close(); bu.Close() })
			lf, mf := trainFusion(t, tc.spec, bf, false)
			lu, mu := trainFusion(t, tc.spec, bu, true)
			// The image's quantization, and from the second step on (the
			// quantizers calibrated) the producers' ops ran fused; none unfused.
			fr, ur := fusedQuantRuns(bf), fusedQuantRuns(bu)
			if fr[0] == 0 || (len(tc.producers) > 0) != (fr[1]+fr[2] > 0) || ur != [3]int{} {
				t.Errorf("%s: QuantizeMinMax, MaxPoolQuant, ReLUQuant ran %v times fused, %v unfused", tc.spec, fr, ur)
			}
			if got := producers(mf); !slices.Equal(got, tc.producers) {
				t.Errorf("%s: quantizing producers %v, want %v", tc.spec, got, tc.producers)
			}
			if got := mu.Fused(); len(got) != 0 {
				t.Errorf("%s: Unfused model fused %v", tc.spec, got)
			}
			sameTraining(t, tc.spec, lf, lu, mf, mu)
		}
	})
	t.Run("vulkan", func(t *testing.T) {
		dev := openVulkan(t)
		for _, tc := range cases[:2] { // the patent net and a chain of fc layers (lavapipe is slow)
			lf, mf := trainFusion(t, tc.spec, newVulkan(t, dev), false)
			lu, mu := trainFusion(t, tc.spec, newVulkan(t, dev), true)
			if got := producers(mf); !slices.Equal(got, tc.producers) {
				t.Errorf("%s: quantizing producers %v, want %v", tc.spec, got, tc.producers)
			}
			if got := producers(mu); len(got) != 0 {
				t.Errorf("%s: Unfused model has quantizing producers %v", tc.spec, got)
			}
			closeTraining(t, tc.spec, lf, lu, mf, mu)
		}
	})
}

// containsAll reports whether every name of sub is in list.
func containsAll(list, sub []string) bool {
	for _, s := range sub {
		if !slices.Contains(list, s) {
			return false
		}
	}
	return true
}

// fusedQuantRuns returns how many times the FusedQuantize ops ran on the
// reference backend b: QuantizeMinMax, MaxPoolQuant, ReLUQuant.
func fusedQuantRuns(b *ref.Backend) [3]int {
	n := b.OpCounts()
	return [3]int{n[backend.OpQuantizeMinMax.ID], n[backend.OpMaxPoolQuant.ID], n[backend.OpReLUQuant.ID]}
}

// TestFusedWeightGradMatchesComposed trains nets with the fused weight ops
// (backend.FusedWeightGrad: QuantizeWeights for every quantized layer's
// weights, DenseGradWQ for the fc layers' weight gradients, ConvGradWQuant
// for the conv layers') and with the
// composed ops: on the reference backend, whose fused ops are the
// composition bit for bit, losses and parameters must be identical (and the
// fused ops must have run, every step, only in the fused run); on Vulkan,
// whose codes are the composition's bit for bit and whose gradients agree
// within float tolerances, within closeTraining's tolerances.
func TestFusedWeightGradMatchesComposed(t *testing.T) {
	specs := []string{
		"conv:16:5,comp,bn,relu,pool:2,fc:128,comp,relu,fc:10,comp",
		"fc:32,relu,fc:16,relu,fc:10,comp",
	}
	// runs returns how many times QuantizeWeights, DenseGradWQ and
	// ConvGradWQuant ran on b.
	runs := func(b *ref.Backend) [3]int {
		n := b.OpCounts()
		return [3]int{n[backend.OpQuantizeWeights.ID], n[backend.OpDenseGradWQ.ID], n[backend.OpConvGradWQuant.ID]}
	}
	t.Run("cpu", func(t *testing.T) {
		for _, spec := range specs {
			bf, bu := ref.New(), ref.New()
			t.Cleanup(func() { bf.Close(); bu.Close() })
			lf, mf := trainFusion(t, spec, bf, false)
			lu, mu := trainFusion(t, spec, bu, true)
			// 3 steps: every quantized layer's weights, every fc and
			// conv layer's gradient.
			var layers, fcs, convs int
			for _, l := range mf.Layers {
				if _, ok := l.(quantLayer); ok {
					layers++
				}
				switch l.(type) {
				case *Linear:
					fcs++
				case *Conv2D:
					convs++
				}
			}
			want := [3]int{3 * layers, 3 * fcs, 3 * convs}
			if fr, ur := runs(bf), runs(bu); fr != want || ur != [3]int{} {
				t.Errorf("%s: QuantizeWeights, DenseGradWQ, ConvGradWQuant ran %v times fused (want %v), %v unfused", spec, fr, want, ur)
			}
			sameTraining(t, spec, lf, lu, mf, mu)
		}
	})
	t.Run("vulkan", func(t *testing.T) {
		dev := openVulkan(t)
		spec := specs[0] // the patent net (lavapipe is slow)
		lf, mf := trainFusion(t, spec, newVulkan(t, dev), false)
		lu, mu := trainFusion(t, spec, newVulkan(t, dev), true)
		closeTraining(t, spec, lf, lu, mf, mu)
	})
}
