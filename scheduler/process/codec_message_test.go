package process

import (
	"encoding/gob"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type msgPoint struct{ X, Y int }

type msgShape struct {
	Name  string
	Pts   []msgPoint
	Attrs map[string]float64
}

// msgBox holds a value in an interface, whose concrete type gob describes
// when it first meets it.
type msgBox struct{ V any }

type msgCircle struct{ R float64 }
type msgSquare struct{ Side int }

func init() {
	gob.Register(msgCircle{})
	gob.Register(msgSquare{})
}

// messageCodec is the gob codec's message side.
func messageCodec() MessageCodec { return Gob().(MessageCodec) }

// decodeFresh decodes b with a Decoder made for it alone.
func decodeFresh[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	require.NoError(t, Gob().NewDecoder().Decode(b, &v))
	return v
}

func TestGobMessagesDecodeAlone(t *testing.T) {
	enc, dec := messageCodec().MessageEncoder(), messageCodec().MessageDecoder()
	for i := range 5 {
		in := msgShape{Name: fmt.Sprint("s", i), Pts: []msgPoint{{i, -i}, {2 * i, 3}}, Attrs: map[string]float64{"w": float64(i) / 2}}
		b, err := enc.Encode([]byte("head"), &in)
		require.NoError(t, err)
		require.Equal(t, "head", string(b[:4]), "Encode appends")
		b = b[4:]
		// Each message decodes with a new Decoder, as if it were the
		// first: it carries its types' descriptions.
		assert.Equal(t, in, decodeFresh[msgShape](t, b))
		var out msgShape
		require.NoError(t, dec.Decode(b, &out))
		assert.Equal(t, in, out)
	}
	// The same output as a new Encoder's, which the message decoder reads.
	in := msgPoint{7, 8}
	fresh, err := Gob().NewEncoder().Encode(nil, &in)
	require.NoError(t, err)
	msg, err := enc.Encode(nil, &in)
	require.NoError(t, err)
	assert.Equal(t, fresh, msg)
	var out msgPoint
	require.NoError(t, dec.Decode(fresh, &out))
	assert.Equal(t, in, out)
}

// An interface field meets new concrete types value after value: each
// message carries every description it needs, those of earlier values too.
func TestGobMessagesInterfaces(t *testing.T) {
	enc, dec := messageCodec().MessageEncoder(), messageCodec().MessageDecoder()
	ins := []msgBox{{msgCircle{1.5}}, {msgSquare{3}}, {msgCircle{2}}, {nil}, {msgSquare{4}}}
	var msgs [][]byte
	for _, in := range ins {
		b, err := enc.Encode(nil, &in)
		require.NoError(t, err)
		msgs = append(msgs, b)
	}
	// In another order, each by a new Decoder and by the message decoder.
	for _, i := range []int{4, 1, 3, 0, 2} {
		assert.Equal(t, ins[i], decodeFresh[msgBox](t, msgs[i]), "message %d", i)
		var out msgBox
		require.NoError(t, dec.Decode(msgs[i], &out))
		assert.Equal(t, ins[i], out, "message %d", i)
	}
}

func TestGobMessagesShortValues(t *testing.T) {
	enc, dec := messageCodec().MessageEncoder(), messageCodec().MessageDecoder()
	for _, v := range fastSamples {
		assert.Equal(t, v, roundTrip(t, enc, dec, ptrTo(v)), "%T %v", v, v)
	}
}

// ptrTo returns a pointer to a copy of v, of v's dynamic type.
func ptrTo(v any) any {
	switch x := v.(type) {
	case bool:
		return &x
	case int:
		return &x
	case int64:
		return &x
	case int32:
		return &x
	case int16:
		return &x
	case int8:
		return &x
	case uint:
		return &x
	case uint64:
		return &x
	case uint32:
		return &x
	case uint16:
		return &x
	case uint8:
		return &x
	case uintptr:
		return &x
	case float64:
		return &x
	case float32:
		return &x
	case string:
		return &x
	case []byte:
		return &x
	}
	panic(fmt.Sprintf("ptrTo: %T", v))
}

func TestGobMessagesConcurrent(t *testing.T) {
	enc, dec := messageCodec().MessageEncoder(), messageCodec().MessageDecoder()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				in := msgShape{Name: "g", Pts: []msgPoint{{g, i}}}
				b, err := enc.Encode(nil, &in)
				if err != nil {
					errs <- err
					return
				}
				var out msgShape
				if err := dec.Decode(b, &out); err != nil {
					errs <- err
					return
				}
				if out.Pts[0] != (msgPoint{g, i}) {
					errs <- fmt.Errorf("got %v, want %v", out.Pts[0], msgPoint{g, i})
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A message decoder refuses what is not a whole message, with an error, and
// goes on decoding the next.
func TestGobMessagesMalformed(t *testing.T) {
	enc, dec := messageCodec().MessageEncoder(), messageCodec().MessageDecoder()
	in := msgShape{Name: "x", Pts: []msgPoint{{1, 2}}}
	good, err := enc.Encode(nil, &in)
	require.NoError(t, err)
	// A continuing stream's output does not stand alone.
	streamEnc := Gob().NewEncoder()
	_, err = streamEnc.Encode(nil, &in)
	require.NoError(t, err)
	cont, err := streamEnc.Encode(nil, &in)
	require.NoError(t, err)
	require.Equal(t, byte(gobContinue), cont[0])

	bad := map[string][]byte{
		"empty":            nil,
		"mark alone":       {gobRestart},
		"continuing":       cont,
		"truncated":        good[:len(good)-1],
		"descriptions":     good[:len(good)-lastLen(t, good)],
		"huge count":       {gobRestart, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"zero count":       {gobRestart, 0},
		"garbage":          {gobRestart, 3, 2, 0xff, 0xff},
		"wrong value type": mustEncode(t, enc, &msgPoint{1, 2}),
	}
	for name, b := range bad {
		var out msgShape
		assert.Error(t, dec.Decode(b, &out), name)
	}
	var out msgShape
	require.NoError(t, dec.Decode(good, &out))
	assert.Equal(t, in, out)
}

// lastLen returns the length of the last gob message of an output of the
// message encoder, its count included.
func lastLen(t *testing.T, b []byte) int {
	t.Helper()
	last, ok := lastGobValue(b[1:])
	require.True(t, ok)
	return len(b) - 1 - last
}

func mustEncode(t *testing.T, enc Encoder, v any) []byte {
	t.Helper()
	b, err := enc.Encode(nil, v)
	require.NoError(t, err)
	return b
}

// BenchmarkGobMessage encodes and decodes a small struct as a message of
// its own: with the message encoder and decoder, and with a new Encoder
// and Decoder per message, as a transport without a stream otherwise must.
func BenchmarkGobMessage(b *testing.B) {
	in := msgPoint{3, 4}
	run := func(b *testing.B, enc func() Encoder, dec func() Decoder) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			buf, err = enc().Encode(buf[:0], &in)
			if err != nil {
				b.Fatal(err)
			}
			var out msgPoint
			if err := dec().Decode(buf, &out); err != nil || out != in {
				b.Fatal(err, out)
			}
		}
	}
	mc := messageCodec()
	b.Run("message", func(b *testing.B) { run(b, mc.MessageEncoder, mc.MessageDecoder) })
	b.Run("new", func(b *testing.B) { run(b, Gob().NewEncoder, Gob().NewDecoder) })
}

type msgBig struct{ B []byte }

// Neither side keeps the buffers of a large message for the next.
func TestGobMessagesLargeNotKept(t *testing.T) {
	enc, dec := messageCodec().MessageEncoder(), messageCodec().MessageDecoder()
	typesOf := func(b []byte) []byte {
		last, ok := lastGobValue(b[1:])
		require.True(t, ok)
		return b[1 : 1+last]
	}
	big := msgBig{B: make([]byte, maxKeptMessage+1)}
	b := mustEncode(t, enc, &big)
	te, ok := gobTypeEncoders.Load(reflect.TypeOf(&big))
	require.True(t, ok)
	assert.Nil(t, te.(*gobTypeEncoder).w.b, "the encoder let its buffer go")
	var out msgBig
	require.NoError(t, dec.Decode(b, &out))
	assert.Equal(t, big, out)
	assert.Nil(t, takeGobDecoder(typesOf(b)), "no Decoder kept after a large message")

	small := msgBig{B: []byte("x")}
	b = mustEncode(t, enc, &small)
	require.NoError(t, dec.Decode(b, &out))
	assert.Equal(t, small, out)
	d := takeGobDecoder(typesOf(b))
	require.NotNil(t, d, "a Decoder kept after a small message")
	putGobDecoder(typesOf(b), d)
}
