package shaders

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// parseManifest returns the glslc flags and a map from file name to sha256.
// texelSource returns the source of a texel build NAME_tex (NAME.comp, which
// must include io.glsl), or "" when name is not one.
func texelSource(t *testing.T, name string) string {
	t.Helper()
	base, ok := strings.CutSuffix(name, "_tex")
	if !ok {
		return ""
	}
	b, err := os.ReadFile(base + ".comp")
	if err != nil || !hasTexel(b) {
		return ""
	}
	return base + ".comp"
}

// hasTexel reports whether a kernel source has a texel build (tools/glslc.sh's rule).
func hasTexel(src []byte) bool {
	for _, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, `#include "io.glsl"`) {
			return true
		}
	}
	return false
}

func parseManifest(t *testing.T) (flags, texelFlags []string, sums map[string]string) {
	t.Helper()
	sums = map[string]string{}
	for _, line := range strings.Split(Manifest(), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "# flags:"):
			flags = strings.Fields(strings.TrimPrefix(line, "# flags:"))
		case strings.HasPrefix(line, "# texel flags:"):
			texelFlags = strings.Fields(strings.TrimPrefix(line, "# texel flags:"))
		case strings.HasPrefix(line, "#"):
		default:
			f := strings.Fields(line)
			if len(f) != 2 {
				t.Fatalf("MANIFEST: malformed line %q", line)
			}
			sums[f[1]] = f[0]
		}
	}
	if len(flags) == 0 || len(texelFlags) == 0 {
		t.Fatal("MANIFEST: no '# flags:' or '# texel flags:' line")
	}
	return flags, texelFlags, sums
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sources(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"*.comp", "*.glsl"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	return out
}

func TestManifestMatchesSources(t *testing.T) {
	_, _, sums := parseManifest(t)
	srcs := sources(t)
	seen := map[string]bool{}
	for _, f := range srcs {
		seen[f] = true
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := sums[f]
		if !ok {
			t.Errorf("%s is not in spv/MANIFEST: run tools/glslc.sh", f)
			continue
		}
		if got := sha(b); got != want {
			t.Errorf("%s changed since it was compiled (sha256 %s, MANIFEST %s): run tools/glslc.sh", f, got[:12], want[:12])
		}
	}
	for name := range sums {
		if !strings.HasPrefix(name, "spv/") && !seen[name] {
			t.Errorf("MANIFEST lists %s, which no longer exists: run tools/glslc.sh", name)
		}
	}
	// Every embedded SPIR-V file matches the MANIFEST and has a source.
	for _, n := range Names() {
		b, err := SPIRV(n)
		if err != nil {
			t.Fatal(err)
		}
		if want := sums["spv/"+n+".spv"]; sha(b) != want {
			t.Errorf("spv/%s.spv does not match MANIFEST: run tools/glslc.sh", n)
		}
		if !seen[n+".comp"] && texelSource(t, n) == "" {
			t.Errorf("spv/%s.spv has no source %s.comp", n, n)
		}
		if len(b) < 20 || b[0] != 0x03 || b[1] != 0x02 || b[2] != 0x23 || b[3] != 0x07 {
			t.Errorf("spv/%s.spv does not start with the SPIR-V magic number", n)
		}
	}
	for _, f := range srcs {
		if n, ok := strings.CutSuffix(f, ".comp"); ok {
			if _, err := SPIRV(n); err != nil {
				t.Errorf("%s has no compiled SPIR-V: run tools/glslc.sh", f)
			}
			if b, _ := os.ReadFile(f); hasTexel(b) {
				if _, err := SPIRV(n + "_tex"); err != nil {
					t.Errorf("%s includes io.glsl but has no texel build spv/%s_tex.spv: run tools/glslc.sh", f, n)
				}
			}
		}
	}
}

func TestRecompileMatches(t *testing.T) {
	glslc, err := exec.LookPath("glslc")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("glslc not found and CI is set: install glslc to check the committed SPIR-V")
		}
		t.Skip("glslc not found: skipping the recompile check (MANIFEST hashes were still checked)")
	}
	flags, texelFlags, _ := parseManifest(t)
	dir := t.TempDir()
	type build struct{ name, src string }
	var builds []build
	for _, f := range sources(t) {
		n, ok := strings.CutSuffix(f, ".comp")
		if !ok {
			continue
		}
		builds = append(builds, build{n, f})
		if b, _ := os.ReadFile(f); hasTexel(b) {
			builds = append(builds, build{n + "_tex", f})
		}
	}
	for _, bd := range builds {
		n, f := bd.name, bd.src
		out := filepath.Join(dir, n+".spv")
		args := append([]string{}, flags...)
		if strings.HasSuffix(n, "_tex") {
			args = append(args, texelFlags...)
		}
		args = append(args, "-I", ".", "-o", out, f)
		if msg, err := exec.Command(glslc, args...).CombinedOutput(); err != nil {
			t.Errorf("glslc %s: %v\n%s", f, err, msg)
			continue
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		have, err := SPIRV(n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, have) {
			t.Errorf("spv/%s.spv differs from a fresh compile of %s: run tools/glslc.sh", n, f)
		}
	}
}

func TestSPIRVRejectsBadNames(t *testing.T) {
	for _, n := range []string{"", "../embed", "spv/x", "nope"} {
		if _, err := SPIRV(n); err == nil {
			t.Errorf("SPIRV(%q): want error", n)
		}
	}
}
