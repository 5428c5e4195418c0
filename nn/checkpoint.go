package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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

// CheckpointFormat identifies vktrain checkpoints in their metadata.
const CheckpointFormat = "vktrain/1"

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

// readHeader reads the header of a safetensors stream: the metadata and
// the raw tensor entries.
func readHeader(r io.Reader) (map[string]string, map[string]json.RawMessage, error) {
	var hlen uint64
	if err := binary.Read(r, binary.LittleEndian, &hlen); err != nil {
		return nil, nil, fmt.Errorf("%w: no header length (%v)", ErrNotCheckpoint, err)
	}
	if hlen == 0 || hlen > 64<<20 {
		return nil, nil, fmt.Errorf("%w: header length %d", ErrNotCheckpoint, hlen)
	}
	hj := make([]byte, hlen)
	if _, err := io.ReadFull(r, hj); err != nil {
		return nil, nil, fmt.Errorf("%w: truncated header (%v)", ErrNotCheckpoint, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hj, &raw); err != nil {
		return nil, nil, fmt.Errorf("%w: header is not JSON (%v)", ErrNotCheckpoint, err)
	}
	meta := map[string]string{}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, fmt.Errorf("%w: bad __metadata__ (%v)", ErrNotCheckpoint, err)
		}
		delete(raw, "__metadata__")
	}
	return meta, raw, nil
}

// ReadMetadata reads only the header of the checkpoint at path and
// returns its metadata. It fails with ErrNotCheckpoint for a file that is
// not safetensors or whose format is not CheckpointFormat.
func ReadMetadata(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	meta, _, err := readHeader(bufioReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if meta["format"] != CheckpointFormat {
		return nil, fmt.Errorf("%s: %w (format %q, want %q)", path, ErrNotCheckpoint, meta["format"], CheckpointFormat)
	}
	return meta, nil
}

// ReadCheckpoint parses a safetensors file into its metadata and tensors.
func ReadCheckpoint(r io.Reader) (meta map[string]string, tensors map[string][]float32, shapes map[string][]int, err error) {
	meta, raw, err := readHeader(r)
	if err != nil {
		return nil, nil, nil, err
	}
	type ent struct {
		name string
		e    stEntry
	}
	var ents []ent
	for k, v := range raw {
		var e stEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, nil, nil, fmt.Errorf("%w: tensor %q: %v", ErrNotCheckpoint, k, err)
		}
		if e.DType != "F32" {
			return nil, nil, nil, fmt.Errorf("tensor %q has dtype %s; vktrain reads F32 only", k, e.DType)
		}
		n := int64(4)
		for _, d := range e.Shape {
			if d < 0 || d > 1<<30 {
				return nil, nil, nil, fmt.Errorf("%w: tensor %q has shape %v", ErrNotCheckpoint, k, e.Shape)
			}
			n *= int64(d)
			if n > 1<<34 {
				return nil, nil, nil, fmt.Errorf("%w: tensor %q too large", ErrNotCheckpoint, k)
			}
		}
		if e.Offsets[0] < 0 || e.Offsets[1]-e.Offsets[0] != n {
			return nil, nil, nil, fmt.Errorf("%w: tensor %q: offsets %v do not match shape %v", ErrNotCheckpoint, k, e.Offsets, e.Shape)
		}
		ents = append(ents, ent{k, e})
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].e.Offsets[0] < ents[j].e.Offsets[0] })
	var pos int64
	tensors, shapes = map[string][]float32{}, map[string][]int{}
	b4 := make([]byte, 4)
	for _, e := range ents {
		if e.e.Offsets[0] != pos {
			return nil, nil, nil, fmt.Errorf("%w: tensor %q starts at %d, expected %d (overlapping or gapped data)", ErrNotCheckpoint, e.name, e.e.Offsets[0], pos)
		}
		n := (e.e.Offsets[1] - e.e.Offsets[0]) / 4
		v := make([]float32, 0, min(n, 1<<20))
		for i := int64(0); i < n; i++ {
			if _, err := io.ReadFull(r, b4); err != nil {
				return nil, nil, nil, fmt.Errorf("%w: tensor %q truncated", ErrNotCheckpoint, e.name)
			}
			v = append(v, math.Float32frombits(binary.LittleEndian.Uint32(b4)))
		}
		tensors[e.name], shapes[e.name] = v, e.e.Shape
		pos = e.e.Offsets[1]
	}
	return meta, tensors, shapes, nil
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint and rebuilds
// its model (host parameters only; Bind it to a backend to use it).
func LoadCheckpoint(path string) (*Model, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	meta, tensors, shapes, err := ReadCheckpoint(bufioReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if meta["format"] != CheckpointFormat {
		return nil, nil, fmt.Errorf("%s: %w (format %q, want %q)", path, ErrNotCheckpoint, meta["format"], CheckpointFormat)
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
		if !equalShape(shapes[p.Name], p.Shape) {
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

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
