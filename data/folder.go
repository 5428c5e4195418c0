package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register JPEG for image.Decode
	_ "image/png"  // register PNG for image.Decode
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/image/draw"
)

// MaxImagePixels bounds width*height of an image that DecodeImage accepts,
// checked from the header before the pixels are decoded.
const MaxImagePixels = 1 << 26

// maxImageFileBytes bounds the size of one image file.
const maxImageFileBytes = 1 << 28

// DecodeImage decodes one PNG or JPEG image from r and converts it to h×w×c
// bytes in HWC order. c must be 0, 1 (gray, ITU-R 601 luma as in
// color.GrayModel) or 3 (RGB; alpha is dropped, which composites
// premultiplied colours over black). A zero h, w or c takes the image's own
// height, width or channel count (1 for gray images, else 3). When the size
// differs the image is resized with bilinear interpolation
// (golang.org/x/image/draw.ApproxBiLinear). It returns the pixels and the
// dimensions used.
func DecodeImage(r io.Reader, h, w, c int) (pix []uint8, H, W, C int, err error) {
	if h < 0 || w < 0 {
		return nil, 0, 0, 0, fmt.Errorf("negative target size %dx%d", h, w)
	}
	if c != 0 && c != 1 && c != 3 {
		return nil, 0, 0, 0, fmt.Errorf("channel count %d not supported: want 0 (as the image), 1 (gray) or 3 (RGB)", c)
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxImageFileBytes+1))
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("reading image: %w", err)
	}
	if len(raw) > maxImageFileBytes {
		return nil, 0, 0, 0, fmt.Errorf("image file larger than %d bytes", maxImageFileBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("not a decodable PNG or JPEG image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxImagePixels/cfg.Height {
		return nil, 0, 0, 0, fmt.Errorf("%s image of %dx%d pixels: must be non-empty and at most %d pixels", format, cfg.Width, cfg.Height, MaxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("not a decodable %s image: %w", format, err)
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, 0, 0, 0, fmt.Errorf("%s image is empty", format)
	}
	H, W, C = h, w, c
	if H == 0 {
		H = b.Dy()
	}
	if W == 0 {
		W = b.Dx()
	}
	if C == 0 {
		C = 3
		switch img.ColorModel() {
		case color.GrayModel, color.Gray16Model:
			C = 1
		}
	}
	if H > MaxImagePixels/W {
		return nil, 0, 0, 0, fmt.Errorf("target size %dx%d larger than %d pixels", H, W, MaxImagePixels)
	}
	rgba := image.NewRGBA(image.Rect(0, 0, W, H))
	if b.Dx() == W && b.Dy() == H {
		draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
	} else {
		draw.ApproxBiLinear.Scale(rgba, rgba.Rect, img, b, draw.Src, nil)
	}
	pix = make([]uint8, H*W*C)
	for i := range H * W {
		p := rgba.Pix[4*i : 4*i+4]
		if C == 3 {
			copy(pix[3*i:3*i+3], p[:3])
			continue
		}
		// color.GrayModel's weights on 16-bit values, so gray images
		// round-trip exactly.
		r16, g16, b16 := uint32(p[0])*0x101, uint32(p[1])*0x101, uint32(p[2])*0x101
		pix[i] = uint8((19595*r16 + 38470*g16 + 7471*b16 + 1<<15) >> 24)
	}
	return pix, H, W, C, nil
}

// decodeImageFile decodes the file name of d, naming it in errors.
func decodeImageFile(d dir, name string, h, w, c int) ([]uint8, int, int, int, error) {
	f, err := d.fsys.Open(name)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("data: %w", d.pathErr(err))
	}
	defer f.Close()
	pix, H, W, C, err := DecodeImage(f, h, w, c)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("data: %s: %w", d.path(name), err)
	}
	return pix, H, W, C, nil
}

