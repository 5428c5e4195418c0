package vk

import "math"

func f32bits(v float32) uint32 { return math.Float32bits(v) }

// shapeCache keeps a Backend's scratch entries per shape (a, b): the
// entries of the last maxGemmDeqShapes shapes asked for, the oldest
// evicted when a new shape needs room.
type shapeCache[T any] struct {
	keys [][2]int
	vals []T
}

// get returns the entry of shape (a, b) and whether it was just added
// (zero; the caller fills it, or drops it with pop). drop frees the
// tensors of an evicted entry. Pointers stay valid until the next get.
func (c *shapeCache[T]) get(a, b int, drop func(*T)) (*T, bool) {
	key := [2]int{a, b}
	for i, k := range c.keys {
		if k == key {
			return &c.vals[i], false
		}
	}
	if len(c.keys) == maxGemmDeqShapes {
		drop(&c.vals[0])
		c.keys = append(c.keys[:0], c.keys[1:]...)
		c.vals = append(c.vals[:0], c.vals[1:]...)
	}
	var zero T
	c.keys = append(c.keys, key)
	c.vals = append(c.vals, zero)
	return &c.vals[len(c.vals)-1], true
}

// pop removes the newest entry (one get added whose tensors could not be
// made).
func (c *shapeCache[T]) pop() {
	c.keys = c.keys[:len(c.keys)-1]
	c.vals = c.vals[:len(c.vals)-1]
}
