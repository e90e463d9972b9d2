package process

import (
	"encoding/gob"
	"reflect"
	"sync"
)

// MessageCodec is a [Codec] that can also encode each value as a message
// of its own, which decodes without the messages before it: what a
// transport needs whose messages may each reach another peer, or come in
// another order, as a message broker's do (scheduler/remote). Such a
// transport could make a new Encoder and Decoder per message; a
// MessageCodec does the same work for less, by keeping what it learns from
// one message for the next.
//
// The outputs of a MessageEncoder must decode with a Decoder the codec's
// NewDecoder has just made, and with its MessageDecoder; a MessageDecoder
// must decode the output of a new Encoder. So peers that use the codec's
// plain Encoders and Decoders, one per message, and peers that use its
// message ones understand each other.
type MessageCodec interface {
	Codec
	// MessageEncoder returns an Encoder each of whose outputs decodes
	// alone. It is safe for use by many goroutines at once, and Reset
	// does nothing.
	MessageEncoder() Encoder
	// MessageDecoder returns a Decoder of outputs that each decode alone,
	// safe for use by many goroutines at once.
	MessageDecoder() Decoder
}

// The gob codec's messages. A new gob Encoder sends the descriptions of a
// value's types before the value, and a new Decoder compiles a decoding
// engine for each type it meets: both cost far more than a small value
// itself, and a stream pays them once. A message has no stream; the gob
// codec's message encoder and decoder keep one behind it.
//
// A gob stream is a sequence of messages, each a byte count and the bytes:
// a type description (its id negative), or a value (its type's id). A new
// Encoder's output for a value whose type holds no interface is the
// descriptions, then one message of the value; the next values of that type
// along the stream are one message each, the same bytes as they would be
// after the descriptions in a new stream. So the message encoder keeps a gob
// Encoder per Go type, and the descriptions of its first output: a message
// is the restart mark, those descriptions, and the value's message, just
// what a new Encoder makes. The decoder keeps gob Decoders by the
// descriptions they have read: a message whose descriptions one of them has
// read needs only its value's message decoded, by that Decoder.
//
// A type that holds an interface, anywhere, is left to a new Encoder per
// message: an interface's concrete types are described within the values,
// as they come. A message not of that shape (descriptions, then one value)
// is left to a new Decoder, as is one that a kept Decoder fails to read.
// Values of the basic types take the short path (codec_fast.go), as on a
// stream.

var _ MessageCodec = gobCodec{}

func (gobCodec) MessageEncoder() Encoder { return gobMessageEncoder{} }
func (gobCodec) MessageDecoder() Decoder { return gobMessageDecoder{} }

// gobMessageEncoder is the gob codec's MessageEncoder.
type gobMessageEncoder struct{}

// gobTypeEncoder makes the messages of one Go type.
type gobTypeEncoder struct {
	mu     sync.Mutex
	stream bool // whether the type's messages come from a stream (enc)
	w      appendWriter
	enc    *gob.Encoder // nil: start afresh
	types  []byte       // the type descriptions of enc's first output
}

var gobTypeEncoders sync.Map // reflect.Type → *gobTypeEncoder

func (gobMessageEncoder) Encode(dst []byte, v any) ([]byte, error) {
	if out, ok := appendFast(dst, v); ok {
		return out, nil
	}
	t := reflect.TypeOf(v)
	te, ok := gobTypeEncoders.Load(t)
	if !ok {
		te, _ = gobTypeEncoders.LoadOrStore(t, &gobTypeEncoder{stream: t != nil && !holdsInterface(t, map[reflect.Type]bool{})})
	}
	return te.(*gobTypeEncoder).encode(dst, v)
}

func (gobMessageEncoder) Reset() {}

func (e *gobTypeEncoder) encode(dst []byte, v any) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.stream {
		return (&gobEncoder{}).Encode(dst, v)
	}
	fresh := e.enc == nil
	if fresh {
		e.enc = gob.NewEncoder(&e.w)
	}
	e.w.b = e.w.b[:0]
	if err := e.enc.Encode(v); err != nil {
		// The Encoder may take types for sent that were not: start afresh.
		e.enc = nil
		return dst, err
	}
	last, ok := lastGobValue(e.w.b)
	if !ok || !fresh && last != 0 {
		// Not the shape expected (it cannot happen): leave the type to
		// new Encoders.
		e.stream, e.enc = false, nil
		if fresh {
			return append(append(dst, gobRestart), e.w.b...), nil
		}
		return (&gobEncoder{}).Encode(dst, v)
	}
	if fresh {
		e.types = append(e.types[:0], e.w.b[:last]...)
	}
	dst = append(dst, gobRestart)
	dst = append(dst, e.types...)
	dst = append(dst, e.w.b[last:]...)
	if cap(e.w.b) > maxKeptMessage {
		e.w.b = nil // not kept for the next one
	}
	return dst, nil
}

