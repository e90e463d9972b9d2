// Package basic holds the framing protocols of Twisted's
// twisted.protocols.basic: protocols that cut a stream of bytes into
// messages, for the protocols built on them.
//
//   - [LineReceiver]: lines ended by a delimiter ("\r\n" by default), with
//     a raw mode for the bytes between them (a body of known length, say),
//     a limit on line length, and pausing.
//   - [LineOnlyReceiver]: lines and nothing else, a little faster.
//   - [NetstringReceiver]: netstrings ("5:hello,").
//   - [Int8StringReceiver], [Int16StringReceiver], [Int32StringReceiver]:
//     strings prefixed with their length in 1, 2 or 4 bytes.
//
// Use them where a Twisted protocol subclasses one of these. Go has no
// virtual methods, so a receiver cannot call a subclass's lineReceived
// itself: the protocol embeds the receiver, writes the methods Twisted's
// subclass overrides (LineReceived, RawDataReceived, LineLengthExceeded,
// StringReceived, LengthLimitExceeded) and sets the receiver's Handler to
// itself once, when it is made. Everything else keeps Twisted's names:
//
//	type Echo struct{ basic.LineReceiver }
//
//	func NewEcho() *Echo {
//		e := &Echo{}
//		e.Handler = e // Twisted calls the subclass's methods; here Handler does
//		return e
//	}
//
//	func (e *Echo) LineReceived(line []byte) { e.SendLine(line) }
//
// An *Echo is the protocol a factory builds. Its callbacks run on the
// reactor goroutine, one at a time, as every protocol's do.
//
// A peer that sends a line or a string over the receiver's MaxLength, or
// bytes that do not parse, has its connection closed (LoseConnection), and
// the receiver's Err says why ([ErrLineLengthExceeded],
// [ErrLengthLimitExceeded], [ErrNetstringParse]); a receiver that is not
// paused holds no more than about MaxLength plus one chunk of the peer's
// bytes, and a length over the limit is refused before its payload is
// read. The bytes handed
// to a handler point into the receiver's buffer and are valid until the
// handler returns, so that a message costs no copy; a handler that keeps
// them copies them.
//
// The package protocoltest tests such protocols without sockets.
package basic
