package data

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"path/filepath"
	"testing"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ (written by
// internal/mkmini); a plain go test runs them. Fuzz with e.g.
//
//	go test ./data -run '^$' -fuzz FuzzReadIDX -fuzztime 30s

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes(f, []int{1, 2, 2}, []uint8{1, 2, 3, 4}))
	f.Add(gzipBytes(f, idxBytes(f, []int{3}, []uint8{0, 1, 2})))
	f.Fuzz(func(t *testing.T, in []byte) {
		x, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			if x != nil {
				t.Fatal("result and error")
			}
			return
		}
		total := 1
		for _, d := range x.Dims {
			total *= d
		}
		if total != len(x.Data) {
			t.Fatalf("dims %v but %d bytes", x.Dims, len(x.Data))
		}
		var buf bytes.Buffer
		if err := WriteIDX(&buf, x.Dims, x.Data); err != nil {
			t.Fatal(err)
		}
		if len(in) > 1 && in[0] != 0x1f && !bytes.Equal(buf.Bytes(), in) {
			t.Fatal("raw IDX does not round-trip")
		}
		y, err := ReadIDX(&buf)
		if err != nil || !bytes.Equal(y.Data, x.Data) {
			t.Fatalf("re-read: %v", err)
		}
	})
}

func FuzzCIFAR(f *testing.F) {
	f.Add(cifarBatch(1))
	f.Add(gzipBytes(f, cifarBatch(2, 3)))
	f.Fuzz(func(t *testing.T, in []byte) {
		n, pix, lab, err := ReadCIFAR(bytes.NewReader(in))
		if err != nil {
			return
		}
		if n <= 0 || len(lab) != n || len(pix) != n*3072 {
			t.Fatalf("n %d, %d labels, %d bytes", n, len(lab), len(pix))
		}
		var back []byte
		for i, l := range lab {
			if l >= 10 {
				t.Fatalf("label %d accepted", l)
			}
			back = append(back, l)
			for c := range 3 {
				for p := range 1024 {
					back = append(back, pix[i*3072+3*p+c])
				}
			}
		}
		if len(in) > 1 && in[0] != 0x1f && !bytes.Equal(back, in) {
			t.Fatal("HWC conversion does not invert to the input records")
		}
	})
}

// FuzzImageFolder decodes one image file as LoadImageFolder does, at its own
// size and resized to gray 4×5, and loads it as a one-image folder.
func FuzzImageFolder(f *testing.F) {
	f.Add(pngBytes(f, rgbImage(3, 2, 1)))
	f.Add(pngBytes(f, grayImage(2, 2)))
	f.Fuzz(func(t *testing.T, in []byte) {
		// Keep each run small: big (valid) images only cost time.
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(in)); err == nil && cfg.Width*cfg.Height > 1<<16 {
			return
		}
		pix, h, w, c, err := DecodeImage(bytes.NewReader(in), 0, 0, 0)
		if err != nil {
			return
		}
		if h <= 0 || w <= 0 || (c != 1 && c != 3) || len(pix) != h*w*c {
			t.Fatalf("%dx%dx%d with %d bytes", h, w, c, len(pix))
		}
		pix, h, w, c, err = DecodeImage(bytes.NewReader(in), 4, 5, 1)
		if err != nil || h != 4 || w != 5 || c != 1 || len(pix) != 20 {
			t.Fatalf("resize: %dx%dx%d %v", h, w, c, err)
		}
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "only", "img"), in)
		train, _, err := LoadImageFolder(dir, 0, 0, 0, 0, 1)
		if err != nil || train.N != 1 || train.Validate() != nil {
			t.Fatalf("folder: %v", err)
		}
	})
}
