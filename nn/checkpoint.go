package nn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Checkpoints use the safetensors layout: an 8-byte little-endian header
// length, a JSON header mapping tensor names to dtype, shape and byte
// offsets (plus "__metadata__", string to string), then the raw
// little-endian data. vktrain stores every parameter and buffer under its
// name, optimizer momentum under "optim.<name>.momentum", and in the
// metadata: "format" (CheckpointFormat), "model" (ModelSpec JSON),
// "options" (Options JSON), "classes", "quantizers" (moving-average
// ranges) and whatever the caller adds (epoch, step, data normalisation,
// the training position under TrainStateKey; see resume.go).

// CheckpointFormat identifies vktrain checkpoints in their metadata. The
// model metadata of format 2 is a graph: every layer named, with inputs
// where a layer does not read the one before it, blocks expanded. Format 1
// (chains of unnamed layers) still loads.
const CheckpointFormat = "vktrain/2"

// formatPrefix starts every vktrain checkpoint format.
const formatPrefix = "vktrain/"

// checkFormat accepts the metadata of checkpoints this vktrain reads
// (formats 1 and 2). An unknown format is ErrNotCheckpoint; a newer
// vktrain format is refused naming both versions.
func checkFormat(meta map[string]string) error {
	f := meta["format"]
	switch f {
	case CheckpointFormat, formatPrefix + "1":
		return nil
	}
	if v, ok := strings.CutPrefix(f, formatPrefix); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 2 {
			return fmt.Errorf("%w: format %q is newer than this vktrain reads (%q and %s1); use a newer vktrain", ErrNotCheckpoint, f, CheckpointFormat, formatPrefix)
		}
	}
	return fmt.Errorf("%w (format %q, want %q)", ErrNotCheckpoint, f, CheckpointFormat)
}

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

type quantState struct {
	Lo, Hi      float32
	Init, Ready bool
}

func (m *Model) quantizerList() []*Quantizer {
	var qs []*Quantizer
	for _, l := range m.Layers {
		if q, ok := l.(quantLayer); ok {
			w, x := q.quantizers()
			if w != nil {
				qs = append(qs, w, x)
			}
		}
	}
	return qs
}

// SaveCheckpoint writes m (host copies: call SyncBuffers first when the
// backend updated running statistics) to path atomically: the file is
// written beside it under a temporary name, synced and renamed, so a crash
// never leaves a broken checkpoint at path.
func SaveCheckpoint(path string, m *Model, meta map[string]string) error {
	type named struct {
		name  string
		shape []int
		data  []float32
	}
	var ts []named
	for _, p := range m.Params() {
		ts = append(ts, named{p.Name, p.Shape, p.Data})
		if p.Mom != nil {
			ts = append(ts, named{"optim." + p.Name + ".momentum", p.Shape, p.Mom})
		}
	}
	md := map[string]string{}
	for k, v := range meta {
		md[k] = v
	}
	spec, _ := json.Marshal(m.Spec)
	opts, _ := json.Marshal(m.Opts)
	var qs []quantState
	for _, q := range m.quantizerList() {
		qs = append(qs, quantState{q.ema.Lo, q.ema.Hi, q.ema.Init, q.ready})
	}
	qj, _ := json.Marshal(qs)
	md["format"] = CheckpointFormat
	md["model"] = string(spec)
	md["options"] = string(opts)
	md["classes"] = strconv.Itoa(m.Classes)
	md["quantizers"] = string(qj)

	header := map[string]any{"__metadata__": md}
	var off int64
	for _, t := range ts {
		n := int64(len(t.data)) * 4
		header[t.name] = stEntry{DType: "F32", Shape: t.shape, Offsets: [2]int64{off, off + n}}
		off += n
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hj)%8 != 0 { // keep the data 8-byte aligned, as the format recommends
		hj = append(hj, ' ')
	}
	var buf bytes.Buffer
	buf.Grow(8 + len(hj) + int(off))
	_ = binary.Write(&buf, binary.LittleEndian, uint64(len(hj)))
	buf.Write(hj)
	b4 := make([]byte, 4)
	for _, t := range ts {
		for _, v := range t.data {
			binary.LittleEndian.PutUint32(b4, math.Float32bits(v))
			buf.Write(b4)
		}
	}
	return writeAtomic(path, buf.Bytes())
}

