package gpu_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/vktrain/vktrain/gpu"
	"github.com/vktrain/vktrain/shaders"
)

// pushLayout reads the push-constant block of the embedded shader name.
func pushLayout(t *testing.T, name string) gpu.PushBlock {
	t.Helper()
	code, err := shaders.SPIRV(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gpu.PushLayout(code)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// TestPushLayoutAllShaders reads the push block of every embedded shader: each
// parses, its members are 32-bit scalars packed from offset 0 as the kernels
// declare them, and it fits every device (128 bytes is Vulkan's minimum
// maxPushConstantsSize).
func TestPushLayoutAllShaders(t *testing.T) {
	names := shaders.Names()
	if len(names) == 0 {
		t.Fatal("no embedded shaders")
	}
	withPush := 0
	for _, name := range names {
		b := pushLayout(t, name)
		if b.Size == 0 {
			if len(b.Members) != 0 {
				t.Errorf("%s: Size 0 with %d members", name, len(b.Members))
			}
			continue
		}
		withPush++
		if b.Size > 128 || b.Size%4 != 0 {
			t.Errorf("%s: push block of %d bytes", name, b.Size)
		}
		end := uint32(0)
		for i, m := range b.Members {
			if m.Offset != end || m.Width != 32 || m.Count != 1 || m.Size != 4 || m.Kind == 0 || m.Type != m.Kind.String() {
				t.Errorf("%s: member %d is %+v; want a 32-bit scalar at offset %d", name, i, m, end)
			}
			end = m.Offset + m.Size
		}
		if end != b.Size {
			t.Errorf("%s: members end at %d, Size %d", name, end, b.Size)
		}
	}
	if withPush < len(names)/2 {
		t.Errorf("only %d of %d shaders have a push block", withPush, len(names))
	}
}

// Go mirrors of kernels' GLSL push blocks (see shaders/*.comp).
type (
	minmaxPush struct{ N, Groups uint32 }
	reluPush   struct{ N uint32 }
	saxpyPush  struct {
		N uint32
		A float32
	}
	bnStatsPush struct {
		C, Lanes                  uint32
		RF, Unbias, Momentum, Eps float32
		R                         uint32
		CMomentum                 float32
	}
	gemmPush struct {
		M, N, K, KC uint32
		Alpha, Beta float32
	}
	convPush struct {
		N, H, W, C, KH, KW, SH, SW, PH, PW, OH, OW uint32
		Total                                      uint32
	}
	dequantPush struct {
		M, N uint32
		Za   int32
		Off  uint32
	}
	im2coliPush struct {
		H, W, C                           uint32
		KW                                uint32
		SH, SW                            uint32
		PH, PW                            int32
		OH, OW                            uint32
		K, Rows, RowWords, XCols, XRWords uint32
		Pad                               int32
	}
	quantizePush struct {
		N, Cols, RowWords, Words, Slice uint32
		QMin, QMax                      int32
		Off, NCh, Inv0                  uint32
		Z0                              int32
		Rows, RPC                       uint32
	}
)

// TestCheckPushKernels checks hand-written Go structs against real kernels
// (texel-buffer variants share their storage twin's block).
func TestCheckPushKernels(t *testing.T) {
	cases := []struct {
		shader string
		v      any
	}{
		{"q_minmax", minmaxPush{}},
		{"q_minmax_tex", &minmaxPush{}},
		{"f_relu", reluPush{}},
		{"f_relugrad2_tex", reluPush{}},
		{"test_saxpy", saxpyPush{}},
		{"test_texel", saxpyPush{}},
		{"f_bn_stats", bnStatsPush{}},
		{"f_gemm", gemmPush{}},
		{"f_gemm_rt", gemmPush{}},
		{"f_im2col", convPush{}},
		{"f_col2im_tex", convPush{}},
		{"q_dequant", dequantPush{}},
		{"q_im2coli", im2coliPush{}},
		{"q_quantize", quantizePush{}},
		{"test_texel_float", nil},
		{"test_texel_float", struct{}{}},
		{"q_minmax", make([]byte, 8)},
	}
	for _, c := range cases {
		if err := gpu.CheckPush(pushLayout(t, c.shader), c.v); err != nil {
			t.Errorf("%s with %T: %v", c.shader, c.v, err)
		}
	}
}

// TestCheckPushMismatch checks that structs that do not match a kernel's block
// fail, and that the message names the field, both offsets and both types.
func TestCheckPushMismatch(t *testing.T) {
	cases := []struct {
		name, shader string
		v            any
		want         []string
	}{
		{"swapped types", "test_saxpy", struct {
			N float32
			A uint32
		}{}, []string{"field N", "float32 at offset 0", "member 0 (uint)", "offset 0 is uint"}},
		{"int for uint", "q_minmax", struct {
			N      uint32
			Groups int32
		}{}, []string{"field Groups", "int32 at offset 4", "member 1 (uint)"}},
		{"missing field", "q_minmax", reluPush{}, []string{"1 fields", "2 members", "member 1 (uint) at offset 4 has no Go field"}},
		{"extra field", "f_relu", minmaxPush{}, []string{"field Groups", "uint32 at offset 4", "only 1 members (4 bytes)"}},
		{"wrong order", "q_dequant", struct {
			M, N, Off uint32
			Za        int32
		}{}, []string{"field Off", "uint32 at offset 8", "member 2 (int) at offset 8 is int"}},
		{"array for scalars", "q_minmax", struct{ P [2]uint32 }{}, []string{"field P", "[2]uint32 at offset 0", "member 0 (uint)"}},
		{"padding over a member", "test_saxpy", struct {
			N uint32
			_ float32
		}{}, []string{"has 1 fields", "member 1 (float) at offset 4 has no Go field"}},
		{"not 32-bit", "q_minmax", struct{ N, Groups uint64 }{}, []string{"field N", "uint64 is not a 32-bit scalar"}},
		{"not a struct", "f_relu", uint32(1), []string{"uint32 is not a struct"}},
		{"short bytes", "q_minmax", make([]byte, 4), []string{"4 push-constant bytes", "reads 8"}},
		{"nil", "f_relu", nil, []string{"no push constants given", "4-byte"}},
		{"push for none", "test_texel_float", reluPush{}, []string{"field N", "only 0 members"}},
	}
	for _, c := range cases {
		err := gpu.CheckPush(pushLayout(t, c.shader), c.v)
		if err == nil {
			t.Errorf("%s: %s with %T passed", c.name, c.shader, c.v)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
}

// TestPushLayoutTruncated checks that malformed SPIR-V, and every proper prefix
// of a real kernel, is refused with an error rather than a panic or a layout.
func TestPushLayoutTruncated(t *testing.T) {
	code, err := shaders.SPIRV("q_minmax")
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(code); n += 4 {
		if b, err := gpu.PushLayout(code[:n]); err == nil {
			t.Fatalf("%d of %d bytes: no error (layout %+v)", n, len(code), b)
		}
	}
	cases := []struct {
		name string
		code []byte
		want string
	}{
		{"odd length", code[:len(code)-1], "not SPIR-V"},
		{"mid-instruction", code[:len(code)-8], "truncated SPIR-V"},
		{"bad magic", append([]byte("nope"), code[4:]...), "not SPIR-V (magic"},
		{"big-endian", append([]byte{0x07, 0x23, 0x02, 0x03}, code[4:]...), "big-endian"},
	}
	for _, c := range cases {
		_, err := gpu.PushLayout(c.code)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want one containing %q", c.name, err, c.want)
		}
	}
}

// spvAsm assembles a SPIR-V module word by word for tests of layouts that no
// embedded kernel uses.
type spvAsm []uint32

func (a *spvAsm) op(code uint32, args ...uint32) {
	*a = append(*a, uint32(1+len(args))<<16|code)
	*a = append(*a, args...)
}

func spvStr(s string) []uint32 {
	b := append([]byte(s), make([]byte, 4-len(s)%4)...)
	w := make([]uint32, len(b)/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return w
}

func (a spvAsm) bytes() []byte {
	out := make([]byte, 0, 4*len(a))
	for _, x := range a {
		out = binary.LittleEndian.AppendUint32(out, x)
	}
	return out
}

// nestedModule is, hand-assembled, the std430 layout of
//
//	struct In { uint a; vec2 v; };
//	layout(push_constant) uniform Push { int k; In s; float f[3]; In arr[2]; uint pad[2]; } p;
//
// with pad's ArrayStride 16 (as std140 would lay it out); omit drops the
// decoration or member that names it: "offset" (arr's Offset), "stride" (f's
// ArrayStride), "names"; extra appends a member of that kind: "bool", "matrix".
func nestedModule(omit, extra string) []byte {
	const (
		tVoid, tFn, tUint, tInt, tFloat, tVec2, tIn, cThree, cTwo, tF3, tIn2, tPad, tPush, tPtr, vP, fMain, lEntry, tBool, tMat = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
	)
	a := spvAsm{0x07230203, 0x00010000, 0, 20, 0}
	a.op(17, 1)    // OpCapability Shader
	a.op(14, 0, 1) // OpMemoryModel Logical GLSL450
	a.op(15, append([]uint32{5, fMain}, spvStr("main")...)...)
	if omit != "names" {
		a.op(5, append([]uint32{tPush}, spvStr("Push")...)...)
		for i, n := range []string{"k", "s", "f", "arr", "pad", "x"} {
			a.op(6, append([]uint32{tPush, uint32(i)}, spvStr(n)...)...)
		}
		a.op(6, append([]uint32{tIn, 0}, spvStr("a")...)...)
		a.op(6, append([]uint32{tIn, 1}, spvStr("v")...)...)
	}
	a.op(72, tIn, 0, 35, 0) // OpMemberDecorate In 0 Offset 0
	a.op(72, tIn, 1, 35, 8)
	if omit != "stride" {
		a.op(71, tF3, 6, 4) // OpDecorate f[3] ArrayStride 4
	}
	a.op(71, tIn2, 6, 16)
	a.op(71, tPad, 6, 16)
	a.op(72, tPush, 0, 35, 0)
	a.op(72, tPush, 1, 35, 8)
	a.op(72, tPush, 2, 35, 24)
	if omit != "offset" {
		a.op(72, tPush, 3, 35, 40)
	}
	a.op(72, tPush, 4, 35, 80)
	a.op(72, tPush, 5, 35, 112)
	a.op(71, tPush, 2) // Block
	a.op(19, tVoid)
	a.op(33, tFn, tVoid)
	a.op(21, tUint, 32, 0)
	a.op(21, tInt, 32, 1)
	a.op(22, tFloat, 32)
	a.op(23, tVec2, tFloat, 2)
	a.op(30, tIn, tUint, tVec2)
	a.op(43, tUint, cThree, 3)
	a.op(43, tUint, cTwo, 2)
	a.op(28, tF3, tFloat, cThree)
	a.op(28, tIn2, tIn, cTwo)
	a.op(28, tPad, tUint, cTwo)
	members := []uint32{tPush, tInt, tIn, tF3, tIn2, tPad}
	switch extra {
	case "bool":
		a.op(20, tBool)
		members = append(members, tBool)
	case "matrix":
		a.op(24, tMat, tVec2, 2)
		members = append(members, tMat)
	}
	a.op(30, members...)
	a.op(32, tPtr, 9, tPush) // OpTypePointer PushConstant
	a.op(59, tPtr, vP, 9)    // OpVariable
	a.op(54, tVoid, fMain, 0, tFn)
	a.op(248, lEntry)
	a.op(253)
	a.op(56)
	return a.bytes()
}

// TestPushLayoutNested reads nested structs, vectors and arrays (flattened,
// with their names) and checks Go structs against them, "_" fields covering
// the std430 alignment gaps.
func TestPushLayoutNested(t *testing.T) {
	b, err := gpu.PushLayout(nestedModule("", ""))
	if err != nil {
		t.Fatal(err)
	}
	want := []gpu.PushMember{
		{Name: "k", Offset: 0, Kind: gpu.PushInt, Width: 32, Count: 1, Size: 4, Type: "int"},
		{Name: "s.a", Offset: 8, Kind: gpu.PushUint, Width: 32, Count: 1, Size: 4, Type: "uint"},
		{Name: "s.v", Offset: 16, Kind: gpu.PushFloat, Width: 32, Count: 2, Size: 8, Type: "vec2"},
		{Name: "f", Offset: 24, Kind: gpu.PushFloat, Width: 32, Count: 3, Size: 12, Type: "float[3]"},
		{Name: "arr[0].a", Offset: 40, Kind: gpu.PushUint, Width: 32, Count: 1, Size: 4, Type: "uint"},
		{Name: "arr[0].v", Offset: 48, Kind: gpu.PushFloat, Width: 32, Count: 2, Size: 8, Type: "vec2"},
		{Name: "arr[1].a", Offset: 56, Kind: gpu.PushUint, Width: 32, Count: 1, Size: 4, Type: "uint"},
		{Name: "arr[1].v", Offset: 64, Kind: gpu.PushFloat, Width: 32, Count: 2, Size: 8, Type: "vec2"},
		{Name: "pad", Offset: 80, Kind: gpu.PushUint, Width: 32, Count: 2, Size: 20, Type: "uint[2]"},
	}
	if b.Name != "Push" || b.Size != 100 || len(b.Members) != len(want) {
		t.Fatalf("block %q of %d bytes, %d members; want \"Push\", 100, %d: %+v", b.Name, b.Size, len(b.Members), len(want), b.Members)
	}
	for i := range want {
		if b.Members[i] != want[i] {
			t.Errorf("member %d: %+v; want %+v", i, b.Members[i], want[i])
		}
	}

	type in struct {
		A uint32
		_ uint32
		V [2]float32
	}
	type goPush struct {
		K   int32
		_   uint32
		S   in
		F   [3]float32
		_   uint32
		Arr [2]in
		_   [2]uint32
		Pad [2]uint32
	}
	// Without pad's padded stride the rest matches: check a prefix block.
	pre := b
	pre.Members, pre.Size = b.Members[:8], 72
	type goPre struct {
		K   int32
		_   uint32
		S   in
		F   [3]float32
		_   uint32
		Arr [2]in
	}
	if err := gpu.CheckPush(pre, goPre{}); err != nil {
		t.Errorf("nested prefix: %v", err)
	}
	err = gpu.CheckPush(b, goPush{})
	if err == nil || !strings.Contains(err.Error(), "field Pad") || !strings.Contains(err.Error(), `"pad" (uint[2]) at offset 80 spans 20`) {
		t.Errorf("padded array stride: error %v", err)
	}
	type badNest struct {
		K   int32
		_   uint32
		S   in
		F   [3]float32
		_   uint32
		Arr [2]struct {
			A uint32
			_ uint32
			V [2]int32
		}
	}
	err = gpu.CheckPush(pre, badNest{})
	if err == nil || !strings.Contains(err.Error(), "field Arr[0].V: [2]int32 at offset 48") || !strings.Contains(err.Error(), `"arr[0].v" (vec2)`) {
		t.Errorf("nested mismatch: error %v", err)
	}
	type noGap struct {
		K int32
		S in
	}
	pre.Members, pre.Size = b.Members[:3], 24
	err = gpu.CheckPush(pre, noGap{})
	if err == nil || !strings.Contains(err.Error(), "field S.A: uint32 at offset 4") || !strings.Contains(err.Error(), "is at offset 8") {
		t.Errorf("missing gap: error %v", err)
	}

	nb, err := gpu.PushLayout(nestedModule("names", ""))
	if err != nil {
		t.Fatal(err)
	}
	if nb.Name != "" || len(nb.Members) != len(want) || nb.Members[4].Name != "" || nb.Members[4].Offset != 40 {
		t.Errorf("without names: %+v", nb)
	}

	for _, c := range []struct{ omit, extra, want string }{
		{"offset", "", "member 3 of struct %13 has no Offset"},
		{"stride", "", "array %10 has no ArrayStride"},
		{"", "bool", "member x at offset 112: bool has no defined layout"},
		{"", "matrix", "matrix members are not supported"},
	} {
		_, err := gpu.PushLayout(nestedModule(c.omit, c.extra))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("omit %q extra %q: error %v; want one containing %q", c.omit, c.extra, err, c.want)
		}
	}
}

// TestCheckPushAllocs checks that a passing CheckPush does not allocate (vk's
// dispatch calls it on every dispatch in test mode).
func TestCheckPushAllocs(t *testing.T) {
	b := pushLayout(t, "q_im2coli")
	nb, err := gpu.PushLayout(nestedModule("", ""))
	if err != nil {
		t.Fatal(err)
	}
	nb.Members, nb.Size = nb.Members[:4], 36
	var p im2coliPush
	var v any = &p
	var nested any = struct {
		K int32
		_ uint32
		S struct {
			A uint32
			_ uint32
			V [2]float32
		}
		F [3]float32
	}{}
	if n := testing.AllocsPerRun(100, func() {
		if err := gpu.CheckPush(b, v); err != nil {
			t.Fatal(err)
		}
		if err := gpu.CheckPush(nb, nested); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("CheckPush: %v allocations per run; want 0", n)
	}
}
