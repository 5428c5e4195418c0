package nn

import "github.com/vktrain/vktrain/nn/backend"

// Quantization fused into the op that produces its input
// (backend.FusedQuantize). A quantized layer (conv, fc, dw) computes the
// statistics and the codes of its input: QuantizeMinMax in one op where
// the backend has the ability, else MinMax then Quantize. Where its input
// is the output of a max-pool or of a ReLU (one not already inside a
// batch norm's op) that only it reads, the producer does that work in its
// own op instead (MaxPoolQuant, ReLUQuant): it asks the consumer for the
// tensors and spec of an input of its output's shape (quantConsumer), and
// hands the codes over (quantFeed), which the consumer takes only for the
// very tensor it is given in the same pass.

// quantConsumer is a quantized layer whose input codes and statistics a
// quantizing producer may write.
type quantConsumer interface {
	Layer
	// quantInput returns the layer's tensors for the codes and the
	// statistics of an input of shape in on b, and its input spec; ok is
	// false where the layer must quantize its input itself (float mode, or
	// an input quantizer not yet calibrated: that takes the host values of
	// the first batch).
	quantInput(b backend.Backend, in []int) (q, stats backend.Tensor, p backend.QuantSpec, ok bool, err error)
	// feed returns the hand-over of the layer's input codes.
	feed() *quantFeed
}

// handOver records that another layer already did part of a layer's work
// for the tensor t in this pass (its input or its gradient): set by the
// layer that did it, taken by the layer whose work it was, only for the
// very tensor it was set for, and cleared by the taking, so that work is
// never skipped for another tensor nor on the strength of an earlier pass.
type handOver struct{ t backend.Tensor }

// set records that the work for t is done.
func (h *handOver) set(t backend.Tensor) { h.t = t }

// take reports whether the work for t was done, clearing the hand-over.
func (h *handOver) take(t backend.Tensor) bool {
	ok := h.t != nil && h.t == t
	h.t = nil
	return ok
}

// statsFeed is the hand-over of a batch norm's input statistics from the
// conv that produced its input (through a compensation layer) and
// gathered them (backend.FusedStats): set by the conv after
// ConvIDequantStats for its output x, cleared by it whenever it runs
// otherwise, taken by the batch norm only for the same x.
type statsFeed struct {
	x  handOver
	st backend.Tensor
}

// set records that st holds the statistics of x.
func (f *statsFeed) set(x, st backend.Tensor) { f.x.set(x); f.st = st }

// take returns the statistics of x, if they were handed over, clearing
// the hand-over.
func (f *statsFeed) take(x backend.Tensor) (backend.Tensor, bool) {
	if !f.x.take(x) {
		return nil, false
	}
	return f.st, true
}

// quantFeed is the hand-over of a quantized layer's input codes from its
// producer: the producer's output x and the tensors its fused op wrote.
// The producer clears it whenever it runs and sets it after a fused op; the
// consumer takes it only for the same x and its own tensors, and clears
// it, so codes are never read for another input nor from an earlier pass.
type quantFeed struct {
	x        handOver
	q, stats backend.Tensor
}

// set records that q and stats hold the codes and statistics of x.
func (f *quantFeed) set(x, q, stats backend.Tensor) { f.x.set(x); f.q, f.stats = q, stats }

// take reports whether q and stats hold the codes and statistics of x
// (written by the producer in this pass), clearing the hand-over.
func (f *quantFeed) take(x, q, stats backend.Tensor) bool {
	ok := f.x.take(x) && f.q == q && f.stats == stats
	f.q, f.stats = nil, nil
	return ok
}

// feed returns the hand-over of the layer's input codes.
func (d *dense) feed() *quantFeed { return &d.fed }

// quantizeInput writes the statistics of the layer's input x into stats
// and its codes into qx, unless its producer already did in this pass:
// QuantizeMinMax where the backend has it (and the model fuses), else
// MinMax and Quantize. xq is x viewed with qx's shape.
func (d *dense) quantizeInput(c *Context, qx, stats, x, xq backend.Tensor) {
	if d.fed.take(x, qx, stats) {
		return
	}
	spec := d.xq.Spec()
	if f := c.abil().quant; f != nil && d.fuseQuant {
		f.QuantizeMinMax(qx, stats, xq, spec)
		return
	}
	c.B.MinMax(stats, x)
	c.B.Quantize(qx, xq, spec)
}

// readyInput reports whether the layer quantizes its input with a
// calibrated quantizer (so a producer may do it).
func (d *dense) readyInput() bool { return d.wq != nil && d.xq.ready }

