package nn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The seed corpus of FuzzReadCheckpoint lives in
// testdata/fuzz/FuzzReadCheckpoint, one file per case, named for what it
// holds; TestFuzzSeeds checks that each still means what its name says.
// VKTRAIN_WRITE_FUZZ_SEEDS=1 go test -run TestFuzzSeeds ./nn rewrites them.

// fuzzModel is a tiny model whose checkpoint is a few hundred bytes.
func fuzzModel(t testing.TB) *Model {
	m, err := Build([]int{2, 2, 1}, []LayerSpec{{Type: "fc", Out: 2}, {Type: "comp"}}, 2, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// safetensors assembles a file from a header (JSON text) and data.
func safetensors(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

// fuzzSeeds returns the seed corpus: name to file contents. "valid" must
// load; all others must fail.
func fuzzSeeds(t testing.TB) map[string][]byte {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveCheckpoint(path, fuzzModel(t), map[string]string{"epoch": "1"}); err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hlen := int(binary.LittleEndian.Uint64(valid))
	withLen := func(n uint64) []byte {
		b := bytes.Clone(valid)
		binary.LittleEndian.PutUint64(b, n)
		return b
	}
	const meta = `"__metadata__":{"format":"vktrain/1"}`
	hostile := `{"__metadata__":{"format":"vktrain/1","classes":"10","options":"{}","quantizers":"[]",` +
		`"model":"{\"input\":[1024,1024,3],\"layers\":[{\"type\":\"fc\",\"out\":100000}]}"},` +
		`"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	return map[string][]byte{
		"valid":               valid,
		"truncated-in-length": valid[:5],
		"truncated-in-header": valid[:8+hlen/2],
		"truncated-in-data":   valid[:len(valid)-6],
		"bad-header-length":   withLen(uint64(len(valid))),
		"huge-header-length":  withLen(1 << 62),
		"zero-header-length":  withLen(0),
		"bad-json":            safetensors(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`, make([]byte, 8)),
		"json-not-object":     safetensors(`[1,2,3]`, nil),
		"bad-metadata":        safetensors(`{"__metadata__":{"format":7}}`, nil),
		"wrong-dtype":         safetensors(`{`+meta+`,"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"overlapping-offsets": safetensors(`{`+meta+`,"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)),
		"gapped-offsets":      safetensors(`{`+meta+`,"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
		"offsets-not-shape":   safetensors(`{`+meta+`,"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 12)),
		"huge-shape":          safetensors(`{`+meta+`,"a":{"dtype":"F32","shape":[1073741824,4],"data_offsets":[0,17179869184]}}`, make([]byte, 16)),
		"negative-offsets":    safetensors(`{`+meta+`,"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, make([]byte, 4)),
		"foreign-safetensors": safetensors(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}`, make([]byte, 8)),
		"no-metadata":         safetensors(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)),
		"hostile-model-spec":  safetensors(hostile, make([]byte, 8)),
		"no-model-metadata":   safetensors(`{`+meta+`}`, nil),
	}
}

// writeSeed writes b in the "go test fuzz v1" corpus format.
func writeSeed(path string, b []byte) error {
	return os.WriteFile(path, []byte("go test fuzz v1\n[]byte("+strconv.Quote(string(b))+")\n"), 0o644)
}

// readSeed parses a corpus file written by writeSeed.
func readSeed(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	head, body, ok := strings.Cut(string(raw), "\n")
	body = strings.TrimSpace(body)
	if !ok || head != "go test fuzz v1" || !strings.HasPrefix(body, "[]byte(") || !strings.HasSuffix(body, ")") {
		return nil, fmt.Errorf("%s: not a one-[]byte corpus file", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(body, "[]byte("), ")"))
	return []byte(s), err
}

// TestFuzzSeeds checks the committed corpus: the valid checkpoint loads
// and every other case is refused with ErrNotCheckpoint (or, for the
// foreign file, with a format error) by both readers.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReadCheckpoint")
	if os.Getenv("VKTRAIN_WRITE_FUZZ_SEEDS") == "1" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range fuzzSeeds(t) {
			if err := writeSeed(filepath.Join(dir, name), b); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := fuzzSeeds(t)
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			b, err := readSeed(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("%v (regenerate with VKTRAIN_WRITE_FUZZ_SEEDS=1)", err)
			}
			path := filepath.Join(t.TempDir(), "c.safetensors")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err = LoadCheckpoint(path)
			if name == "valid" {
				if err != nil {
					t.Fatalf("LoadCheckpoint: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("LoadCheckpoint accepted it")
			}
			// The last two are valid safetensors with bad model metadata.
			if name != "hostile-model-spec" && name != "no-model-metadata" && !errors.Is(err, ErrNotCheckpoint) {
				t.Errorf("LoadCheckpoint: %v, want ErrNotCheckpoint", err)
			}
			t.Logf("%v", err)
		})
	}
}

// opaque hides a reader's length, so ReadCheckpoint cannot know the size.
type opaque struct{ io.Reader }

// FuzzReadCheckpoint feeds arbitrary bytes to ReadCheckpoint (with and
// without a known length), ReadMetadata and LoadCheckpoint. None may
// panic, hang or allocate much more than the input's size; what they
// accept must be consistent.
func FuzzReadCheckpoint(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b)
	}
	// Each worker process runs the body sequentially: one file will do.
	path := filepath.Join(f.TempDir(), "c.safetensors")
	f.Fuzz(func(t *testing.T, b []byte) {
		meta, ts, shapes, err := ReadCheckpoint(bytes.NewReader(b))
		_, ts2, _, err2 := ReadCheckpoint(opaque{bytes.NewReader(b)})
		if (err == nil) != (err2 == nil) || len(ts) != len(ts2) {
			t.Fatalf("known length: %v (%d tensors); unknown: %v (%d tensors)", err, len(ts), err2, len(ts2))
		}
		if err == nil {
			if meta == nil {
				t.Fatal("nil metadata without an error")
			}
			var total int
			for name, v := range ts {
				n := 1
				for _, d := range shapes[name] {
					n *= d
				}
				if n != len(v) || len(ts2[name]) != len(v) {
					t.Fatalf("tensor %q: %d values for shape %v", name, len(v), shapes[name])
				}
				total += 4 * len(v)
			}
			if total > len(b) {
				t.Fatalf("%d bytes of tensors from a %d-byte input", total, len(b))
			}
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		md, errMeta := ReadMetadata(path)
		m, lmeta, errLoad := LoadCheckpoint(path)
		if errLoad == nil {
			if errMeta != nil || err != nil {
				t.Fatalf("LoadCheckpoint accepted what ReadMetadata (%v) or ReadCheckpoint (%v) refused", errMeta, err)
			}
			if len(md) != len(lmeta) {
				t.Fatalf("ReadMetadata has %d keys, LoadCheckpoint %d", len(md), len(lmeta))
			}
			for _, p := range m.Params() {
				if len(p.Data) != len(ts[p.Name]) {
					t.Fatalf("parameter %s: %d values, file %d", p.Name, len(p.Data), len(ts[p.Name]))
				}
			}
		}
	})
}

// TestHostileSizesAllocateLittle: a header announcing 64 MiB of JSON or a
// 16 GiB tensor in a tiny stream is refused without allocating for it,
// whether or not the reader's length is known.
func TestHostileSizesAllocateLittle(t *testing.T) {
	bigHeader := make([]byte, 8, 64)
	binary.LittleEndian.PutUint64(bigHeader, maxHeader)
	bigHeader = append(bigHeader, `{"a":`...)
	cases := map[string][]byte{
		"64MiB-header": bigHeader,
		"16GiB-tensor": fuzzSeeds(t)["huge-shape"],
	}
	for name, b := range cases {
		for _, r := range []func() io.Reader{
			func() io.Reader { return bytes.NewReader(b) },
			func() io.Reader { return opaque{bytes.NewReader(b)} },
		} {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, _, err := ReadCheckpoint(r())
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrNotCheckpoint) {
				t.Errorf("%s: %v, want ErrNotCheckpoint", name, err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("%s (%T): allocated %d bytes", name, r(), got)
			}
		}
	}
}
