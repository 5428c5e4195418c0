package nn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
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
// ranges), and since format 3 ChecksumKey (a CRC-32 per tensor),
// LayerSettingsKey (batch-norm epsilon and momentum, compensation
// momentum) and QuantCodesKey (each quantizer's code range and rounding
// rule), plus whatever the caller adds (epoch, step, data normalisation,
// the training position under TrainStateKey; see resume.go).
// docs/CHECKPOINT.md documents every name, layout and inference step.

// CheckpointFormat identifies vktrain checkpoints in their metadata. The
// model metadata of formats 2 and 3 is a graph: every layer named, with
// inputs where a layer does not read the one before it, blocks expanded.
// Format 3 adds the checksums, layer settings and quantizer code ranges
// that make a checkpoint describe itself. Formats 1 (chains of unnamed
// layers) and 2 still load, unverified, with the settings every vktrain
// before format 3 used (DefaultBatchNormEps and the default momenta).
const CheckpointFormat = "vktrain/3"

// formatPrefix starts every vktrain checkpoint format.
const formatPrefix = "vktrain/"

// formatVersion is the number of CheckpointFormat.
const formatVersion = 3

// Metadata keys of format 3.
const (
	// ChecksumKey holds a JSON object mapping every tensor's name to the
	// CRC-32 (IEEE polynomial, as zlib.crc32 and hash/crc32.ChecksumIEEE)
	// of its raw data bytes, as 8 lower-case hex digits.
	ChecksumKey = "tensor_crc32"
	// LayerSettingsKey holds a JSON object mapping layer names to the
	// settings that are not tensors: {"eps", "momentum"} for batch norm,
	// {"momentum"} for compensation.
	LayerSettingsKey = "layer_settings"
	// QuantCodesKey holds a JSON QuantCodes: the quantization rule and
	// every quantizer's code range.
	QuantCodesKey = "quant_codes"
)

// QuantRule names the quantizer's forward map (quant.Code):
// q = clamp(round(x·fl32(1/s)) + z, qmin, qmax) with x·fl32(1/s) the
// float32 product of x and the float32 reciprocal of s, round half away
// from zero, and z added before the clamp. A checkpoint naming another
// rule is refused.
const QuantRule = "clamp(round_half_away_from_zero(fl32(x*fl32(1/scale)))+zero, qmin, qmax)"

// DefaultBatchNormEps is the batch-norm epsilon of every vktrain model
// (and of checkpoints of formats 1 and 2, which do not store it).
const DefaultBatchNormEps = 1e-5

// ErrDamaged reports a checkpoint whose data does not match its checksums.
var ErrDamaged = errors.New("checkpoint is damaged")

// ErrNonFinite reports a checkpoint holding NaN or infinite parameters.
var ErrNonFinite = errors.New("non-finite parameters")