func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes it private
		f.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// ErrNotCheckpoint reports a file that is not a vktrain checkpoint.
var ErrNotCheckpoint = errors.New("not a vktrain checkpoint")

// maxHeader bounds the JSON header of a checkpoint.
const maxHeader = 64 << 20

// readHeader reads the header of a safetensors stream: the metadata, the
// raw tensor entries and the header length. size is the number of bytes
// the stream holds from its start, or -1 when unknown; a header longer
// than the stream is refused before anything is allocated for it.
func readHeader(r io.Reader, size int64) (map[string]string, map[string]json.RawMessage, int64, error) {
	var hb [8]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return nil, nil, 0, fmt.Errorf("%w: no header length (%v)", ErrNotCheckpoint, err)
	}
	hlen := binary.LittleEndian.Uint64(hb[:])
	if hlen < 2 || hlen > maxHeader {
		return nil, nil, 0, fmt.Errorf("%w: header length %d outside [2, %d]", ErrNotCheckpoint, hlen, maxHeader)
	}
	if size >= 0 && int64(hlen) > size-8 {
		return nil, nil, 0, fmt.Errorf("%w: truncated header (%d bytes announced, the file has %d after the length)", ErrNotCheckpoint, hlen, size-8)
	}
	// Without a known size, read what is there rather than trusting hlen
	// with one allocation.
	hj, err := io.ReadAll(io.LimitReader(r, int64(hlen)))
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%w: header: %v", ErrNotCheckpoint, err)
	}
	if uint64(len(hj)) != hlen {
		return nil, nil, 0, fmt.Errorf("%w: truncated header (%d of %d bytes)", ErrNotCheckpoint, len(hj), hlen)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hj, &raw); err != nil {
		return nil, nil, 0, fmt.Errorf("%w: header is not a JSON object (%v)", ErrNotCheckpoint, err)
	}
	meta := map[string]string{}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, 0, fmt.Errorf("%w: bad __metadata__ (%v)", ErrNotCheckpoint, err)
		}
		delete(raw, "__metadata__")
	}
	return meta, raw, int64(hlen), nil
}

// fileSize returns the size of the open file f, or -1.
func fileSize(f *os.File) int64 {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	return fi.Size()
}

// fileReader buffers f, whose size is size (or -1), with at most 1 MiB
// and no more than the file needs.
func fileReader(f *os.File, size int64) io.Reader {
	n := int64(1 << 20)
	if size >= 0 && size < n {
		n = max(size, 16)
	}
	return bufio.NewReaderSize(f, int(n))
}

// remaining returns how many bytes r still holds when it can tell
// (bytes.Reader, strings.Reader, bytes.Buffer, a regular *os.File), else -1.
func remaining(r io.Reader) int64 {
	switch x := r.(type) {
	case interface{ Len() int }:
		return int64(x.Len())
	case *os.File:
		size := fileSize(x)
		pos, err := x.Seek(0, io.SeekCurrent)
		if size < 0 || err != nil {
			return -1
		}
		return size - pos
	}
	return -1
}

