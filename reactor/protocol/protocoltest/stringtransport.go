package protocoltest

import (
	"bytes"
	"net"

	"github.com/twinego/twine/reactor/protocol"
)

// StringTransport is a [protocol.Transport] that keeps what the protocol
// writes in memory and lets the test play the network: Twisted's
// twisted.internet.testing.StringTransport (formerly proto_helpers).
//
// The protocol side is the Transport contract: Write and WriteSequence
// record the bytes (and drop them, returning an error matched by
// [protocol.ErrConnectionClosed], once LoseConnection, AbortConnection or
// LoseWriteConnection has been called or the connection has ended);
// LoseConnection and AbortConnection mark the transport as disconnecting;
// a producer registered on it is recorded; PauseProducing, ResumeProducing
// and StopProducing (which aborts) set its [ProducerState].
//
// The test side feeds bytes ([StringTransport.Feed]), the peer's end of
// stream ([StringTransport.FeedEOF]) and the end of the connection
// ([StringTransport.Disconnect]), and reads what was written
// ([StringTransport.Value]). The connection ends only when the test says
// so, as in Twisted, unless the transport was made with
// [WithImmediateClose]; the write side shuts at once on
// LoseWriteConnection, since a StringTransport has nothing left to send.
//
// Protocol callbacks never run inside one another: a close that the
// protocol asks for during a callback that came through the transport
// (Connect, Feed, FeedEOF, Disconnect) is delivered after that callback
// returns, and ConnectionLost comes once. Bytes handed to DataReceived are
// overwritten once it returns, as a real transport reuses its read buffer,
// so that a protocol that keeps them without copying is caught.
//
// A StringTransport is not safe for concurrent use: use it from the test's
// goroutine (or the loop's), as a protocol uses its transport.
type StringTransport struct {
	conn
	written   bytes.Buffer
	immediate bool
}

// Option configures a [StringTransport].
type Option func(*StringTransport)

// WithLocalAddr sets the address LocalAddr returns (Twisted's hostAddress).
// The default is 192.0.2.1:12345 over TCP.
func WithLocalAddr(a net.Addr) Option { return func(t *StringTransport) { t.local = a } }

// WithRemoteAddr sets the address RemoteAddr returns (Twisted's
// peerAddress). The default is 198.51.100.1:54321 over TCP.
func WithRemoteAddr(a net.Addr) Option { return func(t *StringTransport) { t.remote = a } }

// WithImmediateClose makes LoseConnection and AbortConnection end the
// connection themselves, as Twisted's StringTransportWithDisconnection
// does: the protocol hears ConnectionLost (with [protocol.ErrConnectionDone]
// or [protocol.ErrConnectionAborted]) as soon as no callback of it is
// running; after LoseConnection, once a registered producer has also been
// unregistered.
func WithImmediateClose() Option { return func(t *StringTransport) { t.immediate = true } }

// NewStringTransport returns a transport with no protocol yet: give it one
// with [StringTransport.Connect].
func NewStringTransport(opts ...Option) *StringTransport {
	t := &StringTransport{}
	t.kind = "StringTransport"
	t.self = t
	t.local = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 12345}
	t.remote = &net.TCPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 54321}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Connect gives the transport to p and calls p.ConnectionMade: Twisted's
// makeConnection. It panics if p is nil or the transport already has a
// protocol.
func (t *StringTransport) Connect(p protocol.Protocol) { t.connect(p, "Connect") }

// Protocol returns the protocol given to Connect, or nil.
func (t *StringTransport) Protocol() protocol.Protocol { return t.proto }

// Write records p, or drops it once the transport is closing.
func (t *StringTransport) Write(p []byte) (int, error) {
	if t.disconnecting || t.writeClosing {
		return 0, protocol.ErrConnectionClosed
	}
	return t.written.Write(p)
}

// WriteSequence records each slice of ps in order, as Write of their
// concatenation would.
func (t *StringTransport) WriteSequence(ps [][]byte) (int, error) {
	if t.disconnecting || t.writeClosing {
		return 0, protocol.ErrConnectionClosed
	}
	n := 0
	for _, p := range ps {
		m, _ := t.written.Write(p)
		n += m
	}
	return n, nil
}

// LoseConnection marks the transport as disconnecting. The connection ends
// when the test calls Disconnect, or, with WithImmediateClose, at once (once
// a registered producer has been unregistered).
func (t *StringTransport) LoseConnection() {
	if t.disconnecting {
		return
	}
	t.disconnecting = true
	if t.immediate && t.producer == nil {
		t.loseConn(protocol.ErrConnectionDone)
	}
}

// AbortConnection marks the transport as disconnecting and aborted. The
// connection ends with [protocol.ErrConnectionAborted] when the test calls
// Disconnect(nil), or, with WithImmediateClose, at once.
func (t *StringTransport) AbortConnection() {
	if t.aborted || t.lost {
		return
	}
	t.aborted = true
	t.disconnecting = true
	if t.immediate {
		t.loseConn(protocol.ErrConnectionAborted)
	}
}

