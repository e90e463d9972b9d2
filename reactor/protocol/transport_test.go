//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bytes"
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/basic"
)

var tcp4 = families[0]

// Twisted's LargeBufferTests and LoseConnection's contract: what was
// written before LoseConnection is all sent, then the close is clean.
func TestLoseConnectionAfterPendingWrites(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			h := newHarness(t)
			server, client := newRec(), newRec()
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB: far more than the kernel takes at once
			server.onMade = func(p *rec) {
				n, err := p.Transport.Write(big)
				assert.Equal(t, len(big), n)
				assert.NoError(t, err)
				p.Transport.Write([]byte("end"))
				p.Transport.LoseConnection()
				n, err = p.Transport.Write([]byte("dropped"))
				assert.Zero(t, n, "a write after LoseConnection is dropped")
				assert.ErrorIs(t, err, protocol.ErrConnectionClosed)
			}
			h.pair(fam, server, client)
			assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
			got := on(h, func() []byte { return client.all.Bytes() })
			assert.Equal(t, len(big)+3, len(got))
			assert.True(t, bytes.Equal(append(big, "end"...), got), "the bytes arrived in order")
			assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
		})
	}
}

// ConnectionLost is never delivered inside another of the protocol's own
// methods: a LoseConnection in DataReceived is reported after it returns.
func TestConnectionLostIsNotReentrant(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	var order []string
	server.onData = func(p *rec, b []byte) {
		order = append(order, "data in")
		p.Transport.LoseConnection()
		order = append(order, "data out")
	}
	server.onLost = func(*rec, error) { order = append(order, "lost") }
	h.pair(tcp4, server, client)
	h.do(func() { client.Transport.Write([]byte("x")) })
	recv(t, server.lost, "the server's ConnectionLost")
	assert.Equal(t, []string{"data in", "data out", "lost"}, on(h, func() []string { return order }))
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
}

// Twisted's AbortConnectionMixin: AbortConnection drops the buffer, the
// aborting side hears ConnectionAborted once, however often it aborts or
// loses the connection after, and the peer sees the connection lost.
func TestAbortConnection(t *testing.T) {
	for _, then := range []string{"abort", "lose"} {
		t.Run("then "+then, func(t *testing.T) {
			h := newHarness(t)
			server, client := newRec(), newRec()
			client.onMade = func(p *rec) {
				p.Transport.Write(bytes.Repeat([]byte("x"), 8<<20)) // more than the kernel buffers take
				p.Transport.AbortConnection()
				if then == "abort" {
					p.Transport.AbortConnection()
				} else {
					p.Transport.LoseConnection()
				}
				n, err := p.Transport.Write([]byte("late"))
				assert.Zero(t, n)
				assert.ErrorIs(t, err, protocol.ErrConnectionClosed)
			}
			h.pair(tcp4, server, client)
			reason := recv(t, client.lost, "the client's ConnectionLost")
			assert.ErrorIs(t, reason, protocol.ErrConnectionAborted)
			assert.ErrorIs(t, reason, protocol.ErrConnectionLost)
			reason = recv(t, server.lost, "the server's ConnectionLost")
			assert.ErrorIs(t, reason, protocol.ErrConnectionClosed)
			assert.Less(t, on(h, func() int { return server.all.Len() }), 8<<20, "the buffer was dropped")
			h.do(func() {}) // a pass for a second ConnectionLost, if one were due
			none(t, client.lost, "second ConnectionLost")
		})
	}
}

