package vk

import "testing"

// TestShapeCache checks the per-shape scratch cache: a shape's entry is
// found again, the oldest of maxGemmDeqShapes+1 shapes is evicted (and
// dropped once), and pop removes an entry that was just added.
func TestShapeCache(t *testing.T) {
	var c shapeCache[int]
	var dropped []int
	drop := func(v *int) { dropped = append(dropped, *v) }
	for i := range maxGemmDeqShapes {
		v, fresh := c.get(i, 1, drop)
		if !fresh {
			t.Fatalf("shape %d: not fresh", i)
		}
		*v = 100 + i
	}
	if v, fresh := c.get(3, 1, drop); fresh || *v != 103 {
		t.Fatalf("shape 3 again: %d, fresh %v", *v, fresh)
	}
	if v, fresh := c.get(99, 1, drop); !fresh || *v != 0 || len(dropped) != 1 || dropped[0] != 100 {
		t.Fatalf("a new shape over the limit: %d, fresh %v, dropped %v", *v, fresh, dropped)
	}
	if _, fresh := c.get(0, 1, drop); !fresh {
		t.Fatal("the evicted shape is still cached")
	}
	c.pop()
	if _, fresh := c.get(0, 1, drop); !fresh || len(c.keys) != maxGemmDeqShapes {
		t.Fatalf("after pop: fresh %v, %d entries", fresh, len(c.keys))
	}
}
