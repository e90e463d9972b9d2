//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// ListenTLS listens on address as [ListenTCP] does, and makes each
// connection it accepts a TLS server connection with config: Twisted's
// reactor.listenSSL. config must hold a certificate (Certificates,
// GetCertificate or GetConfigForClient), or ListenTLS fails with an error
// matched by [ErrCannotListen] and [ErrTLS]; config must not be changed
// afterwards, as with crypto/tls. Its callbacks (GetCertificate,
// VerifyPeerCertificate, ...) run on a goroutine of the connection's
// handshake, not on the reactor goroutine; [reactor.Reactor.Run] returns
// only once every handshake's goroutine has ended, so a callback that
// never returns holds up the reactor's shutdown.
//
// Each protocol's ConnectionMade runs as soon as the TCP connection is up,
// as in Twisted; what it writes before the handshake ends is held and sent
// encrypted once it has ended. A protocol that is a [HandshakeListener]
// hears that it has; a failed handshake ends the connection, and
// ConnectionLost gets an error matched by [ErrTLS]. The transport is an
// [SSLTransport] and a [TLSTransport]. LoseConnection sends the writes
// still buffered, then TLS's close_notify, then closes the connection once
// the peer has answered with its own close_notify or closed (or after
// [TLSCloseTimeout]); ConnectionLost then gets [ErrConnectionDone]. Called
// before the handshake has ended with nothing written, LoseConnection
// aborts the connection, as Twisted's does. TLS cannot half-close:
// LoseWriteConnection is LoseConnection, and a [HalfCloseable] protocol
// hears the peer's close_notify as the end of the connection. A nil r, f
// or config panics.
func ListenTLS(r *reactor.Reactor, address string, config *tls.Config, f Factory, opts ...Option) (*Port, error) {
	if config == nil {
		panic("protocol: ListenTLS: nil tls.Config")
	}
	if f == nil {
		panic("protocol: ListenTLS: nil Factory")
	}
	if len(config.Certificates) == 0 && config.GetCertificate == nil && config.GetConfigForClient == nil {
		return nil, fmt.Errorf("%w: tls %s: %w: the config holds no certificate", ErrCannotListen, address, ErrTLS)
	}
	return ListenTCP(r, address, f, withTLS(opts, config)...)
}

// ConnectTLS connects to address as [ConnectTCP] does, and makes the
// connection a TLS client connection with config: Twisted's
// reactor.connectSSL. When config has no ServerName and verifies the
// server, the host of address is the name the server's certificate must
// hold, as crypto/tls's Dial does. Everything else is as with [ListenTLS]:
// ConnectionMade runs once the TCP connection is up, writes are held until
// the handshake ends, and a failed handshake (a certificate that does not
// verify, a server that does not speak TLS) reaches ConnectionLost, then
// the factory's ClientConnectionLost, with an error matched by [ErrTLS]. A
// nil r, f or config panics.
func ConnectTLS(r *reactor.Reactor, address string, config *tls.Config, f ClientFactory, opts ...Option) Connector {
	if config == nil {
		panic("protocol: ConnectTLS: nil tls.Config")
	}
	if config.ServerName == "" && !config.InsecureSkipVerify {
		if host, _, err := net.SplitHostPort(address); err == nil {
			host, _ = splitZone(host)
			config = config.Clone()
			config.ServerName = host
		}
	}
	return ConnectTCP(r, address, f, withTLS(opts, config)...)
}

// withTLS adds to opts the option that makes connections start TLS.
func withTLS(opts []Option, config *tls.Config) []Option {
	return append(opts[:len(opts):len(opts)], func(o *options) { o.tls = config })
}

// TLSCloseTimeout bounds how long a TLS connection that has sent its
// close_notify waits for the peer's before it closes anyway. It counts
// from when the close_notify has been written to the socket, after
// everything buffered before it, not from LoseConnection: a slow reader
// gets all of a large write.
const TLSCloseTimeout = 10 * time.Second

// maxEarlyData bounds the received bytes that wait for the handshake's
// goroutine to read them: once they reach it, the connection stops reading
// the socket until the goroutine has read some, or the handshake has
// ended, so that the peer waits on TCP's flow control. A TLS 1.3 client
// has ended its handshake as soon as it has sent its Finished, and may
// send any amount at once, before the server's goroutine has read that
// Finished.
const maxEarlyData = 1 << 20

