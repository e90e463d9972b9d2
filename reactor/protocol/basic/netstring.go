package basic

import (
	"fmt"
	"math"
	"strconv"

	"github.com/twinego/twine/reactor/protocol"
)

// DefaultStringMaxLength is the longest string NetstringReceiver and the
// length-prefixed receivers accept when their MaxLength is zero: Twisted's
// MAX_LENGTH for them.
const DefaultStringMaxLength = 99999

// StringHandler receives the strings of a [NetstringReceiver] or a
// length-prefixed receiver: Twisted's stringReceived. s is the payload,
// without its framing, and is valid only until StringReceived returns.
// Appending to it does not touch the receiver's buffer.
type StringHandler interface {
	StringReceived(s []byte)
}

// NetstringReceiver is a protocol that sends and receives netstrings
// ("5:hello,": the length in decimal, a colon, the payload, a comma):
// Twisted's NetstringReceiver. It plugs in as [LineReceiver] does: embed
// it, write StringReceived, and set Handler to the protocol once.
//
// Bytes that are not a netstring (no length, a length with a leading zero,
// no colon, no trailing comma) or a length over MaxLength close the
// connection (LoseConnection): BrokenPeer reports true and Err says why,
// with an error matched by [ErrNetstringParse] (and [ErrLengthLimitExceeded]
// for a length over the limit). A length is refused as soon as its digits
// exceed the limit, before the payload arrives, and the receiver reads
// nothing more once it has closed.
type NetstringReceiver struct {
	protocol.Base

	// Handler is the protocol that embeds the receiver, or any
	// StringHandler. DataReceived panics while it is nil.
	Handler StringHandler

	// MaxLength is the longest payload accepted; zero means
	// DefaultStringMaxLength (99999).
	MaxLength int

	in       inbox
	digits   int // maxDigits for the MaxLength of the running DataReceived
	busy     bool
	payload  bool // parsing a payload, not a length
	expected int  // the payload's length, plus one for the comma
	broken   bool
	err      error
	seq      [3][]byte
	head     [24]byte
}

var comma = []byte{','}

func (r *NetstringReceiver) maxLength() int {
	if r.MaxLength <= 0 {
		return DefaultStringMaxLength
	}
	return r.MaxLength
}

// maxDigits is how many digits a length may have before it is refused
// unread: Twisted's _maxLengthSize.
func (r *NetstringReceiver) maxDigits() int {
	return int(math.Ceil(math.Log10(float64(r.maxLength())))) + 1
}

// DataReceived parses data into netstrings for the handler. It panics if
// Handler is nil.
func (r *NetstringReceiver) DataReceived(data []byte) {
	if r.broken {
		return
	}
	if r.busy {
		r.in.add(data)
		return
	}
	if r.Handler == nil {
		panic("basic: NetstringReceiver.DataReceived: Handler is nil; set it to the protocol that embeds the NetstringReceiver")
	}
	r.busy = true
	defer r.done()
	r.in.begin(data)
	r.digits = r.maxDigits()
	for !r.in.empty() && !r.broken {
		if !r.payload && !r.parseLength() {
			return
		}
		if r.payload && !r.parsePayload() {
			return
		}
	}
}

func (r *NetstringReceiver) done() {
	r.in.end()
	r.busy = false
}

// parseLength reads "digits:", and reports whether it did.
func (r *NetstringReceiver) parseLength() bool {
	buf := r.in.bytes()
	i, n := 0, 0
	for i < len(buf) && '0' <= buf[i] && buf[i] <= '9' && i <= r.digits {
		if n > (math.MaxInt-9)/10 {
			n = -1 // too many digits for an int: over any MaxLength
			break
		}
		n = n*10 + int(buf[i]-'0')
		i++
	}
	switch {
	case i > r.digits:
		r.fail(r.tooLong())
		return false
	case i == 0:
		r.fail(fmt.Errorf("%w: the netstring does not start with a length", ErrNetstringParse))
		return false
	case buf[0] == '0' && i > 1:
		r.fail(fmt.Errorf("%w: the length has a leading zero", ErrNetstringParse))
		return false
	}
	if n < 0 || n > r.maxLength() {
		r.fail(r.tooLong())
		return false
	}
	if i == len(buf) {
		return false // the length goes on in the next chunk
	}
	if buf[i] != ':' {
		r.fail(fmt.Errorf("%w: the length is not followed by a colon", ErrNetstringParse))
		return false
	}
	r.in.consume(i + 1)
	r.expected = n + 1
	r.payload = true
	return true
}

func (r *NetstringReceiver) tooLong() error {
	return fmt.Errorf("%w: %w: the netstring is longer than the limit of %d", ErrNetstringParse, ErrLengthLimitExceeded, r.maxLength())
}

// parsePayload reads the payload and its comma, and reports whether it
// did.
func (r *NetstringReceiver) parsePayload() bool {
	buf := r.in.bytes()
	if len(buf) < r.expected {
		return false
	}
	n := r.expected - 1
	if buf[n] != ',' {
		r.fail(fmt.Errorf("%w: the netstring is not terminated by a comma", ErrNetstringParse))
		return false
	}
	r.in.consume(r.expected)
	r.payload = false
	r.Handler.StringReceived(buf[:n:n])
	return true
}

func (r *NetstringReceiver) fail(err error) {
	r.broken = true
	r.err = err
	r.in.take()
	if r.Transport != nil {
		r.Transport.LoseConnection()
	}
}

// BrokenPeer reports whether the peer sent bytes that are not a netstring
// and the receiver closed the connection: Twisted's brokenPeer.
func (r *NetstringReceiver) BrokenPeer() bool { return r.broken }

// Err returns why the receiver closed the connection (an error matched by
// [ErrNetstringParse]), or nil.
func (r *NetstringReceiver) Err() error { return r.err }

// SendString writes s to the transport as a netstring, and returns the
// transport's error. It panics before ConnectionMade.
func (r *NetstringReceiver) SendString(s []byte) error {
	if r.Transport == nil {
		panic("basic: NetstringReceiver.SendString: not connected")
	}
	head := append(strconv.AppendInt(r.head[:0], int64(len(s)), 10), ':')
	r.seq[0], r.seq[1], r.seq[2] = head, s, comma
	_, err := r.Transport.WriteSequence(r.seq[:])
	r.seq[1] = nil
	return err
}

var _ protocol.Protocol = (*NetstringReceiver)(nil)
