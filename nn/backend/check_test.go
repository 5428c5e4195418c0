package backend

import (
	"strings"
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

func TestCheckFirstFailureSticks(t *testing.T) {
	var err error
	c := NewCheck("Op", &err)
	c.WantLen("x", []int{2, 3}, 6, "ok")
	c.WantLen("x", nil, 5, "skipped")
	if c.Failed() {
		t.Fatalf("unexpected failure: %v", err)
	}
	c.WantMatrix("y", []int{2, 3, 4}, 6, 5)
	c.WantLen("z", []int{1}, 2, "later")
	if err == nil || err.Error() != "Op: y is [2 3 4], want a matrix [6 5]" {
		t.Fatalf("err = %v", err)
	}
	if c.Done() {
		t.Error("Done after a failure = true")
	}
	var other error
	c2 := NewCheck("Two", &other)
	c2.Failf("first")
	c2.Failf("second")
	if other.Error() != "Two: first" {
		t.Errorf("err = %v, want the first failure", other)
	}
}

func TestCheckAliasing(t *testing.T) {
	a, b, s1, s2 := new(int), new(int), new(int), new(int)
	var err error
	c := NewCheck("Op", &err)
	c.Input("x", a, s1)
	c.Output("y", b, s1)
	if c.Done() || err == nil || !strings.Contains(err.Error(), "output y shares storage with input x") {
		t.Errorf("in-place without MayAlias: err = %v", err)
	}
	err = nil
	c = NewCheck("Op", &err)
	c.Input("x", a, s1)
	c.Output("y", b, s1)
	c.MayAlias(a)
	if !c.Done() {
		t.Errorf("MayAlias: err = %v", err)
	}
	c = NewCheck("Op", &err)
	c.Output("y", a, s2)
	c.Output("z", b, s2)
	if c.Done() || !strings.Contains(err.Error(), "outputs y and z share storage") {
		t.Errorf("two outputs: err = %v", err)
	}
}

func TestCheckGemm(t *testing.T) {
	var err error
	c := NewCheck("Gemm", &err)
	if m, n, k := c.Gemm([]int{2, 4}, []int{3, 2}, []int{3, 4}, true, false); m != 2 || n != 4 || k != 3 || err != nil {
		t.Errorf("Gemm = %d %d %d, %v; want 2 4 3", m, n, k, err)
	}
	c.Gemm([]int{2, 4}, []int{2, 3}, []int{2, 4}, false, false)
	if err == nil || !strings.Contains(err.Error(), "inner dimensions differ") {
		t.Errorf("err = %v", err)
	}
}
