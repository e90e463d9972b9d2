package process

import (
	"math"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastSamples are values of every basic type, at their edges.
var fastSamples = []any{
	false, true,
	0, 1, -1, math.MaxInt, math.MinInt,
	int64(math.MinInt64), int64(math.MaxInt64), int32(math.MinInt32), int32(math.MaxInt32),
	int16(math.MinInt16), int16(math.MaxInt16), int8(math.MinInt8), int8(math.MaxInt8),
	uint(0), uint(math.MaxUint), uint64(math.MaxUint64), uint32(math.MaxUint32),
	uint16(math.MaxUint16), uint8(math.MaxUint8), uintptr(0), ^uintptr(0),
	0.0, math.Copysign(0, -1), math.Pi, math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64,
	float32(0), float32(-1.5), float32(math.MaxFloat32),
	"", "x", "héllo\x00\xff", // a string is bytes: not checked for UTF-8, as gob does not
	[]byte(nil), []byte{}, []byte{0, 1, 255},
}

// roundTrip encodes v (a pointer) with a gob codec's encoder and decodes it
// into a new value of its type with its decoder.
func roundTrip(t *testing.T, enc Encoder, dec Decoder, v any) any {
	t.Helper()
	b, err := enc.Encode([]byte("head"), v)
	require.NoError(t, err)
	require.Equal(t, "head", string(b[:4]), "Encode appends")
	out := reflect.New(reflect.TypeOf(v).Elem())
	require.NoError(t, dec.Decode(b[4:], out.Interface()))
	return out.Elem().Interface()
}

func TestGobShortValuesRoundTrip(t *testing.T) {
	enc, dec := Gob().NewEncoder(), Gob().NewDecoder()
	for _, v := range fastSamples {
		p := reflect.New(reflect.TypeOf(v))
		p.Elem().Set(reflect.ValueOf(v))
		b, ok := appendFast(nil, p.Interface())
		require.True(t, ok, "%T takes the short path", v)
		assert.Less(t, len(b), 12+len(reflect.ValueOf(v).String()))
		got := roundTrip(t, enc, dec, p.Interface())
		if f, ok := v.(float64); ok && f == 0 {
			assert.Equal(t, math.Signbit(f), math.Signbit(got.(float64)), "the sign of %v", v)
		}
		assert.Equal(t, v, got, "%T", v)
	}
}

// TestGobShortValuesMixWithTheStream: short values leave the gob stream as
// it was, including across a restart.
func TestGobShortValuesMixWithTheStream(t *testing.T) {
	type pair struct{ A, B int }
	enc, dec := Gob().NewEncoder(), Gob().NewDecoder()
	n, s := 5, "five"
	assert.Equal(t, 5, roundTrip(t, enc, dec, &n))
	assert.Equal(t, pair{1, 2}, roundTrip(t, enc, dec, &pair{1, 2}))
	assert.Equal(t, "five", roundTrip(t, enc, dec, &s))
	assert.Equal(t, pair{3, 4}, roundTrip(t, enc, dec, &pair{3, 4}))
	var unsupported any = func() {}
	_, err := enc.Encode(nil, &unsupported)
	require.Error(t, err)
	assert.Equal(t, 5, roundTrip(t, enc, dec, &n))
	assert.Equal(t, pair{5, 6}, roundTrip(t, enc, dec, &pair{5, 6}))

	// Named types and interfaces take the stream.
	type celsius float64
	c := celsius(21.5)
	b, err := enc.Encode(nil, &c)
	require.NoError(t, err)
	assert.Equal(t, byte(gobContinue), b[0])
	var i any = 7
	b, err = enc.Encode(nil, &i)
	require.NoError(t, err)
	assert.Equal(t, byte(gobContinue), b[0])
}

func TestGobShortValuesRefused(t *testing.T) {
	dec := Gob().NewDecoder()
	enc := func(v any) []byte {
		b, ok := appendFast(nil, v)
		require.True(t, ok)
		return b
	}
	big, neg, s := int64(math.MaxInt32)+1, int64(-1), "x"
	for name, tc := range map[string]struct {
		data []byte
		into any
		text string
	}{
		"int into string":     {enc(&big), new(string), "cannot be decoded into *string"},
		"string into int":     {enc(&s), new(int), "cannot be decoded into *int"},
		"signed into uint":    {enc(&neg), new(uint), "cannot be decoded into *uint"},
		"overflow":            {enc(&big), new(int32), "2147483648 overflows int32"},
		"uint overflow":       {[]byte{fastUint, 0x80, 0x02}, new(uint8), "256 overflows uint8"},
		"truncated varint":    {[]byte{fastInt, 0x80}, new(int), "malformed"},
		"empty varint":        {[]byte{fastUint}, new(uint), "malformed"},
		"varint with a tail":  {[]byte{fastInt, 2, 0}, new(int), "malformed"},
		"long varint":         {[]byte{fastUint, 0x81, 0x00}, new(uint), "malformed"},
		"short float":         {[]byte{fastFloat64, 1, 2, 3}, new(float64), "malformed"},
		"short float32":       {[]byte{fastFloat32, 1}, new(float32), "malformed"},
		"bool with a body":    {[]byte{fastTrue, 1}, new(bool), "malformed"},
		"nil bytes with body": {[]byte{fastNilBytes, 1}, new([]byte), "malformed"},
		"unknown tag":         {[]byte{200, 1}, new(int), "value out of stream"},
		"float into float32":  {[]byte{fastFloat64, 0, 0, 0, 0, 0, 0, 0, 0}, new(float32), "cannot be decoded"},
	} {
		t.Run(name, func(t *testing.T) {
			before := reflect.ValueOf(tc.into).Elem().Interface()
			err := dec.Decode(tc.data, tc.into)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.text)
			assert.Contains(t, err.Error(), "process: gob")
			assert.Equal(t, before, reflect.ValueOf(tc.into).Elem().Interface(), "the target is untouched")
		})
	}
}

// FuzzGobShortValues: any bytes decode into any basic type without a
// panic, and what decodes re-encodes to the same bytes (one encoding per
// value).
func FuzzGobShortValues(f *testing.F) {
	for _, v := range fastSamples {
		p := reflect.New(reflect.TypeOf(v))
		p.Elem().Set(reflect.ValueOf(v))
		b, _ := appendFast(nil, p.Interface())
		f.Add(b)
	}
	f.Add([]byte{fastInt, 0x80, 0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 0 && b[0] < fastFalse {
			return // the gob stream's, tested by encoding/gob
		}
		for _, v := range fastSamples {
			p := reflect.New(reflect.TypeOf(v)).Interface()
			if Gob().NewDecoder().Decode(b, p) != nil {
				continue
			}
			again, ok := appendFast(nil, p)
			require.True(t, ok)
			assert.Equal(t, b, again, "%T", v)
		}
	})
}