// LoseWriteConnection shuts down the write side at once, since nothing
// waits to be sent: a [protocol.HalfCloseable] protocol hears
// WriteConnectionLost (after the callback it calls from returns). Later
// writes are dropped; reading goes on.
func (t *StringTransport) LoseWriteConnection() {
	if t.writeClosing || t.disconnecting {
		return
	}
	t.writeClosing = true
	t.writeClosed = true
	if h, ok := t.halfCloseable(); ok {
		t.run(func() {
			if !t.lost {
				h.WriteConnectionLost()
			}
		})
	}
}

// LocalAddr returns this end's address.
func (t *StringTransport) LocalAddr() net.Addr { return t.local }

// RemoteAddr returns the peer's address.
func (t *StringTransport) RemoteAddr() net.Addr { return t.remote }

// RegisterProducer records p. It panics if a producer is registered
// already, or if p lacks the methods streaming calls for; once the
// connection has ended, p is told StopProducing at once. Unlike a real
// transport, a StringTransport never pauses nor asks p for data: the test
// drives p (Twisted's StringTransport does the same).
func (t *StringTransport) RegisterProducer(p protocol.Producer, streaming bool) {
	t.register(p, streaming)
}

// UnregisterProducer forgets the producer, without stopping it. With
// WithImmediateClose, a LoseConnection that waited for it ends the
// connection.
func (t *StringTransport) UnregisterProducer() {
	t.producer = nil
	t.producerPaused = false
	if t.immediate && t.disconnecting && !t.aborted {
		t.loseConn(protocol.ErrConnectionDone)
	}
}

// PauseProducing records that the protocol asked the transport to stop
// reading. Feed delivers all the same: the test plays the network.
func (t *StringTransport) PauseProducing() {
	if t.readState != Stopped {
		t.readState = Paused
	}
}

// ResumeProducing records that the protocol asked the transport to read
// again.
func (t *StringTransport) ResumeProducing() {
	if t.readState != Stopped {
		t.readState = Producing
	}
}

// StopProducing records the stop and aborts the connection, as the
// Transport contract says.
func (t *StringTransport) StopProducing() {
	t.readState = Stopped
	t.AbortConnection()
}

// Disconnecting reports whether LoseConnection or AbortConnection has been
// called or the connection has ended: Twisted's disconnecting.
func (t *StringTransport) Disconnecting() bool { return t.disconnecting }

// Aborted reports whether AbortConnection (or StopProducing) has been
// called.
func (t *StringTransport) Aborted() bool { return t.aborted }

// WriteClosed reports whether LoseWriteConnection has been called.
func (t *StringTransport) WriteClosed() bool { return t.writeClosing }

// Connected reports whether the protocol is connected: true from Connect
// until ConnectionLost has been called.
func (t *StringTransport) Connected() bool { return t.connected }

// Producer returns the registered producer, or nil.
func (t *StringTransport) Producer() protocol.Producer { return t.producer }

// Streaming reports whether the registered producer was registered as
// streaming.
func (t *StringTransport) Streaming() bool { return t.producer != nil && t.streaming }

// ProducerState returns the transport's state as a producer of what it
// reads.
func (t *StringTransport) ProducerState() ProducerState { return t.readState }

// Value returns a copy of the bytes written since the transport was made or
// last cleared.
func (t *StringTransport) Value() []byte { return bytes.Clone(t.written.Bytes()) }

// String returns the bytes written since the transport was made or last
// cleared, as a string.
func (t *StringTransport) String() string { return t.written.String() }

// Clear forgets the bytes written so far.
func (t *StringTransport) Clear() { t.written.Reset() }

// Feed delivers data to the protocol's DataReceived, as if the peer had
// sent it, in one chunk. It does nothing once the transport is
// disconnecting, since a closing transport reads no more. It panics if the
// transport has no protocol.
func (t *StringTransport) Feed(data []byte) {
	t.needProtocol("Feed")
	if t.disconnecting {
		return
	}
	t.deliverData(data)
}

// FeedString is Feed of a string.
func (t *StringTransport) FeedString(s string) { t.Feed([]byte(s)) }

// FeedEOF delivers the peer's end of stream: a [protocol.HalfCloseable]
// protocol hears ReadConnectionLost, once; any other protocol loses the
// connection with [protocol.ErrConnectionDone].
func (t *StringTransport) FeedEOF() {
	t.needProtocol("FeedEOF")
	if t.lost || t.readClosed {
		return
	}
	h, ok := t.halfCloseable()
	if !ok {
		t.loseConn(protocol.ErrConnectionDone)
		return
	}
	t.readClosed = true
	t.run(func() {
		if !t.lost {
			h.ReadConnectionLost()
		}
	})
}

// Disconnect ends the connection: a registered producer is stopped and the
// protocol hears ConnectionLost with reason, or, if reason is nil, with the
// reason the transport's state implies: [protocol.ErrConnectionAborted]
// after AbortConnection, [protocol.ErrConnectionDone] otherwise. It does
// nothing once the connection has ended.
func (t *StringTransport) Disconnect(reason error) {
	t.needProtocol("Disconnect")
	if reason == nil {
		reason = protocol.ErrConnectionDone
		if t.aborted {
			reason = protocol.ErrConnectionAborted
		}
	}
	t.loseConn(reason)
}

func (t *StringTransport) needProtocol(op string) {
	if t.proto == nil {
		panic("protocoltest: StringTransport." + op + ": no protocol; call Connect first")
	}
}

var _ protocol.DisconnectingTransport = (*StringTransport)(nil)
