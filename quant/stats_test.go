package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMinMax(t *testing.T) {
	lo, hi, err := MinMax([]float32{3, -1, 7, 0})
	if err != nil || lo != -1 || hi != 7 {
		t.Errorf("MinMax = %v, %v, %v", lo, hi, err)
	}
	lo, hi, err = MinMax([]float32{-5})
	if err != nil || lo != -5 || hi != -5 {
		t.Errorf("single: MinMax = %v, %v, %v", lo, hi, err)
	}
	if _, _, err := MinMax(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: err = %v", err)
	}
	x := []float32{1, 2, float32(math.NaN()), 4, float32(math.Inf(-1)), 0}
	_, _, err = MinMax(x)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("NaN: err = %v, want ErrNonFinite", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "index 2") || !strings.Contains(msg, "2 of 6") {
		t.Errorf("error %q does not name the first index and the count", msg)
	}
}

func TestEMA(t *testing.T) {
	e := EMA{Momentum: 0.9}
	if p := e.Params(Activations(8)); p != Degenerate {
		t.Errorf("uninitialised EMA params %+v", p)
	}
	e.Update(-1, 2)
	if !e.Init || e.Lo != -1 || e.Hi != 2 {
		t.Fatalf("first update: %+v", e)
	}
	e.Update(-3, 12)
	if math.Abs(float64(e.Lo)-(-1.2)) > 1e-6 || math.Abs(float64(e.Hi)-3) > 1e-6 {
		t.Errorf("second update: %+v, want Lo -1.2 Hi 3", e)
	}
	before := e
	e.Update(float32(math.NaN()), 1)
	e.Update(0, float32(math.Inf(1)))
	if e != before {
		t.Errorf("non-finite update changed the state: %+v", e)
	}
	e.Update(20, -20) // swapped
	if e.Lo >= before.Lo || e.Hi <= before.Hi {
		t.Errorf("swapped update: %+v", e)
	}
	checkParams(t, "EMA", e.Params(Activations(8)), Activations(8))
	// Momentum outside [0, 1] is clamped.
	f := EMA{Momentum: 5}
	f.Update(0, 1)
	f.Update(0, 100)
	if f.Hi != 1 {
		t.Errorf("momentum 5 acts as 1: Hi = %v, want 1", f.Hi)
	}
	g := EMA{Momentum: -1}
	g.Update(0, 1)
	g.Update(0, 100)
	if g.Hi != 100 {
		t.Errorf("momentum -1 acts as 0: Hi = %v, want 100", g.Hi)
	}
}

func TestHistogramAdd(t *testing.T) {
	h, err := NewHistogram([]float32{0, 1, 2, 3, 4, 9.99, 10}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{1, 1, 1, 1, 1, 0, 0, 0, 0, 2}
	for i := range want {
		if h.Counts[i] != want[i] {
			t.Fatalf("counts %v, want %v", h.Counts, want)
		}
	}
	h.Add([]float32{-5, 50, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())})
	if h.Counts[0] != 3 || h.Counts[9] != 4 || h.Total() != 11 {
		t.Errorf("outside values: counts %v", h.Counts)
	}
	if _, err := NewHistogram([]float32{1}, 0); err == nil {
		t.Error("0 bins accepted")
	}
	if _, err := NewHistogram(nil, 4); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := NewHistogram([]float32{1, float32(math.NaN())}, 4); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN: %v", err)
	}
	// All equal: everything in bin 0, estimates defined.
	h, err = NewHistogram([]float32{2, 2, 2}, 8)
	if err != nil || h.Counts[0] != 3 {
		t.Fatalf("all equal: %v %v", h, err)
	}
	if lo, hi := h.Percentile(0.99); lo != 2 || hi != 2 {
		t.Errorf("all equal percentile %v %v", lo, hi)
	}
	for _, s := range allSchemes() {
		lo, hi := h.MinimizeMSE(s)
		checkParams(t, "all-equal MSE", FromMinMax(lo, hi, s), s)
		lo, hi = h.MinimizeMSESymmetric(s)
		checkParams(t, "all-equal MSE symmetric", FromMinMaxSymmetric(lo, hi, s), s)
		if e := h.ExpectedMSE(FromMinMax(2, 2, s), s); math.IsNaN(e) {
			t.Errorf("%v: ExpectedMSE NaN", s)
		}
	}
	var empty Histogram
	empty.Add([]float32{1})
	if lo, hi := empty.Percentile(0.5); lo != 0 || hi != 0 {
		t.Error("empty histogram percentile")
	}
}

