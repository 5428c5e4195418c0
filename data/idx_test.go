package data

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func idxBytes(t testing.TB, dims []int, d []uint8) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteIDX(&buf, dims, d); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func seq(n int) []uint8 {
	b := make([]uint8, n)
	for i := range b {
		b[i] = uint8(i*13 + 1)
	}
	return b
}

func TestReadIDXRoundTrip(t *testing.T) {
	d := seq(2 * 3 * 4)
	raw := idxBytes(t, []int{2, 3, 4}, d)
	if !bytes.Equal(raw[:8], []byte{0, 0, 8, 3, 0, 0, 0, 2}) {
		t.Fatalf("header % x", raw[:8])
	}
	for name, b := range map[string][]byte{"raw": raw, "gzip": gzipBytes(t, raw)} {
		x, err := ReadIDX(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(x.Dims, []int{2, 3, 4}) || !bytes.Equal(x.Data, d) {
			t.Fatalf("%s: got %v %v", name, x.Dims, x.Data)
		}
	}
	// Zero-sized arrays are legal IDX.
	x, err := ReadIDX(bytes.NewReader(idxBytes(t, []int{0, 28, 28}, nil)))
	if err != nil || len(x.Data) != 0 {
		t.Fatalf("empty: %v %v", x, err)
	}
	// A large array read through the doubling buffer ends exactly sized.
	big := seq(3<<20 + 5)
	x, err = ReadIDX(bytes.NewReader(idxBytes(t, []int{len(big)}, big)))
	if err != nil || !bytes.Equal(x.Data, big) || cap(x.Data) != len(big) {
		t.Fatalf("big: err %v, equal %v, cap %d", err, bytes.Equal(x.Data, big), cap(x.Data))
	}
}

func TestReadIDXErrors(t *testing.T) {
	good := idxBytes(t, []int{2, 3}, seq(6))
	gz := gzipBytes(t, good)
	corruptGz := slices.Clone(gz)
	corruptGz[len(corruptGz)-5] ^= 0xff // the stored length: checksum/size mismatch
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated header: got 0 of 4 magic bytes"},
		{"short magic", []byte{0, 0}, "truncated header: got 2 of 4"},
		{"bad magic", append([]byte{1, 0}, good[2:]...), "bad magic 01 00 08 02"},
		{"element type", []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}, "unsupported IDX element type 0x0d"},
		{"zero dims", []byte{0, 0, 8, 0}, "bad IDX dimension count 0"},
		{"many dims", []byte{0, 0, 8, 9}, "bad IDX dimension count 9"},
		{"short dims", good[:9], "truncated header: got 5 of 8 dimension bytes"},
		{"truncated data", good[:len(good)-2], "truncated data: dimensions [2 3] need 6 bytes, file has 4"},
		{"extra data", append(slices.Clone(good), 1, 2, 3), "counts disagree: dimensions [2 3] need 6 bytes, file has 3 more"},
		{"huge claim", []byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28, 0, 0, 0, 28}, "declare more than"},
		{"gzip truncated", gz[:len(gz)-10], "gzip stream truncated"},
		{"gzip checksum", corruptGz, "gzip"},
		{"gzip header", []byte{0x1f, 0x8b, 1}, "bad gzip header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadIDX(bytes.NewReader(c.in))
			wantErr(t, err, c.want)
		})
	}
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadIDXFiles(t *testing.T) {
	dir := t.TempDir()
	img := seq(3 * 2 * 5)
	p := filepath.Join(dir, "imgs")
	writeFile(t, p, gzipBytes(t, idxBytes(t, []int{3, 2, 5}, img)))
	n, h, w, pix, err := ReadIDXImages(p)
	if err != nil || n != 3 || h != 2 || w != 5 || !bytes.Equal(pix, img) {
		t.Fatalf("images: %d %d %d %v", n, h, w, err)
	}
	_, err = ReadIDXLabels(p)
	wantErr(t, err, p, "wrong dimensions [3 2 5]: a label file has 1")

	lp := filepath.Join(dir, "labels.idx")
	writeFile(t, lp, idxBytes(t, []int{3}, []uint8{1, 2, 0}))
	lab, err := ReadIDXLabels(lp)
	if err != nil || !bytes.Equal(lab, []uint8{1, 2, 0}) {
		t.Fatalf("labels %v %v", lab, err)
	}
	_, _, _, _, err = ReadIDXImages(lp)
	wantErr(t, err, lp, "wrong dimensions [3]: an image file has 3")

	zp := filepath.Join(dir, "zero")
	writeFile(t, zp, idxBytes(t, []int{2, 0, 5}, nil))
	_, _, _, _, err = ReadIDXImages(zp)
	wantErr(t, err, "images of zero size")

	_, _, _, _, err = ReadIDXImages(filepath.Join(dir, "missing"))
	wantErr(t, err, "missing", "no such file")
}