// checkFormat accepts the metadata of checkpoints this vktrain reads
// (formats 1 to 3) and returns the format's number. An unknown format is
// ErrNotCheckpoint; a newer vktrain format is refused naming both
// versions.
func checkFormat(meta map[string]string) (int, error) {
	f := meta["format"]
	if v, ok := strings.CutPrefix(f, formatPrefix); ok {
		n, err := strconv.Atoi(v)
		switch {
		case err == nil && n >= 1 && n <= formatVersion && v == strconv.Itoa(n):
			return n, nil
		case err == nil && n > formatVersion:
			return 0, fmt.Errorf("%w: format %q is newer than this vktrain reads (%q, %s2 and %s1); use a newer vktrain", ErrNotCheckpoint, f, CheckpointFormat, formatPrefix, formatPrefix)
		}
	}
	return 0, fmt.Errorf("%w (format %q, want %q)", ErrNotCheckpoint, f, CheckpointFormat)
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

// QuantCodes is the JSON under QuantCodesKey.
type QuantCodes struct {
	// Rule is QuantRule.
	Rule string `json:"rule"`
	// Quantizers maps each quantizer's name (LAYER.wq for the weights of
	// LAYER, LAYER.xq for its input) to its code range.
	Quantizers map[string]QuantRange `json:"quantizers"`
}

// QuantRange is the code range of one quantizer. Its scale and
// (continuous) zero point are the tensors NAME.scale and NAME.zero, one
// value per channel.
type QuantRange struct {
	// Of names what is quantized: a weight tensor, or "input of LAYER".
	Of string `json:"of"`
	// Bits is the code width; Signed selects [-(2^(Bits-1)-1),
	// 2^(Bits-1)-1] over [0, 2^Bits-1].
	Bits   int  `json:"bits"`
	Signed bool `json:"signed"`
	// QMin and QMax are the code range.
	QMin int32 `json:"qmin"`
	QMax int32 `json:"qmax"`
	// Granularity is "per_channel" (one scale per output channel of the
	// weights, their first dimension) when there are several scales, else
	// "per_tensor"; Channels is the number of scales.
	Granularity string `json:"granularity"`
	Channels    int    `json:"channels"`
	// Symmetric quantizers have zero point 0.
	Symmetric bool `json:"symmetric"`
}

// LayerSettings is one entry under LayerSettingsKey.
type LayerSettings struct {
	// Eps is the batch-norm epsilon (nil for compensation layers).
	Eps *float32 `json:"eps,omitempty"`
	// Momentum is the weight of the batch statistic in the running
	// statistics' update (training only).
	Momentum float32 `json:"momentum"`
}

// quantCodes describes the quantizers of m.
func (m *Model) quantCodes() QuantCodes {
	qc := QuantCodes{Rule: QuantRule, Quantizers: map[string]QuantRange{}}
	for _, l := range m.Layers {
		ql, ok := l.(quantLayer)
		if !ok {
			continue
		}
		w, x := ql.quantizers()
		if w == nil {
			continue
		}
		for _, q := range []*Quantizer{w, x} {
			lo, hi := q.scheme.Range()
			r := QuantRange{Bits: q.scheme.Bits, Signed: q.scheme.Signed, QMin: lo, QMax: hi,
				Granularity: "per_tensor", Channels: q.channels, Symmetric: q.symmetric}
			if q.channels > 1 {
				r.Granularity = "per_channel"
			}
			r.Of = "input of " + l.Name()
			if q == w {
				r.Of = l.Name() + ".weight"
			}
			qc.Quantizers[q.name] = r
		}
	}
	return qc
}

// layerSettings returns the settings of m's batch-norm and compensation
// layers.
func (m *Model) layerSettings() map[string]LayerSettings {
	ls := map[string]LayerSettings{}
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *BatchNorm:
			eps := l.Eps
			ls[l.Name()] = LayerSettings{Eps: &eps, Momentum: l.Momentum}
		case *Compensation:
			ls[l.Name()] = LayerSettings{Momentum: l.Momentum}
		}
	}
	return ls
}

// applySettings checks the layer settings and quantizer code ranges of a
// format-3 checkpoint against the model built from its options and sets
// the batch-norm epsilons and the momenta it records.
func (m *Model) applySettings(meta map[string]string) error {
	var ls map[string]LayerSettings
	if err := json.Unmarshal([]byte(meta[LayerSettingsKey]), &ls); err != nil {
		return fmt.Errorf("%s metadata: %w", LayerSettingsKey, err)
	}
	var qc QuantCodes
	if err := json.Unmarshal([]byte(meta[QuantCodesKey]), &qc); err != nil {
		return fmt.Errorf("%s metadata: %w", QuantCodesKey, err)
	}
	if qc.Rule != QuantRule {
		return fmt.Errorf("%s metadata: quantization rule %q; this vktrain implements %q", QuantCodesKey, qc.Rule, QuantRule)
	}
	want := m.quantCodes()
	for name, w := range want.Quantizers {
		got, ok := qc.Quantizers[name]
		if !ok {
			return fmt.Errorf("%s metadata: quantizer %s missing", QuantCodesKey, name)
		}
		if got != w {
			return fmt.Errorf("%s metadata: quantizer %s is %+v, the model built from the checkpoint's options has %+v", QuantCodesKey, name, got, w)
		}
	}
	for name := range qc.Quantizers {
		if _, ok := want.Quantizers[name]; !ok {
			return fmt.Errorf("%s metadata: quantizer %s is not in the model", QuantCodesKey, name)
		}
	}
	used := 0
	for _, l := range m.Layers {
		var mom *float32
		var eps *float32
		switch l := l.(type) {
		case *BatchNorm:
			mom, eps = &l.Momentum, &l.Eps
		case *Compensation:
			mom = &l.Momentum
		default:
			continue
		}
		s, ok := ls[l.Name()]
		if !ok {
			return fmt.Errorf("%s metadata: layer %s missing", LayerSettingsKey, l.Name())
		}
		used++
		if !(s.Momentum >= 0 && s.Momentum <= 1) {
			return fmt.Errorf("%s metadata: layer %s: momentum %v outside [0, 1]", LayerSettingsKey, l.Name(), s.Momentum)
		}
		*mom = s.Momentum
		if eps != nil {
			if s.Eps == nil || !(*s.Eps > 0) || math.IsInf(float64(*s.Eps), 0) {
				return fmt.Errorf("%s metadata: layer %s: batch-norm epsilon missing or not positive and finite", LayerSettingsKey, l.Name())
			}
			*eps = *s.Eps
		}
	}
	if used != len(ls) {
		return fmt.Errorf("%s metadata: %d layers, the model has %d batch-norm and compensation layers", LayerSettingsKey, len(ls), used)
	}
	return nil
}