// errWouldBlock is what memConn's Read returns, once the handshake has
// ended, when it holds no more bytes: crypto/tls keeps a partial record
// on a temporary error and reads on at the next call.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "protocol: no TLS data yet" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// tlsLayer is TLS on a conn: Twisted's TLSMemoryBIOProtocol, inside the
// transport. The handshake runs on a goroutine of its own, over a memConn
// that the reactor goroutine feeds with the ciphertext it reads and drains
// of the ciphertext to send, since crypto/tls's handshake blocks. Once the
// handshake has ended the goroutine is gone, and every read and write of
// the tls.Conn happens on the reactor goroutine, within the callback that
// received or wrote the bytes: memConn's Read then returns errWouldBlock
// when it is empty, instead of waiting.
//
// Everything in it but memConn is the reactor goroutine's.
type tlsLayer struct {
	c   *conn
	tc  *tls.Conn
	mem *memConn

	handshook     bool
	failed        bool   // TLS failed; the connection is closing
	held          []byte // written before the handshake ended
	disconnecting bool   // LoseConnection
	closing       bool   // close_notify sent
	rawEOF        bool
	readQueued    bool
	timer         scheduler.Call
	reason        error // what ConnectionLost gets, in place of the socket's reason
	state         tls.ConnectionState
}

// beginTLS starts TLS on c, as its side's end, with the handshake.
func (c *conn) beginTLS(config *tls.Config) {
	l := &tlsLayer{c: c}
	l.mem = &memConn{r: c.e.r, l: l, local: c.local, remote: c.peer}
	l.mem.cond.L = &l.mem.mu
	if c.client {
		l.tc = tls.Client(l.mem, config)
	} else {
		l.tc = tls.Server(l.mem, config)
	}
	c.tls = l
	c.hc = nil // TLS cannot half-close
	tc, mem, e := l.tc, l.mem, c.e
	e.handshakes++
	go func() {
		err := tc.Handshake()
		mem.handshakeEnded(func() {
			e.handshakeEnded()
			l.handshakeDone(err)
		})
	}()
}

// StartTLS implements [TLSTransport].
func (c *conn) StartTLS(config *tls.Config) error {
	if config == nil {
		panic("protocol: Transport.StartTLS: nil tls.Config")
	}
	switch {
	case c.tls != nil:
		return fmt.Errorf("%w: TLS has already started on this connection", ErrTLS)
	case c.lost || c.disconnecting || c.writeDisconnecting || c.writeDisconnected || c.readDisconnected:
		return fmt.Errorf("%w: StartTLS on a connection that is closing or closed", ErrTLS)
	case c.local == nil:
		return fmt.Errorf("%w: StartTLS on a pipe", ErrTLS)
	case !c.client && len(config.Certificates) == 0 && config.GetCertificate == nil && config.GetConfigForClient == nil:
		return fmt.Errorf("%w: the server's config holds no certificate", ErrTLS)
	}
	c.beginTLS(config)
	return nil
}

// ConnectionState implements [SSLTransport].
func (c *conn) ConnectionState() (tls.ConnectionState, bool) {
	if c.tls == nil || !c.tls.handshook {
		return tls.ConnectionState{}, false
	}
	return c.tls.state, true
}

// handshakeDone runs on the reactor goroutine once the handshake's
// goroutine has ended: from here on the tls.Conn is the reactor
// goroutine's.
func (l *tlsLayer) handshakeDone(err error) {
	c := l.c
	if c.lost {
		return
	}
	l.flushOut() // the last flight, or the alert of a failure
	if err != nil {
		l.fail(err)
		return
	}
	l.handshook = true
	l.state = l.tc.ConnectionState()
	c.setInterest() // a pause asked for during the handshake applies now
	if hl, ok := c.proto.(HandshakeListener); ok {
		c.call(hl.HandshakeCompleted)
	}
	c.call(func() {
		if held := l.held; len(held) > 0 && !c.lost && !l.failed {
			l.held = nil
			l.writeTLS(held)
		}
		if l.disconnecting && !c.lost && !l.failed && c.producer == nil {
			l.shutdown()
		}
	})
	l.readPass() // what came with the handshake's last flight
	if l.rawEOF && !c.lost {
		l.readEOF()
	}
}

