package quant

import (
	"fmt"
	"strings"
)

// Method selects how Calibrate derives a clip range from data.
type Method int

const (
	// MethodMinMax uses the data's exact minimum and maximum.
	MethodMinMax Method = iota
	// MethodPercentile keeps the central DefaultPercentile of the mass of a
	// DefaultBins histogram (Histogram.Percentile).
	MethodPercentile
	// MethodMSE picks the clip range minimising the expected quantization
	// MSE on a DefaultBins histogram (Histogram.MinimizeMSE).
	MethodMSE
)

// Calibration defaults.
const (
	// DefaultBins is the histogram size Calibrate uses, and the upper bound
	// for CalibratePerChannel.
	DefaultBins = 2048
	// MinChannelBins is the lower bound on the per-channel histogram size.
	MinChannelBins = 64
	// DefaultPercentile is the mass MethodPercentile keeps.
	DefaultPercentile = 0.9999
)

var methodNames = [...]string{MethodMinMax: "minmax", MethodPercentile: "percentile", MethodMSE: "mse"}

// String returns "minmax", "percentile" or "mse" ("Method(n)" otherwise).
func (m Method) String() string {
	if m >= 0 && int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// ParseMethod parses a Method name as printed by String, case-insensitively;
// "min-max" and "min_max" are accepted for MethodMinMax.
func ParseMethod(name string) (Method, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "minmax", "min-max", "min_max":
		return MethodMinMax, nil
	case "percentile":
		return MethodPercentile, nil
	case "mse":
		return MethodMSE, nil
	}
	return 0, fmt.Errorf("quant: unknown calibration method %q (want minmax, percentile or mse)", name)
}

// Set parses name into m, so that *Method satisfies flag.Value.
func (m *Method) Set(name string) error {
	v, err := ParseMethod(name)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func (m Method) valid() error {
	if m < 0 || int(m) >= len(methodNames) {
		return fmt.Errorf("quant: unknown calibration method %v", m)
	}
	return nil
}

// clipRange returns the clip range of x for method m, using a histogram of
// the given size where the method needs one.
func clipRange(x []float32, s Scheme, m Method, bins int, symmetric bool) (lo, hi float32, err error) {
	lo, hi, err = MinMax(x)
	if err != nil || m == MethodMinMax {
		return lo, hi, err
	}
	h := &Histogram{Lo: lo, Hi: hi, Counts: make([]uint64, bins)}
	h.Add(x)
	switch {
	case m == MethodPercentile:
		lo, hi = h.Percentile(DefaultPercentile)
	case symmetric:
		lo, hi = h.MinimizeMSESymmetric(s)
	default:
		lo, hi = h.MinimizeMSE(s)
	}
	return lo, hi, nil
}

func calibrate(x []float32, s Scheme, m Method, bins int, symmetric bool) (Params, error) {
	lo, hi, err := clipRange(x, s, m, bins, symmetric)
	if err != nil {
		return Params{}, err
	}
	if symmetric {
		return FromMinMaxSymmetric(lo, hi, s), nil
	}
	return FromMinMax(lo, hi, s), nil
}

// Calibrate returns affine Params (FromMinMax) for the whole tensor x.
// Errors: invalid s or m, empty x (ErrEmpty), NaN or Inf in x (ErrNonFinite).
// All-equal and all-zero data are fine (see FromMinMax).
func Calibrate(x []float32, s Scheme, m Method) (Params, error) {
	return calibrateTensor(x, s, m, false)
}

// CalibrateSymmetric is Calibrate with Zero = 0 (FromMinMaxSymmetric; for
// MethodMSE the symmetric search MinimizeMSESymmetric).
func CalibrateSymmetric(x []float32, s Scheme, m Method) (Params, error) {
	return calibrateTensor(x, s, m, true)
}

func calibrateTensor(x []float32, s Scheme, m Method, symmetric bool) (Params, error) {
	if err := s.Validate(); err != nil {
		return Params{}, err
	}
	if err := m.valid(); err != nil {
		return Params{}, err
	}
	p, err := calibrate(x, s, m, DefaultBins, symmetric)
	if err != nil {
		return Params{}, fmt.Errorf("quant: calibrate %s: %w", m, err)
	}
	return p, nil
}

// CalibratePerChannel returns one Params per channel of the channel-major
// tensor w: channel c is w[c*K:(c+1)*K] with K = len(w)/channels. With
// symmetric every channel gets Zero = 0. Histogram methods use
// clamp(K, MinChannelBins, DefaultBins) bins per channel.
// Errors: invalid s or m, channels < 1, len(w) not a positive multiple of
// channels, NaN or Inf in a channel (the error names the channel).
func CalibratePerChannel(w []float32, channels int, s Scheme, m Method, symmetric bool) ([]Params, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := m.valid(); err != nil {
		return nil, err
	}
	if channels < 1 {
		return nil, fmt.Errorf("quant: per-channel calibration needs at least 1 channel, got %d", channels)
	}
	if len(w) == 0 || len(w)%channels != 0 {
		return nil, fmt.Errorf("quant: %d weights do not split into %d equal non-empty channels", len(w), channels)
	}
	k := len(w) / channels
	bins := min(max(k, MinChannelBins), DefaultBins)
	ps := make([]Params, channels)
	for c := range ps {
		p, err := calibrate(w[c*k:(c+1)*k], s, m, bins, symmetric)
		if err != nil {
			return nil, fmt.Errorf("quant: calibrate %s channel %d of %d: %w", m, c, channels, err)
		}
		ps[c] = p
	}
	return ps, nil
}
