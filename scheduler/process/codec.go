package process

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"sync"
)

// Codec turns arguments and results into bytes and back. Each worker
// connection has one Encoder and one Decoder per direction, so a codec may
// keep state along a stream, as encoding/gob does (it sends a type's
// description once, then only values).
//
// A codec is found in the worker by its Name, so it must be registered with
// [RegisterCodec] in both processes, in an init function (the worker is the
// same executable, so one registration does for both). [Gob] is registered
// already.
type Codec interface {
	// Name identifies the codec in the handshake.
	Name() string
	// NewEncoder returns an encoder for one direction of one connection.
	NewEncoder() Encoder
	// NewDecoder returns a decoder for one direction of one connection.
	NewDecoder() Decoder
}

// Encoder encodes the values sent along one direction of one connection.
// It is used by one goroutine at a time.
//
// The outputs of Encode reach the peer's Decoder in the order they were
// made, except outputs that the protocol drops (one too large for a frame):
// then it calls Reset before the next Encode, and that next output must be
// decodable by a Decoder that missed the dropped ones.
type Encoder interface {
	// Encode appends the encoding of v to dst and returns the extended
	// slice. On error it returns dst unchanged, and the encoder must still
	// be usable.
	Encode(dst []byte, v any) ([]byte, error)
	// Reset forgets what the peer's decoder is assumed to know.
	Reset()
}

// Decoder decodes the values received along one direction of one
// connection, in the order their Encoder made them. It is used by one
// goroutine at a time.
type Decoder interface {
	// Decode decodes data, one output of the peer's Encode, into the value
	// that v points to. It must not keep data after it returns.
	Decode(data []byte, v any) error
}

var codecs = struct {
	sync.Mutex
	byName map[string]Codec
}{byName: map[string]Codec{gobName: gobCodec{}}}

// RegisterCodec makes c available to pools ([WithCodec]) and to workers, under
// c.Name(). Call it from an init function, before [Main]. A nil codec, an
// empty name or a name already registered panics.
func RegisterCodec(c Codec) {
	if c == nil {
		panic("process: RegisterCodec: nil Codec")
	}
	name := c.Name()
	if name == "" {
		panic("process: RegisterCodec: empty codec name")
	}
	codecs.Lock()
	defer codecs.Unlock()
	if _, dup := codecs.byName[name]; dup {
		panic(fmt.Sprintf("process: RegisterCodec: codec %q registered twice", name))
	}
	codecs.byName[name] = c
}

func lookupCodec(name string) (Codec, bool) {
	codecs.Lock()
	defer codecs.Unlock()
	c, ok := codecs.byName[name]
	return c, ok
}

const gobName = "gob"

// Gob returns the default codec, encoding/gob over each direction of a
// connection as one stream: a type's description crosses once, and then each
// value costs little more than its data. Arguments and results must be types
// that gob can encode; values held in interface fields must be registered
// with gob.Register, as usual with gob.
//
// Values of the basic types themselves (bool, the integer and floating-point
// types, string and []byte, but not named types defined on them) take a
// shorter path: a tag byte and the value's bytes, without reflection, which
// costs a small fraction of a gob value. Decoded, they are as gob would
// make them, except that a []byte keeps the difference between nil and
// empty.
//
// The codec is a [MessageCodec] too, for transports whose messages each
// decode alone.
func Gob() Codec { return gobCodec{} }

type gobCodec struct{}

func (gobCodec) Name() string        { return gobName }
func (gobCodec) NewEncoder() Encoder { return &gobEncoder{} }
func (gobCodec) NewDecoder() Decoder { return &gobDecoder{} }

// Each output of the gob codec starts with a byte that says whether it
// continues the stream or starts a new one: after an encoding error or a
// dropped output, the encoder starts afresh, and the decoder, told by that
// byte, does too.
const (
	gobContinue = 0
	gobRestart  = 1
)

var errGobStream = errors.New("process: gob: value out of stream")

type gobEncoder struct {
	w     appendWriter
	enc   *gob.Encoder
	fresh bool
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (e *gobEncoder) Encode(dst []byte, v any) ([]byte, error) {
	if out, ok := appendFast(dst, v); ok {
		return out, nil
	}
	if e.enc == nil {
		e.enc = gob.NewEncoder(&e.w)
		e.fresh = true
	}
	mark := byte(gobContinue)
	if e.fresh {
		mark = gobRestart
	}
	e.w.b = append(dst, mark)
	err := e.enc.Encode(v)
	out := e.w.b
	e.w.b = nil
	if err != nil {
		// The encoder may have recorded type descriptions as sent that are
		// now dropped: start a new stream.
		e.Reset()
		return dst, err
	}
	e.fresh = false
	return out, nil
}

func (e *gobEncoder) Reset() { e.enc = nil }

type gobDecoder struct {
	r   bytes.Reader
	dec *gob.Decoder
}

func (d *gobDecoder) Decode(data []byte, v any) error {
	if len(data) == 0 {
		return errGobStream
	}
	switch data[0] {
	case gobRestart:
		d.dec = gob.NewDecoder(&d.r)
	case gobContinue:
		if d.dec == nil {
			return errGobStream
		}
	default:
		return decodeFast(data, v)
	}
	d.r.Reset(data[1:])
	err := d.dec.Decode(v)
	d.r.Reset(nil)
	return err
}