// holdsInterface reports whether a value of type t can hold an interface
// value, in any part of it.
func holdsInterface(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsInterface(t.Elem(), seen)
	case reflect.Map:
		return holdsInterface(t.Key(), seen) || holdsInterface(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsInterface(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// gobMessageDecoder is the gob codec's MessageDecoder.
type gobMessageDecoder struct{}

// gobDecoders holds gob Decoders idle, by the type descriptions they have
// read; at most maxGobDecoderKeys sets of descriptions, and
// maxGobDecodersPerKey Decoders for each.
var gobDecoders = struct {
	sync.Mutex
	byTypes map[string][]*gobDecoder
}{byTypes: make(map[string][]*gobDecoder)}

const (
	maxGobDecoderKeys    = 256
	maxGobDecodersPerKey = 16
)

// maxKeptMessage bounds the messages whose buffers are kept for the next:
// a gob Decoder keeps a buffer the size of the largest message it read, and
// the message encoder its last output.
const maxKeptMessage = 64 << 10

func (gobMessageDecoder) Decode(data []byte, v any) error {
	if len(data) == 0 {
		return errGobStream
	}
	switch data[0] {
	case gobRestart:
	case gobContinue:
		return errGobStream // a message stands alone
	default:
		return decodeFast(data, v)
	}
	body := data[1:]
	last, ok := lastGobValue(body)
	if !ok {
		return (&gobDecoder{}).Decode(data, v)
	}
	types := body[:last]
	if d := takeGobDecoder(types); d != nil {
		d.r.Reset(body[last:])
		err := d.dec.Decode(v)
		d.r.Reset(nil)
		if err == nil {
			if len(body) <= maxKeptMessage {
				putGobDecoder(types, d)
			}
			return nil
		}
		// Perhaps the Decoder, not the message: try a new one.
	}
	d := &gobDecoder{}
	d.dec = gob.NewDecoder(&d.r)
	d.r.Reset(body)
	err := d.dec.Decode(v)
	d.r.Reset(nil)
	if err == nil && len(body) <= maxKeptMessage {
		putGobDecoder(types, d)
	}
	return err
}

// takeGobDecoder takes an idle Decoder that has read types, if there is one.
func takeGobDecoder(types []byte) *gobDecoder {
	gobDecoders.Lock()
	defer gobDecoders.Unlock()
	ds := gobDecoders.byTypes[string(types)]
	if len(ds) == 0 {
		return nil
	}
	d := ds[len(ds)-1]
	ds[len(ds)-1] = nil
	gobDecoders.byTypes[string(types)] = ds[:len(ds)-1]
	return d
}

// putGobDecoder keeps d, which has read types, idle for the next message
// with those types, unless there are enough such already.
func putGobDecoder(types []byte, d *gobDecoder) {
	gobDecoders.Lock()
	defer gobDecoders.Unlock()
	ds, ok := gobDecoders.byTypes[string(types)]
	if !ok && len(gobDecoders.byTypes) >= maxGobDecoderKeys {
		for k := range gobDecoders.byTypes {
			delete(gobDecoders.byTypes, k) // one, at random
			break
		}
	}
	if len(ds) < maxGobDecodersPerKey {
		gobDecoders.byTypes[string(types)] = append(ds, d)
	}
}

// lastGobValue returns where the last of the gob messages in b starts, and
// whether b is some type descriptions and then one value: whole messages,
// the last one a value, the others type descriptions.
func lastGobValue(b []byte) (int, bool) {
	last := -1
	for i := 0; i < len(b); {
		n, size := gobUint(b[i:])
		if size == 0 || n == 0 || n > uint64(len(b)-i-size) || last >= 0 {
			return 0, false
		}
		// A type id is a signed integer, its low bit the sign: a
		// description's is negative.
		id, idSize := gobUint(b[i+size : i+size+int(n)])
		if idSize == 0 || id == 0 {
			return 0, false
		}
		if id&1 == 0 {
			last = i
		}
		i += size + int(n)
	}
	return last, last >= 0
}

// gobUint reads an unsigned integer as gob writes it: a byte below 0x80 is
// the value; otherwise it is minus the count of big-endian bytes that
// follow. size is 0 if b does not hold one.
func gobUint(b []byte) (n uint64, size int) {
	if len(b) == 0 {
		return 0, 0
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	count := -int(int8(b[0]))
	if count > 8 || len(b) < 1+count {
		return 0, 0
	}
	for _, c := range b[1 : 1+count] {
		n = n<<8 | uint64(c)
	}
	return n, 1 + count
}
