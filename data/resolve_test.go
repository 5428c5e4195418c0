package data

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolveForms(t *testing.T) {
	idxDir := filepath.Join(t.TempDir(), "digits")
	writeIDXDir(t, idxDir, true, "-", 4, 2, 3, 2, []uint8{0, 1, 2, 1}, []uint8{1, 0})
	cifar := t.TempDir()
	writeCIFARDir(t, cifar)
	folder := filepath.Join("..", "testdata", "shapes")

	cases := []struct {
		spec      string
		name      string
		nTrain, c int
	}{
		{idxDir, "digits/train", 4, 1},
		{"idx:" + idxDir, "digits/train", 4, 1},
		{"mnist:" + idxDir, "mnist/train", 4, 1},
		{"fashion-mnist:" + idxDir, "fashion-mnist/train", 4, 1},
		{cifar, "cifar10/train", 10, 3},
		{"cifar10:" + cifar, "cifar10/train", 10, 3},
		{folder, "shapes/train", 48, 3},
		{"folder:" + folder, "shapes/train", 48, 3},
		{"mini", "mnist-mini/train", 2000, 1},
		{"testdata", "mnist-mini/train", 2000, 1},
		{filepath.Join("..", "testdata", "mnist-mini"), "mnist-mini/train", 2000, 1},
	}
	for _, c := range cases {
		train, test, err := Resolve(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if train.Name != c.name || train.N != c.nTrain || train.C != c.c {
			t.Fatalf("%s: got %q N=%d C=%d, want %q N=%d C=%d", c.spec, train.Name, train.N, train.C, c.name, c.nTrain, c.c)
		}
		if err := test.Validate(); err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
	}
	// Options reach image folders.
	train, test, err := ResolveWith("folder:"+folder, Options{H: 8, W: 8, C: 1, TestFrac: 0.5, Seed: 3})
	if err != nil || train.H != 8 || train.C != 1 || test.N != 30 {
		t.Fatalf("options: %v", err)
	}
}

func TestResolveErrors(t *testing.T) {
	_, _, err := Resolve("imagenet")
	wantErr(t, err, `unknown data set "imagenet"`, "accepted data set specs", "fashion-mnist", "cifar10:DIR", "folder:DIR")
	_, _, err = Resolve("./no/such/dir")
	wantErr(t, err, "no/such/dir", "accepted data set specs")
	f := filepath.Join(t.TempDir(), "file")
	writeFile(t, f, []byte("x"))
	_, _, err = Resolve(f)
	wantErr(t, err, "is a file")
	_, _, err = Resolve(t.TempDir())
	wantErr(t, err, "no data set recognised")
	_, _, err = Resolve("cifar10:" + t.TempDir())
	wantErr(t, err, "no CIFAR-10 binary batches")
}

func TestResolveDataDirEnv(t *testing.T) {
	root := t.TempDir()
	writeIDXDir(t, filepath.Join(root, "mnist"), false, ".", 3, 2, 2, 2, []uint8{0, 1, 9}, []uint8{1, 0})
	writeIDXDir(t, filepath.Join(root, "fashion-mnist"), true, "-", 5, 2, 2, 2, []uint8{0, 1, 9, 3, 3}, []uint8{1, 0})
	writeCIFARDir(t, filepath.Join(root, "cifar10"))
	t.Setenv(DataDirEnv, root)
	train, _, err := Resolve("mnist")
	if err != nil || train.N != 3 || train.Name != "mnist/train" {
		t.Fatalf("mnist from %s: %v", DataDirEnv, err)
	}
	train, _, err = Resolve("fashion-mnist")
	if err != nil || train.N != 5 || train.ClassNames[9] != "Ankle boot" {
		t.Fatalf("fashion from %s: %v", DataDirEnv, err)
	}
	train, _, err = Resolve("cifar10")
	if err != nil || train.N != 10 {
		t.Fatalf("cifar10 from %s: %v", DataDirEnv, err)
	}
}

func TestResolveMissing(t *testing.T) {
	// No data dir, an empty module cache and no go or dpkg on PATH.
	empty := t.TempDir()
	t.Setenv(DataDirEnv, "")
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	t.Setenv("PATH", empty)
	_, _, err := Resolve("mnist")
	wantErr(t, err, "MNIST not found", "tools/setup.sh", GoMNISTModule, empty)
	_, _, err = Resolve("cifar10")
	wantErr(t, err, "CIFAR-10 not found", "cifar-10-binary.tar.gz")
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "data", "doc.go")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	t.Chdir(t.TempDir())
	_, err = ModuleRoot()
	wantErr(t, err, "no go.mod of github.com/vktrain/vktrain")
}

// TestBuiltinOutsideCheckout loads the built-in data sets from a folder
// outside the repository (as after go install): they ship in the package.
func TestBuiltinOutsideCheckout(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		spec, name  string
		train, test int
		h, w, c     int
	}{
		{"mini", "mnist-mini/train", 2000, 500, 28, 28, 1},
		{"testdata", "mnist-mini/train", 2000, 500, 28, 28, 1},
		{"shapes", "shapes/train", 48, 12, 16, 16, 3},
	} {
		train, test, err := Resolve(tc.spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		if train.Name != tc.name || train.N != tc.train || test.N != tc.test || train.H != tc.h || train.W != tc.w || train.C != tc.c {
			t.Errorf("%s: %s %d/%d images of %dx%dx%d", tc.spec, train.Name, train.N, test.N, train.H, train.W, train.C)
		}
	}
	// Folder options apply to the built-in folder too.
	train, _, err := ResolveWith("shapes", Options{H: 8, W: 8, C: 1, TestFrac: 0.5, Seed: 1})
	if err != nil || train.N != 30 || train.H != 8 || train.C != 1 {
		t.Fatalf("shapes resized: %v", err)
	}
}
