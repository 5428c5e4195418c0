package data

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// Order produces seeded, reproducible epoch orders for a data set of N items.
// The permutation for epoch e depends only on (N, seed, e): it does not depend
// on which epochs were asked for before, so training can resume at any epoch.
// The shuffle is a Fisher–Yates shuffle driven by the PCG generator of
// math/rand/v2 (seeded with seed and e) with unbiased bounded draws done here,
// so orders stay the same across Go releases.
type Order struct {
	n    int
	seed uint64
}

// NewOrder returns an Order over n items (n >= 0) with the given seed.
// It panics if n is negative (a programmer mistake).
func NewOrder(n int, seed uint64) *Order {
	if n < 0 {
		panic(fmt.Sprintf("data: NewOrder with negative n %d", n))
	}
	return &Order{n: n, seed: seed}
}

// N returns the number of items being ordered.
func (o *Order) N() int { return o.n }

// Epoch returns the permutation of [0, N) for epoch e, a fresh slice.
func (o *Order) Epoch(e int) []int { return permutation(o.n, o.seed, uint64(e)) }

// Batches cuts the epoch-e permutation into consecutive mini-batches of size
// items; the last batch is shorter when size does not divide N, unless
// dropLast is set, in which case it is left out. The batches share one
// backing array. It panics if size <= 0 (a programmer mistake).
func (o *Order) Batches(e, size int, dropLast bool) [][]int {
	if size <= 0 {
		panic(fmt.Sprintf("data: Batches with size %d", size))
	}
	p := o.Epoch(e)
	var out [][]int
	for i := 0; i < len(p); i += size {
		j := min(i+size, len(p))
		if j-i < size && dropLast {
			break
		}
		out = append(out, p[i:j:j])
	}
	return out
}

// permutation returns a Fisher–Yates permutation of [0, n) drawn from a PCG
// stream seeded with (seed, stream).
func permutation(n int, seed, stream uint64) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	src := rand.NewPCG(seed, stream)
	for i := n - 1; i > 0; i-- {
		j := int(bounded(src, uint64(i)+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// bounded returns a uniform value in [0, n), n > 0, by Lemire's multiply and
// reject method.
func bounded(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}