// received takes the ciphertext the socket has read.
func (l *tlsLayer) received(data []byte) {
	if l.failed || l.c.lost {
		return
	}
	if l.mem.feed(data) {
		l.c.setInterest() // stop reading until the handshake catches up
		if f := tlsReadStopped.Load(); f != nil {
			(*f)()
		}
		return
	}
	if l.handshook {
		l.readPass()
	}
}

// readPass decrypts what has been received and hands it to the protocol,
// until no whole record is left or the protocol pauses the transport.
func (l *tlsLayer) readPass() {
	c := l.c
	l.readQueued = false
	buf := c.e.buf
	for !c.lost && !l.failed && !c.readPaused {
		n, err := l.tc.Read(buf)
		if n > 0 && !l.disconnecting {
			c.call(func() { c.proto.DataReceived(buf[:n]) })
		}
		if err == nil {
			continue
		}
		l.flushOut() // a reply to a key update, an alert
		switch {
		case err == errWouldBlock:
		case err == io.EOF && !l.mem.sawEOF():
			// crypto/tls read close_notify, not the socket's end.
			l.peerClosed()
		case err == io.EOF && l.closing:
			c.lose(ErrConnectionDone, false)
		case err == io.EOF:
			l.fail(errors.New("the peer closed the connection without close_notify"))
		default:
			l.fail(err)
		}
		return
	}
	l.flushOut()
}

// readEOF handles the socket's end of stream.
func (l *tlsLayer) readEOF() {
	c := l.c
	l.rawEOF = true
	l.mem.setEOF()
	switch {
	case l.failed:
		c.lose(ErrConnectionDone, true)
	case !l.handshook:
		// The handshake's goroutine reads the end too, and ends with
		// its own error (a certificate the peer refused, say) or with
		// success, if what came before the end completed it: wait for
		// it, reading no more.
		c.readDisconnected = true
		c.setInterest()
	default:
		c.readPaused = false // deliver what is left, then the end
		l.readPass()
		// A close_notify among what was left has been answered with
		// ours, and the socket closes once it is written: closing now
		// would drop it.
		if !c.lost && !c.disconnecting {
			c.lose(ErrConnectionDone, true)
		}
	}
}

// scheduleRead decrypts, in a later function, what was left when the
// protocol paused the transport.
func (l *tlsLayer) scheduleRead() {
	if l.readQueued || !l.handshook {
		return
	}
	l.readQueued = true
	l.c.e.r.CallSoon(func() {
		if l.readQueued {
			l.readPass()
		}
	})
}

// resumeRead reads the socket again once the handshake's goroutine has
// read enough of what it was given.
func (l *tlsLayer) resumeRead() { l.c.setInterest() }

// readStopped reports whether the socket is not read because too much
// waits for the handshake's goroutine.
func (l *tlsLayer) readStopped() bool { return !l.handshook && l.mem.stopped() }

// tlsReadStopped, when set, runs on the reactor goroutine each time a TLS
// connection stops reading for its handshake: tests learn so without
// waiting on a clock.
var tlsReadStopped atomic.Pointer[func()]

// peerClosed answers the peer's close_notify with ours and closes.
func (l *tlsLayer) peerClosed() {
	if !l.closing {
		l.closing = true
		_ = l.tc.CloseWrite()
		l.flushOut()
	}
	l.closeSocket()
}

