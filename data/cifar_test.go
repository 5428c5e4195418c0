package data

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarRecordOf builds one record whose pixel of channel c at (y, x) is
// (label + 3*c + y + 5*x) mod 256, stored CHW.
func cifarRecordOf(label uint8) []byte {
	rec := make([]byte, 3073)
	rec[0] = label
	for c := range 3 {
		for y := range 32 {
			for x := range 32 {
				rec[1+c*1024+y*32+x] = cifarValue(label, c, y, x)
			}
		}
	}
	return rec
}

func cifarValue(label uint8, c, y, x int) uint8 { return uint8(int(label) + 3*c + y + 5*x) }

func cifarBatch(labels ...uint8) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, cifarRecordOf(l)...)
	}
	return b
}

func TestReadCIFAR(t *testing.T) {
	raw := cifarBatch(3, 9, 0)
	for name, in := range map[string][]byte{"raw": raw, "gzip": gzipBytes(t, raw)} {
		n, pix, lab, err := ReadCIFAR(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n != 3 || !slices.Equal(lab, []uint8{3, 9, 0}) || len(pix) != 3*3072 {
			t.Fatalf("%s: n %d labels %v len %d", name, n, lab, len(pix))
		}
		for i, l := range lab {
			for y := range 32 {
				for x := range 32 {
					for c := range 3 {
						if got, want := pix[i*3072+(y*32+x)*3+c], cifarValue(l, c, y, x); got != want {
							t.Fatalf("%s: image %d (%d,%d) c%d = %d want %d (CHW->HWC)", name, i, y, x, c, got, want)
						}
					}
				}
			}
		}
	}
}

func TestReadCIFARErrors(t *testing.T) {
	rec := cifarRecordOf(1)
	bad := cifarBatch(1, 1)
	bad[3073] = 10
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "no records"},
		{"truncated first", rec[:100], "truncated record 0: 100 of 3073 bytes"},
		{"truncated second", append(slices.Clone(rec), rec[:5]...), "truncated record 1: 5 of 3073"},
		{"label", bad, "record 1: label 10 out of range [0, 10)"},
		{"gzip truncated", gzipBytes(t, rec)[:50], "gzip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, _, err := ReadCIFAR(bytes.NewReader(c.in))
			wantErr(t, err, c.want)
		})
	}
}

func writeCIFARDir(t *testing.T, dir string) {
	for i := 1; i <= 5; i++ {
		writeFile(t, filepath.Join(dir, "data_batch_"+string(rune('0'+i))+".bin"), cifarBatch(uint8(i), uint8(i+1)))
	}
	writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarBatch(7))
}

func TestLoadCIFAR10(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cifar-10-batches-bin")
	writeCIFARDir(t, dir)
	for _, d := range []string{root, dir} { // the parent folder works too
		train, test, err := LoadCIFAR10(d)
		if err != nil {
			t.Fatal(err)
		}
		if train.N != 10 || test.N != 1 || train.H != 32 || train.W != 32 || train.C != 3 || train.Classes != 10 {
			t.Fatalf("shapes: %d %d %dx%dx%d", train.N, test.N, train.H, train.W, train.C)
		}
		if !slices.Equal(train.Labels, []uint8{1, 2, 2, 3, 3, 4, 4, 5, 5, 6}) || test.Labels[0] != 7 {
			t.Fatalf("labels %v %v", train.Labels, test.Labels)
		}
		if train.ClassNames[0] != "airplane" || train.ClassNames[9] != "truck" {
			t.Fatalf("default names %v", train.ClassNames)
		}
		if got := train.Image(9)[(2*32+4)*3+1]; got != cifarValue(6, 1, 2, 4) {
			t.Fatalf("pixel %d", got)
		}
		if train.Name != "cifar10/train" {
			t.Fatalf("name %q", train.Name)
		}
	}
	// batches.meta.txt names the classes.
	names := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n"
	writeFile(t, filepath.Join(dir, "batches.meta.txt"), []byte(names))
	train, _, err := LoadCIFAR10(dir)
	if err != nil || strings.Join(train.ClassNames, "") != "abcdefghij" {
		t.Fatalf("meta names %v %v", train.ClassNames, err)
	}
	writeFile(t, filepath.Join(dir, "batches.meta.txt"), []byte("a\nb\n"))
	_, _, err = LoadCIFAR10(dir)
	wantErr(t, err, "batches.meta.txt: 2 class names, want 10")
}

func TestLoadCIFAR10Errors(t *testing.T) {
	_, _, err := LoadCIFAR10(t.TempDir())
	wantErr(t, err, "no CIFAR-10 binary batches")

	dir := t.TempDir()
	writeCIFARDir(t, dir)
	p := filepath.Join(dir, "data_batch_3.bin")
	writeFile(t, p, cifarRecordOf(2)[:3000])
	_, _, err = LoadCIFAR10(dir)
	wantErr(t, err, p, "truncated record 0")

	dir = t.TempDir()
	writeCIFARDir(t, dir)
	writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarBatch(1, 200))
	_, _, err = LoadCIFAR10(dir)
	wantErr(t, err, "test_batch.bin", "record 1: label 200")

	dir = t.TempDir()
	writeCIFARDir(t, dir)
	writeFile(t, filepath.Join(dir, "data_batch_5.bin"), nil)
	_, _, err = LoadCIFAR10(dir)
	wantErr(t, err, "data_batch_5.bin", "no records")
}
