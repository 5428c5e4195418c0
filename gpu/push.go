package gpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
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