// TestCorruptFiles reads the committed broken files in testdata/corrupt.
func TestCorruptFiles(t *testing.T) {
	dir := filepath.Join("..", "testdata", "corrupt")
	idxCases := map[string]string{
		"bad-magic-idx3-ubyte":      "bad magic 00 01",
		"truncated-idx3-ubyte":      "truncated data",
		"truncated-idx3-ubyte.gz":   "gzip stream truncated",
		"empty-idx1-ubyte":          "truncated header",
		"float-type-idx1-ubyte":     "element type 0x0d",
		"huge-claim-idx3-ubyte.bin": "declare more than",
	}
	for name, want := range idxCases {
		_, _, _, _, err := ReadIDXImages(filepath.Join(dir, name))
		wantErr(t, err, name, want)
	}
	_, err := ReadIDXLabels(filepath.Join(dir, "trailing-idx1-ubyte"))
	wantErr(t, err, "trailing-idx1-ubyte", "counts disagree")
	_, _, _, _, err = ReadIDXImages(filepath.Join(dir, "wrong-dims-images-idx.gz"))
	wantErr(t, err, "wrong-dims-images-idx.gz", "wrong dimensions [2]")

	_, _, _, err = readCIFARFile(filepath.Join(dir, "label-out-of-range.bin"))
	wantErr(t, err, "label-out-of-range.bin", "record 0: label 10 out of range")
	_, _, _, err = readCIFARFile(filepath.Join(dir, "truncated-cifar.bin"))
	wantErr(t, err, "truncated-cifar.bin", "truncated record 0: 1000 of 3073 bytes")

	for _, name := range []string{"undecodable.png", "not-an-image.jpg"} {
		_, _, _, _, err := decodeImageFile(osDir(dir), name, 0, 0, 0)
		wantErr(t, err, name, "not a decodable")
	}
}

// writeIDXDir writes an MNIST-style directory; names maps the four roles
// to file names.
func writeIDXDir(t testing.TB, dir string, gz bool, sep string, nTrain, nTest, h, w int, labTrain, labTest []uint8) {
	t.Helper()
	enc := func(b []byte) []byte {
		if gz {
			return gzipBytes(t, b)
		}
		return b
	}
	ext := ""
	if gz {
		ext = ".gz"
	}
	writeFile(t, filepath.Join(dir, "train-images"+sep+"idx3-ubyte"+ext), enc(idxBytes(t, []int{nTrain, h, w}, seq(nTrain*h*w))))
	writeFile(t, filepath.Join(dir, "train-labels"+sep+"idx1-ubyte"+ext), enc(idxBytes(t, []int{len(labTrain)}, labTrain)))
	writeFile(t, filepath.Join(dir, "t10k-images"+sep+"idx3-ubyte"+ext), enc(idxBytes(t, []int{nTest, h, w}, seq(nTest*h*w))))
	writeFile(t, filepath.Join(dir, "t10k-labels"+sep+"idx1-ubyte"+ext), enc(idxBytes(t, []int{len(labTest)}, labTest)))
}

func TestLoadIDXDir(t *testing.T) {
	for _, v := range []struct {
		gz  bool
		sep string
	}{{true, "-"}, {false, "-"}, {false, "."}, {true, "."}} {
		dir := filepath.Join(t.TempDir(), "digits")
		writeIDXDir(t, dir, v.gz, v.sep, 4, 2, 3, 2, []uint8{0, 1, 2, 1}, []uint8{4, 0})
		train, test, err := LoadIDXDir(dir)
		if err != nil {
			t.Fatalf("gz %v sep %q: %v", v.gz, v.sep, err)
		}
		if train.N != 4 || test.N != 2 || train.H != 3 || train.W != 2 || train.C != 1 {
			t.Fatalf("shapes %+v %+v", train, test)
		}
		if train.Classes != 5 || test.Classes != 5 || len(train.ClassNames) != 5 || train.ClassNames[4] != "4" {
			t.Fatalf("classes %d %v", train.Classes, train.ClassNames)
		}
		if train.Name != "digits/train" || test.Name != "digits/test" {
			t.Fatalf("names %q %q", train.Name, test.Name)
		}
		if !bytes.Equal(train.Pix, seq(24)) || !bytes.Equal(test.Labels, []uint8{4, 0}) {
			t.Fatal("contents")
		}
	}
}

