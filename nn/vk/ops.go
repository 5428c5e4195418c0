package vk

import "github.com/vktrain/vktrain/nn/backend"

// record notes a gpu recording error under op, or counts the operation.
func (b *Backend) record(op string, err error) {
	if err != nil {
		b.failf(op, "%v", err)
		return
	}
	b.pending++
}

// Fill sets every element of the F32 tensor t to v.
func (b *Backend) Fill(t backend.Tensor, v float32) {
	if _, ok := backend.OpFill.Check(&b.err, b, backend.Params{}, t); !ok {
		return
	}
	b.record("Fill", b.seq.Fill(tensor(t).st.buf, f32bits(v)))
}

// Copy copies src into dst (same dtype and length; dst may be src).
func (b *Backend) Copy(dst, src backend.Tensor) {
	if _, ok := backend.OpCopy.Check(&b.err, b, backend.Params{}, dst, src); !ok {
		return
	}
	const op = "Copy"
	d, s := tensor(dst), tensor(src)
	if d.st == s.st {
		if d.dt != backend.Q8 || s.st.q == qWide || d.cols() == s.cols() || (d.cols()%4 == 0 && s.cols()%4 == 0) {
			return // same elements in the same place
		}
	}
	if d.dt != backend.Q8 {
		b.record(op, b.seq.Copy(d.st.buf, s.st.buf, int64(s.Len())*4))
		return
	}
	b.copyQ8(d, s)
}

// copyQ8 copies codes between Q8 tensors, whose row padding may differ.
func (b *Backend) copyQ8(d, s *Tensor) {
	const op = "Copy"
	if s.st.q == qWide || s.cols() == d.cols() || (s.cols()%4 == 0 && d.cols()%4 == 0) {
		size := s.packedBytes()
		if s.st.q == qWide {
			size = int64(s.Len()) * 4
		}
		if d.st == s.st {
			return
		}
		if d.st.bytes < size {
			if err := b.grow(d.st, size); err != nil {
				b.failf(op, "%v", err)
				return
			}
		}
		d.st.q = s.st.q
		b.record(op, b.seq.Copy(d.st.buf, s.st.buf, size))
		return
	}
	// Different row padding: repack on the host (rare).
	v := make([]int32, s.Len())
	if err := b.ReadI32(s, v); err != nil {
		b.failf(op, "%v", err)
		return
	}
	if err := b.WriteI32(d, v); err != nil {
		b.failf(op, "%v", err)
	}
}
