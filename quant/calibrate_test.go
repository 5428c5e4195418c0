package quant

import (
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMethodNames(t *testing.T) {
	for _, m := range []Method{MethodMinMax, MethodPercentile, MethodMSE} {
		got, err := ParseMethod(strings.ToUpper(m.String()))
		if err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %v, %v", m.String(), got, err)
		}
	}
	if m, err := ParseMethod("min-max"); err != nil || m != MethodMinMax {
		t.Errorf("min-max: %v %v", m, err)
	}
	if _, err := ParseMethod("kl"); err == nil || !strings.Contains(err.Error(), `"kl"`) {
		t.Errorf("unknown name: %v", err)
	}
	if Method(7).String() != "Method(7)" {
		t.Errorf("String of unknown method: %s", Method(7))
	}
	var m Method
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Var(&m, "calib", "")
	if err := fs.Parse([]string{"-calib", "mse"}); err != nil || m != MethodMSE {
		t.Errorf("flag.Value: %v %v", m, err)
	}
}

func TestCalibrateDegenerate(t *testing.T) {
	inputs := map[string][]float32{
		"all equal":       {2.5, 2.5, 2.5, 2.5},
		"all equal neg":   {-1, -1},
		"all zero":        make([]float32, 100),
		"single":          {0.3},
		"single zero":     {0},
		"single negative": {-7},
	}
	for name, x := range inputs {
		for _, s := range allSchemes() {
			for _, m := range []Method{MethodMinMax, MethodPercentile, MethodMSE} {
				for _, sym := range []bool{false, true} {
					var p Params
					var err error
					if sym {
						p, err = CalibrateSymmetric(x, s, m)
					} else {
						p, err = Calibrate(x, s, m)
					}
					if err != nil {
						t.Fatalf("%s %v %v: %v", name, s, m, err)
					}
					checkParams(t, name, p, s)
					if sym || (!s.Signed && x[0] < 0) {
						continue
					}
					for _, v := range x {
						got := DequantizeValue(QuantizeValue(v, p, s), p)
						if math.Abs(float64(got-v)) > float64(p.Scale)*0.5001 {
							t.Errorf("%s %v %v: %v round trips to %v (params %+v)", name, s, m, v, got, p)
						}
					}
				}
			}
		}
	}
	bad := map[string][]float32{
		"NaN": {1, float32(math.NaN())},
		"Inf": {float32(math.Inf(1)), 1},
	}
	for name, x := range bad {
		for _, m := range []Method{MethodMinMax, MethodPercentile, MethodMSE} {
			if _, err := Calibrate(x, Weights(8), m); !errors.Is(err, ErrNonFinite) {
				t.Errorf("%s %v: err = %v, want ErrNonFinite", name, m, err)
			}
		}
	}
	if _, err := Calibrate(nil, Weights(8), MethodMinMax); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := Calibrate([]float32{1}, Weights(9), MethodMinMax); !errors.Is(err, ErrScheme) {
		t.Errorf("bad scheme: %v", err)
	}
	if _, err := Calibrate([]float32{1}, Weights(8), Method(-1)); err == nil {
		t.Error("bad method accepted")
	}
}

func TestCalibratePerChannel(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const channels, k = 6, 50
	w := make([]float32, channels*k)
	for c := range channels {
		amp := float64(c + 1)
		for i := range k {
			w[c*k+i] = float32(r.NormFloat64() * amp)
		}
	}
	w[3*k+7] = 0 // a channel that is not special
	for i := range k {
		w[5*k+i] = 0 // an all-zero channel
	}
	s := Weights(8)
	for _, m := range []Method{MethodMinMax, MethodPercentile, MethodMSE} {
		for _, sym := range []bool{false, true} {
			ps, err := CalibratePerChannel(w, channels, s, m, sym)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != channels {
				t.Fatalf("%d params", len(ps))
			}
			for c, p := range ps {
				checkParams(t, "per channel", p, s)
				if sym && p.Zero != 0 {
					t.Errorf("%v channel %d: symmetric Zero %d", m, c, p.Zero)
				}
				if m == MethodMinMax {
					var want Params
					if sym {
						want, _ = CalibrateSymmetric(w[c*k:(c+1)*k], s, m)
					} else {
						want, _ = Calibrate(w[c*k:(c+1)*k], s, m)
					}
					if p != want {
						t.Errorf("channel %d: %+v, per-tensor on the slice %+v", c, p, want)
					}
				}
			}
			if ps[5] != Degenerate {
				t.Errorf("%v: all-zero channel %+v", m, ps[5])
			}
			if !(ps[4].Scale > ps[0].Scale) {
				t.Errorf("%v: wider channel has scale %v <= %v", m, ps[4].Scale, ps[0].Scale)
			}
		}
	}
	if _, err := CalibratePerChannel(w, 7, s, MethodMinMax, false); err == nil {
		t.Error("indivisible length accepted")
	}
	if _, err := CalibratePerChannel(w, 0, s, MethodMinMax, false); err == nil {
		t.Error("0 channels accepted")
	}
	if _, err := CalibratePerChannel(nil, 2, s, MethodMinMax, false); err == nil {
		t.Error("empty weights accepted")
	}
	w[4*k+2] = float32(math.NaN())
	_, err := CalibratePerChannel(w, channels, s, MethodMSE, false)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "channel 4") {
		t.Errorf("NaN in channel 4: %v", err)
	}
}
