package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"strings"
)

// IDX is a decoded IDX file (the format of MNIST and Fashion-MNIST): a
// row-major array of unsigned bytes with its dimensions.
type IDX struct {
	Dims []int
	Data []uint8
}

// MaxIDXBytes bounds the data size an IDX header may declare (4 GiB), so that a
// corrupt header cannot make ReadIDX reserve absurd amounts of memory.
const MaxIDXBytes = 1 << 32

// idxMaxDims bounds the dimension count of an IDX file.
const idxMaxDims = 8

// ReadIDX decodes one IDX stream, raw or gzip-compressed (recognized by the
// gzip magic bytes 1f 8b, not by any name). Only the unsigned-byte element
// type (0x08) is supported. It checks the magic number, that the data is
// exactly as long as the dimensions say (neither truncated nor followed by
// extra bytes) and, for gzip, the checksum. Memory grows with the data that
// actually arrives, not with what the header claims.
func ReadIDX(r io.Reader) (*IDX, error) {
	r, closeFn, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	defer closeFn()

	var hdr [4]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("truncated header: got %d of 4 magic bytes: %w", n, noEOF(err))
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, fmt.Errorf("bad magic % x: an IDX file starts with 00 00", hdr[:])
	}
	if hdr[2] != 0x08 {
		return nil, fmt.Errorf("unsupported IDX element type 0x%02x: only 0x08 (unsigned byte) is supported", hdr[2])
	}
	nd := int(hdr[3])
	if nd == 0 || nd > idxMaxDims {
		return nil, fmt.Errorf("bad IDX dimension count %d: want 1 to %d", nd, idxMaxDims)
	}
	dimBytes := make([]byte, 4*nd)
	if n, err := io.ReadFull(r, dimBytes); err != nil {
		return nil, fmt.Errorf("truncated header: got %d of %d dimension bytes: %w", n, 4*nd, noEOF(err))
	}
	dims := make([]int, nd)
	total := uint64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(dimBytes[4*i:])
		dims[i] = int(d)
		total *= uint64(d)
		if total > MaxIDXBytes {
			return nil, fmt.Errorf("dimensions %v declare more than %d bytes", dims[:i+1], uint64(MaxIDXBytes))
		}
	}
	data, err := readExactly(r, total)
	if err != nil {
		return nil, err
	}
	if uint64(len(data)) < total {
		return nil, fmt.Errorf("truncated data: dimensions %v need %d bytes, file has %d", dims, total, len(data))
	}
	var extra [1]byte
	if n, err := io.ReadFull(r, extra[:]); n > 0 {
		rest, _ := io.Copy(io.Discard, io.LimitReader(r, math.MaxInt32))
		return nil, fmt.Errorf("counts disagree: dimensions %v need %d bytes, file has %d more after them", dims, total, rest+1)
	} else if err != io.EOF {
		return nil, fmt.Errorf("reading past data: %w", err)
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// readExactly reads up to total bytes from r, growing its buffer by doubling
// (capped at total) so that memory follows the bytes that really arrive and
// a complete read ends with cap == len == total. A short result means EOF.
func readExactly(r io.Reader, total uint64) ([]byte, error) {
	buf := make([]byte, 0, min(total, 1<<20))
	for uint64(len(buf)) < total {
		if len(buf) == cap(buf) {
			nc := min(total, 2*uint64(cap(buf)))
			nb := make([]byte, len(buf), nc)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading data: %w", err)
		}
	}
	return buf, nil
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF for "truncated" messages.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// maybeGunzip peeks at r and wraps it in a gzip reader when it starts with
// the gzip magic 1f 8b. The returned close function is always non-nil.
func maybeGunzip(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(2)
	if err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("bad gzip header: %w", err)
		}
		zr.Multistream(false)
		return gzipErrReader{zr}, func() { zr.Close() }, nil
	}
	return br, func() {}, nil
}

// gzipErrReader labels decompression errors as such.
type gzipErrReader struct{ zr *gzip.Reader }

func (g gzipErrReader) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("gzip stream truncated: %w", err)
		} else {
			err = fmt.Errorf("gzip: %w", err)
		}
	}
	return n, err
}

// readIDXFile opens and decodes path, prefixing errors with the path.
func readIDXFile(path string) (*IDX, error) {
	return readIDXIn(osDir(filepath.Dir(path)), filepath.Base(path))
}

// readIDXIn opens and decodes the file name of d, prefixing errors with
// its path.
func readIDXIn(d dir, name string) (*IDX, error) {
	f, err := d.fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("data: %w", d.pathErr(err))
	}
	defer f.Close()
	x, err := ReadIDX(f)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", d.path(name), err)
	}
	return x, nil
}

// ReadIDXImages reads an IDX image file (3 dimensions: images, rows,
// columns), raw or gzip-compressed. Errors name the file.
func ReadIDXImages(path string) (n, h, w int, pix []uint8, err error) {
	return readIDXImages(osDir(filepath.Dir(path)), filepath.Base(path))
}