// The peer's reset reaches ConnectionLost as ErrConnectionLost with the
// cause under it.
func TestResetIsConnectionLost(t *testing.T) {
	h := newHarness(t)
	server := newRec()
	port := h.listen(tcp4, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	raw, err := net.Dial("tcp", port.Addr().String())
	require.NoError(t, err)
	recv(t, server.made, "the server's connection")
	require.NoError(t, raw.(*net.TCPConn).SetLinger(0))
	require.NoError(t, raw.Close()) // an RST
	reason := recv(t, server.lost, "the server's ConnectionLost")
	assert.ErrorIs(t, reason, protocol.ErrConnectionLost)
	assert.NotErrorIs(t, reason, protocol.ErrConnectionDone)
	var de *protocol.DisconnectError
	assert.ErrorAs(t, reason, &de)
}

// A half-closeable protocol: Twisted's MyHCProtocol.
type halfRec struct {
	*rec
	readLost, writeLost chan struct{}
	onReadLost          func(p *halfRec)
}

func newHalfRec() *halfRec {
	return &halfRec{rec: newRec(), readLost: make(chan struct{}, 1), writeLost: make(chan struct{}, 1)}
}

func (p *halfRec) ReadConnectionLost() {
	p.readLost <- struct{}{}
	if p.onReadLost != nil {
		p.onReadLost(p)
	}
}
func (p *halfRec) WriteConnectionLost() { p.writeLost <- struct{}{} }

// Twisted's HalfCloseTests: the client shuts its write side down after
// its buffer; it hears WriteConnectionLost, later writes are dropped, the
// server hears ReadConnectionLost with the data and can still answer; the
// connection ends when both close.
func TestHalfClose(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			h := newHarness(t)
			server, client := newHalfRec(), newHalfRec()
			port := h.listen(fam, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
			h.connect(port, newClientFactory(func() protocol.Protocol { return client }))
			recv(t, server.made, "the server's connection")
			recv(t, client.made, "the client's connection")
			server.onReadLost = func(p *halfRec) {
				assert.Equal(t, "hello", p.all.String(), "the data came before the end of stream")
				p.Transport.Write([]byte("answer"))
				p.Transport.LoseConnection()
			}
			h.do(func() {
				client.Transport.Write([]byte("hello"))
				client.Transport.LoseWriteConnection()
				n, err := client.Transport.Write([]byte("fooled you"))
				assert.Zero(t, n)
				assert.ErrorIs(t, err, protocol.ErrConnectionClosed)
			})
			recv(t, client.writeLost, "the client's WriteConnectionLost")
			recv(t, server.readLost, "the server's ReadConnectionLost")
			assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
			// The client reads the answer, then the end of stream: a
			// half-closeable protocol hears it as ReadConnectionLost and
			// closes itself.
			recv(t, client.readLost, "the client's ReadConnectionLost")
			assert.Equal(t, "answer", on(h, func() string { return client.all.String() }))
			none(t, client.lost, "ConnectionLost before LoseConnection")
			h.do(func() { client.Transport.LoseConnection() })
			assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
		})
	}
}

// Twisted's testNoNotification: a protocol that does not hear half-closes
// sees the peer's end of stream as a clean close.
func TestPeerEOFClosesAProtocolThatIsNotHalfCloseable(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	h.pair(tcp4, server, client)
	h.do(func() {
		client.Transport.Write([]byte("hello"))
		client.Transport.LoseWriteConnection()
	})
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
	assert.Equal(t, "hello", on(h, func() string { return server.all.String() }))
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
}

// Twisted's test_readNotificationRaises: a half-close callback that panics
// is logged and the connection is closed completely.
func TestHalfCloseCallbackPanicAbortsTheConnection(t *testing.T) {
	h := newHarness(t)
	server, client := newHalfRec(), newHalfRec()
	server.onReadLost = func(*halfRec) { panic("buggy") }
	port := h.listen(tcp4, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	h.connect(port, newClientFactory(func() protocol.Protocol { return client }))
	recv(t, client.made, "the client's connection")
	h.do(func() { client.Transport.LoseWriteConnection() })
	reason := recv(t, server.lost, "the server's ConnectionLost")
	assert.ErrorIs(t, reason, protocol.ErrConnectionAborted)
	var pe *deferred.PanicError
	require.ErrorAs(t, reason, &pe)
	assert.Equal(t, "buggy", pe.Value)
	assert.Contains(t, h.log.messages(), "protocol: protocol callback panicked; aborting its connection")
}

// A protocol callback that panics: that connection is aborted and the
// panic logged; the reactor and the other connections go on.
func TestPanicInDataReceivedAbortsOnlyThatConnection(t *testing.T) {
	h := newHarness(t)
	bad, good := newRec(), newRec()
	bad.onData = func(*rec, []byte) { panic(errors.New("protocol bug")) }
	good.onData = func(p *rec, b []byte) { p.Transport.Write(b) }
	servers := make(chan *rec, 2)
	servers <- bad
	servers <- good
	port := h.listen(tcp4, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return <-servers }))
	c1, c2 := newRec(), newRec()
	h.connect(port, newClientFactory(func() protocol.Protocol { return c1 }))
	recv(t, bad.made, "the first server connection")
	h.connect(port, newClientFactory(func() protocol.Protocol { return c2 }))
	recv(t, good.made, "the second server connection")
	recv(t, c2.made, "the second client")

	h.do(func() { c1.Transport.Write([]byte("boom")) })
	reason := recv(t, bad.lost, "the panicking protocol's ConnectionLost")
	assert.ErrorIs(t, reason, protocol.ErrConnectionAborted)
	var pe *deferred.PanicError
	require.ErrorAs(t, reason, &pe)
	assert.ErrorIs(t, recv(t, c1.lost, "its peer's ConnectionLost"), protocol.ErrConnectionClosed)
	assert.Contains(t, h.log.messages(), "protocol: protocol callback panicked; aborting its connection")

	h.do(func() { c2.Transport.Write([]byte("still here")) })
	assert.Equal(t, "still here", string(readAll(t, h, c2, 10)))
	none(t, good.lost, "ConnectionLost on the other connection")
}

