package gpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"unsafe"
)

// Push encodes 32-bit values (uint32, int32, float32) little-endian, in order, as a
// push-constant block: Push(uint32(n), float32(a)) matches
// "layout(push_constant) uniform P { uint n; float a; }". Any other type is a
// programmer mistake and panics.
func Push(values ...any) []byte {
	out := make([]byte, 0, 4*len(values))
	for i, v := range values {
		switch x := v.(type) {
		case uint32:
			out = binary.LittleEndian.AppendUint32(out, x)
		case int32:
			out = binary.LittleEndian.AppendUint32(out, uint32(x))
		case float32:
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
		default:
			panic(fmt.Sprintf("gpu.Push: value %d has type %T; want uint32, int32 or float32", i, v))
		}
	}
	return out
}

// EncodePush encodes a struct (or pointer to one) whose fields are uint32, int32,
// float32 or arrays of them, little-endian and unpadded: the layout of a GLSL
// push-constant block with the same scalar members in the same order. Mirror each
// kernel's block in a Go struct and check its size against KernelSpec.PushSize.
func EncodePush(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("gpu.EncodePush: %T is not a struct", v)
	}
	if err := checkPushType(rv.Type()); err != nil {
		return nil, fmt.Errorf("gpu.EncodePush: %T: %w", v, err)
	}
	return binary.Append(nil, binary.LittleEndian, rv.Interface())
}

// AppendPush appends the encoding EncodePush gives *v to dst and returns the
// extended slice. T is a struct type as EncodePush takes. Unlike EncodePush it
// does not use reflection on each call: T is checked once (the result is
// cached), then *v's memory is copied word by word, so AppendPush allocates
// nothing when dst has room for the encoding. It does not retain v.
func AppendPush[T any](dst []byte, v *T) ([]byte, error) {
	info := pushTypeOf(reflect.TypeFor[T]())
	if info.err != nil {
		return dst, info.err
	}
	if !info.direct {
		// A layout with padding in memory (a zero-length array ending a
		// struct): encode a copy through reflection, allocating.
		c := new(T)
		*c = *v
		enc, err := binary.Append(nil, binary.LittleEndian, c)
		return append(dst, enc...), err
	}
	n := len(dst)
	dst = slicesGrow(dst, info.size)
	out := dst[n : n+info.size]
	copy(out, unsafe.Slice((*byte)(unsafe.Pointer(v)), info.size))
	if !nativeLittle {
		for i := 0; i < len(out); i += 4 {
			binary.LittleEndian.PutUint32(out[i:], binary.NativeEndian.Uint32(out[i:]))
		}
	}
	return dst, nil
}

// slicesGrow extends b by n bytes (contents undefined past len(b)).
func slicesGrow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// nativeLittle reports whether the machine stores words little-endian, as
// push constants are encoded.
var nativeLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// pushType is what AppendPush learns of a push-constant type once: whether
// it can be encoded (err), its encoded size and whether its memory is that
// encoding already (direct: every field a 4-byte word at its packed offset,
// no padding).
type pushType struct {
	err    error
	size   int
	direct bool
}

var pushTypes sync.Map // reflect.Type -> *pushType

func pushTypeOf(t reflect.Type) *pushType {
	if v, ok := pushTypes.Load(t); ok {
		return v.(*pushType)
	}
	info := &pushType{}
	switch {
	case t.Kind() != reflect.Struct:
		info.err = fmt.Errorf("gpu.AppendPush: %s is not a struct", t)
	default:
		if err := checkPushType(t); err != nil {
			info.err = fmt.Errorf("gpu.AppendPush: %s: %w", t, err)
			break
		}
		info.size = int(binary.Size(reflect.Zero(t).Interface()))
		info.direct = packedLayout(t, 0) && uintptr(info.size) == t.Size()
	}
	v, _ := pushTypes.LoadOrStore(t, info)
	return v.(*pushType)
}

