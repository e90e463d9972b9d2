package basic

import (
	"bytes"
	"fmt"

	"github.com/twinego/twine/reactor/protocol"
)

// LineOnlyReceiver is a protocol that cuts what it receives into lines and
// nothing else: Twisted's LineOnlyReceiver, the lighter LineReceiver for
// protocols that never need raw mode nor pausing. It plugs in as
// [LineReceiver] does: embed it, write LineReceived, and set Handler to the
// protocol once.
//
// Each line goes to Handler.LineReceived without its delimiter. As in
// Twisted, no line of a chunk is delivered once the transport is closing
// (on a [protocol.DisconnectingTransport]), whether the close came from an
// earlier line or from before the chunk; a line longer than MaxLength, or
// more than MaxLength bytes waiting for a delimiter, goes to
// LineLengthExceeded instead, and the lines after it are dropped.
type LineOnlyReceiver struct {
	protocol.Base

	// Handler is the protocol that embeds the receiver, or any
	// LineHandler; it may also be a LineLengthExceededHandler.
	// DataReceived panics while it is nil.
	Handler LineHandler

	// Delimiter ends each line; empty means DefaultDelimiter ("\r\n").
	Delimiter []byte

	// MaxLength is the longest line accepted; zero means DefaultMaxLength
	// (16384).
	MaxLength int

	in   inbox
	busy bool
	err  error
	seq  [2][]byte
}

func (r *LineOnlyReceiver) delimiter() []byte {
	if len(r.Delimiter) == 0 {
		return crlf
	}
	return r.Delimiter
}

func (r *LineOnlyReceiver) maxLength() int {
	if r.MaxLength <= 0 {
		return DefaultMaxLength
	}
	return r.MaxLength
}

// DataReceived parses data into lines for the handler. Called from inside
// the handler, it adds data to the buffer, to be parsed by the running
// call. It panics if Handler is nil.
func (r *LineOnlyReceiver) DataReceived(data []byte) {
	if r.busy {
		r.in.add(data)
		return
	}
	if r.Handler == nil {
		panic("basic: LineOnlyReceiver.DataReceived: Handler is nil; set it to the protocol that embeds the LineOnlyReceiver")
	}
	r.busy = true
	defer r.done()
	r.in.begin(data)
	delim := r.delimiter()
	limit := r.maxLength()
	closing := closeWatch(r.Transport)
	for {
		buf := r.in.bytes()
		i := bytes.Index(buf, delim)
		if i < 0 {
			break
		}
		if closing != nil && closing.Disconnecting() {
			r.in.take()
			return
		}
		if i > limit {
			line := buf[:i:i]
			r.in.take()
			r.exceeded(line)
			return
		}
		r.in.consume(i + len(delim))
		r.Handler.LineReceived(buf[:i:i])
	}
	if buf := r.in.bytes(); len(buf) > limit {
		r.exceeded(r.in.take())
	}
}

func (r *LineOnlyReceiver) done() {
	r.in.end()
	r.busy = false
}

func (r *LineOnlyReceiver) exceeded(line []byte) {
	if h, ok := r.Handler.(LineLengthExceededHandler); ok {
		h.LineLengthExceeded(line)
		return
	}
	r.LineLengthExceeded(line)
}

// LineLengthExceeded is what happens, unless the protocol writes its own,
// when a line goes over MaxLength: the connection is closed
// (LoseConnection) and Err reports [ErrLineLengthExceeded].
func (r *LineOnlyReceiver) LineLengthExceeded(line []byte) {
	r.err = fmt.Errorf("%w: a line of %d bytes or more, over the limit of %d", ErrLineLengthExceeded, len(line), r.maxLength())
	if r.Transport != nil {
		r.Transport.LoseConnection()
	}
}

// Err returns why the receiver closed the connection on its own (an error
// matched by [ErrLineLengthExceeded]), or nil.
func (r *LineOnlyReceiver) Err() error { return r.err }

// SendLine writes line and the delimiter to the transport, and returns
// the transport's error. It panics before ConnectionMade.
func (r *LineOnlyReceiver) SendLine(line []byte) error {
	if r.Transport == nil {
		panic("basic: LineOnlyReceiver.SendLine: not connected")
	}
	r.seq[0], r.seq[1] = line, r.delimiter()
	_, err := r.Transport.WriteSequence(r.seq[:])
	r.seq[0] = nil
	return err
}

var _ protocol.Protocol = (*LineOnlyReceiver)(nil)