// quantInputFrom is quantConsumer.quantInput for a layer whose tensors
// for an input come from ws (its per-batch-size workspace).
func (d *dense) quantInputFrom(ws func() (q, stats backend.Tensor, err error)) (q, stats backend.Tensor, p backend.QuantSpec, ok bool, err error) {
	if !d.readyInput() {
		return nil, nil, p, false, nil
	}
	if q, stats, err = ws(); err != nil {
		return nil, nil, p, false, err
	}
	return q, stats, d.xq.Spec(), true, nil
}

// quantInput is quantConsumer.quantInput.
func (l *Linear) quantInput(b backend.Backend, in []int) (q, stats backend.Tensor, p backend.QuantSpec, ok bool, err error) {
	return l.quantInputFrom(func() (backend.Tensor, backend.Tensor, error) {
		s, err := l.workspace(b, in)
		if err != nil {
			return nil, nil, err
		}
		return s.qx, s.stats, nil
	})
}

// quantInput is quantConsumer.quantInput.
func (l *Conv2D) quantInput(b backend.Backend, in []int) (q, stats backend.Tensor, p backend.QuantSpec, ok bool, err error) {
	return l.quantInputFrom(func() (backend.Tensor, backend.Tensor, error) {
		s, err := l.workspace(b, in)
		if err != nil {
			return nil, nil, err
		}
		return s.qx, s.stats, nil
	})
}

// quantInput is quantConsumer.quantInput.
func (l *DepthwiseConv2D) quantInput(b backend.Backend, in []int) (q, stats backend.Tensor, p backend.QuantSpec, ok bool, err error) {
	return l.quantInputFrom(func() (backend.Tensor, backend.Tensor, error) {
		s, err := l.workspace(b, in)
		if err != nil {
			return nil, nil, err
		}
		return s.qx, s.stats, nil
	})
}

var (
	_ quantConsumer = (*Linear)(nil)
	_ quantConsumer = (*Conv2D)(nil)
	_ quantConsumer = (*DepthwiseConv2D)(nil)
)

// quantTarget returns the tensors and spec into which a producer of
// output shape out writes its consumer's input codes, and the ability
// that does it; ok is false where the producer runs its own op alone. It
// clears the consumer's hand-over first.
func quantTarget(c *Context, to quantConsumer, out []int) (f backend.FusedQuantize, q, stats backend.Tensor, p backend.QuantSpec, ok bool, err error) {
	if to == nil {
		return nil, nil, nil, p, false, nil
	}
	to.feed().set(nil, nil, nil)
	f = c.abil().quant
	if f == nil {
		return nil, nil, nil, p, false, nil
	}
	q, stats, p, ok, err = to.quantInput(c.B, out)
	return f, q, stats, p, ok && err == nil, err
}

// fuseQuant marks, unless m.Unfused, the quantized layers that compute
// their input's statistics and codes in one op (backend.FusedQuantize),
// and the max-pools and ReLUs (those not inside a batch norm's op) whose
// only reader is a quantized layer: they write that layer's input codes
// and statistics in their own op. Bind calls it after fuse (which decides
// the ReLUs inside batch norms).
func (m *Model) fuseQuant(b backend.Backend) {
	_, can := b.(backend.FusedQuantize)
	can = can && !m.Unfused
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *MaxPool:
			l.quant, l.pre = nil, handOver{}
		case *ReLU:
			l.quant = nil
		case *BatchNorm:
			l.pool = nil
		}
		if q, ok := l.(quantLayer); ok {
			d := q.core()
			d.fuseQuant = can
			d.fed = quantFeed{}
		}
	}
	if !can {
		return
	}
	for i, l := range m.Layers {
		if m.g.uses[i] != 1 {
			continue
		}
		var to quantConsumer
		for j := i + 1; j < len(m.Layers); j++ {
			if len(m.g.in[j]) == 1 && m.g.in[j][0] == i {
				if c, ok := m.Layers[j].(quantConsumer); ok && c.(quantLayer).core().wq != nil {
					to = c
				}
				break
			}
		}
		if to == nil {
			continue
		}
		switch l := l.(type) {
		case *MaxPool:
			l.quant = to
			if bn := m.poolSource(i); bn != nil && abilitiesOf(b).recompute {
				bn.pool = l
			}
		case *ReLU:
			if !l.fused {
				l.quant = to
			}
		}
	}
}

// poolSource returns the batch norm (with a compensation inside its op)
// whose output alone the max-pool at layer i reads, directly or through
// the ReLU inside the batch norm's op, or nil.
func (m *Model) poolSource(i int) *BatchNorm {
	if len(m.g.in[i]) != 1 {
		return nil
	}
	j := m.g.in[i][0]
	if r, ok := m.Layers[j].(*ReLU); ok && r.fused && m.g.uses[j] == 1 && len(m.g.in[j]) == 1 {
		j = m.g.in[j][0]
	}
	if bn, ok := m.Layers[j].(*BatchNorm); ok && bn.comp != nil && m.g.uses[j] == 1 {
		return bn
	}
	return nil
}
