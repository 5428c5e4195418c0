package data

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CIFAR-10 binary record geometry: 1 label byte then 32×32×3 bytes, stored
// channel-major (all red, then all green, then all blue; each row-major).
const (
	cifarH, cifarW, cifarC = 32, 32, 3
	cifarImage             = cifarH * cifarW * cifarC
	cifarRecord            = 1 + cifarImage
	cifarClasses           = 10
)

// cifar10Names returns the CIFAR-10 class names in label order, used when
// batches.meta.txt is absent.
func cifar10Names() []string {
	return []string{
		"airplane", "automobile", "bird", "cat", "deer",
		"dog", "frog", "horse", "ship", "truck",
	}
}

// ReadCIFAR decodes a stream of CIFAR-10 binary records (raw or
// gzip-compressed): each 1 label byte (0..9) and 3072 image bytes in CHW
// order, which are converted to HWC. It returns the record count, the HWC
// pixels (32×32×3 per image) and the labels. A partial last record or a label
// above 9 is an error naming the record.
func ReadCIFAR(r io.Reader) (n int, pix, labels []uint8, err error) {
	r, closeFn, err := maybeGunzip(r)
	if err != nil {
		return 0, nil, nil, err
	}
	defer closeFn()
	br := bufio.NewReaderSize(r, 1<<16)
	rec := make([]byte, cifarRecord)
	for {
		k, err := io.ReadFull(br, rec)
		if err == io.EOF {
			break
		}
		if err == io.ErrUnexpectedEOF {
			return 0, nil, nil, fmt.Errorf("truncated record %d: %d of %d bytes", n, k, cifarRecord)
		}
		if err != nil {
			return 0, nil, nil, fmt.Errorf("record %d: %w", n, err)
		}
		if rec[0] >= cifarClasses {
			return 0, nil, nil, fmt.Errorf("record %d: label %d out of range [0, %d)", n, rec[0], cifarClasses)
		}
		labels = append(labels, rec[0])
		img := rec[1:]
		const plane = cifarH * cifarW
		base := len(pix)
		pix = slices.Grow(pix, cifarImage)[:base+cifarImage]
		out := pix[base:]
		for p := range plane {
			out[3*p] = img[p]
			out[3*p+1] = img[plane+p]
			out[3*p+2] = img[2*plane+p]
		}
		n++
	}
	if n == 0 {
		return 0, nil, nil, fmt.Errorf("no records")
	}
	return n, pix, labels, nil
}

// readCIFARFile opens and decodes one batch file, naming it in errors.
func readCIFARFile(path string) (int, []uint8, []uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	n, pix, lab, err := ReadCIFAR(f)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return n, pix, lab, nil
}

// cifarDir returns dir or its sub-folder cifar-10-batches-bin, whichever
// holds data_batch_1.bin, or "" if neither does.
func cifarDir(dir string) string {
	for _, d := range []string{dir, filepath.Join(dir, "cifar-10-batches-bin")} {
		if st, err := os.Stat(filepath.Join(d, "data_batch_1.bin")); err == nil && st.Mode().IsRegular() {
			return d
		}
	}
	return ""
}

// LoadCIFAR10 loads the binary version of CIFAR-10 from dir (or from its
// sub-folder cifar-10-batches-bin): data_batch_1.bin … data_batch_5.bin as
// the training set and test_batch.bin as the test set. Class names come from
// batches.meta.txt when present (10 non-empty lines), else the standard ones.
func LoadCIFAR10(dir string) (train, test *Set, err error) {
	d := cifarDir(dir)
	if d == "" {
		return nil, nil, fmt.Errorf("data: %s: no CIFAR-10 binary batches (data_batch_1.bin) here or in cifar-10-batches-bin/", dir)
	}
	names := cifar10Names()
	if b, err := os.ReadFile(filepath.Join(d, "batches.meta.txt")); err == nil {
		var got []string
		for _, line := range strings.Split(string(b), "\n") {
			if s := strings.TrimSpace(line); s != "" {
				got = append(got, s)
			}
		}
		if len(got) != cifarClasses {
			return nil, nil, fmt.Errorf("data: %s: %d class names, want %d", filepath.Join(d, "batches.meta.txt"), len(got), cifarClasses)
		}
		names = got
	}
	mk := func(split string) *Set {
		return &Set{Name: "cifar10/" + split, H: cifarH, W: cifarW, C: cifarC, Classes: cifarClasses, ClassNames: names}
	}
	train, test = mk("train"), mk("test")
	var files []string
	var size int64
	for i := 1; i <= 5; i++ {
		p := filepath.Join(d, fmt.Sprintf("data_batch_%d.bin", i))
		st, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("data: %w", err)
		}
		files = append(files, p)
		size += st.Size()
	}
	// Reserve the training set once (exact for uncompressed batches).
	recs := int(size / cifarRecord)
	train.Pix = make([]uint8, 0, recs*cifarImage)
	train.Labels = make([]uint8, 0, recs)
	for _, p := range files {
		n, pix, lab, err := readCIFARFile(p)
		if err != nil {
			return nil, nil, err
		}
		train.N += n
		train.Pix = append(train.Pix, pix...)
		train.Labels = append(train.Labels, lab...)
	}
	if test.N, test.Pix, test.Labels, err = readCIFARFile(filepath.Join(d, "test_batch.bin")); err != nil {
		return nil, nil, err
	}
	for _, s := range []*Set{train, test} {
		if err := s.Validate(); err != nil {
			return nil, nil, err
		}
	}
	return train, test, nil
}
