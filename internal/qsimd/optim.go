package qsimd

// Optimizer passes: the element-wise gradient threshold and the SGD update
// with momentum of nn (nn.Threshold, nn.SGD.Step), over one parameter's
// slices. Each element is computed from its own inputs by the float32
// operations of the Go definitions below, in their order (each product
// rounded: no fused multiply-add), so a vector kernel that does these
// operations lane by lane gives the same bits.

// optimKernels are the vector implementations of the optimizer passes.
// Each runs on n ≥ 1 elements: all of them where partial, else the first
// n a positive multiple of width, the rest left to the generic code.
type optimKernels struct {
	width   int
	partial bool
	// clip is Clip's loop with ntau = -tau; it returns the number of
	// elements changed.
	clip func(g *float32, n int, tau, ntau float32) int
	// sgdMomentum is SGDMomentum.
	sgdMomentum func(data, mom, grad *float32, n int, wd, m, lr float32)
}

// optimLen returns the active optimizer kernels k and the elements [0, w)
// they take of n (the generic code takes [w, n)); k is nil and w = 0
// without a kernel.
func optimLen(n int) (k *optimKernels, w int) {
	k = active.optim
	switch {
	case k == nil || n <= 0:
		return nil, 0
	case k.partial:
		return k, n
	}
	w = n / k.width * k.width
	if w == 0 {
		return nil, 0
	}
	return k, w
}

// Clip limits every element of g to [-tau, tau] in place and returns how
// many it changed: per element,
//
//	g > tau:   g = tau
//	g < -tau:  g = -tau   (else)
//
// with ordered float32 comparisons (a NaN g is left as is and not
// counted) and -tau Go's negation (the sign bit flipped). Elements not
// changed are not written.
func Clip(g []float32, tau float32) int {
	k, w := optimLen(len(g))
	n := 0
	if k != nil {
		n = k.clip(&g[0], w, tau, -tau)
	}
	return n + clipGeneric(g[w:], tau)
}

// SGDMomentum is the SGD update with momentum and weight decay of one
// parameter: per element,
//
//	gg = grad + float32(wd·data)
//	v  = float32(m·mom) + gg
//	mom = v;  data = data - float32(lr·v)
//
// each operation rounded to float32 (no fused multiply-add). mom and grad
// must be at least as long as data; only their first len(data) elements
// are read or written. The slices must not overlap.
func SGDMomentum(data, mom, grad []float32, wd, m, lr float32) {
	if len(mom) < len(data) || len(grad) < len(data) {
		panic("qsimd: SGDMomentum: slice shorter than data")
	}
	k, w := optimLen(len(data))
	if k != nil {
		k.sgdMomentum(&data[0], &mom[0], &grad[0], w, wd, m, lr)
	}
	sgdMomentumGeneric(data[w:], mom[w:len(data)], grad[w:len(data)], wd, m, lr)
}

// clipGeneric is Clip in portable Go (the loop nn.Threshold ran before).
func clipGeneric(g []float32, tau float32) int {
	n := 0
	for i, v := range g {
		if v > tau {
			g[i] = tau
			n++
		} else if v < -tau {
			g[i] = -tau
			n++
		}
	}
	return n
}

// sgdMomentumGeneric is SGDMomentum in portable Go (the loop nn.SGD.Step
// ran before).
func sgdMomentumGeneric(data, mom, grad []float32, wd, m, lr float32) {
	mom, grad = mom[:len(data)], grad[:len(data)]
	for i, g := range grad {
		g += wd * data[i]
		v := m*mom[i] + g
		mom[i] = v
		data[i] -= lr * v
	}
}
