package gpu

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/shaders"
)

// openValidated is gputest.Open for this package's internal tests (gputest imports gpu).
func openValidated(t *testing.T) *Device {
	t.Helper()
	d, err := Open(Options{DeviceIndex: -1, Validation: true})
	if err != nil {
		if (errors.Is(err, ErrNoVulkan) || errors.Is(err, ErrNoDevice)) && os.Getenv("CI") == "" {
			t.Skipf("no Vulkan here (%v)", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		if m := d.ValidationMessages(); len(m) > 0 {
			t.Errorf("validation:\n%s", strings.Join(m, "\n"))
		}
	})
	return d
}

// The staging path (discrete GPUs) is exercised on any device by turning off the
// mapping of Storage buffers.
func TestStagingRoundTrip(t *testing.T) {
	d := openValidated(t)
	d.unified = false
	for _, size := range []int64{1, 5, 4096, stagingSize + 13} {
		b, err := d.NewBuffer(size, Storage)
		if err != nil {
			t.Fatal(err)
		}
		if b.Mapped() != nil {
			t.Fatal("Storage buffer mapped with unified memory off")
		}
		src := make([]byte, size)
		for i := range src {
			src[i] = byte(i*7 + 3)
		}
		if err := b.Write(0, src); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, size)
		if err := b.Read(0, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, src) {
			t.Fatalf("%d bytes: staged round trip differs", size)
		}
		if size > 2 {
			if err := b.Write(1, []byte{9}); err != nil {
				t.Fatal(err)
			}
			var two [2]byte
			if err := b.Read(0, two[:]); err != nil {
				t.Fatal(err)
			}
			if two != [2]byte{src[0], 9} {
				t.Fatalf("staged partial write: %v", two)
			}
		}
		b.Close()
	}
}

// Recording the same work again after Reset creates no Vulkan objects.
func TestResetCreatesNothing(t *testing.T) {
	d := openValidated(t)
	code, err := shaders.SPIRV("test_saxpy")
	if err != nil {
		t.Fatal(err)
	}
	k, err := d.NewKernel(code, KernelSpec{Name: "saxpy", Bindings: 2, PushSize: 8, Spec: []uint32{64}})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := d.NewBuffer(4096, Storage)
	y, _ := d.NewBuffer(4096, Storage)
	s, err := d.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	record := func() {
		for i := 0; i < 150; i++ { // more than one descriptor pool's worth of sets
			a, b := x, y
			if i%2 == 1 {
				a, b = y, x
			}
			if err := s.Dispatch(k, []*Buffer{a, b}, Push(uint32(1024), float32(0.5)), 16, 1, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
	}
	record()
	pools, qpools, sets := len(s.dpools), len(s.qpools), len(s.sets[layoutKey{n: 2}].entries)
	for i := 0; i < 3; i++ {
		if err := s.Reset(); err != nil {
			t.Fatal(err)
		}
		record()
	}
	if len(s.dpools) != pools || len(s.qpools) != qpools || len(s.sets[layoutKey{n: 2}].entries) != sets {
		t.Errorf("after Reset: descriptor pools %d->%d, query pools %d->%d, sets %d->%d",
			pools, len(s.dpools), qpools, len(s.qpools), sets, len(s.sets[layoutKey{n: 2}].entries))
	}
	if pools < 2 || sets != 150 {
		t.Errorf("expected 150 sets over several pools, got %d sets in %d pools", sets, pools)
	}
}

// The validation sink really collects messages: a workgroup larger than the device
// allows is a validation error.
func TestValidationCatchesErrors(t *testing.T) {
	d, err := Open(Options{DeviceIndex: -1, Validation: true})
	if err != nil {
		if (errors.Is(err, ErrNoVulkan) || errors.Is(err, ErrNoDevice)) && os.Getenv("CI") == "" {
			t.Skipf("no Vulkan here (%v)", err)
		}
		t.Fatal(err)
	}
	defer d.Close()
	code, err := shaders.SPIRV("test_saxpy")
	if err != nil {
		t.Fatal(err)
	}
	tooBig := d.Info().Limits.MaxComputeWorkGroupInvocations * 2
	k, err := d.NewKernel(code, KernelSpec{Bindings: 2, PushSize: 8, Spec: []uint32{tooBig}})
	if err == nil {
		k.Close()
	}
	if len(d.ValidationMessages()) == 0 {
		t.Errorf("workgroup size %d passed validation silently (kernel error: %v)", tooBig, err)
	}
}