// ReadMetadata reads only the header of the checkpoint at path and
// returns its metadata. It fails with ErrNotCheckpoint for a file that is
// not safetensors or whose format this vktrain does not read.
func ReadMetadata(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := fileSize(f)
	meta, _, _, err := readHeader(fileReader(f, size), size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkFormat(meta); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return meta, nil
}

// ReadCheckpoint parses a safetensors file into its metadata and tensors.
// Only F32 tensors are accepted, their data must be packed in offset
// order without gaps or overlaps, and no more is allocated than the
// stream holds (a hostile header cannot make it allocate gigabytes).
func ReadCheckpoint(r io.Reader) (meta map[string]string, tensors map[string][]float32, shapes map[string][]int, err error) {
	return readCheckpoint(r, remaining(r))
}

// maxTensorBytes bounds one tensor's data.
const maxTensorBytes = 1 << 34

// readCheckpoint is ReadCheckpoint for a stream of size bytes (-1: unknown).
func readCheckpoint(r io.Reader, size int64) (meta map[string]string, tensors map[string][]float32, shapes map[string][]int, err error) {
	meta, raw, hlen, err := readHeader(r, size)
	if err != nil {
		return nil, nil, nil, err
	}
	dataLen := int64(-1)
	if size >= 0 {
		dataLen = size - 8 - hlen
	}
	type ent struct {
		name string
		e    stEntry
	}
	ents := make([]ent, 0, len(raw))
	for k, v := range raw {
		var e stEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, nil, nil, fmt.Errorf("%w: tensor %q: %v", ErrNotCheckpoint, k, err)
		}
		if e.DType != "F32" {
			return nil, nil, nil, fmt.Errorf("%w: tensor %q has dtype %q; vktrain reads F32 only", ErrNotCheckpoint, k, e.DType)
		}
		n := int64(4)
		for _, d := range e.Shape {
			if d < 0 || d > 1<<30 {
				return nil, nil, nil, fmt.Errorf("%w: tensor %q has shape %v", ErrNotCheckpoint, k, e.Shape)
			}
			n *= int64(d)
			if n > maxTensorBytes {
				return nil, nil, nil, fmt.Errorf("%w: tensor %q of shape %v is too large", ErrNotCheckpoint, k, e.Shape)
			}
		}
		if e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] || e.Offsets[1]-e.Offsets[0] != n {
			return nil, nil, nil, fmt.Errorf("%w: tensor %q: offsets %v do not match shape %v", ErrNotCheckpoint, k, e.Offsets, e.Shape)
		}
		if dataLen >= 0 && e.Offsets[1] > dataLen {
			return nil, nil, nil, fmt.Errorf("%w: tensor %q truncated: its data ends at byte %d, the file holds %d bytes of data", ErrNotCheckpoint, k, e.Offsets[1], dataLen)
		}
		ents = append(ents, ent{k, e})
	}
	// Zero-length tensors first among equal starts, then by name, so that
	// the result never depends on map order.
	sort.Slice(ents, func(i, j int) bool {
		a, b := ents[i].e.Offsets, ents[j].e.Offsets
		if a != b {
			return a[0] < b[0] || a[0] == b[0] && a[1] < b[1]
		}
		return ents[i].name < ents[j].name
	})
	var pos int64
	tensors, shapes = make(map[string][]float32, len(ents)), make(map[string][]int, len(ents))
	chunk := make([]byte, 0, 64<<10)
	for _, e := range ents {
		if e.e.Offsets[0] != pos {
			return nil, nil, nil, fmt.Errorf("%w: tensor %q starts at %d, expected %d (overlapping or gapped data)", ErrNotCheckpoint, e.name, e.e.Offsets[0], pos)
		}
		nb := e.e.Offsets[1] - e.e.Offsets[0]
		capHint := nb / 4
		if dataLen < 0 { // unknown size: grow with what actually arrives
			capHint = min(capHint, 1<<16)
		}
		v := make([]float32, 0, capHint)
		for left := nb; left > 0; {
			c := chunk[:min(left, int64(cap(chunk)))]
			if _, err := io.ReadFull(r, c); err != nil {
				return nil, nil, nil, fmt.Errorf("%w: tensor %q truncated", ErrNotCheckpoint, e.name)
			}
			for i := 0; i < len(c); i += 4 {
				v = append(v, math.Float32frombits(binary.LittleEndian.Uint32(c[i:])))
			}
			left -= int64(len(c))
		}
		tensors[e.name], shapes[e.name] = v, e.e.Shape
		pos = e.e.Offsets[1]
	}
	return meta, tensors, shapes, nil
}

