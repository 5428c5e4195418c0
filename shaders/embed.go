package shaders

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed spv/*.spv spv/MANIFEST
var spvFS embed.FS

// SPIRV returns the compiled SPIR-V of the shader NAME (the file shaders/NAME.comp),
// for example SPIRV("test_saxpy"). The returned slice is a fresh copy the caller may keep.
func SPIRV(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, fmt.Errorf("shaders: invalid shader name %q (want a bare name such as \"test_saxpy\")", name)
	}
	b, err := spvFS.ReadFile(path.Join("spv", name+".spv"))
	if err != nil {
		return nil, fmt.Errorf("shaders: no compiled shader %q (is shaders/%s.comp present and tools/glslc.sh run?)", name, name)
	}
	return b, nil
}

// Names returns the names of all embedded shaders, sorted.
func Names() []string {
	entries, err := fs.ReadDir(spvFS, "spv")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".spv"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Manifest returns the embedded MANIFEST written by tools/glslc.sh: the glslc flags
// and the sha256 of every source and every compiled file.
func Manifest() string {
	b, _ := spvFS.ReadFile("spv/MANIFEST")
	return string(b)
}
