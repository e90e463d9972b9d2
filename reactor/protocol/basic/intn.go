package basic

import (
	"encoding/binary"
	"fmt"

	"github.com/twinego/twine/reactor/protocol"
)

// LengthLimitExceededHandler is told of a length prefix over the limit of
// a length-prefixed receiver: Twisted's lengthLimitExceeded. The receivers
// have a LengthLimitExceeded method, which a protocol that embeds one
// inherits; a protocol that writes its own replaces it.
type LengthLimitExceededHandler interface {
	LengthLimitExceeded(length int)
}

// IntNStringReceiver is the part that [Int8StringReceiver],
// [Int16StringReceiver] and [Int32StringReceiver] share: Twisted's
// IntNStringReceiver. Embed one of those three, not this.
//
// Each string arrives as a big-endian unsigned length of 1, 2 or 4 bytes
// and that many bytes of payload; the payload goes to
// Handler.StringReceived. A length over MaxLength goes to
// LengthLimitExceeded as soon as its prefix has arrived, before any of the
// payload is read; by default that closes the connection. The receiver is
// a [protocol.PushProducer] of strings, as Twisted's is: PauseProducing
// stops the delivery (and pauses the transport), ResumeProducing delivers
// what waits.
type IntNStringReceiver struct {
	protocol.Base

	// Handler is the protocol that embeds the receiver, or any
	// StringHandler; it may also be a LengthLimitExceededHandler.
	// DataReceived panics while it is nil.
	Handler StringHandler

	// MaxLength is the longest string accepted; zero means
	// DefaultStringMaxLength (99999).
	MaxLength int

	in     inbox
	prefix int // the prefix's size, from the first DataReceived
	busy   bool
	paused bool
	err    error
	seq    [2][]byte
	head   [4]byte
}

func (r *IntNStringReceiver) maxLength() int {
	if r.MaxLength <= 0 {
		return DefaultStringMaxLength
	}
	return r.MaxLength
}

// receive parses data, with prefixes of size bytes.
func (r *IntNStringReceiver) receive(data []byte, size int, op string) {
	r.prefix = size
	if r.busy {
		r.in.add(data)
		return
	}
	if r.Handler == nil {
		panic("basic: " + op + ".DataReceived: Handler is nil; set it to the protocol that embeds the " + op)
	}
	r.busy = true
	defer r.done()
	r.in.begin(data)
	limit := r.maxLength()
	for !r.paused {
		buf := r.in.bytes()
		if len(buf) < size {
			return
		}
		var n int
		switch size {
		case 1:
			n = int(buf[0])
		case 2:
			n = int(binary.BigEndian.Uint16(buf))
		default:
			n = int(binary.BigEndian.Uint32(buf))
		}
		if n > limit {
			r.lengthExceeded(n)
			return
		}
		end := size + n
		if len(buf) < end {
			return
		}
		r.in.consume(end)
		r.Handler.StringReceived(buf[size:end:end])
	}
}

func (r *IntNStringReceiver) done() {
	r.in.end()
	r.busy = false
}

func (r *IntNStringReceiver) lengthExceeded(n int) {
	if h, ok := r.Handler.(LengthLimitExceededHandler); ok {
		h.LengthLimitExceeded(n)
		return
	}
	r.LengthLimitExceeded(n)
}

// LengthLimitExceeded is what happens, unless the protocol writes its own,
// when a length prefix over MaxLength arrives: the connection is closed
// (LoseConnection) and Err reports [ErrLengthLimitExceeded]. The bytes from
// the prefix on stay unread.
func (r *IntNStringReceiver) LengthLimitExceeded(length int) {
	r.err = fmt.Errorf("%w: a length prefix of %d, over the limit of %d", ErrLengthLimitExceeded, length, r.maxLength())
	if r.Transport != nil {
		r.Transport.LoseConnection()
	}
}

// Err returns why the receiver closed the connection on its own (an error
// matched by [ErrLengthLimitExceeded]), or nil.
func (r *IntNStringReceiver) Err() error { return r.err }