// packedLayout reports whether every leaf field of t (a type checkPushType
// accepts), placed at byte off, lies at its packed offset in memory, as
// EncodePush lays them out.
func packedLayout(t reflect.Type, off uintptr) bool {
	switch t.Kind() {
	case reflect.Struct:
		at := off
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if off+f.Offset != at || !packedLayout(f.Type, at) {
				return false
			}
			at += uintptr(binary.Size(reflect.Zero(f.Type).Interface()))
		}
		return true
	case reflect.Array:
		if t.Len() == 0 {
			return true
		}
		es := uintptr(binary.Size(reflect.Zero(t.Elem()).Interface()))
		return t.Elem().Size() == es && packedLayout(t.Elem(), off)
	}
	return t.Size() == 4
}

func checkPushType(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Uint32, reflect.Int32, reflect.Float32:
		return nil
	case reflect.Array:
		return checkPushType(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if err := checkPushType(f.Type); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		return nil
	}
	return fmt.Errorf("type %s is not a 32-bit scalar", t)
}

// PushKind is the type class of a push-constant member's components.
type PushKind uint8

// The push-constant type classes: GLSL uint/uvecN, int/ivecN and float/vecN
// (and their arrays), matched by Go uint32, int32 and float32.
const (
	PushUint PushKind = iota + 1
	PushInt
	PushFloat
)

// String returns "uint", "int" or "float".
func (k PushKind) String() string {
	switch k {
	case PushUint:
		return "uint"
	case PushInt:
		return "int"
	case PushFloat:
		return "float"
	}
	return fmt.Sprintf("PushKind(%d)", uint8(k))
}

// PushMember is one leaf member of a push-constant block: a scalar, a vector
// or an array (of arrays) of them. Members of nested structs and elements of
// arrays of structs are flattened into leaves, in declaration order.
type PushMember struct {
	// Name is the GLSL name from OpMemberName, dotted and indexed for nested
	// members ("g.n", "a[1].x"); "" when the module carries no member names
	// (glslc strips them unless compiled with -g).
	Name string
	// Offset is the member's byte offset from the start of the block.
	Offset uint32
	// Kind is the class of the member's components.
	Kind PushKind
	// Width is the bit width of one component (32 for all EncodePush writes).
	Width uint32
	// Count is the number of components: 1 for a scalar, n for a vector, the
	// product of the lengths times the components for an array.
	Count uint32
	// Size is the number of bytes the member spans, array-stride padding
	// included; it equals Count*Width/8 only when the member is tightly packed.
	Size uint32
	// Type is the GLSL spelling of the member's type: "uint", "vec2", "int[4]".
	Type string
}

// PushBlock is the push-constant block of a SPIR-V module, as PushLayout reads it.
type PushBlock struct {
	// Name is the block's type name ("Push" for "uniform Push { ... } p"), ""
	// when the module carries no names.
	Name string
	// Members are the block's leaf members in declaration order.
	Members []PushMember
	// Size is the number of bytes the shader reads: the end of the member that
	// ends last. It is 0 when the module has no push-constant block.
	Size uint32
}

// SPIR-V opcodes, decorations and enumerants that PushLayout reads (with
// spvOpTypeInt, spvOpTypePointer, spvOpVariable and spvOpDecorate above).
const (
	spvMagic              = 0x07230203
	spvOpName             = 5
	spvOpMemberName       = 6
	spvOpTypeBool         = 20
	spvOpTypeFloat        = 22
	spvOpTypeVector       = 23
	spvOpTypeMatrix       = 24
	spvOpTypeArray        = 28
	spvOpTypeRuntimeArray = 29
	spvOpTypeStruct       = 30
	spvOpConstant         = 43
	spvOpSpecConstant     = 50
	spvOpFunctionEnd      = 56
	spvOpMemberDecorate   = 72
	spvDecorationStride   = 6 // ArrayStride
	spvDecorationOffset   = 35
	spvStoragePush        = 9 // PushConstant

	pushMaxBytes = 1 << 16 // far above any device's maxPushConstantsSize
	pushMaxDepth = 32      // nesting of structs and arrays
)