func readIDXImages(d dir, name string) (n, h, w int, pix []uint8, err error) {
	x, err := readIDXIn(d, name)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	if len(x.Dims) != 3 {
		return 0, 0, 0, nil, fmt.Errorf("data: %s: wrong dimensions %v: an image file has 3 (images, rows, columns)", d.path(name), x.Dims)
	}
	n, h, w = x.Dims[0], x.Dims[1], x.Dims[2]
	if n > 0 && (h == 0 || w == 0) {
		return 0, 0, 0, nil, fmt.Errorf("data: %s: wrong dimensions %v: images of zero size", d.path(name), x.Dims)
	}
	return n, h, w, x.Data, nil
}

// ReadIDXLabels reads an IDX label file (1 dimension), raw or
// gzip-compressed. Errors name the file.
func ReadIDXLabels(path string) ([]uint8, error) {
	return readIDXLabels(osDir(filepath.Dir(path)), filepath.Base(path))
}

func readIDXLabels(d dir, name string) ([]uint8, error) {
	x, err := readIDXIn(d, name)
	if err != nil {
		return nil, err
	}
	if len(x.Dims) != 1 {
		return nil, fmt.Errorf("data: %s: wrong dimensions %v: a label file has 1", d.path(name), x.Dims)
	}
	return x.Data, nil
}

// findIDX returns the name of the first existing file in d among the
// spellings of base: with '-' or '.' before "idx", with or without ".gz".
func findIDX(d dir, base string) (string, error) {
	dotted := strings.Replace(base, "-idx", ".idx", 1)
	var tried []string
	for _, b := range []string{base, dotted} {
		for _, ext := range []string{".gz", ""} {
			tried = append(tried, b+ext)
			if st, err := fs.Stat(d.fsys, b+ext); err == nil && st.Mode().IsRegular() {
				return b + ext, nil
			}
		}
	}
	return "", fmt.Errorf("data: %s: no %s (tried %s)", d.name, base, strings.Join(tried, ", "))
}

// hasIDX reports whether dir holds an IDX training image file.
func hasIDX(dir string) bool {
	_, err := findIDX(osDir(dir), "train-images-idx3-ubyte")
	return err == nil
}

// LoadIDXDir loads an MNIST-style directory: train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte,
// each optionally gzip-compressed with ".gz" and also found when spelled with
// '.' before "idx" (train-images.idx3-ubyte). The class count is one more
// than the largest label in either split, and classes are named "0", "1", ...
// Both sets are named after dir's base name plus "/train" or "/test".
func LoadIDXDir(dir string) (train, test *Set, err error) {
	return loadIDX(osDir(dir))
}

// loadIDX is LoadIDXDir on the files of d.
func loadIDX(d dir) (train, test *Set, err error) {
	name := filepath.Base(filepath.Clean(d.name))
	load := func(prefix, split string) (*Set, error) {
		ip, err := findIDX(d, prefix+"-images-idx3-ubyte")
		if err != nil {
			return nil, err
		}
		lp, err := findIDX(d, prefix+"-labels-idx1-ubyte")
		if err != nil {
			return nil, err
		}
		n, h, w, pix, err := readIDXImages(d, ip)
		if err != nil {
			return nil, err
		}
		lab, err := readIDXLabels(d, lp)
		if err != nil {
			return nil, err
		}
		if len(lab) != n {
			return nil, fmt.Errorf("data: counts disagree: %s has %d images, %s has %d labels", d.path(ip), n, d.path(lp), len(lab))
		}
		if n == 0 {
			return nil, fmt.Errorf("data: %s: no images", d.path(ip))
		}
		return &Set{Name: name + "/" + split, N: n, H: h, W: w, C: 1, Pix: pix, Labels: lab}, nil
	}
	if train, err = load("train", "train"); err != nil {
		return nil, nil, err
	}
	if test, err = load("t10k", "test"); err != nil {
		return nil, nil, err
	}
	if train.H != test.H || train.W != test.W {
		return nil, nil, fmt.Errorf("data: %s: training images are %dx%d, test images %dx%d", d.name, train.H, train.W, test.H, test.W)
	}
	classes := 0
	for _, s := range []*Set{train, test} {
		for _, l := range s.Labels {
			classes = max(classes, int(l)+1)
		}
	}
	names := defaultClassNames(classes)
	for _, s := range []*Set{train, test} {
		s.Classes, s.ClassNames = classes, names
		if err := s.Validate(); err != nil {
			return nil, nil, err
		}
	}
	return train, test, nil
}

// WriteIDX writes data as an uncompressed unsigned-byte IDX file with the
// given dimensions (wrap w in a gzip.Writer for .gz files). len(data) must be
// the product of dims.
func WriteIDX(w io.Writer, dims []int, data []uint8) error {
	if len(dims) == 0 || len(dims) > idxMaxDims {
		return fmt.Errorf("data: WriteIDX: %d dimensions, want 1 to %d", len(dims), idxMaxDims)
	}
	hdr := []byte{0, 0, 0x08, byte(len(dims))}
	total := 1
	for _, d := range dims {
		if d < 0 || uint64(d) > math.MaxUint32 {
			return fmt.Errorf("data: WriteIDX: dimension %d out of range", d)
		}
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
		total *= d
	}
	if total != len(data) {
		return fmt.Errorf("data: WriteIDX: dimensions %v need %d bytes, got %d", dims, total, len(data))
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("data: WriteIDX: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("data: WriteIDX: %w", err)
	}
	return nil
}