func TestLoadIDXDirErrors(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		dir := t.TempDir()
		_, _, err := LoadIDXDir(dir)
		wantErr(t, err, "no train-images-idx3-ubyte", "train-images.idx3-ubyte.gz")
	})
	t.Run("count mismatch", func(t *testing.T) {
		dir := t.TempDir()
		writeIDXDir(t, dir, true, "-", 4, 2, 3, 2, []uint8{0, 1, 2}, []uint8{1, 0})
		_, _, err := LoadIDXDir(dir)
		wantErr(t, err, "counts disagree", "train-images-idx3-ubyte.gz has 4 images", "train-labels-idx1-ubyte.gz has 3 labels")
	})
	t.Run("dims mismatch", func(t *testing.T) {
		dir := t.TempDir()
		writeIDXDir(t, dir, true, "-", 4, 2, 3, 2, []uint8{0, 1, 2, 0}, []uint8{1, 0})
		writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), gzipBytes(t, idxBytes(t, []int{2, 2, 3}, seq(12))))
		_, _, err := LoadIDXDir(dir)
		wantErr(t, err, "training images are 3x2, test images 2x3")
	})
	t.Run("no images", func(t *testing.T) {
		dir := t.TempDir()
		writeIDXDir(t, dir, false, "-", 0, 2, 3, 2, nil, []uint8{1, 0})
		_, _, err := LoadIDXDir(dir)
		wantErr(t, err, "no images")
	})
	t.Run("corrupt file", func(t *testing.T) {
		dir := t.TempDir()
		writeIDXDir(t, dir, false, "-", 4, 2, 3, 2, []uint8{0, 1, 2, 0}, []uint8{1, 0})
		p := filepath.Join(dir, "t10k-labels-idx1-ubyte")
		writeFile(t, p, []byte{0, 0, 8, 1, 0, 0, 0, 2, 1})
		_, _, err := LoadIDXDir(dir)
		wantErr(t, err, p, "truncated data")
	})
}

func TestMiniMNIST(t *testing.T) {
	train, test, err := Resolve("mini")
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 2000 || test.N != 500 || train.H != 28 || train.W != 28 || train.C != 1 || train.Classes != 10 {
		t.Fatalf("mini: %d/%d %dx%dx%d classes %d", train.N, test.N, train.H, train.W, train.C, train.Classes)
	}
	if train.Name != "mnist-mini/train" {
		t.Fatalf("name %q", train.Name)
	}
	// The first MNIST labels are well known: 5 0 4 1 9 (train), 7 2 1 0 4 (test).
	if !bytes.Equal(train.Labels[:5], []uint8{5, 0, 4, 1, 9}) || !bytes.Equal(test.Labels[:5], []uint8{7, 2, 1, 0, 4}) {
		t.Fatalf("first labels %v %v", train.Labels[:5], test.Labels[:5])
	}
	for c, n := range train.ClassCounts() {
		if n < 150 || n > 260 {
			t.Fatalf("class %d has %d of 2000 images", c, n)
		}
	}
}

// requireOrSkip skips a test needing an installed data set, except on CI.
func requireOrSkip(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "" {
		t.Skipf("data set not installed (%v); tools/setup.sh installs it", err)
	}
	t.Fatal(err)
}

func checkNorm(t *testing.T, s *Set, mean, std float64) {
	t.Helper()
	n := ComputeNorm(s)
	if math.Abs(float64(n.Mean[0])-mean) > 5e-4 || math.Abs(float64(n.Std[0])-std) > 5e-4 {
		t.Fatalf("%s: mean %v std %v, want about %v %v", s.Name, n.Mean[0], n.Std[0], mean, std)
	}
}

func TestRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 55 MB")
	}
	train, test, err := Resolve("mnist")
	requireOrSkip(t, err)
	if train.N != 60000 || test.N != 10000 || train.H != 28 || train.W != 28 || train.Classes != 10 {
		t.Fatalf("mnist: %d/%d %dx%d classes %d", train.N, test.N, train.H, train.W, train.Classes)
	}
	if train.Name != "mnist/train" || test.Name != "mnist/test" {
		t.Fatalf("names %q %q", train.Name, test.Name)
	}
	wantTrain := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	wantTest := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	if !slices.Equal(train.ClassCounts(), wantTrain) || !slices.Equal(test.ClassCounts(), wantTest) {
		t.Fatalf("class counts %v %v", train.ClassCounts(), test.ClassCounts())
	}
	checkNorm(t, train, 0.1307, 0.3081) // the values everyone normalizes MNIST with
	// The committed mini set is exactly the start of MNIST.
	mtr, mte, err := Resolve("mini")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mtr.Pix, train.Pix[:len(mtr.Pix)]) || !bytes.Equal(mte.Labels, test.Labels[:500]) {
		t.Fatal("testdata/mnist-mini is not the first images of MNIST")
	}
}

func TestFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 55 MB")
	}
	train, test, err := Resolve("fashion-mnist")
	requireOrSkip(t, err)
	if train.N != 60000 || test.N != 10000 || train.H != 28 || train.Classes != 10 {
		t.Fatalf("fashion: %d/%d %dx%d classes %d", train.N, test.N, train.H, train.W, train.Classes)
	}
	for c, n := range train.ClassCounts() {
		if n != 6000 || test.ClassCounts()[c] != 1000 {
			t.Fatalf("class %d: %d train %d test", c, n, test.ClassCounts()[c])
		}
	}
	if train.ClassNames[0] != "T-shirt/top" || test.ClassNames[9] != "Ankle boot" || train.Name != "fashion-mnist/train" {
		t.Fatalf("names %v %q", train.ClassNames, train.Name)
	}
	checkNorm(t, train, 0.2860, 0.3530)
}