// hidden reports whether a directory entry is to be ignored (dot files such
// as .DS_Store or .git).
func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// classFolders returns the sorted, non-hidden sub-folder names of the
// folder sub of d.
func classFolders(d dir, sub string) ([]string, error) {
	ents, err := fs.ReadDir(d.fsys, sub)
	if err != nil {
		return nil, fmt.Errorf("data: %w", d.pathErr(err))
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && !hidden(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// isImageFolder reports whether dir looks like an image folder: it has at
// least one non-hidden sub-folder.
func isImageFolder(dir string) bool {
	names, err := classFolders(osDir(dir), ".")
	return err == nil && len(names) > 0
}

// folderLoader accumulates images from class folders into one Set.
type folderLoader struct {
	d       dir
	h, w, c int
	// resize is true when the size was given: every image is resized to
	// it. Otherwise the first image fixes it and an image of another size
	// is an error.
	resize bool
	first  string // the image that fixed the size, when !resize
}

// load reads every class folder of sub (classes given, in label order) into
// a Set; it fixes l.h, l.w, l.c from the first image when they are zero.
func (l *folderLoader) load(sub string, classes []string, name string) (*Set, error) {
	s := &Set{Name: name, Classes: len(classes), ClassNames: classes}
	for label, cls := range classes {
		cdir := path.Join(sub, cls)
		ents, err := fs.ReadDir(l.d.fsys, cdir)
		if err != nil {
			return nil, fmt.Errorf("data: %w", l.d.pathErr(err))
		}
		count := 0
		for _, e := range ents {
			if hidden(e.Name()) {
				continue
			}
			p := path.Join(cdir, e.Name())
			if e.IsDir() {
				return nil, fmt.Errorf("data: %s: unexpected folder inside class folder %s (one level of class folders holding images is expected)", l.d.path(p), cls)
			}
			h, w := l.h, l.w
			if !l.resize {
				h, w = 0, 0 // decode at the image's own size, checked below
			}
			pix, H, W, C, err := decodeImageFile(l.d, p, h, w, l.c)
			if err != nil {
				return nil, err
			}
			if !l.resize && l.first != "" && (H != l.h || W != l.w) {
				return nil, fmt.Errorf("data: %s is %dx%d pixels (width x height) but %s, the first image, is %dx%d: the images of a folder must share one size, or give the size to resize them all to (vktrain train --size)",
					l.d.path(p), W, H, l.d.path(l.first), l.w, l.h)
			}
			if !l.resize && l.first == "" {
				l.first = p
			}
			l.h, l.w, l.c = H, W, C
			s.Pix = append(s.Pix, pix...)
			s.Labels = append(s.Labels, uint8(label))
			count++
		}
		if count == 0 {
			return nil, fmt.Errorf("data: %s: class folder has no images", l.d.path(cdir))
		}
	}
	s.N, s.H, s.W, s.C = len(s.Labels), l.h, l.w, l.c
	return s, s.Validate()
}

// LoadImageFolder loads a folder of PNG/JPEG images with one sub-folder per
// class; the sorted sub-folder names are the class names and give the labels
// 0, 1, ... Hidden entries (names starting with '.') are ignored; any other
// file that does not decode is an error naming it, as is an empty class
// folder. Images are converted to c channels (1 gray, 3 RGB; 0 takes the
// first image's) and resized to h×w when both are given. When h and w are
// zero every image must have the size of the first one (first class, first
// file by name); an image of another size is an error naming both files.
//
// If dir has both train/ and test/ sub-folders, they are the split (each
// with the same class sub-folders, class names from train/) and testFrac is
// ignored. Otherwise a stratified split puts about testFrac of each class
// (seeded by seed; see Set.Split) in test, which is empty when testFrac is 0.
func LoadImageFolder(dir string, h, w, c int, testFrac float64, seed uint64) (train, test *Set, err error) {
	return loadImageFolder(osDir(dir), h, w, c, testFrac, seed)
}

// loadImageFolder is LoadImageFolder on the files of d.
func loadImageFolder(d dir, h, w, c int, testFrac float64, seed uint64) (train, test *Set, err error) {
	if h < 0 || w < 0 || (h == 0) != (w == 0) || (c != 0 && c != 1 && c != 3) {
		return nil, nil, fmt.Errorf("data: %s: bad target shape h=%d w=%d c=%d: want h and w both 0 (the images' own size) or both positive, and c 0, 1 or 3", d.name, h, w, c)
	}
	if !(testFrac >= 0 && testFrac < 1) {
		return nil, nil, fmt.Errorf("data: %s: test fraction %v not in [0, 1)", d.name, testFrac)
	}
	classes, err := classFolders(d, ".")
	if err != nil {
		return nil, nil, err
	}
	if len(classes) == 0 {
		return nil, nil, fmt.Errorf("data: %s: no class sub-folders (expected one folder of images per class)", d.name)
	}
	name := filepath.Base(filepath.Clean(d.name))
	l := &folderLoader{d: d, h: h, w: w, c: c, resize: h > 0}
	if slices.Contains(classes, "train") && slices.Contains(classes, "test") {
		trClasses, err := classFolders(d, "train")
		if err != nil {
			return nil, nil, err
		}
		if len(trClasses) == 0 {
			return nil, nil, fmt.Errorf("data: %s: no class sub-folders", d.path("train"))
		}
		if len(trClasses) > 256 {
			return nil, nil, fmt.Errorf("data: %s: %d classes, at most 256 supported", d.path("train"), len(trClasses))
		}
		teClasses, err := classFolders(d, "test")
		if err != nil {
			return nil, nil, err
		}
		if !slices.Equal(trClasses, teClasses) {
			return nil, nil, fmt.Errorf("data: %s: class folders of train/ %v and test/ %v differ", d.name, trClasses, teClasses)
		}
		if train, err = l.load("train", trClasses, name+"/train"); err != nil {
			return nil, nil, err
		}
		if test, err = l.load("test", trClasses, name+"/test"); err != nil {
			return nil, nil, err
		}
		return train, test, nil
	}
	if len(classes) > 256 {
		return nil, nil, fmt.Errorf("data: %s: %d classes, at most 256 supported", d.name, len(classes))
	}
	all, err := l.load(".", classes, name)
	if err != nil {
		return nil, nil, err
	}
	train, test, err = all.Split(testFrac, seed)
	if err != nil {
		return nil, nil, err
	}
	train.Name, test.Name = name+"/train", name+"/test"
	return train, test, nil
}