// write is the protocol's Write once TLS has started.
func (l *tlsLayer) write(p []byte) (int, error) {
	c := l.c
	if c.lost || l.failed || l.closing || (l.disconnecting && c.producer == nil) {
		return 0, c.closedError()
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !l.handshook || len(l.held) > 0 {
		// Held writes keep their order with those of
		// HandshakeCompleted, which go after them. As Twisted's TLSMemoryBIOProtocol does, a streaming producer
		// waits for the handshake: its writes cannot go out before.
		l.held = append(l.held, p...)
		if c.producer != nil && c.streaming && !c.producerPaused {
			c.producerPaused = true
			c.call(c.producer.(PushProducer).PauseProducing)
		}
		return len(p), nil
	}
	l.writeTLS(p)
	return len(p), nil
}

// holding reports whether writes are held for the handshake.
func (l *tlsLayer) holding() bool { return !l.handshook && len(l.held) > 0 }

// writeTLS encrypts p into the socket's write buffer, a few records at a
// time, so that the ciphertext waiting to be moved stays small.
func (l *tlsLayer) writeTLS(p []byte) {
	for len(p) > 0 && !l.c.lost && !l.failed {
		n := min(len(p), tlsWriteChunk)
		if _, err := l.tc.Write(p[:n]); err != nil {
			l.fail(err)
			return
		}
		l.flushOut()
		p = p[n:]
	}
}

// tlsWriteChunk is how much plaintext writeTLS encrypts at a time: four
// full records.
const tlsWriteChunk = 64 << 10

// flushOut moves the ciphertext crypto/tls has written to the socket's
// write buffer. It is written outside crypto/tls's calls, so that a
// producer the buffer pauses may write at once without a deadlock.
func (l *tlsLayer) flushOut() {
	out := l.mem.takeOut()
	if len(out) == 0 {
		return
	}
	if !l.c.lost {
		_, _ = l.c.writeRaw(out)
	}
	l.mem.giveBack(out)
}

// loseConnection is the protocol's LoseConnection once TLS has started.
func (l *tlsLayer) loseConnection() {
	c := l.c
	if c.lost || l.disconnecting || l.failed {
		return
	}
	if !l.handshook && len(l.held) == 0 {
		c.AbortConnection()
		return
	}
	l.disconnecting = true
	if l.handshook && c.producer == nil {
		l.shutdown()
	}
}

// producerGone runs when the protocol unregisters its producer.
func (l *tlsLayer) producerGone() {
	if l.disconnecting && l.handshook && !l.closing && !l.failed && !l.c.lost {
		l.shutdown()
	}
}

// shutdown sends close_notify after what is buffered, shuts the socket's
// write side once all of it is written, and waits for the peer's
// close_notify or end of stream.
func (l *tlsLayer) shutdown() {
	c := l.c
	l.closing = true
	if err := l.tc.CloseWrite(); err != nil {
		l.fail(err)
		return
	}
	l.flushOut()
	if c.lost {
		return
	}
	c.readPaused = false
	c.loseWriteConnectionRaw() // the timer starts in writeShut
	c.setInterest()
}

// writeShut runs once the socket's write side is shut down, so once the
// close_notify that shutdown wrote, after everything buffered before it,
// has gone to the kernel: only from then on does the wait for the peer's
// close_notify count against TLSCloseTimeout. Started at LoseConnection,
// it would cut off a peer still reading a large buffer.
func (l *tlsLayer) writeShut() {
	c := l.c
	if !l.closing || l.timer != nil || c.lost {
		return
	}
	l.timer = c.e.r.CallLater(TLSCloseTimeout, func() { c.lose(ErrConnectionDone, false) })
}

// fail ends the connection because TLS failed: what is buffered (an alert,
// say) is written, then the socket closes; ConnectionLost gets err under
// ErrTLS.
func (l *tlsLayer) fail(err error) {
	if l.failed {
		return
	}
	l.failed = true
	if l.reason == nil {
		l.reason = &DisconnectError{Reason: ErrConnectionLost, Err: fmt.Errorf("%w: %w", ErrTLS, err)}
	}
	l.flushOut()
	l.closeSocket()
}

// closeSocket stops the producer, which can write no more, and closes the
// socket once its buffer has been written.
func (l *tlsLayer) closeSocket() {
	c := l.c
	if p := c.producer; p != nil {
		c.producer, c.producerPaused = nil, false
		c.call(p.StopProducing)
	}
	if c.writeDisconnected {
		c.lose(ErrConnectionDone, false)
		return
	}
	c.loseConnectionRaw()
}

// closed runs when the socket has closed: the handshake's goroutine, if
// it still runs, ends.
func (l *tlsLayer) closed() {
	l.mem.close()
	l.readQueued = false
	if l.timer != nil {
		_ = l.timer.Cancel()
	}
}

// memConn is the net.Conn under a tls.Conn: ciphertext in memory, fed and
// drained by the reactor goroutine. Until the handshake ends, the
// handshake's goroutine reads from it (waiting for bytes) and writes to it
// (each first write of a batch asks the reactor to send it); afterwards
// only the reactor goroutine uses it, and Read never waits.
type memConn struct {
	r      *reactor.Reactor
	l      *tlsLayer
	local  net.Addr
	remote net.Addr

	mu      sync.Mutex
	cond    sync.Cond
	in      []byte
	off     int
	out     []byte
	spare   []byte
	posted  bool
	eof     bool
	eofRead bool // Read has returned io.EOF
	isClose bool
	sync    bool // the handshake has ended
	full    bool // the reactor stopped reading, maxEarlyData being unread
}

// feed adds received ciphertext; it reports true if, the handshake going
// on, maxEarlyData bytes are now unread: the reactor must stop reading
// until Read, having taken some, asks it to go on.
func (m *memConn) feed(p []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.off > 0 && m.off == len(m.in) {
		m.in, m.off = m.in[:0], 0
	}
	m.in = append(m.in, p...)
	m.cond.Signal()
	if !m.sync && len(m.in)-m.off >= maxEarlyData {
		m.full = true
	}
	return m.full
}

// stopped reports whether the reactor is to leave the socket unread.
func (m *memConn) stopped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.full
}

