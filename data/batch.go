package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Norm holds per-channel mean and standard deviation on the pixel/255 scale,
// computed on training data and then applied to every split. A batch value is
// (pix/255 - Mean[c]) / Std[c]. The zero Norm (both slices empty) means no
// normalization beyond pix/255.
type Norm struct {
	Mean, Std []float32
}

// Identity returns the Norm for c channels with mean 0 and std 1, which maps
// a pixel to pix/255.
func Identity(c int) Norm {
	n := Norm{Mean: make([]float32, c), Std: make([]float32, c)}
	for i := range n.Std {
		n.Std[i] = 1
	}
	return n
}

// ComputeNorm returns the per-channel mean and population standard deviation
// of s's pixels on the pixel/255 scale. It counts a histogram of the byte
// values per channel, so the result is exact up to float64 rounding and does
// not depend on the order of the images. A channel whose std is 0 (or an
// empty set) gets std 1, so that normalizing never divides by zero.
func ComputeNorm(s *Set) Norm {
	c := s.C
	hist := make([][256]uint64, c)
	for i, v := range s.Pix {
		hist[i%c][v]++
	}
	n := Norm{Mean: make([]float32, c), Std: make([]float32, c)}
	for ch := range c {
		var cnt, sum, sum2 float64
		for v, k := range hist[ch] {
			x := float64(v) / 255
			f := float64(k)
			cnt += f
			sum += f * x
			sum2 += f * x * x
		}
		if cnt == 0 {
			n.Std[ch] = 1
			continue
		}
		mean := sum / cnt
		variance := sum2/cnt - mean*mean
		std := math.Sqrt(max(variance, 0))
		if std < 1e-12 {
			std = 1
		}
		n.Mean[ch] = float32(mean)
		n.Std[ch] = float32(std)
	}
	return n
}

// lut returns per-channel lookup tables byte -> normalized float32.
func (n Norm) lut(c int) ([][256]float32, error) {
	if len(n.Mean) == 0 && len(n.Std) == 0 {
		n = Identity(c)
	}
	if len(n.Mean) != c || len(n.Std) != c {
		return nil, fmt.Errorf("data: norm has %d means and %d stds, images have %d channels", len(n.Mean), len(n.Std), c)
	}
	t := make([][256]float32, c)
	for ch := range c {
		if !(n.Std[ch] > 0) || math.IsInf(float64(n.Std[ch]), 0) || math.IsNaN(float64(n.Mean[ch])) {
			return nil, fmt.Errorf("data: norm channel %d has mean %v std %v; std must be positive and finite", ch, n.Mean[ch], n.Std[ch])
		}
		m, sd := float64(n.Mean[ch]), float64(n.Std[ch])
		for v := range 256 {
			t[ch][v] = float32((float64(v)/255 - m) / sd)
		}
	}
	return t, nil
}

// Augment selects random training-time augmentations for BatchAug. The zero
// value does nothing.
type Augment struct {
	// Pad is the padding, in pixels, of a random crop: the image is padded
	// with zero bytes on every side and an H×W window is cut at a uniformly
	// random offset, i.e. shifted by dy, dx in [-Pad, Pad]. Zero disables it.
	Pad int
	// Flip mirrors each image left–right with probability 1/2.
	Flip bool
}

// Batch writes images idx as float32 NHWC, (pix/255 - Mean[c]) / Std[c], into
// dst, which must have length len(idx)*H*W*C, and their labels into lab,
// which must have length len(idx) or be nil (labels not wanted).
func (s *Set) Batch(dst []float32, lab []int32, idx []int, n Norm) error {
	return s.BatchAug(dst, lab, idx, n, Augment{}, nil)
}

// BatchAug is Batch with augmentation. For each image in idx order it draws,
// from rng, first the crop offsets dy then dx (when Pad > 0, each
// rng.IntN(2*Pad+1)-Pad) and then the flip (when Flip, rng.IntN(2) == 1), so a
// seeded rng reproduces a batch exactly. Padding bytes are 0 before
// normalization. rng may be nil only when aug is the zero Augment.
func (s *Set) BatchAug(dst []float32, lab []int32, idx []int, n Norm, aug Augment, rng *rand.Rand) error {
	sz := s.ImageSize()
	if len(dst) != len(idx)*sz {
		return fmt.Errorf("data: %s: batch buffer has %d floats, want %d images * %d = %d", s.Name, len(dst), len(idx), sz, len(idx)*sz)
	}
	if lab != nil && len(lab) != len(idx) {
		return fmt.Errorf("data: %s: label buffer has %d entries, want %d", s.Name, len(lab), len(idx))
	}
	if aug.Pad < 0 || aug.Pad >= s.H || aug.Pad >= s.W {
		return fmt.Errorf("data: augment pad %d not in [0, min(H, W)) = [0, %d)", aug.Pad, min(s.H, s.W))
	}
	if (aug.Pad > 0 || aug.Flip) && rng == nil {
		return fmt.Errorf("data: augmentation needs a random source, got nil")
	}
	for _, i := range idx {
		if i < 0 || i >= s.N {
			return fmt.Errorf("data: %s: image index %d out of range [0, %d)", s.Name, i, s.N)
		}
	}
	t, err := n.lut(s.C)
	if err != nil {
		return err
	}
	H, W, C := s.H, s.W, s.C
	for j, i := range idx {
		src := s.Pix[i*sz : (i+1)*sz]
		out := dst[j*sz : (j+1)*sz]
		if lab != nil {
			lab[j] = int32(s.Labels[i])
		}
		dy, dx, flip := 0, 0, false
		if aug.Pad > 0 {
			dy = rng.IntN(2*aug.Pad+1) - aug.Pad
			dx = rng.IntN(2*aug.Pad+1) - aug.Pad
		}
		if aug.Flip {
			flip = rng.IntN(2) == 1
		}
		if dy == 0 && dx == 0 && !flip {
			if C == 1 {
				t0 := &t[0]
				for k, v := range src {
					out[k] = t0[v]
				}
			} else {
				for k, v := range src {
					out[k] = t[k%C][v]
				}
			}
			continue
		}
		augmentOne(out, src, t, H, W, C, dy, dx, flip)
	}
	return nil
}

// augmentOne writes the crop (shift dy, dx, zero padding) of src, mirrored
// left–right after cropping when flip is set, through the lookup tables t.
func augmentOne(out []float32, src []uint8, t [][256]float32, H, W, C, dy, dx int, flip bool) {
	for y := range H {
		orow := out[y*W*C : (y+1)*W*C]
		sy := y + dy
		if sy < 0 || sy >= H {
			for x := range W {
				for ch := range C {
					orow[x*C+ch] = t[ch][0]
				}
			}
			continue
		}
		srow := src[sy*W*C : (sy+1)*W*C]
		for x := range W {
			sx := x + dx
			if flip {
				sx = W - 1 - x + dx
			}
			o := orow[x*C : x*C+C]
			if sx < 0 || sx >= W {
				for ch := range o {
					o[ch] = t[ch][0]
				}
				continue
			}
			p := srow[sx*C : sx*C+C]
			if C == 1 {
				o[0] = t[0][p[0]]
				continue
			}
			if C == 3 {
				o[0], o[1], o[2] = t[0][p[0]], t[1][p[1]], t[2][p[2]]
				continue
			}
			for ch := range o {
				o[ch] = t[ch][p[ch]]
			}
		}
	}
}