// tensorCRC returns the checksum stored for a tensor's data bytes.
func tensorCRC(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// verifyChecksums compares the CRC-32 of every tensor's data (sums) with
// ChecksumKey. Without the key it does nothing unless required.
func verifyChecksums(meta map[string]string, sums map[string]uint32, required bool) error {
	v, ok := meta[ChecksumKey]
	if !ok {
		if required {
			return fmt.Errorf("%w: %s metadata missing", ErrDamaged, ChecksumKey)
		}
		return nil
	}
	var want map[string]string
	if err := json.Unmarshal([]byte(v), &want); err != nil {
		return fmt.Errorf("%w: %s metadata: %v", ErrDamaged, ChecksumKey, err)
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, ok := want[n]
		if !ok {
			return fmt.Errorf("%w: tensor %q has no checksum", ErrDamaged, n)
		}
		if got := fmt.Sprintf("%08x", sums[n]); got != w {
			return fmt.Errorf("%w: tensor %q: its data has CRC-32 %s, the header says %s", ErrDamaged, n, got, w)
		}
	}
	if len(want) != len(sums) {
		for n := range want {
			if _, ok := sums[n]; !ok {
				return fmt.Errorf("%w: tensor %q has a checksum but is not in the file", ErrDamaged, n)
			}
		}
	}
	return nil
}

// checkFiniteTensors refuses NaN or infinite values in the tensors named
// by m's parameters and their momentum, naming the first such tensor (in
// model order) with its count.
func checkFiniteTensors(m *Model, tensors map[string][]float32) error {
	var first error
	bad := 0
	check := func(name string, v []float32) {
		n := 0
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				n++
			}
		}
		if n == 0 {
			return
		}
		bad++
		if first == nil {
			first = fmt.Errorf("%s: %d of %d values are NaN/Inf", name, n, len(v))
		}
	}
	for _, p := range m.Params() {
		check(p.Name, tensors[p.Name])
		mn := "optim." + p.Name + ".momentum"
		check(mn, tensors[mn])
	}
	switch {
	case bad == 1:
		return fmt.Errorf("%w: %v", ErrNonFinite, first)
	case bad > 1:
		return fmt.Errorf("%w: %v (and %d more tensors)", ErrNonFinite, first, bad-1)
	}
	return nil
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
	qj, err := json.Marshal(qs)
	if err != nil {
		return fmt.Errorf("checkpoint %s: quantizer state: %w", path, err)
	}
	lj, err := json.Marshal(m.layerSettings())
	if err != nil {
		return fmt.Errorf("checkpoint %s: layer settings: %w", path, err)
	}
	cj, _ := json.Marshal(m.quantCodes())
	md["format"] = CheckpointFormat
	md["model"] = string(spec)
	md["options"] = string(opts)
	md["classes"] = strconv.Itoa(m.Classes)
	md["quantizers"] = string(qj)
	md[LayerSettingsKey] = string(lj)
	md[QuantCodesKey] = string(cj)

	var data bytes.Buffer
	sums := make(map[string]string, len(ts))
	header := map[string]any{}
	b4 := make([]byte, 4)
	for _, t := range ts {
		start := data.Len()
		for _, v := range t.data {
			binary.LittleEndian.PutUint32(b4, math.Float32bits(v))
			data.Write(b4)
		}
		sums[t.name] = fmt.Sprintf("%08x", tensorCRC(data.Bytes()[start:]))
		header[t.name] = stEntry{DType: "F32", Shape: t.shape, Offsets: [2]int64{int64(start), int64(data.Len())}}
	}
	sj, _ := json.Marshal(sums)
	md[ChecksumKey] = string(sj)
	header["__metadata__"] = md
	hj, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hj)%8 != 0 { // keep the data 8-byte aligned, as the format recommends
		hj = append(hj, ' ')
	}
	var buf bytes.Buffer
	buf.Grow(8 + len(hj) + data.Len())
	_ = binary.Write(&buf, binary.LittleEndian, uint64(len(hj)))
	buf.Write(hj)
	buf.Write(data.Bytes())
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
	if _, err := checkFormat(meta); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return meta, nil
}

// ReadCheckpoint parses a safetensors file into its metadata and tensors.
// Only F32 tensors are accepted, their data must be packed in offset
// order without gaps or overlaps, and no more is allocated than the
// stream holds (a hostile header cannot make it allocate gigabytes).
// When the metadata holds checksums (ChecksumKey, format 3) every
// tensor's data is verified against them; a mismatch is ErrDamaged naming
// the tensor. It does not check the format or the values (LoadCheckpoint
// does).
func ReadCheckpoint(r io.Reader) (meta map[string]string, tensors map[string][]float32, shapes map[string][]int, err error) {
	meta, tensors, shapes, sums, err := readCheckpoint(r, remaining(r))
	if err != nil {
		return nil, nil, nil, err
	}
	if err := verifyChecksums(meta, sums, false); err != nil {
		return nil, nil, nil, err
	}
	return meta, tensors, shapes, nil
}

