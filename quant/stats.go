package quant

import (
	"errors"
	"fmt"
	"math"
)

// ErrNonFinite is wrapped by the errors that report NaN or infinite input.
var ErrNonFinite = errors.New("quant: non-finite value")

// ErrEmpty is wrapped by the errors that report empty input.
var ErrEmpty = errors.New("quant: empty input")

// MinMax returns the smallest and largest element of x. It skips nothing:
// if any element is NaN or ±Inf it returns an error wrapping ErrNonFinite
// that names the count and the index of the first one. Empty x gives an
// error wrapping ErrEmpty.
func MinMax(x []float32) (lo, hi float32, err error) {
	if len(x) == 0 {
		return 0, 0, fmt.Errorf("%w: MinMax of no values", ErrEmpty)
	}
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	bad, first := 0, -1
	for i, v := range x {
		if !finite32(v) {
			if bad == 0 {
				first = i
			}
			bad++
			continue
		}
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	if bad > 0 {
		return 0, 0, fmt.Errorf("%w: %d of %d values are NaN or Inf, first at index %d (%v)",
			ErrNonFinite, bad, len(x), first, x[first])
	}
	return lo, hi, nil
}

// EMA is a moving-average min/max observer, used to track activation ranges
// during training. The zero value is ready to use with Momentum 0 (which
// keeps only the latest batch); a typical Momentum is 0.9 or 0.99.
type EMA struct {
	// Momentum is the weight of the old value, in [0, 1]; values outside are
	// clamped into [0, 1] and NaN counts as 0.
	Momentum float32
	// Lo and Hi are the current estimates.
	Lo, Hi float32
	// Init reports whether Update has accepted a batch yet.
	Init bool
}

// Update folds one batch's range into the estimate. The first accepted call
// sets Lo and Hi; later calls set v = m*v + (1-m)*new for each bound.
// lo > hi is swapped. A call with a NaN or infinite bound is ignored (the
// state is unchanged), so one bad batch cannot poison the observer; check
// batches with MinMax to detect them.
func (e *EMA) Update(lo, hi float32) {
	if !finite32(lo) || !finite32(hi) {
		return
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	if !e.Init {
		e.Lo, e.Hi, e.Init = lo, hi, true
		return
	}
	m := float64(e.Momentum)
	if !(m > 0) {
		m = 0
	} else if m > 1 {
		m = 1
	}
	e.Lo = float32(m*float64(e.Lo) + (1-m)*float64(lo))
	e.Hi = float32(m*float64(e.Hi) + (1-m)*float64(hi))
}

// Params returns FromMinMax(e.Lo, e.Hi, s), or Degenerate before the first
// accepted Update. It panics if s is invalid.
func (e *EMA) Params(s Scheme) Params {
	if !e.Init {
		s.Range() // validate
		return Degenerate
	}
	return FromMinMax(e.Lo, e.Hi, s)
}

// Histogram counts values in len(Counts) equal-width bins spanning [Lo, Hi].
// Bin i covers [Lo + i*w, Lo + (i+1)*w) with w = (Hi-Lo)/len(Counts); the
// last bin also holds Hi. It is plain data; NewHistogram builds one.
//
// For the estimates (Percentile, MinimizeMSE, ExpectedMSE) the mass of each
// bin is taken as spread uniformly over the bin.
type Histogram struct {
	// Lo and Hi are the range the bins span, Lo <= Hi.
	Lo, Hi float32
	// Counts holds the number of values in each bin.
	Counts []uint64
}

// NewHistogram returns a histogram of x with the given number of bins over
// the data's own [min, max]. It returns an error if bins < 1, if x is empty
// (ErrEmpty) or if x holds NaN or Inf (ErrNonFinite).
// If all values are equal (Lo == Hi) every value lands in bin 0.
func NewHistogram(x []float32, bins int) (*Histogram, error) {
	if bins < 1 {
		return nil, fmt.Errorf("quant: histogram needs at least 1 bin, got %d", bins)
	}
	lo, hi, err := MinMax(x)
	if err != nil {
		return nil, err
	}
	h := &Histogram{Lo: lo, Hi: hi, Counts: make([]uint64, bins)}
	h.Add(x)
	return h, nil
}

// binWidth returns the float64 width of one bin.
func (h *Histogram) binWidth() float64 {
	return (float64(h.Hi) - float64(h.Lo)) / float64(len(h.Counts))
}

// Add counts more values. Values below Lo go to bin 0 and values above Hi
// (including ±Inf) go to the end bins; NaN values are skipped. A histogram
// with no bins ignores Add.
func (h *Histogram) Add(x []float32) {
	n := len(h.Counts)
	if n == 0 {
		return
	}
	lo := float64(h.Lo)
	w := h.binWidth()
	for _, v := range x {
		f := float64(v)
		if f != f {
			continue
		}
		var i int
		switch {
		case f <= lo:
			i = 0
		case w <= 0 || f >= float64(h.Hi):
			i = n - 1
		default:
			i = int((f - lo) / w)
			if i >= n {
				i = n - 1
			}
		}
		h.Counts[i]++
	}
}

// Total returns the number of counted values.
func (h *Histogram) Total() uint64 {
	var t uint64
	for _, c := range h.Counts {
		t += c
	}
	return t
}

// Percentile returns the clip range that keeps the central fraction p of the
// mass, cutting (1-p)/2 from each tail, with linear interpolation inside a
// bin. p >= 1 (or NaN) returns [Lo, Hi]; p <= 0 cuts both tails to the
// median. An empty histogram returns [Lo, Hi]. Always lo <= hi.
func (h *Histogram) Percentile(p float64) (lo, hi float32) {
	total := h.Total()
	if total == 0 || !(p < 1) {
		return h.Lo, h.Hi
	}
	if p < 0 {
		p = 0
	}
	tail := (1 - p) / 2 * float64(total)
	w := h.binWidth()
	n := len(h.Counts)
	// position (in bins) from the bottom where cumulative mass reaches tail
	pos := func(counts func(int) uint64) float64 {
		var cum float64
		for i := 0; i < n; i++ {
			c := float64(counts(i))
			if cum+c > tail {
				return float64(i) + (tail-cum)/c
			}
			cum += c
		}
		return float64(n)
	}
	pl := pos(func(i int) uint64 { return h.Counts[i] })
	ph := pos(func(i int) uint64 { return h.Counts[n-1-i] })
	l := float64(h.Lo) + pl*w
	u := float64(h.Hi) - ph*w
	if l > u {
		m := (l + u) / 2
		l, u = m, m
	}
	lo, hi = float32(l), float32(u)
	lo = max(lo, h.Lo)
	hi = min(hi, h.Hi)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// ExpectedMSE returns the mean squared quantization error that fake
// quantization with p under s would give on the histogram's values, with each
// bin's mass spread uniformly over the bin. It counts both the rounding
// error inside the representable range and the clipping error outside it,
// each integrated exactly over each bin. A histogram with no mass gives 0;
// a scale that is not finite and positive gives +Inf. It panics if s is
// invalid.
func (h *Histogram) ExpectedMSE(p Params, s Scheme) float64 {
	qmin, qmax := s.Range()
	total := h.Total()
	if total == 0 {
		return 0
	}
	d := float64(p.Scale)
	if !(d > 0) || math.IsInf(d, 0) {
		return math.Inf(1)
	}
	z := int64(p.Zero)
	a := d * float64(int64(qmin)-z) // representable range [a, b]
	b := d * float64(int64(qmax)-z)
	w := h.binWidth()
	if !(w > 0) {
		// All mass at Lo.
		x := float64(h.Lo)
		q := float64(Code(h.Lo, p.Scale, p.Zero, qmin, qmax))
		e := x - d*(q-float64(z))
		return e * e
	}
	// F is an antiderivative of the squared distance to the nearest multiple
	// of d (the grid, which includes 0, in [a, b]): with t = x/d,
	// n = floor(t+1/2), r = t-n: F = d^3 (n/12 + (r^3 + 1/8)/3).
	d3 := d * d * d
	F := func(x float64) float64 {
		t := x / d
		n := math.Floor(t + 0.5)
		r := t - n
		return d3 * (n/12 + (r*r*r+0.125)/3)
	}
	cube := func(v float64) float64 { return v * v * v }
	lo := float64(h.Lo)
	var sum float64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		u := lo + float64(i)*w
		v := lo + float64(i+1)*w
		var e float64
		if u < a { // clipped to a
			e += (cube(math.Min(v, a)-a) - cube(u-a)) / 3
		}
		if v > b { // clipped to b
			e += (cube(v-b) - cube(math.Max(u, b)-b)) / 3
		}
		if iu, iv := math.Max(u, a), math.Min(v, b); iv > iu {
			e += F(iv) - F(iu)
		}
		sum += float64(c) / (v - u) * e
	}
	return sum / float64(total)
}

// MSE search grid: candidates shrink each end of the range toward 0
// geometrically, from the full range down to mseMinFrac(bins) of it.
const (
	mseJoint  = 128 // candidates shrinking both ends together
	mseSide   = 128 // candidates for one end with the other fixed
	mseRounds = 2   // coordinate-descent rounds after the joint search
	mseSym    = 256 // candidates for the symmetric search
)

// fracs returns n factors from 1 down to the smallest useful fraction,
// geometrically spaced.
func (h *Histogram) fracs(n int) []float64 {
	minFrac := 0.5 / float64(len(h.Counts))
	minFrac = math.Max(1e-6, math.Min(0.5, minFrac))
	f := make([]float64, n)
	for k := range f {
		f[k] = math.Pow(minFrac, float64(k)/float64(n-1))
	}
	return f
}

// MinimizeMSE searches clip ranges [lo, hi] for the one whose affine Params
// (FromMinMax(lo, hi, s)) give the lowest ExpectedMSE on the histogram, and
// returns it. The range always includes 0, as FromMinMax would widen it
// anyway. The search shrinks both ends together over 128 geometric
// candidates, then refines each end alone (128 candidates per end, two
// rounds of coordinate descent): about 640 evaluations of ExpectedMSE, each
// linear in the number of bins. Ties keep the wider range. A histogram with
// no mass or no extent returns [Lo, Hi]. It panics if s is invalid.
func (h *Histogram) MinimizeMSE(s Scheme) (lo, hi float32) {
	s.Range() // validate
	L := math.Min(float64(h.Lo), 0)
	H := math.Max(float64(h.Hi), 0)
	if !(H > L) || h.Total() == 0 {
		return h.Lo, h.Hi
	}
	eval := func(a, b float64) float64 {
		return h.ExpectedMSE(FromMinMax(float32(a), float32(b), s), s)
	}
	bestA, bestB := L, H
	best := eval(L, H)
	for _, f := range h.fracs(mseJoint)[1:] {
		if e := eval(L*f, H*f); e < best {
			best, bestA, bestB = e, L*f, H*f
		}
	}
	side := h.fracs(mseSide)
	for range mseRounds {
		if L < 0 {
			for _, f := range side {
				if e := eval(L*f, bestB); e < best {
					best, bestA = e, L*f
				}
			}
		}
		if H > 0 {
			for _, f := range side {
				if e := eval(bestA, H*f); e < best {
					best, bestB = e, H*f
				}
			}
		}
	}
	return float32(bestA), float32(bestB)
}

// MinimizeMSESymmetric is MinimizeMSE for symmetric Params: it searches
// t in 256 geometric steps from max(|Lo|, |Hi|) down, evaluates
// FromMinMaxSymmetric(-t, t, s) and returns (-t, t) for the best t.
// A histogram with no mass or with Lo = Hi = 0 returns [Lo, Hi].
// It panics if s is invalid.
func (h *Histogram) MinimizeMSESymmetric(s Scheme) (lo, hi float32) {
	s.Range() // validate
	T := math.Max(math.Abs(float64(h.Lo)), math.Abs(float64(h.Hi)))
	if !(T > 0) || h.Total() == 0 {
		return h.Lo, h.Hi
	}
	bestT, best := T, math.Inf(1)
	for _, f := range h.fracs(mseSym) {
		t := T * f
		if e := h.ExpectedMSE(FromMinMaxSymmetric(float32(-t), float32(t), s), s); e < best {
			best, bestT = e, t
		}
	}
	return float32(-bestT), float32(bestT)
}
