package data

import (
	"fmt"
	"math"
	"strconv"
)

// Set is an in-memory labelled image set.
//
// Pixel layout: image i occupies Pix[i*H*W*C : (i+1)*H*W*C], row-major HWC
// (channel fastest), so the byte of channel c at row y, column x of image i
// is Pix[((i*H+y)*W+x)*C+c]. Labels[i] is the class of image i, in
// [0, Classes). ClassNames is either empty or has exactly Classes entries.
//
// A Set with N == 0 is valid (an empty test split, for example); H, W and C
// are still positive then.
type Set struct {
	Name       string
	N, H, W, C int
	Pix        []uint8
	Labels     []uint8
	Classes    int
	ClassNames []string
}

// ImageSize returns H*W*C, the number of bytes (and of float32 values in a
// batch) per image.
func (s *Set) ImageSize() int { return s.H * s.W * s.C }

// Image returns the bytes of image i (a sub-slice of Pix, not a copy).
// It panics if i is out of range, like a slice index.
func (s *Set) Image(i int) []uint8 {
	sz := s.ImageSize()
	return s.Pix[i*sz : (i+1)*sz : (i+1)*sz]
}

// Validate checks that the dimensions, buffer lengths, labels and class names
// agree, and returns an error naming the first thing that does not.
func (s *Set) Validate() error {
	if s == nil {
		return fmt.Errorf("data: nil set")
	}
	name := s.Name
	if name == "" {
		name = "unnamed set"
	}
	switch {
	case s.N < 0:
		return fmt.Errorf("data: %s: negative image count %d", name, s.N)
	case s.H <= 0 || s.W <= 0 || s.C <= 0:
		return fmt.Errorf("data: %s: image dimensions %dx%dx%d (HxWxC) must all be positive", name, s.H, s.W, s.C)
	case s.Classes <= 0 || s.Classes > 256:
		return fmt.Errorf("data: %s: class count %d not in [1, 256]", name, s.Classes)
	}
	sz := s.ImageSize()
	if s.N > 0 && sz > math.MaxInt/s.N {
		return fmt.Errorf("data: %s: %d images of %d bytes overflow int", name, s.N, sz)
	}
	if len(s.Pix) != s.N*sz {
		return fmt.Errorf("data: %s: Pix has %d bytes, want N*H*W*C = %d*%d*%d*%d = %d",
			name, len(s.Pix), s.N, s.H, s.W, s.C, s.N*sz)
	}
	if len(s.Labels) != s.N {
		return fmt.Errorf("data: %s: %d labels for %d images", name, len(s.Labels), s.N)
	}
	if len(s.ClassNames) != 0 && len(s.ClassNames) != s.Classes {
		return fmt.Errorf("data: %s: %d class names for %d classes", name, len(s.ClassNames), s.Classes)
	}
	for i, l := range s.Labels {
		if int(l) >= s.Classes {
			return fmt.Errorf("data: %s: label %d of image %d out of range [0, %d)", name, l, i, s.Classes)
		}
	}
	return nil
}

// Subset returns a new Set holding copies of the images idx, in that order
// (indices may repeat). Name, dimensions and classes are kept. It panics if
// an index is out of [0, N): that is a programmer mistake.
func (s *Set) Subset(idx []int) *Set {
	sz := s.ImageSize()
	out := &Set{
		Name: s.Name, N: len(idx), H: s.H, W: s.W, C: s.C,
		Pix:     make([]uint8, len(idx)*sz),
		Labels:  make([]uint8, len(idx)),
		Classes: s.Classes, ClassNames: s.ClassNames,
	}
	for j, i := range idx {
		if i < 0 || i >= s.N {
			panic(fmt.Sprintf("data: Subset index %d out of range [0, %d)", i, s.N))
		}
		copy(out.Pix[j*sz:(j+1)*sz], s.Pix[i*sz:(i+1)*sz])
		out.Labels[j] = s.Labels[i]
	}
	return out
}

// ClassCounts returns the number of images of each class.
func (s *Set) ClassCounts() []int {
	c := make([]int, s.Classes)
	for _, l := range s.Labels {
		if int(l) < len(c) {
			c[l]++
		}
	}
	return c
}

// Split divides s into two sets, stratified by class: of each class's images,
// round(frac*count) go to the second set, but never all of a class's images
// (the first set keeps at least one). Which images go where is decided by a
// permutation seeded with seed; within each result the images keep their
// order in s. frac must be in [0, 1).
func (s *Set) Split(frac float64, seed uint64) (a, b *Set, err error) {
	if !(frac >= 0 && frac < 1) {
		return nil, nil, fmt.Errorf("data: split fraction %v not in [0, 1)", frac)
	}
	byClass := make([][]int, s.Classes)
	for i, l := range s.Labels {
		if int(l) >= s.Classes {
			return nil, nil, fmt.Errorf("data: %s: label %d of image %d out of range [0, %d)", s.Name, l, i, s.Classes)
		}
		byClass[l] = append(byClass[l], i)
	}
	inB := make([]bool, s.N)
	for c, members := range byClass {
		k := int(math.Round(frac * float64(len(members))))
		if k >= len(members) {
			k = len(members) - 1
		}
		if k <= 0 {
			continue
		}
		// Each class gets its own stream so that adding images to one class
		// does not move the split of another.
		p := permutation(len(members), seed, uint64(c)+1<<32)
		for _, j := range p[:k] {
			inB[members[j]] = true
		}
	}
	var ia, ib []int
	for i := range s.N {
		if inB[i] {
			ib = append(ib, i)
		} else {
			ia = append(ia, i)
		}
	}
	return s.Subset(ia), s.Subset(ib), nil
}

// defaultClassNames returns "0", "1", ... for n classes.
func defaultClassNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names
}