// PushLayout reads the push-constant block of a SPIR-V module (such as a
// compute kernel from shaders.SPIRV): the variable in the PushConstant storage
// class, its struct type and, for each leaf member, its name (when present),
// Offset decoration, type and size, and the block's total size. A module with
// no push-constant block gives an empty PushBlock (Size 0) and no error. It
// returns an error for malformed SPIR-V (wrong magic, truncated instructions,
// dangling type ids, members without an Offset, arrays without an ArrayStride),
// for a module with more than one push-constant variable, and for member types
// that have no Go counterpart (bool, matrices, pointers, runtime arrays). A
// module must end with a function body (OpFunctionEnd), as every shader does;
// a stream that stops short of it is reported as truncated.
func PushLayout(spirv []byte) (PushBlock, error) {
	if len(spirv) < 20 || len(spirv)%4 != 0 {
		return PushBlock{}, fmt.Errorf("gpu.PushLayout: %d bytes is not SPIR-V (want a multiple of 4, at least 20)", len(spirv))
	}
	switch m := binary.LittleEndian.Uint32(spirv); m {
	case spvMagic:
	case 0x03022307:
		return PushBlock{}, fmt.Errorf("gpu.PushLayout: big-endian SPIR-V is not supported")
	default:
		return PushBlock{}, fmt.Errorf("gpu.PushLayout: not SPIR-V (magic %#08x, want %#08x)", m, spvMagic)
	}
	w := make([]uint32, len(spirv)/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(spirv[4*i:])
	}
	r := pushReader{
		types:       map[uint32][]uint32{},
		consts:      map[uint32]uint32{},
		names:       map[uint32]string{},
		memberNames: map[[2]uint32]string{},
		offsets:     map[[2]uint32]uint32{},
		strides:     map[uint32]uint32{},
	}
	var vars []uint32 // pointer type ids of PushConstant variables
	last := uint32(0) // opcode of the last instruction
	for i := 5; i < len(w); {
		n := int(w[i] >> 16)
		op := w[i] & 0xffff
		if n == 0 || i+n > len(w) {
			return PushBlock{}, fmt.Errorf("gpu.PushLayout: truncated SPIR-V: instruction %d of %d words at word %d of %d", op, n, i, len(w))
		}
		a := w[i+1 : i+n]
		switch op {
		case spvOpName:
			if len(a) >= 2 {
				r.names[a[0]] = spvString(a[1:])
			}
		case spvOpMemberName:
			if len(a) >= 3 {
				r.memberNames[[2]uint32{a[0], a[1]}] = spvString(a[2:])
			}
		case spvOpTypeBool, spvOpTypeInt, spvOpTypeFloat, spvOpTypeVector, spvOpTypeMatrix,
			spvOpTypeArray, spvOpTypeRuntimeArray, spvOpTypeStruct, spvOpTypePointer:
			if len(a) < 1 {
				return PushBlock{}, fmt.Errorf("gpu.PushLayout: malformed SPIR-V: type instruction %d without a result id at word %d", op, i)
			}
			r.types[a[0]] = w[i : i+n]
		case spvOpConstant, spvOpSpecConstant:
			if len(a) >= 3 {
				r.consts[a[1]] = a[2] // the low word: array lengths fit in 32 bits
			}
		case spvOpVariable:
			if len(a) >= 3 && a[2] == spvStoragePush {
				vars = append(vars, a[0])
			}
		case spvOpDecorate:
			if len(a) >= 3 && a[1] == spvDecorationStride {
				r.strides[a[0]] = a[2]
			}
		case spvOpMemberDecorate:
			if len(a) >= 4 && a[2] == spvDecorationOffset {
				r.offsets[[2]uint32{a[0], a[1]}] = a[3]
			}
		}
		last = op
		i += n
	}
	// A shader module ends with a function body: a stream cut between
	// instructions still parses, but does not end with OpFunctionEnd.
	if last != spvOpFunctionEnd {
		return PushBlock{}, fmt.Errorf("gpu.PushLayout: truncated SPIR-V: the last instruction (opcode %d) is not OpFunctionEnd", last)
	}
	switch {
	case len(vars) == 0:
		return PushBlock{}, nil
	case len(vars) > 1:
		return PushBlock{}, fmt.Errorf("gpu.PushLayout: %d push-constant variables; want at most one", len(vars))
	}
	ptr := r.types[vars[0]]
	if len(ptr) < 4 || ptr[0]&0xffff != spvOpTypePointer || ptr[2] != spvStoragePush {
		return PushBlock{}, fmt.Errorf("gpu.PushLayout: malformed SPIR-V: the push-constant variable's type %%%d is not a PushConstant pointer", vars[0])
	}
	st := r.types[ptr[3]]
	if len(st) < 2 || st[0]&0xffff != spvOpTypeStruct {
		return PushBlock{}, fmt.Errorf("gpu.PushLayout: malformed SPIR-V: the push-constant block's type %%%d is not a struct", ptr[3])
	}
	if err := r.structMembers(ptr[3], 0, "", true, 0); err != nil {
		return PushBlock{}, fmt.Errorf("gpu.PushLayout: %w", err)
	}
	return PushBlock{Name: r.names[ptr[3]], Members: r.members, Size: r.size}, nil
}