func (m *memConn) setEOF() {
	m.mu.Lock()
	m.eof = true
	m.cond.Signal()
	m.mu.Unlock()
}

// sawEOF reports whether crypto/tls has read the socket's end of stream.
func (m *memConn) sawEOF() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.eofRead
}

func (m *memConn) close() {
	m.mu.Lock()
	m.isClose = true
	m.cond.Signal()
	m.mu.Unlock()
}

// handshakeEnded switches to the reactor goroutine's use and hands it f.
func (m *memConn) handshakeEnded(f func()) {
	m.mu.Lock()
	m.sync = true
	m.full = false // handshakeDone sets the interest again
	m.mu.Unlock()
	m.r.CallSoon(f)
}

// takeOut returns the ciphertext written so far; giveBack returns the
// slice for reuse.
func (m *memConn) takeOut() []byte {
	m.mu.Lock()
	out := m.out
	m.out, m.spare = m.spare[:0], nil
	m.posted = false
	m.mu.Unlock()
	return out
}

func (m *memConn) giveBack(b []byte) {
	if cap(b) > 4*maxEarlyData {
		return
	}
	m.mu.Lock()
	if m.spare == nil {
		m.spare = b[:0]
	}
	m.mu.Unlock()
}

// Read implements net.Conn.
func (m *memConn) Read(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.off == len(m.in) {
		switch {
		case m.isClose:
			return 0, net.ErrClosed
		case m.eof:
			m.eofRead = true
			return 0, io.EOF
		case m.sync:
			return 0, errWouldBlock
		}
		m.cond.Wait()
	}
	n := copy(p, m.in[m.off:])
	m.off += n
	if m.full && !m.sync && len(m.in)-m.off < maxEarlyData {
		m.full = false
		m.r.CallSoon(m.l.resumeRead)
	}
	return n, nil
}

// Write implements net.Conn.
func (m *memConn) Write(p []byte) (int, error) {
	m.mu.Lock()
	if m.isClose {
		m.mu.Unlock()
		return 0, net.ErrClosed
	}
	m.out = append(m.out, p...)
	post := !m.sync && !m.posted
	m.posted = m.posted || post
	m.mu.Unlock()
	if post {
		m.r.CallSoon(m.l.flushOut)
	}
	return len(p), nil
}

// Close implements net.Conn.
func (m *memConn) Close() error { m.close(); return nil }

// LocalAddr implements net.Conn.
func (m *memConn) LocalAddr() net.Addr { return m.local }

// RemoteAddr implements net.Conn.
func (m *memConn) RemoteAddr() net.Addr { return m.remote }

// SetDeadline implements net.Conn; the reactor's connections have none.
func (m *memConn) SetDeadline(time.Time) error { return nil }

// SetReadDeadline implements net.Conn.
func (m *memConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline implements net.Conn.
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

var (
	_ TLSTransport = (*conn)(nil)
	_ SSLTransport = (*conn)(nil)
)