func TestPercentile(t *testing.T) {
	// 1000 values uniform on [0, 1000): one per unit.
	x := make([]float32, 1000)
	for i := range x {
		x[i] = float32(i) + 0.5
	}
	h, err := NewHistogram(x, 100)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := h.Percentile(0.9)
	// 50 values cut from each end.
	if math.Abs(float64(lo)-50.5) > 1 || math.Abs(float64(hi)-950.5) > 1 {
		t.Errorf("Percentile(0.9) = [%v, %v], want about [50, 950]", lo, hi)
	}
	if lo, hi := h.Percentile(1); lo != h.Lo || hi != h.Hi {
		t.Errorf("Percentile(1) = [%v, %v]", lo, hi)
	}
	if lo, hi := h.Percentile(math.NaN()); lo != h.Lo || hi != h.Hi {
		t.Errorf("Percentile(NaN) = [%v, %v]", lo, hi)
	}
	if lo, hi := h.Percentile(0); math.Abs(float64(lo-hi)) > 1e-3 || math.Abs(float64(lo)-500) > 10 {
		t.Errorf("Percentile(0) = [%v, %v], want the median", lo, hi)
	}
}

// TestExpectedMSEMatchesEmpirical compares the histogram's predicted error
// with the measured error of FakeQuantize on the same data.
func TestExpectedMSEMatchesEmpirical(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := make([]float32, 200000)
	for i := range x {
		x[i] = float32(r.NormFloat64()*1.5 + 0.7)
	}
	h, err := NewHistogram(x, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Scheme{Weights(2), Weights(4), Activations(4), Weights(8), Activations(8)} {
		for _, rg := range [][2]float32{{h.Lo, h.Hi}, {-1, 2}, {-3, 4}, {0, 1}} {
			p := FromMinMax(rg[0], rg[1], s)
			want := measuredMSE(x, p, s)
			got := h.ExpectedMSE(p, s)
			if math.Abs(got-want) > 0.03*want {
				t.Errorf("%v range %v: ExpectedMSE %g, measured %g", s, rg, got, want)
			}
		}
	}
}

func measuredMSE(x []float32, p Params, s Scheme) float64 {
	xh := make([]float32, len(x))
	FakeQuantize(xh, x, p, s)
	var sum float64
	for i := range x {
		d := float64(x[i]) - float64(xh[i])
		sum += d * d
	}
	return sum / float64(len(x))
}

// TestOutliersClipping measures, on Gaussian data with a few huge outliers,
// that the percentile and MSE calibrations give a lower quantization MSE than
// min/max. (At 8 bits min/max already has a small rounding error, and the
// clipped outliers' error only pays off when they are rarer than here, so the
// test uses low bit widths, where the comparison is decisive.)
func TestOutliersClipping(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x := make([]float32, 50000)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	x[100], x[2000], x[30000], x[40000] = 60, 45, -50, -70
	for _, s := range []Scheme{Weights(3), Weights(4), Activations(4), Weights(5)} {
		mse := map[Method]float64{}
		for _, m := range []Method{MethodMinMax, MethodPercentile, MethodMSE} {
			p, err := Calibrate(x, s, m)
			if err != nil {
				t.Fatal(err)
			}
			mse[m] = measuredMSE(x, p, s)
		}
		t.Logf("%v: minmax %.4f percentile %.4f mse %.4f", s, mse[MethodMinMax], mse[MethodPercentile], mse[MethodMSE])
		if !(mse[MethodPercentile] < 0.7*mse[MethodMinMax]) {
			t.Errorf("%v: percentile MSE %g not below min/max %g", s, mse[MethodPercentile], mse[MethodMinMax])
		}
		if !(mse[MethodMSE] < 0.7*mse[MethodMinMax]) {
			t.Errorf("%v: MSE-calibrated MSE %g not below min/max %g", s, mse[MethodMSE], mse[MethodMinMax])
		}
		if mse[MethodMSE] > mse[MethodPercentile]*1.05 {
			t.Errorf("%v: MSE search (%g) worse than percentile (%g)", s, mse[MethodMSE], mse[MethodPercentile])
		}
	}
}

// TestMinimizeMSENeverWorse checks that the search result is never predicted
// worse than the full range, and that the symmetric search gives Zero 0.
func TestMinimizeMSENeverWorse(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x := make([]float32, 5000)
	for i := range x {
		x[i] = float32(math.Exp(r.NormFloat64())) - 0.5 // skewed
	}
	h, err := NewHistogram(x, 512)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range allSchemes() {
		lo, hi := h.MinimizeMSE(s)
		if lo > 0 || hi < 0 {
			t.Errorf("%v: MSE range [%v, %v] excludes 0", s, lo, hi)
		}
		full := h.ExpectedMSE(FromMinMax(h.Lo, h.Hi, s), s)
		if got := h.ExpectedMSE(FromMinMax(lo, hi, s), s); got > full {
			t.Errorf("%v: MinimizeMSE %g worse than full range %g", s, got, full)
		}
		lo, hi = h.MinimizeMSESymmetric(s)
		fullS := h.ExpectedMSE(FromMinMaxSymmetric(h.Lo, h.Hi, s), s)
		if got := h.ExpectedMSE(FromMinMaxSymmetric(lo, hi, s), s); got > fullS {
			t.Errorf("%v: MinimizeMSESymmetric %g worse than full range %g", s, got, fullS)
		}
	}
}