// maxTensorBytes bounds one tensor's data.
const maxTensorBytes = 1 << 34

// readCheckpoint reads a stream of size bytes (-1: unknown) like
// ReadCheckpoint, without verifying, and returns the CRC-32 of each
// tensor's data bytes as well.
func readCheckpoint(r io.Reader, size int64) (meta map[string]string, tensors map[string][]float32, shapes map[string][]int, sums map[string]uint32, err error) {
	meta, raw, hlen, err := readHeader(r, size)
	if err != nil {
		return nil, nil, nil, nil, err
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
			return nil, nil, nil, nil, fmt.Errorf("%w: tensor %q: %v", ErrNotCheckpoint, k, err)
		}
		if e.DType != "F32" {
			return nil, nil, nil, nil, fmt.Errorf("%w: tensor %q has dtype %q; vktrain reads F32 only", ErrNotCheckpoint, k, e.DType)
		}
		n := int64(4)
		for _, d := range e.Shape {
			if d < 0 || d > 1<<30 {
				return nil, nil, nil, nil, fmt.Errorf("%w: tensor %q has shape %v", ErrNotCheckpoint, k, e.Shape)
			}
			n *= int64(d)
			if n > maxTensorBytes {
				return nil, nil, nil, nil, fmt.Errorf("%w: tensor %q of shape %v is too large", ErrNotCheckpoint, k, e.Shape)
			}
		}
		if e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] || e.Offsets[1]-e.Offsets[0] != n {
			return nil, nil, nil, nil, fmt.Errorf("%w: tensor %q: offsets %v do not match shape %v", ErrNotCheckpoint, k, e.Offsets, e.Shape)
		}
		if dataLen >= 0 && e.Offsets[1] > dataLen {
			return nil, nil, nil, nil, fmt.Errorf("%w: tensor %q truncated: its data ends at byte %d, the file holds %d bytes of data", ErrNotCheckpoint, k, e.Offsets[1], dataLen)
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
	sums = make(map[string]uint32, len(ents))
	chunk := make([]byte, 0, 64<<10)
	for _, e := range ents {
		if e.e.Offsets[0] != pos {
			return nil, nil, nil, nil, fmt.Errorf("%w: tensor %q starts at %d, expected %d (overlapping or gapped data)", ErrNotCheckpoint, e.name, e.e.Offsets[0], pos)
		}
		nb := e.e.Offsets[1] - e.e.Offsets[0]
		capHint := nb / 4
		if dataLen < 0 { // unknown size: grow with what actually arrives
			capHint = min(capHint, 1<<16)
		}
		v := make([]float32, 0, capHint)
		var crc uint32
		for left := nb; left > 0; {
			c := chunk[:min(left, int64(cap(chunk)))]
			if _, err := io.ReadFull(r, c); err != nil {
				return nil, nil, nil, nil, fmt.Errorf("%w: tensor %q truncated", ErrNotCheckpoint, e.name)
			}
			crc = crc32.Update(crc, crc32.IEEETable, c)
			for i := 0; i < len(c); i += 4 {
				v = append(v, math.Float32frombits(binary.LittleEndian.Uint32(c[i:])))
			}
			left -= int64(len(c))
		}
		tensors[e.name], shapes[e.name], sums[e.name] = v, e.e.Shape, crc
		pos = e.e.Offsets[1]
	}
	return meta, tensors, shapes, sums, nil
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
	meta, tensors, shapes, sums, err := readCheckpoint(fileReader(f, size), size)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	version, err := checkFormat(meta)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	// Formats 1 and 2 have no checksums: their data cannot be verified.
	if err := verifyChecksums(meta, sums, version >= 3); err != nil {
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
	if err := checkFiniteTensors(m, tensors); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if version >= 3 {
		if err := m.applySettings(meta); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	for _, p := range m.Params() {
		v, ok := tensors[p.Name]
		if !ok {
			return nil, nil, fmt.Errorf("%s: tensor %q missing", path, p.Name)
		}
		if !slices.Equal(shapes[p.Name], p.Shape) {
			return nil, nil, fmt.Errorf("%s: tensor %q has shape %v, model wants %v", path, p.Name, shapes[p.Name], p.Shape)
		}
		copy(p.Data, v)
		// Before format 3, scales were updated linearly: their momentum is in
		// other units than the log-domain update's, so it starts again at 0.
		if mom, ok := tensors["optim."+p.Name+".momentum"]; ok && len(mom) == len(p.Data) && (version >= 3 || p.Kind != KindQuantScale) {
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
