package backend

import (
	"errors"
	"fmt"
)

// CheckShape reports whether shape is a valid tensor shape: at least one
// dimension, all positive, and at most 2^62 elements.
func CheckShape(shape []int) error {
	if len(shape) == 0 {
		return errors.New("shape has no dimensions")
	}
	n := 1
	for _, d := range shape {
		if d <= 0 {
			return fmt.Errorf("shape %v: dimensions must be positive", shape)
		}
		if n > (1<<62)/d {
			return fmt.Errorf("shape %v: too many elements", shape)
		}
		n *= d
	}
	return nil
}

func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// matrixDims returns shape's matrix dimensions [R, C]: C is the last
// dimension, R the product of the others.
func matrixDims(shape []int) (r, c int) {
	c = shape[len(shape)-1]
	return shapeLen(shape) / c, c
}
