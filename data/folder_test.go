package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"path/filepath"
	"slices"
	"testing"
)

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rgbImage returns a w×h opaque image whose pixel (x, y) is (10x, 20y, x+y+v).
func rgbImage(w, h int, v uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(10 * x), uint8(20 * y), uint8(x+y) + v, 255})
		}
	}
	return img
}

func grayImage(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 17)
	}
	return img
}

func TestDecodeImage(t *testing.T) {
	rgb := rgbImage(4, 3, 5)
	pix, h, w, c, err := DecodeImage(bytes.NewReader(pngBytes(t, rgb)), 0, 0, 0)
	if err != nil || h != 3 || w != 4 || c != 3 {
		t.Fatalf("rgb: %d %d %d %v", h, w, c, err)
	}
	for y := range 3 {
		for x := range 4 {
			p := rgb.RGBAAt(x, y)
			if got := pix[(y*4+x)*3 : (y*4+x)*3+3]; !slices.Equal(got, []uint8{p.R, p.G, p.B}) {
				t.Fatalf("(%d,%d) = %v want %v", x, y, got, p)
			}
		}
	}
	// RGB to gray uses the luma weights of color.GrayModel.
	pix, _, _, c, err = DecodeImage(bytes.NewReader(pngBytes(t, rgb)), 0, 0, 1)
	if err != nil || c != 1 {
		t.Fatal(err)
	}
	for y := range 3 {
		for x := range 4 {
			want := color.GrayModel.Convert(rgb.RGBAAt(x, y)).(color.Gray).Y
			if pix[y*4+x] != want {
				t.Fatalf("gray (%d,%d) = %d want %d", x, y, pix[y*4+x], want)
			}
		}
	}
	// Gray images: one channel by default, exact; replicated for c = 3.
	g := grayImage(5, 2)
	pix, h, w, c, err = DecodeImage(bytes.NewReader(pngBytes(t, g)), 0, 0, 0)
	if err != nil || c != 1 || h != 2 || w != 5 || !bytes.Equal(pix, g.Pix) {
		t.Fatalf("gray: c %d %v %v want %v", c, err, pix, g.Pix)
	}
	pix, _, _, c, err = DecodeImage(bytes.NewReader(pngBytes(t, g)), 0, 0, 3)
	if err != nil || c != 3 {
		t.Fatal(err)
	}
	for i, v := range g.Pix {
		if !slices.Equal(pix[3*i:3*i+3], []uint8{v, v, v}) {
			t.Fatalf("gray->rgb pixel %d: %v", i, pix[3*i:3*i+3])
		}
	}
	// Resizing a constant image keeps it constant; sizes are as asked.
	flat := image.NewRGBA(image.Rect(0, 0, 7, 5))
	for i := range flat.Pix {
		flat.Pix[i] = []uint8{90, 140, 200, 255}[i%4]
	}
	pix, h, w, c, err = DecodeImage(bytes.NewReader(pngBytes(t, flat)), 3, 11, 0)
	if err != nil || h != 3 || w != 11 || c != 3 || len(pix) != 3*11*3 {
		t.Fatalf("resize: %d %d %d %v", h, w, c, err)
	}
	for i := range 3 * 11 {
		if !slices.Equal(pix[3*i:3*i+3], []uint8{90, 140, 200}) {
			t.Fatalf("resized pixel %d: %v", i, pix[3*i:3*i+3])
		}
	}
	// JPEG decodes too (lossy: compare loosely).
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, flat, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	pix, _, _, _, err = DecodeImage(&jb, 0, 0, 3)
	if err != nil || absDiff(pix[0], 90) > 4 || absDiff(pix[2], 200) > 4 {
		t.Fatalf("jpeg: %v %v", pix[:3], err)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestDecodeImageErrors(t *testing.T) {
	good := pngBytes(t, rgbImage(2, 2, 0))
	cases := []struct {
		name    string
		in      []byte
		h, w, c int
		want    string
	}{
		{"channels", good, 0, 0, 2, "channel count 2 not supported"},
		{"channels 4", good, 0, 0, 4, "channel count 4 not supported"},
		{"negative", good, -1, 2, 0, "negative target size"},
		{"text", []byte("hello"), 0, 0, 0, "not a decodable PNG or JPEG image"},
		{"cut png", good[:len(good)-20], 0, 0, 0, "not a decodable png image"},
		{"huge", hugePNGHeader(t), 0, 0, 0, "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, _, _, err := DecodeImage(bytes.NewReader(c.in), c.h, c.w, c.c)
			wantErr(t, err, c.want)
		})
	}
}

// hugePNGHeader returns a PNG that declares 100000×100000 pixels.
func hugePNGHeader(t testing.TB) []byte {
	b := pngBytes(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	// The IHDR chunk type is at offset 12, its data (width, height
	// big-endian, ...) at 16, its CRC over type and data at 29.
	b = slices.Clone(b)
	for _, off := range []int{16, 20} {
		binary.BigEndian.PutUint32(b[off:], 100000)
	}
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestLoadImageFolderShapes(t *testing.T) {
	dir := filepath.Join("..", "testdata", "shapes")
	train, test, err := LoadImageFolder(dir, 0, 0, 0, 0.25, 1)
	if err != nil {
		t.Fatal(err)
	}
	if train.H != 16 || train.W != 16 || train.C != 3 || train.Classes != 3 {
		t.Fatalf("shape %dx%dx%d classes %d", train.H, train.W, train.C, train.Classes)
	}
	if !slices.Equal(train.ClassNames, []string{"circle", "square", "triangle"}) {
		t.Fatalf("class names %v", train.ClassNames)
	}
	if !slices.Equal(train.ClassCounts(), []int{15, 15, 15}) || !slices.Equal(test.ClassCounts(), []int{5, 5, 5}) {
		t.Fatalf("counts %v %v", train.ClassCounts(), test.ClassCounts())
	}
	if train.Name != "shapes/train" || test.Name != "shapes/test" {
		t.Fatalf("names %q %q", train.Name, test.Name)
	}
	// Resize and convert to gray, no test split.
	train, test, err = LoadImageFolder(dir, 8, 10, 1, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60 || test.N != 0 || train.H != 8 || train.W != 10 || train.C != 1 {
		t.Fatalf("resized: %d %d %dx%dx%d", train.N, test.N, train.H, train.W, train.C)
	}
	if err := test.Validate(); err != nil {
		t.Fatal(err)
	}
	// Resolve("shapes") is the same folder with the default 20% split.
	tr, te, err := Resolve("shapes")
	if err != nil || tr.N != 48 || te.N != 12 {
		t.Fatalf("Resolve(shapes): %v", err)
	}
}

func TestLoadImageFolderLayouts(t *testing.T) {
	root := t.TempDir()
	// Mixed sizes: without a size the first image (cat/a.png, 4×3) does
	// not decide silently; the odd one out is named. With a size every
	// image is resized.
	writeFile(t, filepath.Join(root, "cat", "a.png"), pngBytes(t, rgbImage(4, 3, 1)))
	writeFile(t, filepath.Join(root, "cat", "b.png"), pngBytes(t, rgbImage(8, 6, 2)))
	writeFile(t, filepath.Join(root, "cat", ".DS_Store"), []byte("junk"))
	writeFile(t, filepath.Join(root, "dog", "x.png"), pngBytes(t, grayImage(4, 3)))
	writeFile(t, filepath.Join(root, ".hidden", "y.png"), []byte("junk"))
	writeFile(t, filepath.Join(root, "README"), []byte("top-level files are ignored"))
	_, _, err := LoadImageFolder(root, 0, 0, 0, 0, 1)
	wantErr(t, err, filepath.Join(root, "cat", "b.png")+" is 8x6", filepath.Join(root, "cat", "a.png")+", the first image, is 4x3", "--size")
	train, test, err := LoadImageFolder(root, 3, 4, 0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 3 || test.N != 0 || train.H != 3 || train.W != 4 || train.C != 3 {
		t.Fatalf("%d %d %dx%dx%d", train.N, test.N, train.H, train.W, train.C)
	}
	if !slices.Equal(train.Labels, []uint8{0, 0, 1}) || !slices.Equal(train.ClassNames, []string{"cat", "dog"}) {
		t.Fatalf("labels %v names %v", train.Labels, train.ClassNames)
	}

	// train/ and test/ sub-folders are the split.
	split := t.TempDir()
	for _, s := range []string{"train", "test"} {
		for _, c := range []string{"a", "b"} {
			writeFile(t, filepath.Join(split, s, c, "1.png"), pngBytes(t, grayImage(2, 2)))
		}
	}
	writeFile(t, filepath.Join(split, "train", "b", "2.png"), pngBytes(t, grayImage(2, 2)))
	train, test, err = LoadImageFolder(split, 0, 0, 0, 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 3 || test.N != 2 || train.C != 1 || !slices.Equal(test.Labels, []uint8{0, 1}) {
		t.Fatalf("split layout: %d %d c%d %v", train.N, test.N, train.C, test.Labels)
	}
	if !slices.Equal(train.ClassNames, []string{"a", "b"}) || train.Name != filepath.Base(split)+"/train" {
		t.Fatalf("split names %v %q", train.ClassNames, train.Name)
	}
}

func TestLoadImageFolderErrors(t *testing.T) {
	img := pngBytes(t, grayImage(2, 2))
	t.Run("empty folder", func(t *testing.T) {
		_, _, err := LoadImageFolder(t.TempDir(), 0, 0, 0, 0, 1)
		wantErr(t, err, "no class sub-folders")
	})
	t.Run("missing folder", func(t *testing.T) {
		_, _, err := LoadImageFolder(filepath.Join(t.TempDir(), "nope"), 0, 0, 0, 0, 1)
		wantErr(t, err, "nope")
	})
	t.Run("empty class", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, "a", "1.png"), img)
		writeFile(t, filepath.Join(d, "b", ".keep"), nil)
		_, _, err := LoadImageFolder(d, 0, 0, 0, 0, 1)
		wantErr(t, err, filepath.Join(d, "b"), "class folder has no images")
	})
	t.Run("undecodable", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, "a", "1.png"), img)
		bad := filepath.Join(d, "a", "2.png")
		writeFile(t, bad, img[:30])
		_, _, err := LoadImageFolder(d, 0, 0, 0, 0, 1)
		wantErr(t, err, bad, "not a decodable")
	})
	t.Run("non-image file", func(t *testing.T) {
		d := t.TempDir()
		bad := filepath.Join(d, "a", "labels.txt")
		writeFile(t, bad, []byte("1 2 3"))
		_, _, err := LoadImageFolder(d, 0, 0, 0, 0, 1)
		wantErr(t, err, bad, "not a decodable PNG or JPEG")
	})
	t.Run("nested folder", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, "a", "deeper", "1.png"), img)
		_, _, err := LoadImageFolder(d, 0, 0, 0, 0, 1)
		wantErr(t, err, "deeper", "unexpected folder inside class folder a")
	})
	t.Run("channels", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, "a", "1.png"), img)
		_, _, err := LoadImageFolder(d, 0, 0, 2, 0, 1)
		wantErr(t, err, "c=2", "c 0, 1 or 3")
	})
	t.Run("fraction", func(t *testing.T) {
		_, _, err := LoadImageFolder(t.TempDir(), 0, 0, 0, 1, 1)
		wantErr(t, err, "test fraction 1 not in [0, 1)")
	})
	t.Run("split classes differ", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, "train", "a", "1.png"), img)
		writeFile(t, filepath.Join(d, "test", "b", "1.png"), img)
		_, _, err := LoadImageFolder(d, 0, 0, 0, 0, 1)
		wantErr(t, err, "class folders of train/ [a] and test/ [b] differ")
	})
	t.Run("undecodable in test split", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, "train", "a", "1.png"), img)
		bad := filepath.Join(d, "test", "a", "1.jpg")
		writeFile(t, bad, []byte{0xff, 0xd8, 0xff})
		_, _, err := LoadImageFolder(d, 0, 0, 0, 0, 1)
		wantErr(t, err, bad)
	})
}