// send writes s with a prefix of size bytes.
func (r *IntNStringReceiver) send(s []byte, size int, op string) error {
	if r.Transport == nil {
		panic("basic: " + op + ".SendString: not connected")
	}
	if uint64(len(s)) >= 1<<(8*size) {
		return fmt.Errorf("%w: %d bytes, and a %d-byte prefix holds less than %d", ErrStringTooLong, len(s), size, uint64(1)<<(8*size))
	}
	switch size {
	case 1:
		r.head[0] = byte(len(s))
	case 2:
		binary.BigEndian.PutUint16(r.head[:], uint16(len(s)))
	default:
		binary.BigEndian.PutUint32(r.head[:], uint32(len(s)))
	}
	r.seq[0], r.seq[1] = r.head[:size], s
	_, err := r.Transport.WriteSequence(r.seq[:])
	r.seq[1] = nil
	return err
}

// PauseProducing stops the delivery of strings and pauses the transport.
func (r *IntNStringReceiver) PauseProducing() {
	r.paused = true
	r.Transport.PauseProducing()
}

// ResumeProducing resumes the transport and delivers the strings that
// wait.
func (r *IntNStringReceiver) ResumeProducing() {
	r.paused = false
	r.Transport.ResumeProducing()
	if r.prefix > 0 {
		r.receive(nil, r.prefix, "IntNStringReceiver")
	}
}

// StopProducing stops the delivery of strings for good and stops the
// transport (which aborts the connection).
func (r *IntNStringReceiver) StopProducing() {
	r.paused = true
	r.Transport.StopProducing()
}

// Paused reports whether the delivery of strings is paused.
func (r *IntNStringReceiver) Paused() bool { return r.paused }

// Int32StringReceiver is a protocol of strings each prefixed with its
// length in 4 bytes, big-endian: Twisted's Int32StringReceiver. It plugs
// in as [LineReceiver] does: embed it, write StringReceived, set Handler to
// the protocol once. See [IntNStringReceiver] for the rest.
type Int32StringReceiver struct{ IntNStringReceiver }

// DataReceived parses data into strings for the handler.
func (r *Int32StringReceiver) DataReceived(data []byte) {
	r.receive(data, 4, "Int32StringReceiver")
}

// SendString writes s with its 4-byte length, or returns an error matched
// by [ErrStringTooLong] if s has 2³² bytes or more.
func (r *Int32StringReceiver) SendString(s []byte) error {
	return r.send(s, 4, "Int32StringReceiver")
}

// Int16StringReceiver is a protocol of strings each prefixed with its
// length in 2 bytes, big-endian: Twisted's Int16StringReceiver. See
// [Int32StringReceiver].
type Int16StringReceiver struct{ IntNStringReceiver }

// DataReceived parses data into strings for the handler.
func (r *Int16StringReceiver) DataReceived(data []byte) {
	r.receive(data, 2, "Int16StringReceiver")
}

// SendString writes s with its 2-byte length, or returns an error matched
// by [ErrStringTooLong] if s has 65536 bytes or more.
func (r *Int16StringReceiver) SendString(s []byte) error {
	return r.send(s, 2, "Int16StringReceiver")
}

// Int8StringReceiver is a protocol of strings each prefixed with its
// length in 1 byte: Twisted's Int8StringReceiver. See
// [Int32StringReceiver].
type Int8StringReceiver struct{ IntNStringReceiver }

// DataReceived parses data into strings for the handler.
func (r *Int8StringReceiver) DataReceived(data []byte) {
	r.receive(data, 1, "Int8StringReceiver")
}

// SendString writes s with its 1-byte length, or returns an error matched
// by [ErrStringTooLong] if s has 256 bytes or more.
func (r *Int8StringReceiver) SendString(s []byte) error {
	return r.send(s, 1, "Int8StringReceiver")
}

var (
	_ protocol.Protocol     = (*Int32StringReceiver)(nil)
	_ protocol.PushProducer = (*Int32StringReceiver)(nil)
	_ protocol.Protocol     = (*Int16StringReceiver)(nil)
	_ protocol.Protocol     = (*Int8StringReceiver)(nil)
)
