// Command mkmini regenerates the small data sets and fuzz seeds that the
// vktrain repository commits:
//
//	data/builtin/mnist-mini/  the first 2000 training and 500 test images
//	                       of MNIST (from the GoMNIST module) as gzip IDX
//	                       files, built into the data package (go:embed);
//	                       testdata/mnist-mini links to it
//	data/builtin/shapes/   16×16 RGB PNGs of circles, squares and triangles,
//	                       20 per class, drawn from a seeded generator, also
//	                       built in; testdata/shapes links to it
//	testdata/corrupt/      tiny broken files for the readers' error tests
//	data/testdata/fuzz/    seed corpora of FuzzReadIDX, FuzzCIFAR and
//	                       FuzzImageFolder in `go test fuzz v1` format
//
// Run it from the repository root: go run ./data/internal/mkmini
// Its output is deterministic, so a rerun leaves git clean.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/vktrain/vktrain/data"
)

func main() {
	root := flag.String("root", ".", "repository root to write data/builtin/, testdata/ and data/testdata/ under")
	nTrain := flag.Int("train", 2000, "MNIST training images to keep")
	nTest := flag.Int("test", 500, "MNIST test images to keep")
	flag.Parse()
	if err := run(*root, *nTrain, *nTest); err != nil {
		fmt.Fprintln(os.Stderr, "mkmini:", err)
		os.Exit(1)
	}
}

func run(root string, nTrain, nTest int) error {
	if err := mnistMini(filepath.Join(root, "data", "builtin", "mnist-mini"), nTrain, nTest); err != nil {
		return err
	}
	pngs, err := shapes(filepath.Join(root, "data", "builtin", "shapes"))
	if err != nil {
		return err
	}
	return corrupt(filepath.Join(root, "testdata", "corrupt"), filepath.Join(root, "data", "testdata", "fuzz"), pngs)
}

// gz returns the gzip compression of b (no name or time in the header, so
// the bytes are reproducible).
func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// idx returns an uncompressed IDX file.
func idx(dims []int, d []uint8) []byte {
	var buf bytes.Buffer
	if err := data.WriteIDX(&buf, dims, d); err != nil {
		panic(err) // sizes are computed here; a mismatch is a bug
	}
	return buf.Bytes()
}

