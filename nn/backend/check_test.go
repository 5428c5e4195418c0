package backend

import (
	"testing"
)

func TestCheckShape(t *testing.T) {
	for _, s := range [][]int{nil, {}, {2, 0}, {-1}, {1 << 40, 1 << 40}} {
		if CheckShape(s) == nil {
			t.Errorf("CheckShape(%v) = nil, want an error", s)
		}
	}
	if err := CheckShape([]int{2, 3}); err != nil {
		t.Errorf("CheckShape([2 3]) = %v", err)
	}
}