// pushReader holds the declarations PushLayout collects and the members it flattens.
type pushReader struct {
	types       map[uint32][]uint32 // id -> the whole type instruction
	consts      map[uint32]uint32   // id -> low word of a (spec) constant
	names       map[uint32]string
	memberNames map[[2]uint32]string // struct id, member -> name
	offsets     map[[2]uint32]uint32 // struct id, member -> Offset
	strides     map[uint32]uint32    // array type id -> ArrayStride
	members     []PushMember
	size        uint32
}

// spvString decodes a SPIR-V literal string: UTF-8, NUL-terminated, packed
// little-endian into words.
func spvString(a []uint32) string {
	b := make([]byte, 0, 4*len(a))
	for _, x := range a {
		for k := 0; k < 4; k++ {
			c := byte(x >> (8 * k))
			if c == 0 {
				return string(b)
			}
			b = append(b, c)
		}
	}
	return string(b)
}

// structMembers flattens the members of struct type id placed at byte base;
// prefix is the dotted name of the struct ("" at the top), named whether every
// enclosing level had a name.
func (r *pushReader) structMembers(id, base uint32, prefix string, named bool, depth int) error {
	if depth > pushMaxDepth {
		return fmt.Errorf("malformed SPIR-V: types nested deeper than %d (a cycle?)", pushMaxDepth)
	}
	st := r.types[id]
	for i, mt := range st[2:] {
		off, ok := r.offsets[[2]uint32{id, uint32(i)}]
		if !ok {
			return fmt.Errorf("malformed SPIR-V: member %d of struct %%%d has no Offset decoration", i, id)
		}
		name, ok := r.memberNames[[2]uint32{id, uint32(i)}]
		mnamed := named && ok
		if mnamed && prefix != "" {
			name = prefix + "." + name
		}
		if err := r.place(mt, base+off, name, mnamed, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// place adds the member of type id at byte off: one leaf, or the flattened
// members of a struct or of each element of an array of structs.
func (r *pushReader) place(id, off uint32, name string, named bool, depth int) error {
	if depth > pushMaxDepth {
		return fmt.Errorf("malformed SPIR-V: types nested deeper than %d (a cycle?)", pushMaxDepth)
	}
	if off > pushMaxBytes {
		return fmt.Errorf("member at offset %d: push-constant blocks over %d bytes are not supported", off, pushMaxBytes)
	}
	t := r.types[id]
	if t == nil {
		return fmt.Errorf("malformed SPIR-V: member type %%%d is not declared", id)
	}
	switch t[0] & 0xffff {
	case spvOpTypeStruct:
		return r.structMembers(id, off, name, named, depth)
	case spvOpTypeArray:
		if r.isStructArray(id, depth) {
			n, stride, err := r.array(t)
			if err != nil {
				return err
			}
			for j := uint32(0); j < n; j++ {
				en := ""
				if named {
					en = fmt.Sprintf("%s[%d]", name, j)
				}
				if err := r.place(t[2], off+j*stride, en, named, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
	}
	m, err := r.leaf(id, depth)
	if err != nil {
		if named {
			return fmt.Errorf("member %s at offset %d: %w", name, off, err)
		}
		return fmt.Errorf("member at offset %d: %w", off, err)
	}
	m.Name, m.Offset = "", off
	if named {
		m.Name = name
	}
	if end := uint64(off) + uint64(m.Size); end > pushMaxBytes {
		return fmt.Errorf("member at offset %d: push-constant blocks over %d bytes are not supported", off, pushMaxBytes)
	} else if uint32(end) > r.size {
		r.size = uint32(end)
	}
	r.members = append(r.members, m)
	return nil
}

// isStructArray reports whether array type id has structs at its innermost level.
func (r *pushReader) isStructArray(id uint32, depth int) bool {
	for ; depth <= pushMaxDepth; depth++ {
		t := r.types[id]
		if len(t) < 2 {
			return false
		}
		switch t[0] & 0xffff {
		case spvOpTypeStruct:
			return true
		case spvOpTypeArray:
			if len(t) < 4 {
				return false
			}
			id = t[2]
		default:
			return false
		}
	}
	return false
}

// array returns the length and ArrayStride of the OpTypeArray instruction t.
func (r *pushReader) array(t []uint32) (n, stride uint32, err error) {
	if len(t) < 4 {
		return 0, 0, fmt.Errorf("malformed SPIR-V: short OpTypeArray")
	}
	n, ok := r.consts[t[3]]
	if !ok {
		return 0, 0, fmt.Errorf("malformed SPIR-V: the length %%%d of array %%%d is not a constant", t[3], t[1])
	}
	stride, ok = r.strides[t[1]]
	if !ok {
		return 0, 0, fmt.Errorf("malformed SPIR-V: array %%%d has no ArrayStride decoration", t[1])
	}
	if n == 0 || uint64(n)*uint64(stride) > pushMaxBytes || n > pushMaxBytes {
		return 0, 0, fmt.Errorf("array %%%d of %d elements (stride %d) does not fit a push-constant block", t[1], n, stride)
	}
	return n, stride, nil
}

// leaf describes the scalar, vector or array type id (Name and Offset unset).
func (r *pushReader) leaf(id uint32, depth int) (PushMember, error) {
	if depth > pushMaxDepth {
		return PushMember{}, fmt.Errorf("malformed SPIR-V: types nested deeper than %d (a cycle?)", pushMaxDepth)
	}
	t := r.types[id]
	if t == nil {
		return PushMember{}, fmt.Errorf("malformed SPIR-V: type %%%d is not declared", id)
	}
	switch op := t[0] & 0xffff; op {
	case spvOpTypeInt:
		if len(t) < 4 || t[2] == 0 || t[2]%8 != 0 {
			return PushMember{}, fmt.Errorf("malformed SPIR-V: bad OpTypeInt %%%d", id)
		}
		m := PushMember{Kind: PushUint, Width: t[2], Count: 1, Size: t[2] / 8, Type: "uint"}
		if t[3] != 0 {
			m.Kind, m.Type = PushInt, "int"
		}
		if t[2] != 32 {
			m.Type = fmt.Sprintf("%s%d_t", m.Type, t[2])
		}
		return m, nil
	case spvOpTypeFloat:
		if len(t) < 3 || t[2] == 0 || t[2]%8 != 0 {
			return PushMember{}, fmt.Errorf("malformed SPIR-V: bad OpTypeFloat %%%d", id)
		}
		m := PushMember{Kind: PushFloat, Width: t[2], Count: 1, Size: t[2] / 8, Type: "float"}
		switch t[2] {
		case 32:
		case 64:
			m.Type = "double"
		default:
			m.Type = fmt.Sprintf("float%d_t", t[2])
		}
		return m, nil
	case spvOpTypeVector:
		if len(t) < 4 || t[3] < 2 || t[3] > 16 {
			return PushMember{}, fmt.Errorf("malformed SPIR-V: bad OpTypeVector %%%d", id)
		}
		c, err := r.leaf(t[2], depth+1)
		if err != nil {
			return PushMember{}, err
		}
		if c.Count != 1 {
			return PushMember{}, fmt.Errorf("malformed SPIR-V: vector %%%d of non-scalars", id)
		}
		m := c
		m.Count, m.Size = t[3], c.Size*t[3]
		switch c.Type {
		case "uint":
			m.Type = fmt.Sprintf("uvec%d", t[3])
		case "int":
			m.Type = fmt.Sprintf("ivec%d", t[3])
		case "float":
			m.Type = fmt.Sprintf("vec%d", t[3])
		default:
			m.Type = fmt.Sprintf("%s vector[%d]", c.Type, t[3])
		}
		return m, nil
	case spvOpTypeArray:
		n, stride, err := r.array(t)
		if err != nil {
			return PushMember{}, err
		}
		e, err := r.leaf(t[2], depth+1)
		if err != nil {
			return PushMember{}, err
		}
		m := e
		m.Count = e.Count * n
		m.Size = (n-1)*stride + e.Size
		// Outer lengths first: uint a[2][3] is an array of 2 arrays of 3.
		base, dims, _ := strings.Cut(e.Type, "[")
		if dims != "" {
			dims = "[" + dims
		}
		m.Type = fmt.Sprintf("%s[%d]%s", base, n, dims)
		return m, nil
	case spvOpTypeBool:
		return PushMember{}, fmt.Errorf("bool has no defined layout")
	case spvOpTypeMatrix:
		return PushMember{}, fmt.Errorf("matrix members are not supported")
	case spvOpTypeRuntimeArray:
		return PushMember{}, fmt.Errorf("runtime arrays are not allowed in push constants")
	case spvOpTypePointer:
		return PushMember{}, fmt.Errorf("pointer members are not supported")
	default:
		return PushMember{}, fmt.Errorf("unsupported member type (opcode %d)", op)
	}
}

// CheckPush checks that v, a push-constant value as dispatch passes it to
// EncodePush, matches the push-constant block b that PushLayout read from the
// kernel's SPIR-V. v is a struct or a pointer to one (fields uint32, int32,
// float32, arrays of them, nested structs and arrays of structs; fields named
// "_" are padding that EncodePush writes as zeros), a []byte (only its length
// is checked) or nil (matches only a block of Size 0).
//
// The rule: the Go value must cover exactly the bytes the shader reads. Its
// encoding is b.Size bytes long; flattened like b.Members, it has the same
// number of leaf fields; each leaf field starts at its member's Offset, has the
// member's type class (uint32 for uint, int32 for int, float32 for float) and
// component count (a [2]uint32 matches a uvec2 or a uint[2]); and every member
// is tightly packed, as EncodePush writes no padding. A "_" field may cover a
// gap between members but not a member. The error names the Go field and
// gives both offsets and both types. CheckPush does not allocate unless it
// fails.
func CheckPush(b PushBlock, v any) error {
	switch p := v.(type) {
	case nil:
		if b.Size != 0 {
			return fmt.Errorf("gpu.CheckPush: no push constants given, but the shader reads a %d-byte push-constant block", b.Size)
		}
		return nil
	case []byte:
		if uint32(len(p)) != b.Size || len(p) > pushMaxBytes {
			return fmt.Errorf("gpu.CheckPush: %d push-constant bytes given, but the shader reads %d", len(p), b.Size)
		}
		return nil
	}
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return fmt.Errorf("gpu.CheckPush: %T is not a struct", v)
	}
	c := pushCheck{b: &b}
	if err := c.walk(t); err != nil {
		if e, ok := err.(*pushError); ok {
			e.goType = fmt.Sprintf("%T", v)
		}
		return err
	}
	if c.i < len(b.Members) {
		m := &b.Members[c.i]
		return fmt.Errorf("gpu.CheckPush: %T has %d fields, but the shader's push-constant block has %d members: %s at offset %d has no Go field",
			v, c.i, len(b.Members), m.describe(c.i), m.Offset)
	}
	if c.off != b.Size {
		return fmt.Errorf("gpu.CheckPush: %T encodes %d bytes, but the shader reads %d", v, c.off, b.Size)
	}
	return nil
}

// pushCheck walks a Go type in EncodePush's order against b.Members.
type pushCheck struct {
	b   *PushBlock
	i   int    // next member
	off uint32 // encoded bytes so far
}

// pushError is a CheckPush mismatch at one Go field; field is built as the
// walk unwinds, goType set at the top.
type pushError struct {
	goType, field, detail string
}

func (e *pushError) Error() string {
	return fmt.Sprintf("gpu.CheckPush: %s field %s: %s", e.goType, e.field, e.detail)
}

// under prefixes err's field path with a field name or an "[i]" index.
func under(err error, name string) error {
	if e, ok := err.(*pushError); ok {
		switch {
		case e.field == "":
			e.field = name
		case e.field[0] == '[':
			e.field = name + e.field
		default:
			e.field = name + "." + e.field
		}
	}
	return err
}

// describe names member i for errors: `member 2 "rf" (float)`.
func (m *PushMember) describe(i int) string {
	if m.Name != "" {
		return fmt.Sprintf("member %d %q (%s)", i, m.Name, m.Type)
	}
	return fmt.Sprintf("member %d (%s)", i, m.Type)
}

// pushLeaf returns the class and number of 32-bit scalars of a Go uint32,
// int32 or float32 or an array (of arrays) of them; ok is false for anything else.
func pushLeaf(t reflect.Type) (k PushKind, n uint32, ok bool) {
	n = 1
	for t.Kind() == reflect.Array {
		n *= uint32(t.Len())
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Uint32:
		return PushUint, n, true
	case reflect.Int32:
		return PushInt, n, true
	case reflect.Float32:
		return PushFloat, n, true
	}
	return 0, 0, false
}

func (c *pushCheck) walk(t reflect.Type) error {
	if k, n, ok := pushLeaf(t); ok {
		return c.leaf(t, k, n)
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Name == "_" {
				if err := checkPushType(f.Type); err != nil {
					return under(&pushError{detail: err.Error()}, f.Name)
				}
				c.off += uint32(f.Type.Size())
				continue
			}
			if err := c.walk(f.Type); err != nil {
				return under(err, f.Name)
			}
		}
		return nil
	case reflect.Array:
		if t.Len() > pushMaxBytes {
			return &pushError{detail: fmt.Sprintf("%s is larger than any push-constant block", t)}
		}
		for j := 0; j < t.Len(); j++ {
			if err := c.walk(t.Elem()); err != nil {
				return under(err, fmt.Sprintf("[%d]", j))
			}
		}
		return nil
	}
	return &pushError{detail: fmt.Sprintf("type %s is not a 32-bit scalar", t)}
}

// leaf matches a Go leaf field of n scalars of class k against the next member.
func (c *pushCheck) leaf(t reflect.Type, k PushKind, n uint32) error {
	if n == 0 {
		return nil // a zero-length array encodes nothing
	}
	if c.i >= len(c.b.Members) {
		return &pushError{detail: fmt.Sprintf("%s at offset %d, but the shader's push-constant block has only %d members (%d bytes)",
			t, c.off, len(c.b.Members), c.b.Size)}
	}
	m := &c.b.Members[c.i]
	switch {
	case m.Offset != c.off:
		return &pushError{detail: fmt.Sprintf("%s at offset %d, but the shader's %s is at offset %d", t, c.off, m.describe(c.i), m.Offset)}
	case m.Kind != k || m.Width != 32 || m.Count != n:
		return &pushError{detail: fmt.Sprintf("%s at offset %d, but the shader's %s at offset %d is %s", t, c.off, m.describe(c.i), m.Offset, m.Type)}
	case m.Size != 4*n:
		return &pushError{detail: fmt.Sprintf("%s at offset %d is %d packed bytes, but the shader's %s at offset %d spans %d (padded array stride)",
			t, c.off, 4*n, m.describe(c.i), m.Offset, m.Size)}
	}
	c.i++
	c.off += 4 * n
	return nil
}
