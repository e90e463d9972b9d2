package basic

import (
	"bytes"
	"fmt"

	"github.com/twinego/twine/reactor/protocol"
)

// DefaultDelimiter is the line delimiter of LineReceiver and
// LineOnlyReceiver when their Delimiter is empty: Twisted's default.
const DefaultDelimiter = "\r\n"

// DefaultMaxLength is the longest line LineReceiver and LineOnlyReceiver
// accept when their MaxLength is zero: Twisted's MAX_LENGTH.
const DefaultMaxLength = 16384

// LineHandler receives the lines of a [LineReceiver] or a
// [LineOnlyReceiver]: Twisted's lineReceived. line holds the bytes before
// the delimiter, without it, and is valid only until LineReceived returns:
// it points into the receiver's buffer, so a handler that keeps it copies
// it. Appending to it does not touch the buffer.
type LineHandler interface {
	LineReceived(line []byte)
}

// RawDataHandler receives the bytes a [LineReceiver] gets in raw mode:
// Twisted's rawDataReceived. data is valid only until RawDataReceived
// returns.
type RawDataHandler interface {
	RawDataReceived(data []byte)
}

// LineLengthExceededHandler is told of a line over the limit of a
// [LineReceiver] or [LineOnlyReceiver]: Twisted's lineLengthExceeded. Both
// receivers have a LineLengthExceeded method, which a protocol that embeds
// one inherits; a protocol that writes its own replaces it.
type LineLengthExceededHandler interface {
	LineLengthExceeded(line []byte)
}

// LineReceiver is a protocol that cuts what it receives into lines, or,
// in raw mode, passes it on as it comes: Twisted's
// twisted.protocols.basic.LineReceiver.
//
// A Twisted subclass becomes a Go type that embeds LineReceiver, writes the
// methods Twisted's subclass overrides (LineReceived, and RawDataReceived
// or LineLengthExceeded if it uses them), and points Handler at itself
// once, when it is made:
//
//	type Chat struct{ basic.LineReceiver }
//
//	func NewChat() *Chat {
//		c := &Chat{}
//		c.Handler = c
//		return c
//	}
//
//	func (c *Chat) LineReceived(line []byte) { c.SendLine(line) }
//
// The embedded fields and methods keep Twisted's names: Delimiter,
// MaxLength, SetRawMode, SetLineMode, ClearLineBuffer, SendLine, and the
// producer methods. A Chat is the [protocol.Protocol] a factory returns.
//
// In line mode, each line goes to Handler.LineReceived, without its
// delimiter. Once a line has made the protocol close the connection (on a
// [protocol.DisconnectingTransport]), the lines after it in the same chunk
// are not delivered. The bytes waiting for a delimiter are held up to
// MaxLength plus the delimiter's length; a line longer than MaxLength, or
// that many bytes without a delimiter, goes instead to LineLengthExceeded
// with everything that waits, and the buffer is emptied.
//
// SetRawMode and SetLineMode switch modes, in the middle of a chunk too:
// what follows the current line (or, from SetLineMode(extra), extra) is
// parsed in the new mode. DataReceived called again from inside a handler
// (as SetLineMode(extra) and ResumeProducing do) only adds the bytes to the
// buffer, which the running call goes on parsing: a handler never runs
// inside another, however often the modes flip.
//
// LineReceiver is a [protocol.PushProducer] of lines: PauseProducing stops
// the delivery of lines (and pauses the transport), ResumeProducing delivers
// those that wait and resumes the transport.
//
// Its methods run on the reactor goroutine, as every protocol's.
type LineReceiver struct {
	protocol.Base

	// Handler is the protocol that embeds the receiver, or any
	// LineHandler; it may also be a RawDataHandler and a
	// LineLengthExceededHandler. DataReceived panics while it is nil.
	Handler LineHandler

	// Delimiter ends each line; empty means DefaultDelimiter ("\r\n").
	Delimiter []byte

	// MaxLength is the longest line accepted; zero means DefaultMaxLength
	// (16384).
	MaxLength int

	in     inbox
	raw    RawDataHandler // set by SetRawMode, nil in line mode
	busy   bool           // DataReceived is running
	paused bool
	err    error
	seq    [2][]byte // SendLine's WriteSequence, kept to spare an allocation
}

var crlf = []byte(DefaultDelimiter)

func (r *LineReceiver) delimiter() []byte {
	if len(r.Delimiter) == 0 {
		return crlf
	}
	return r.Delimiter
}

func (r *LineReceiver) maxLength() int {
	if r.MaxLength <= 0 {
		return DefaultMaxLength
	}
	return r.MaxLength
}