// checkSpecSize refuses model metadata whose parameters could not be in
// the file: the parameter and buffer elements Build would allocate for
// spec (counted by each layer kind from the inferred shapes, with
// saturating arithmetic, before anything is allocated) must not exceed
// have, the number of values the checkpoint holds. It keeps a hostile
// header from making Build allocate more than the file's size. A spec that
// does not resolve is left to Build to report.
func checkSpecSize(spec ModelSpec, have int64) error {
	if len(spec.Input) != 3 {
		return nil // Build reports it
	}
	for _, d := range spec.Input {
		if d <= 0 || d > 1<<20 {
			return fmt.Errorf("model input %v is implausible", spec.Input)
		}
	}
	nodes, err := compile(spec.Input, spec.Layers, Options{})
	if err != nil {
		return nil // Build reports it before allocating
	}
	var need int64
	for _, n := range nodes {
		in := make([][]int, len(n.in))
		for j, r := range n.in {
			in[j] = spec.Input
			if r >= 0 {
				in[j] = nodes[r].shape
			}
		}
		need = min(need+n.kind.params(n.spec, in), hugeCount)
		if need > have {
			return fmt.Errorf("model metadata: layer %s (%s) takes the parameters to %d values, the file holds %d", n.spec.Name, n.spec, need, have)
		}
	}
	return nil
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint and rebuilds
// its model (host parameters only; Bind it to a backend to use it).
func LoadCheckpoint(path string) (*Model, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	size := fileSize(f)
	meta, tensors, shapes, err := readCheckpoint(fileReader(f, size), size)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkFormat(meta); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var spec ModelSpec
	var opts Options
	if err := json.Unmarshal([]byte(meta["model"]), &spec); err != nil {
		return nil, nil, fmt.Errorf("%s: model metadata: %w", path, err)
	}
	if err := json.Unmarshal([]byte(meta["options"]), &opts); err != nil {
		return nil, nil, fmt.Errorf("%s: options metadata: %w", path, err)
	}
	classes, err := strconv.Atoi(meta["classes"])
	if err != nil {
		return nil, nil, fmt.Errorf("%s: classes metadata: %w", path, err)
	}
	var have int64
	for _, v := range tensors {
		have += int64(len(v))
	}
	if err := checkSpecSize(spec, have); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	opts.NoCompensation, opts.NoNorm = false, false // the spec already lists exactly the layers
	m, err := Build(spec.Input, spec.Layers, classes, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Opts.NoCompensation, m.Opts.NoNorm = opts.NoCompensation, opts.NoNorm
	for _, p := range m.Params() {
		v, ok := tensors[p.Name]
		if !ok {
			return nil, nil, fmt.Errorf("%s: tensor %q missing", path, p.Name)
		}
		if !slices.Equal(shapes[p.Name], p.Shape) {
			return nil, nil, fmt.Errorf("%s: tensor %q has shape %v, model wants %v", path, p.Name, shapes[p.Name], p.Shape)
		}
		copy(p.Data, v)
		if mom, ok := tensors["optim."+p.Name+".momentum"]; ok && len(mom) == len(p.Data) {
			p.Mom = mom
		}
	}
	var qs []quantState
	if s := meta["quantizers"]; s != "" && s != "null" {
		if err := json.Unmarshal([]byte(s), &qs); err != nil {
			return nil, nil, fmt.Errorf("%s: quantizer metadata: %w", path, err)
		}
	}
	ql := m.quantizerList()
	if len(qs) != len(ql) {
		return nil, nil, fmt.Errorf("%s: %d quantizer states for %d quantizers", path, len(qs), len(ql))
	}
	for i, q := range ql {
		q.ema.Lo, q.ema.Hi, q.ema.Init, q.ready = qs[i].Lo, qs[i].Hi, qs[i].Init, qs[i].Ready
	}
	return m, meta, nil
}
