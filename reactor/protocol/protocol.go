package protocol

// Protocol is the code that speaks on one connection: Twisted's IProtocol.
// A transport calls its methods on the reactor goroutine, one at a time:
// ConnectionMade once, when the connection is up; DataReceived for each
// chunk of bytes as it arrives; ConnectionLost once, last, with the reason.
// After ConnectionLost no method is called again.
//
// Embed [Base] to write only the methods a protocol needs.
type Protocol interface {
	// ConnectionMade is called once the connection is up, with the
	// transport to write to: Twisted's makeConnection and connectionMade
	// in one. The protocol keeps t (Base does) to write and to close.
	ConnectionMade(t Transport)

	// DataReceived is called with the bytes that have arrived. The chunks
	// follow no message boundaries: a message may come in pieces, and
	// several in one chunk. data is valid only until DataReceived returns:
	// the transport reuses its buffer, so a protocol that keeps bytes for
	// later copies them.
	DataReceived(data []byte)

	// ConnectionLost is called once, when the connection has ended, with
	// the reason: an error that errors.Is matches against
	// [ErrConnectionDone] for a clean close, [ErrConnectionLost] (and the
	// cause under it) for a reset or an error, [ErrConnectionAborted] after
	// AbortConnection. It is never called from inside another of the
	// protocol's own methods: a close asked for during DataReceived is
	// reported after it returns.
	ConnectionLost(reason error)
}

// HalfCloseable is implemented by a protocol that wants to hear of
// half-closes rather than have them end the connection: Twisted's
// IHalfCloseableProtocol. On a transport that can half-close (TCP, Unix
// sockets), the peer's end of stream calls ReadConnectionLost instead of
// ConnectionLost; the protocol may go on writing and calls LoseConnection
// when it is done. After [Transport.LoseWriteConnection] has flushed the
// buffer and shut down the write side, WriteConnectionLost is called.
type HalfCloseable interface {
	ReadConnectionLost()
	WriteConnectionLost()
}

// Base implements [Protocol] with methods that keep the transport and do
// nothing else: Twisted's Protocol. Embed it in a protocol and write only the
// methods that matter; a protocol that writes its own ConnectionMade calls
// Base.ConnectionMade first, as a Twisted protocol would call the base
// class's makeConnection, so that Transport is set.
//
//	type Echo struct{ protocol.Base }
//
//	func (e *Echo) DataReceived(data []byte) { e.Transport.Write(data) }
type Base struct {
	// Transport is the connection's transport, from ConnectionMade on. It
	// stays set after ConnectionLost, where writing to it does nothing.
	Transport Transport

	// Connected is true between ConnectionMade and ConnectionLost.
	Connected bool
}

// ConnectionMade keeps t in b.Transport and marks b connected.
func (b *Base) ConnectionMade(t Transport) {
	b.Transport = t
	b.Connected = true
}

// DataReceived does nothing.
func (b *Base) DataReceived(data []byte) {}

// ConnectionLost marks b disconnected.
func (b *Base) ConnectionLost(reason error) { b.Connected = false }

var _ Protocol = (*Base)(nil)