// DataReceived parses data into lines, or raw data, for the handler. Called
// from inside a handler, it adds data to the buffer and returns at once.
// It panics if Handler is nil.
func (r *LineReceiver) DataReceived(data []byte) {
	if r.busy {
		r.in.add(data)
		return
	}
	if r.Handler == nil {
		panic("basic: LineReceiver.DataReceived: Handler is nil; set it to the protocol that embeds the LineReceiver")
	}
	r.busy = true
	defer r.done()
	r.in.begin(data)
	r.parse()
}

func (r *LineReceiver) done() {
	r.in.end()
	r.busy = false
}

func (r *LineReceiver) parse() {
	delim := r.delimiter()
	limit := r.maxLength()
	closing := closeWatch(r.Transport)
	for !r.in.empty() && !r.paused {
		if r.raw != nil {
			r.raw.RawDataReceived(r.in.take())
			continue
		}
		buf := r.in.bytes()
		i := bytes.Index(buf, delim)
		if i < 0 {
			if len(buf) >= limit+len(delim) {
				r.exceeded(r.in.take())
			}
			return
		}
		if i > limit {
			r.exceeded(r.in.take())
			return
		}
		r.in.consume(i + len(delim))
		r.Handler.LineReceived(buf[:i:i])
		if closing != nil && closing.Disconnecting() {
			return
		}
	}
}

func (r *LineReceiver) exceeded(line []byte) {
	if h, ok := r.Handler.(LineLengthExceededHandler); ok {
		h.LineLengthExceeded(line)
		return
	}
	r.LineLengthExceeded(line)
}

// LineLengthExceeded is what happens, unless the protocol writes its own,
// when a line goes over MaxLength: the connection is closed
// (LoseConnection) and Err reports [ErrLineLengthExceeded]. line holds the
// long line and whatever followed it. Twisted's lineLengthExceeded.
func (r *LineReceiver) LineLengthExceeded(line []byte) {
	r.err = fmt.Errorf("%w: %d bytes without a delimiter within the limit of %d", ErrLineLengthExceeded, len(line), r.maxLength())
	if r.Transport != nil {
		r.Transport.LoseConnection()
	}
}

// Err returns why the receiver closed the connection on its own (an error
// matched by [ErrLineLengthExceeded]), or nil.
func (r *LineReceiver) Err() error { return r.err }

// SetRawMode makes the receiver pass what follows, from the rest of the
// current chunk on, to Handler.RawDataReceived as it comes. It panics if
// Handler is not a [RawDataHandler] (where Twisted's rawDataReceived raises
// NotImplementedError).
func (r *LineReceiver) SetRawMode() {
	h, ok := r.Handler.(RawDataHandler)
	if !ok {
		panic("basic: LineReceiver.SetRawMode: the Handler has no RawDataReceived method")
	}
	r.raw = h
}

// SetLineMode makes the receiver cut what follows into lines again, and
// parses extra first: the part of the raw data that belongs to the lines
// (call it from RawDataReceived; from LineReceived, pass no extra, as in
// Twisted).
func (r *LineReceiver) SetLineMode(extra []byte) {
	r.raw = nil
	if len(extra) > 0 {
		r.DataReceived(extra)
	}
}

// LineMode reports whether the receiver is in line mode.
func (r *LineReceiver) LineMode() bool { return r.raw == nil }

// ClearLineBuffer empties the buffer and returns a copy of what it held.
// From LineReceived, that is everything after the current line.
func (r *LineReceiver) ClearLineBuffer() []byte { return r.in.clear() }

// SendLine writes line and the delimiter to the transport, and returns
// the transport's error. It panics before ConnectionMade.
func (r *LineReceiver) SendLine(line []byte) error {
	if r.Transport == nil {
		panic("basic: LineReceiver.SendLine: not connected")
	}
	r.seq[0], r.seq[1] = line, r.delimiter()
	_, err := r.Transport.WriteSequence(r.seq[:])
	r.seq[0] = nil
	return err
}

// PauseProducing stops the delivery of lines and pauses the transport.
func (r *LineReceiver) PauseProducing() {
	r.paused = true
	r.Transport.PauseProducing()
}

// ResumeProducing resumes the transport and delivers the lines that wait
// (at once if called from outside the receiver's handlers, or when the
// running handler returns).
func (r *LineReceiver) ResumeProducing() {
	r.paused = false
	r.Transport.ResumeProducing()
	r.DataReceived(nil)
}

// StopProducing stops the delivery of lines for good and stops the
// transport (which aborts the connection).
func (r *LineReceiver) StopProducing() {
	r.paused = true
	r.Transport.StopProducing()
}

// Paused reports whether the delivery of lines is paused.
func (r *LineReceiver) Paused() bool { return r.paused }

var (
	_ protocol.Protocol     = (*LineReceiver)(nil)
	_ protocol.PushProducer = (*LineReceiver)(nil)
)
