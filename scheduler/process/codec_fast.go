package process

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The gob codec's short path. A value of a basic type (bool, the integer
// and floating-point types, string, []byte), which is what most tiny tasks
// take and return, crosses without encoding/gob: its output is one tag byte
// and the value's bytes, made and read without reflection. It stands outside
// the gob stream, which it leaves as it was, so that short and gob values
// mix freely along one direction. Named types (type Celsius float64) and
// everything else take the gob stream.
//
// Tags follow the gob stream's two marks, gobContinue and gobRestart.
const (
	fastFalse    = 2 + iota // bool, no bytes
	fastTrue                // bool, no bytes
	fastInt                 // int, int8, int16, int32, int64: zig-zag varint
	fastUint                // uint, uint8, uint16, uint32, uint64, uintptr: uvarint
	fastFloat64             // 8 bytes, little-endian IEEE 754
	fastFloat32             // 4 bytes, little-endian IEEE 754
	fastString              // the bytes that follow
	fastBytes               // a non-nil []byte: the bytes that follow
	fastNilBytes            // a nil []byte, no bytes
)

var errFastMalformed = errors.New("process: gob: malformed short value")

// appendFast appends the short encoding of what v points to, if it has one,
// and reports whether it did.
func appendFast(dst []byte, v any) ([]byte, bool) {
	switch p := v.(type) {
	case *int:
		return appendFastInt(dst, int64(*p)), true
	case *int64:
		return appendFastInt(dst, *p), true
	case *int32:
		return appendFastInt(dst, int64(*p)), true
	case *int16:
		return appendFastInt(dst, int64(*p)), true
	case *int8:
		return appendFastInt(dst, int64(*p)), true
	case *uint:
		return appendFastUint(dst, uint64(*p)), true
	case *uint64:
		return appendFastUint(dst, *p), true
	case *uint32:
		return appendFastUint(dst, uint64(*p)), true
	case *uint16:
		return appendFastUint(dst, uint64(*p)), true
	case *uint8:
		return appendFastUint(dst, uint64(*p)), true
	case *uintptr:
		return appendFastUint(dst, uint64(*p)), true
	case *float64:
		return binary.LittleEndian.AppendUint64(append(dst, fastFloat64), math.Float64bits(*p)), true
	case *float32:
		return binary.LittleEndian.AppendUint32(append(dst, fastFloat32), math.Float32bits(*p)), true
	case *bool:
		if *p {
			return append(dst, fastTrue), true
		}
		return append(dst, fastFalse), true
	case *string:
		return append(append(dst, fastString), *p...), true
	case *[]byte:
		if *p == nil {
			return append(dst, fastNilBytes), true
		}
		return append(append(dst, fastBytes), *p...), true
	}
	return dst, false
}

func appendFastInt(dst []byte, n int64) []byte {
	return binary.AppendVarint(append(dst, fastInt), n)
}

func appendFastUint(dst []byte, n uint64) []byte {
	return binary.AppendUvarint(append(dst, fastUint), n)
}

// decodeFast decodes a short value (data starts with its tag) into what v
// points to. It fails, without touching *v, if the tag does not fit v's
// type, if the bytes are malformed, or if an integer does not fit.
func decodeFast(data []byte, v any) error {
	tag, body := data[0], data[1:]
	bad := func() error {
		return fmt.Errorf("process: gob: a short value of tag %d cannot be decoded into %T", tag, v)
	}
	switch tag {
	case fastInt:
		n, err := fastVarint(body)
		if err != nil {
			return err
		}
		switch p := v.(type) {
		case *int:
			return setInt(p, n, math.MinInt, math.MaxInt)
		case *int64:
			*p = n
			return nil
		case *int32:
			return setInt(p, n, math.MinInt32, math.MaxInt32)
		case *int16:
			return setInt(p, n, math.MinInt16, math.MaxInt16)
		case *int8:
			return setInt(p, n, math.MinInt8, math.MaxInt8)
		}
		return bad()
	case fastUint:
		n, err := fastUvarint(body)
		if err != nil {
			return err
		}
		switch p := v.(type) {
		case *uint:
			return setUint(p, n, math.MaxUint)
		case *uint64:
			*p = n
			return nil
		case *uint32:
			return setUint(p, n, math.MaxUint32)
		case *uint16:
			return setUint(p, n, math.MaxUint16)
		case *uint8:
			return setUint(p, n, math.MaxUint8)
		case *uintptr:
			return setUint(p, n, uint64(^uintptr(0)))
		}
		return bad()
	case fastFloat64:
		p, ok := v.(*float64)
		if !ok {
			return bad()
		}
		if len(body) != 8 {
			return errFastMalformed
		}
		*p = math.Float64frombits(binary.LittleEndian.Uint64(body))
		return nil
	case fastFloat32:
		p, ok := v.(*float32)
		if !ok {
			return bad()
		}
		if len(body) != 4 {
			return errFastMalformed
		}
		*p = math.Float32frombits(binary.LittleEndian.Uint32(body))
		return nil
	case fastFalse, fastTrue:
		p, ok := v.(*bool)
		if !ok {
			return bad()
		}
		if len(body) != 0 {
			return errFastMalformed
		}
		*p = tag == fastTrue
		return nil
	case fastString:
		p, ok := v.(*string)
		if !ok {
			return bad()
		}
		*p = string(body)
		return nil
	case fastBytes, fastNilBytes:
		p, ok := v.(*[]byte)
		if !ok {
			return bad()
		}
		if tag == fastNilBytes {
			if len(body) != 0 {
				return errFastMalformed
			}
			*p = nil
			return nil
		}
		*p = append(make([]byte, 0, len(body)), body...)
		return nil
	}
	return errGobStream
}

// fastVarint reads a varint that must take all of b, in its shortest form
// (as binary.AppendVarint makes it), so that each value has one encoding.
func fastVarint(b []byte) (int64, error) {
	u, err := fastUvarint(b)
	n := int64(u >> 1)
	if u&1 != 0 {
		n = ^n
	}
	return n, err
}

func fastUvarint(b []byte) (uint64, error) {
	n, size := binary.Uvarint(b)
	if size <= 0 || size != len(b) || size > 1 && b[size-1] == 0 {
		return 0, errFastMalformed
	}
	return n, nil
}

func setInt[T int | int32 | int16 | int8](p *T, n int64, lo, hi int64) error {
	if n < lo || n > hi {
		return fmt.Errorf("process: gob: %d overflows %T", n, *p)
	}
	*p = T(n)
	return nil
}

func setUint[T uint | uint32 | uint16 | uint8 | uintptr](p *T, n uint64, hi uint64) error {
	if n > hi {
		return fmt.Errorf("process: gob: %d overflows %T", n, *p)
	}
	*p = T(n)
	return nil
}