// Twisted's test_buildProtocolReturnsNone: a factory that builds no
// protocol has the connection closed at once.
func TestFactoryReturningNilClosesTheConnection(t *testing.T) {
	h := newHarness(t)
	port := h.listen(tcp4, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return nil }))
	client := newRec()
	h.connect(port, newClientFactory(func() protocol.Protocol { return client }))
	recv(t, client.made, "the client's connection")
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionClosed)
}

// Twisted's test_stopStartReading and the transport as a push producer:
// PauseProducing stops DataReceived until ResumeProducing.
func TestPauseProducingStopsReading(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	h.pair(tcp4, server, client)
	h.do(func() { server.Transport.PauseProducing() })
	h.do(func() { client.Transport.Write([]byte("held")) })
	// The client's write has gone through the kernel when the client's
	// side has written it; a few reactor passes later the paused server
	// still has read nothing.
	for range 20 {
		h.do(func() {})
	}
	assert.Zero(t, on(h, func() int { return server.all.Len() }))
	h.do(func() { server.Transport.ResumeProducing() })
	assert.Equal(t, "held", string(readAll(t, h, server, 4)))
}

// Every transport twine provides tells whether it is closing
// (DisconnectingTransport): from LoseConnection or AbortConnection on, and
// once the connection has ended; a half-close does not count.
func TestDisconnecting(t *testing.T) {
	for _, how := range []string{"lose", "abort", "peer", "half"} {
		t.Run(how, func(t *testing.T) {
			h := newHarness(t)
			server, client := newRec(), newRec()
			h.pair(tcp4, server, client)
			d, ok := on(h, func() protocol.Transport { return client.Transport }).(protocol.DisconnectingTransport)
			require.True(t, ok, "the transport is a DisconnectingTransport")
			dt := func() protocol.DisconnectingTransport { return d }
			assert.False(t, on(h, func() bool { return dt().Disconnecting() }))
			switch how {
			case "lose":
				assert.True(t, on(h, func() bool { client.Transport.LoseConnection(); return dt().Disconnecting() }))
			case "abort":
				assert.True(t, on(h, func() bool { client.Transport.AbortConnection(); return dt().Disconnecting() }))
			case "peer":
				h.do(func() { server.Transport.LoseConnection() })
				recv(t, client.lost, "the client's ConnectionLost")
				assert.True(t, on(h, func() bool { return dt().Disconnecting() }))
			case "half":
				assert.False(t, on(h, func() bool { client.Transport.LoseWriteConnection(); return dt().Disconnecting() }))
			}
		})
	}
}

// lineEcho is basic.LineReceiver answering each line, over a real socket.
type lineEcho struct {
	basic.LineReceiver
	lines chan string
}

func newLineEcho() *lineEcho {
	l := &lineEcho{lines: make(chan string, 16)}
	l.Handler = l
	return l
}

func (l *lineEcho) LineReceived(line []byte) {
	l.lines <- string(line)
	_ = l.SendLine(append([]byte("echo: "), line...))
	if string(line) == "quit" {
		l.Transport.LoseConnection()
	}
}

// The framing protocols run over the socket transports: lines split
// across writes are reassembled, a close asked for in the middle of a
// chunk stops the lines after it (the transport is a
// DisconnectingTransport), and the answers arrive.
func TestLineReceiverOverTCP(t *testing.T) {
	h := newHarness(t)
	server := newLineEcho()
	port := h.listen(tcp4, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	client := newRec()
	client.onMade = func(p *rec) {
		p.Transport.Write([]byte("hel"))
		p.Transport.Write([]byte("lo\r\nwor"))
	}
	h.connect(port, newClientFactory(func() protocol.Protocol { return client }))
	assert.Equal(t, "hello", recv(t, server.lines, "the first line"))
	h.do(func() { client.Transport.Write([]byte("ld\r\nquit\r\nunheard\r\n")) })
	assert.Equal(t, "world", recv(t, server.lines, "the second line"))
	assert.Equal(t, "quit", recv(t, server.lines, "the third line"))
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
	none(t, server.lines, "a line after the close")
	assert.Equal(t, "echo: hello\r\necho: world\r\necho: quit\r\n", on(h, func() string { return client.all.String() }))
}
