package gpu_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/gpu"
)

// appendPushCase checks that AppendPush appends exactly what EncodePush
// gives for v, after a prefix it keeps.
func appendPushCase[T any](t *testing.T, name string, v T) {
	t.Helper()
	want, err := gpu.EncodePush(&v)
	if err != nil {
		t.Fatalf("%s: EncodePush: %v", name, err)
	}
	prefix := []byte{0xaa, 0xbb}
	got, err := gpu.AppendPush(append([]byte(nil), prefix...), &v)
	if err != nil {
		t.Fatalf("%s: AppendPush: %v", name, err)
	}
	if !bytes.Equal(got[:2], prefix) || !bytes.Equal(got[2:], want) {
		t.Errorf("%s: AppendPush = %x, want %x%x", name, got, prefix, want)
	}
}

func TestAppendPush(t *testing.T) {
	appendPushCase(t, "scalars", struct {
		N uint32
		A float32
		Z int32
	}{7, -1.5, -3})
	appendPushCase(t, "im2coli", im2coliPush{H: 1, W: 2, C: 3, PH: -1, PW: -2, Pad: -128, XRWords: 9})
	appendPushCase(t, "nested", struct {
		K int32
		_ uint32
		S struct {
			A uint32
			_ uint32
			V [2]float32
		}
		F [3]float32
	}{K: -1, F: [3]float32{1, 2, 3}})
	appendPushCase(t, "arrays of arrays", struct{ M [2][3]int32 }{[2][3]int32{{1, -2, 3}, {-4, 5, -6}}})
	appendPushCase(t, "empty arrays", struct {
		A [0]uint32
		N uint32
		B [0]float32
	}{N: 5}) // memory padded after the trailing empty array: the reflective path
	appendPushCase(t, "empty", struct{}{})

	if _, err := gpu.AppendPush(nil, &struct{ X uint8 }{}); err == nil || !strings.Contains(err.Error(), "not a 32-bit scalar") {
		t.Errorf("AppendPush with a uint8 field: error %v", err)
	}
	if _, err := gpu.AppendPush(nil, &struct{ P *uint32 }{}); err == nil {
		t.Error("AppendPush with a pointer field: no error")
	}
	x := uint32(1)
	if _, err := gpu.AppendPush(nil, &x); err == nil || !strings.Contains(err.Error(), "not a struct") {
		t.Errorf("AppendPush of a uint32: error %v", err)
	}
}

// TestAppendPushAllocs checks that AppendPush into a buffer with room does
// not allocate (vk encodes every dispatch's push constants with it).
func TestAppendPushAllocs(t *testing.T) {
	buf := make([]byte, 0, 128)
	p := quantizePush{N: 1, QMin: -127, QMax: 127}
	var err error
	if n := testing.AllocsPerRun(100, func() {
		p.N++
		buf, err = gpu.AppendPush(buf[:0], &p)
	}); n != 0 || err != nil {
		t.Errorf("AppendPush: %v allocations per run, error %v; want 0, nil", n, err)
	}
	if len(buf) != 52 || buf[0] != byte(p.N) {
		t.Errorf("AppendPush = %x", buf)
	}
}