func write(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func mnistMini(dir string, nTrain, nTest int) error {
	train, test, err := data.Resolve("mnist")
	if err != nil {
		return err
	}
	for _, x := range []struct {
		s      *data.Set
		n      int
		prefix string
	}{{train, nTrain, "train"}, {test, nTest, "t10k"}} {
		if x.n > x.s.N {
			return fmt.Errorf("want %d images, %s has %d", x.n, x.s.Name, x.s.N)
		}
		sz := x.s.ImageSize()
		img := idx([]int{x.n, x.s.H, x.s.W}, x.s.Pix[:x.n*sz])
		lab := idx([]int{x.n}, x.s.Labels[:x.n])
		if err := write(filepath.Join(dir, x.prefix+"-images-idx3-ubyte.gz"), gz(img)); err != nil {
			return err
		}
		if err := write(filepath.Join(dir, x.prefix+"-labels-idx1-ubyte.gz"), gz(lab)); err != nil {
			return err
		}
	}
	return nil
}

// shapes draws 20 images per class and returns the PNG bytes of the first
// image of each class (for fuzz seeds).
func shapes(dir string) ([][]byte, error) {
	const size, perClass = 16, 20
	rng := rand.New(rand.NewPCG(2024, 16))
	var first [][]byte
	for _, cls := range []string{"circle", "square", "triangle"} {
		for k := range perClass {
			bg := color.RGBA{uint8(rng.IntN(80)), uint8(rng.IntN(80)), uint8(rng.IntN(80)), 255}
			fg := color.RGBA{uint8(150 + rng.IntN(106)), uint8(150 + rng.IntN(106)), uint8(150 + rng.IntN(106)), 255}
			r := 3 + rng.IntN(3)                                 // half-size 3..5
			cx, cy := r+rng.IntN(size-2*r), r+rng.IntN(size-2*r) // fully inside
			img := image.NewRGBA(image.Rect(0, 0, size, size))
			for y := range size {
				for x := range size {
					dx, dy := x-cx, y-cy
					var in bool
					switch cls {
					case "circle":
						in = dx*dx+dy*dy <= r*r
					case "square":
						in = dx >= -r && dx <= r && dy >= -r && dy <= r
					case "triangle": // apex up, base at cy+r
						in = dy >= -r && dy <= r && 2*abs(dx) <= dy+r
					}
					if in {
						img.SetRGBA(x, y, fg)
					} else {
						img.SetRGBA(x, y, bg)
					}
				}
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				return nil, err
			}
			if k == 0 {
				first = append(first, buf.Bytes())
			}
			if err := write(filepath.Join(dir, cls, fmt.Sprintf("%02d.png", k)), buf.Bytes()); err != nil {
				return nil, err
			}
		}
	}
	return first, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// corrupt writes the broken files and the fuzz seed corpora.
func corrupt(dir, fuzzDir string, pngs [][]byte) error {
	img := make([]uint8, 2*3*4)
	for i := range img {
		img[i] = uint8(i * 10)
	}
	goodImages := idx([]int{2, 3, 4}, img)
	goodLabels := idx([]int{2}, []uint8{1, 0})
	badMagic := append([]byte{0x00, 0x01}, goodImages[2:]...)
	truncated := goodImages[:len(goodImages)-5]
	trailing := append(append([]byte{}, goodLabels...), 7)
	zTrunc := gz(goodImages)
	zTrunc = zTrunc[:len(zTrunc)-6]

	rec := make([]byte, 3073)
	for i := range rec {
		rec[i] = uint8(i)
	}
	rec[0] = 3
	badLabel := append([]byte{}, rec...)
	badLabel[0] = 10

	gray := image.NewGray(image.Rect(0, 0, 5, 4))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 12)
	}
	var grayPNG, jpg bytes.Buffer
	if err := png.Encode(&grayPNG, gray); err != nil {
		return err
	}
	if err := jpeg.Encode(&jpg, gray, &jpeg.Options{Quality: 50}); err != nil {
		return err
	}
	undecodable := append(append([]byte{}, pngs[0][:40]...), []byte("not the rest of a PNG")...)

	files := map[string][]byte{
		"bad-magic-idx3-ubyte":      badMagic,
		"truncated-idx3-ubyte":      truncated,
		"trailing-idx1-ubyte":       trailing,
		"truncated-idx3-ubyte.gz":   zTrunc,
		"label-out-of-range.bin":    badLabel,
		"truncated-cifar.bin":       rec[:1000],
		"undecodable.png":           undecodable,
		"not-an-image.jpg":          []byte("this is text, not a JPEG\n"),
		"wrong-dims-images-idx.gz":  gz(goodLabels), // a label file where images are expected
		"empty-idx1-ubyte":          {},
		"float-type-idx1-ubyte":     {0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0x80, 0, 0},
		"huge-claim-idx3-ubyte.bin": {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28, 0, 0, 0, 28},
	}
	for name, b := range files {
		if err := write(filepath.Join(dir, name), b); err != nil {
			return err
		}
	}

	seeds := map[string]map[string][]byte{
		"FuzzReadIDX": {
			"images-raw":  goodImages,
			"labels-raw":  goodLabels,
			"images-gzip": gz(goodImages),
			"bad-magic":   badMagic,
			"truncated":   truncated,
			"trailing":    trailing,
			"gzip-cut":    zTrunc,
			"huge-claim":  files["huge-claim-idx3-ubyte.bin"],
			"float-type":  files["float-type-idx1-ubyte"],
		},
		"FuzzCIFAR": {
			"one-record":  rec,
			"two-gzip":    gz(append(append([]byte{}, rec...), rec...)),
			"bad-label":   badLabel,
			"truncated":   rec[:1000],
			"empty":       {},
			"label-only":  {5},
			"rec-plus-1b": append(append([]byte{}, rec...), 9),
		},
		"FuzzImageFolder": {
			"circle-png":  pngs[0],
			"square-png":  pngs[1],
			"gray-png":    grayPNG.Bytes(),
			"gray-jpeg":   jpg.Bytes(),
			"undecodable": undecodable,
			"text":        files["not-an-image.jpg"],
		},
	}
	for fuzz, m := range seeds {
		for name, b := range m {
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
			if err := write(filepath.Join(fuzzDir, fuzz, name), []byte(body)); err != nil {
				return err
			}
		}
	}
	return nil
}
