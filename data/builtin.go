package data

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// builtinFS holds the small data sets that ship inside every vktrain
// binary, so that "mini" and "shapes" work after go install and outside
// the checkout: builtin/mnist-mini (gzip IDX files) and builtin/shapes
// (one folder of PNGs per class). The repository's testdata/mnist-mini and
// testdata/shapes are links to these folders.
//
//go:embed builtin/mnist-mini builtin/shapes
var builtinFS embed.FS

// builtinDir returns the built-in data set name (a folder of builtin/) as
// a dir, named "builtin:NAME" in messages.
func builtinDir(name string) (dir, error) {
	sub, err := fs.Sub(builtinFS, path.Join("builtin", name))
	if err != nil {
		return dir{}, fmt.Errorf("data: built-in data set %s: %w", name, err)
	}
	if _, err := fs.Stat(sub, "."); err != nil {
		return dir{}, fmt.Errorf("data: built-in data set %s missing from this binary: %w", name, err)
	}
	return dir{fsys: sub, name: name}, nil
}

// dir is a folder data sets are read from: the files of fsys (names in
// fs.FS form, slash-separated), called name in messages, so that an error
// names a path the user can look at.
type dir struct {
	fsys fs.FS
	name string
}

// osDir is the folder p of the operating system.
func osDir(p string) dir { return dir{fsys: os.DirFS(p), name: p} }

// path returns how the file name of d is shown in messages.
func (d dir) path(name string) string {
	if name == "." || name == "" {
		return d.name
	}
	return filepath.Join(d.name, filepath.FromSlash(name))
}

// pathErr rewrites the path of an *fs.PathError from fsys's form to the
// shown one.
func (d dir) pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: d.path(pe.Path), Err: pe.Err}
	}
	return err
}
