//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor/protocol"
)

// testCert is a self-signed ECDSA P-256 certificate for localhost,
// 127.0.0.1 and ::1, made once for the package's tests.
var testCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "twine test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
})

func serverTLS() *tls.Config {
	cert, _ := testCert()
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

func clientTLS() *tls.Config {
	_, pool := testCert()
	return &tls.Config{RootCAs: pool}
}

// listenTLS listens with TLS on loopback (IPv4 unless addr says).
func (h *harness) listenTLS(addr string, config *tls.Config, f protocol.Factory, opts ...protocol.Option) *protocol.Port {
	h.t.Helper()
	type res struct {
		p   *protocol.Port
		err error
	}
	r := on(h, func() res {
		p, err := protocol.ListenTLS(h.r, addr, config, f, append(h.opts, opts...)...)
		return res{p, err}
	})
	require.NoError(h.t, r.err)
	return r.p
}

// pairTLS connects client to server over TLS and waits for both
// ConnectionMade calls (the TCP connection, not the handshake).
func (h *harness) pairTLS(addr string, server, client recorder, cc *tls.Config, opts ...protocol.Option) (*protocol.Port, *clientFactory) {
	h.t.Helper()
	port := h.listenTLS(addr, serverTLS(), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }), opts...)
	f := newClientFactory(func() protocol.Protocol { return client })
	h.do(func() { protocol.ConnectTLS(h.r, port.Addr().String(), cc, f, append(h.opts, opts...)...) })
	recv(h.t, server.record().made, "the server's connection")
	recv(h.t, client.record().made, "the client's connection")
	return port, f
}

// recorder is a rec, or a protocol that embeds one.
type recorder interface {
	protocol.Protocol
	record() *rec
}

func (p *rec) record() *rec { return p }

// hsRec is a rec that records HandshakeCompleted and the state then.
type hsRec struct {
	*rec
	hs    chan tls.ConnectionState
	early []byte // what DataReceived got before HandshakeCompleted
	done  bool
}

func newHSRec() *hsRec { return &hsRec{rec: newRec(), hs: make(chan tls.ConnectionState, 1)} }

func (p *hsRec) HandshakeCompleted() {
	st, ok := p.Transport.(protocol.SSLTransport).ConnectionState()
	if !ok {
		panic("no ConnectionState after HandshakeCompleted")
	}
	p.done = true
	p.hs <- st
}

func (p *hsRec) DataReceived(b []byte) {
	if !p.done {
		p.early = append(p.early, b...)
	}
	p.rec.DataReceived(b)
}

// An echo over TLS on IPv4 and IPv6: what the client writes in
// ConnectionMade, before the handshake, is held and arrives; both ends
// hear HandshakeCompleted first and see the peer's certificate; the
// client's LoseConnection ends both ends cleanly through close_notify.
func TestTLSEcho(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			h := newHarness(t)
			server, client := newHSRec(), newHSRec()
			server.onData = func(p *rec, b []byte) { p.Transport.Write(b) }
			msg := bytes.Repeat([]byte("twine over tls "), 5000)
			var before bool
			client.onMade = func(p *rec) {
				_, before = p.Transport.(protocol.SSLTransport).ConnectionState()
				n, err := p.Transport.Write(msg)
				require.NoError(t, err)
				require.Equal(t, len(msg), n)
			}
			_, f := h.pairTLS(addr, server, client, clientTLS())
			assert.False(t, on(h, func() bool { return before }), "ConnectionState before the handshake")
			cs := recv(t, client.hs, "the client's handshake")
			ss := recv(t, server.hs, "the server's handshake")
			require.NotEmpty(t, cs.PeerCertificates)
			assert.Equal(t, "twine test", cs.PeerCertificates[0].Subject.CommonName)
			assert.Equal(t, cs.Version, ss.Version)
			assert.Equal(t, msg, readAll(t, h, client.rec, len(msg)))
			assert.Empty(t, on(h, func() []byte { return server.early }), "data before HandshakeCompleted")
			h.do(func() { client.Transport.LoseConnection() })
			assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
			assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
			assert.ErrorIs(t, recv(t, f.lost, "ClientConnectionLost"), protocol.ErrConnectionDone)
		})
	}
}

// A twine TLS server and crypto/tls's own client: the data crosses both
// ways, and the server's LoseConnection sends close_notify: the client's
// Read sees io.EOF right after the last record, an alert record (TLS 1.2
// shows the record type), before the socket closes.
func TestTLSServerWithGoClient(t *testing.T) {
	h := newHarness(t)
	server := newRec()
	server.onData = func(p *rec, b []byte) {
		p.Transport.Write(bytes.ToUpper(b))
		if bytes.Contains(b, []byte("bye")) {
			p.Transport.LoseConnection()
		}
	}
	port := h.listenTLS("127.0.0.1:0", serverTLS(), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	raw, err := net.Dial("tcp", port.Addr().String())
	require.NoError(t, err)
	defer raw.Close()
	rc := &recordingConn{Conn: raw}
	cc := clientTLS()
	cc.ServerName = "localhost"
	cc.MaxVersion = tls.VersionTLS12
	c := tls.Client(rc, cc)
	require.NoError(t, c.SetDeadline(time.Now().Add(waitLimit)))
	_, err = c.Write([]byte("hello, bye"))
	require.NoError(t, err)
	got, err := io.ReadAll(c)
	require.NoError(t, err, "a clean close_notify")
	assert.Equal(t, "HELLO, BYE", string(got))
	assert.Equal(t, byte(21), rc.lastRecordType(), "the last record is an alert: close_notify")
	require.NoError(t, c.Close())
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
}

// recordingConn keeps every byte read, to look at the TLS records.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	got []byte
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.got = append(c.got, p[:n]...)
	c.mu.Unlock()
	return n, err
}

func (c *recordingConn) lastRecordType() byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var typ byte
	for b := c.got; len(b) >= 5; {
		n := int(b[3])<<8 | int(b[4])
		typ = b[0]
		if len(b) < 5+n {
			return 0
		}
		b = b[5+n:]
	}
	return typ
}

// A twine TLS client and crypto/tls's own server.
func TestTLSClientWithGoServer(t *testing.T) {
	h := newHarness(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS())
	require.NoError(t, err)
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(waitLimit))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err == nil {
			_, err = c.Write([]byte(strings.ToUpper(line)))
		}
		done <- err
	}()
	client := newRec()
	client.onMade = func(p *rec) { p.Transport.Write([]byte("ping\n")) }
	f := newClientFactory(func() protocol.Protocol { return client })
	h.do(func() { protocol.ConnectTLS(h.r, ln.Addr().String(), clientTLS(), f, h.opts...) })
	assert.Equal(t, "PING\n", string(readAll(t, h, client, 5)))
	require.NoError(t, recv(t, done, "the Go server"))
	// The Go server's Close sends close_notify: a clean close.
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
}

// Twisted's test_handshakeFailure and the verification tests: a
// certificate that does not verify, or a host name it does not hold,
// fails the connection with an error under ErrTLS that keeps crypto/tls's
// own, on both ends.
func TestTLSHandshakeFailures(t *testing.T) {
	for _, tt := range []struct {
		name   string
		config func() *tls.Config
		check  func(t *testing.T, err error)
	}{
		{"unknown authority", func() *tls.Config { return &tls.Config{} }, func(t *testing.T, err error) {
			var ve *tls.CertificateVerificationError
			assert.ErrorAs(t, err, &ve)
		}},
		{"wrong host", func() *tls.Config { c := clientTLS(); c.ServerName = "example.com"; return c }, func(t *testing.T, err error) {
			var he x509.HostnameError
			assert.ErrorAs(t, err, &he)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			server, client := newRec(), newRec()
			client.onMade = func(p *rec) { p.Transport.Write([]byte("never sent")) }
			_, f := h.pairTLS("127.0.0.1:0", server, client, tt.config())
			err := recv(t, client.lost, "the client's ConnectionLost")
			assert.ErrorIs(t, err, protocol.ErrTLS)
			assert.ErrorIs(t, err, protocol.ErrConnectionLost)
			tt.check(t, err)
			assert.ErrorIs(t, recv(t, f.lost, "ClientConnectionLost"), protocol.ErrTLS)
			serr := recv(t, server.lost, "the server's ConnectionLost")
			assert.ErrorIs(t, serr, protocol.ErrTLS)
			assert.Empty(t, on(h, func() []byte { return server.all.Bytes() }))
		})
	}
}

// A client that speaks plain text to a TLS port: the server's protocol
// hears ErrTLS and the client sees the connection close, with no byte of
// application data either way.
func TestTLSPlainTextClient(t *testing.T) {
	h := newHarness(t)
	server := newRec()
	port := h.listenTLS("127.0.0.1:0", serverTLS(), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	c, err := net.Dial("tcp", port.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	require.NoError(t, err)
	reason := recv(t, server.lost, "the server's ConnectionLost")
	assert.ErrorIs(t, reason, protocol.ErrTLS)
	var rh tls.RecordHeaderError
	assert.ErrorAs(t, reason, &rh)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(waitLimit)))
	rest, err := io.ReadAll(c)
	if err != nil {
		assert.ErrorIs(t, err, syscall.ECONNRESET, "closed or reset")
	}
	assert.NotContains(t, string(rest), "GET")
}

// A TLS client against a plain TCP server that answers in clear: the
// handshake fails under ErrTLS.
func TestTLSClientToPlainServer(t *testing.T) {
	h := newHarness(t)
	server := newRec()
	server.onMade = func(p *rec) { p.Transport.Write([]byte("220 plain text server ready\r\n")) }
	port := h.listen(families[0], protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	client := newRec()
	f := newClientFactory(func() protocol.Protocol { return client })
	h.do(func() { protocol.ConnectTLS(h.r, port.Addr().String(), clientTLS(), f, h.opts...) })
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrTLS)
	assert.Empty(t, on(h, func() []byte { return client.all.Bytes() }))
}

// Twisted's test_disorderlyShutdown: a peer that closes the socket without
// close_notify ends the connection as lost, not done.
func TestTLSTruncatedIsLost(t *testing.T) {
	h := newHarness(t)
	client := newRec()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS())
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		tc := c.(*tls.Conn)
		_ = tc.SetDeadline(time.Now().Add(waitLimit))
		if tc.Handshake() == nil {
			_, _ = tc.Write([]byte("partial"))
		}
		tc.NetConn().Close() // no close_notify
	}()
	f := newClientFactory(func() protocol.Protocol { return client })
	h.do(func() { protocol.ConnectTLS(h.r, ln.Addr().String(), clientTLS(), f, h.opts...) })
	assert.Equal(t, "partial", string(readAll(t, h, client, 7)))
	reason := recv(t, client.lost, "the client's ConnectionLost")
	assert.ErrorIs(t, reason, protocol.ErrConnectionLost)
	assert.NotErrorIs(t, reason, protocol.ErrConnectionDone)
}

// Twisted's test_loseConnectionTwice, test_writeAfterLoseConnection and
// test_writeSequence: WriteSequence is one write; after LoseConnection
// writes are dropped with ErrConnectionClosed, a second LoseConnection does
// nothing, and ConnectionLost comes once.
func TestTLSWritesAndLoseConnection(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	var afterErr error
	server.onMade = func(p *rec) {
		_, err := p.Transport.WriteSequence([][]byte{[]byte("one "), []byte("two "), []byte("three")})
		require.NoError(t, err)
		p.Transport.LoseConnection()
		_, afterErr = p.Transport.Write([]byte("dropped"))
		p.Transport.LoseConnection()
		assert.True(t, p.Transport.(protocol.DisconnectingTransport).Disconnecting())
	}
	h.pairTLS("127.0.0.1:0", server, client, clientTLS())
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
	assert.Equal(t, "one two three", on(h, func() string { return client.all.String() }))
	assert.ErrorIs(t, afterErr, protocol.ErrConnectionClosed)
	none(t, server.lost, "a second ConnectionLost")
}

// Twisted's loseConnection before the handshake, with nothing written:
// the connection is aborted rather than wait on a handshake.
func TestTLSLoseConnectionBeforeHandshakeAborts(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	client.onMade = func(p *rec) { p.Transport.LoseConnection() }
	h.pairTLS("127.0.0.1:0", server, client, clientTLS())
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionAborted)
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionLost)
}

// Twisted's test_hugeWrite: one write much larger than a record arrives
// whole.
func TestTLSHugeWrite(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	msg := make([]byte, 3<<20)
	_, _ = rand.Read(msg)
	server.onData = nil
	client.onMade = func(p *rec) {
		p.Transport.Write(msg)
		p.Transport.LoseConnection()
	}
	h.pairTLS("127.0.0.1:0", server, client, clientTLS())
	assert.True(t, bytes.Equal(msg, readAll(t, h, server, len(msg))))
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
}

// LoseConnection after a write larger than the socket takes does not
// start TLSCloseTimeout: it counts from when the close_notify has gone
// out behind the data, so that a reader slower than the timeout still
// gets every byte and a clean close. The client does not read until the
// server's buffer has been checked.
func TestTLSCloseTimeoutStartsAfterTheBufferDrains(t *testing.T) {
	h := newHarness(t)
	server, client := newHSRec(), newHSRec()
	msg := make([]byte, 4<<20)
	_, _ = rand.Read(msg)
	client.onMade = func(p *rec) { p.Transport.PauseProducing() }
	h.pairTLS("127.0.0.1:0", server, client, clientTLS())
	recv(t, server.hs, "the server's handshake")
	recv(t, client.hs, "the client's handshake")
	var buffered int
	var timed bool
	h.do(func() {
		server.Transport.Write(msg)
		server.Transport.LoseConnection()
		buffered, timed = protocol.TLSClosing(server.Transport)
	})
	require.Positive(t, buffered, "the kernel took all of the write: the test proves nothing")
	assert.False(t, timed, "the close_notify wait is timed while the data before it is still buffered")
	h.do(func() { client.Transport.ResumeProducing() })
	assert.True(t, bytes.Equal(msg, readAll(t, h, client.rec, len(msg))))
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
}

// holdConn is a net.Conn whose writes are held, once hold has been
// called, until release sends them in one write.
type holdConn struct {
	net.Conn
	mu      sync.Mutex
	holding bool
	held    []byte
}

func (c *holdConn) hold() { c.mu.Lock(); c.holding = true; c.mu.Unlock() }

func (c *holdConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holding {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// SetWriteDeadline ignores the deadline crypto/tls's CloseWrite sets, which
// would fail release.
func (c *holdConn) SetWriteDeadline(time.Time) error { return nil }

func (c *holdConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holding = false
	_, err := c.Conn.Write(c.held)
	return err
}

// When the server's last handshake flight, its data, its close_notify and
// the end of the stream reach a twine client at once (a TLS 1.2 server
// ends its handshake last and may close at once), the client delivers the
// data and answers the close_notify with its own before it closes, though
// it read the end of the stream before its handshake had ended.
func TestTLSAnswersCloseNotifyThatCameWithTheHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type result struct {
		after []byte // what the client sent after the server's close
		err   error
	}
	res := make(chan result, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			res <- result{err: err}
			return
		}
		defer raw.Close()
		hc := &holdConn{Conn: raw}
		config := serverTLS()
		config.MaxVersion = tls.VersionTLS12
		// Called before the server's last flight: hold it, and what follows.
		config.VerifyConnection = func(tls.ConnectionState) error { hc.hold(); return nil }
		sc := tls.Server(hc, config)
		err = sc.Handshake()
		if err == nil {
			_, err = sc.Write([]byte("hello"))
		}
		if err == nil {
			err = sc.CloseWrite()
		}
		if err == nil {
			err = hc.release()
		}
		if err == nil {
			err = raw.(*net.TCPConn).CloseWrite()
		}
		if err != nil {
			res <- result{err: err}
			return
		}
		after, err := io.ReadAll(raw)
		res <- result{after: after, err: err}
	}()
	h := newHarness(t)
	client := newRec()
	f := newClientFactory(func() protocol.Protocol { return client })
	h.do(func() { protocol.ConnectTLS(h.r, ln.Addr().String(), clientTLS(), f, h.opts...) })
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
	assert.Equal(t, "hello", on(h, client.all.String))
	r := recv(t, res, "the server's end")
	require.NoError(t, r.err)
	require.NotEmpty(t, r.after, "the client closed without close_notify")
	assert.Equal(t, byte(21), r.after[0], "the client's last record is not an alert")
}

// stream is a streaming producer that writes 16 KiB chunks of a counter
// pattern while it is not paused, up to total bytes, then unregisters and
// closes.
type stream struct {
	h       *harness
	t       protocol.Transport
	total   int
	sent    int
	paused  bool
	pauses  int
	maxSent int // sent at the first pause
	first   chan struct{}
	chunk   []byte
}

func (s *stream) PauseProducing() {
	s.paused = true
	if s.pauses == 0 {
		s.maxSent = s.sent
		close(s.first)
	}
	s.pauses++
}
func (s *stream) ResumeProducing() { s.paused = false; s.h.r.CallSoon(s.run) }
func (s *stream) StopProducing()   {}

func (s *stream) run() {
	for !s.paused && s.sent < s.total {
		n := min(len(s.chunk), s.total-s.sent)
		for i := range n {
			s.chunk[i] = byte((s.sent + i) % 251)
		}
		s.t.Write(s.chunk[:n])
		s.sent += n
	}
	if s.sent == s.total {
		s.sent++ // once
		s.t.UnregisterProducer()
		s.t.LoseConnection()
	}
}

// A 1 MiB transfer through TLS to a reader that pauses: the streaming
// producer is paused by the write buffer's high water mark well before it
// has written everything, resumed as the reader reads again, and every
// byte arrives in order; LoseConnection after UnregisterProducer still
// ends in a clean close.
func TestTLSSlowReaderPausesProducer(t *testing.T) {
	h := newHarness(t)
	const total = 1 << 20
	server, client := newRec(), newRec()
	s := &stream{h: h, total: total, chunk: make([]byte, 16<<10), first: make(chan struct{})}
	server.onMade = func(p *rec) {
		s.t = p.Transport
		p.Transport.RegisterProducer(s, true)
		s.run()
	}
	client.onMade = func(p *rec) { p.Transport.PauseProducing() }
	h.pairTLS("127.0.0.1:0", server, client, clientTLS(), protocol.WithWriteBuffer(64<<10, 16<<10))
	recv(t, s.first, "the producer's first pause")
	sent := on(h, func() int { return s.maxSent })
	assert.Less(t, sent, total/2, "the producer was paused before it had written half")
	h.do(func() { client.Transport.ResumeProducing() })
	got := readAll(t, h, client, total)
	require.Len(t, got, total)
	for i, b := range got {
		if b != byte(i%251) {
			t.Fatalf("byte %d is %d, want %d", i, b, byte(i%251))
		}
	}
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
}

// Reactor.Stop ends every TLS connection, those mid-handshake too (a
// client that never sends its hello): each protocol hears ConnectionLost
// once, with ErrShutdown, and Run returns once the handshake's goroutine
// has ended.
func TestTLSReactorStop(t *testing.T) {
	before := goleak.IgnoreCurrent()
	h := newHarness(t)
	server, client := newRec(), newRec()
	client.onMade = func(p *rec) { p.Transport.Write([]byte("hi")) }
	h.pairTLS("127.0.0.1:0", server, client, clientTLS())
	readAll(t, h, server, 2)
	silent := newRec()
	port := h.listenTLS("127.0.0.1:0", serverTLS(), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return silent }))
	raw, err := net.Dial("tcp", port.Addr().String())
	require.NoError(t, err)
	defer raw.Close()
	recv(t, silent.made, "the silent connection")
	h.stop()
	for _, p := range []*rec{server, client, silent} {
		err := recv(t, p.lost, "ConnectionLost")
		assert.ErrorIs(t, err, protocol.ErrShutdown)
		none(t, p.lost, "a second ConnectionLost")
	}
	goleak.VerifyNone(t, before)
}

// A protocol callback that panics over TLS aborts its connection only,
// and the panic is logged; another TLS connection on the port goes on.
func TestTLSPanickingCallback(t *testing.T) {
	h := newHarness(t)
	var servers []*rec
	port := h.listenTLS("127.0.0.1:0", serverTLS(), protocol.FactoryFunc(func(net.Addr) protocol.Protocol {
		p := newRec()
		p.onData = func(p *rec, b []byte) {
			if bytes.Equal(b, []byte("boom")) {
				panic("boom")
			}
			p.Transport.Write(b)
		}
		servers = append(servers, p)
		return p
	}))
	c1, c2 := newRec(), newRec()
	c1.onMade = func(p *rec) { p.Transport.Write([]byte("boom")) }
	for _, c := range []*rec{c1, c2} {
		h.do(func() {
			protocol.ConnectTLS(h.r, port.Addr().String(), clientTLS(), newClientFactory(func() protocol.Protocol { return c }), h.opts...)
		})
		recv(t, c.made, "a client's connection")
	}
	assert.ErrorIs(t, recv(t, c1.lost, "the first client's ConnectionLost"), protocol.ErrConnectionLost)
	s1 := on(h, func() *rec { return servers[0] })
	reason := recv(t, s1.lost, "the panicking server's ConnectionLost")
	assert.ErrorIs(t, reason, protocol.ErrConnectionAborted)
	var pe *deferred.PanicError
	assert.ErrorAs(t, reason, &pe)
	assert.Contains(t, h.log.messages(), "protocol: protocol callback panicked; aborting its connection")
	h.do(func() { c2.Transport.Write([]byte("still here")) })
	assert.Equal(t, "still here", string(readAll(t, h, c2, 10)))
}

// history is a streaming producer that records what it is told.
type history struct{ events []string }

func (p *history) PauseProducing()  { p.events = append(p.events, "pause") }
func (p *history) ResumeProducing() { p.events = append(p.events, "resume") }
func (p *history) StopProducing()   { p.events = append(p.events, "stop") }

// Twisted's test_streamingProducerPausedInWriteBlockedOnReadMode and
// ResumedInWriteBlockedOnReadMode: a write before the handshake pauses the
// streaming producer once, however large, and it is resumed once the
// handshake has ended and the held bytes have gone out.
func TestTLSProducerPausedUntilHandshake(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	prod := &history{}
	msg := bytes.Repeat([]byte("hello world"), 320000)
	var inside []string
	client.onMade = func(p *rec) {
		p.Transport.RegisterProducer(prod, true)
		p.Transport.Write(msg)
		inside = slices.Clone(prod.events)
	}
	h.pairTLS("127.0.0.1:0", server, client, clientTLS())
	assert.True(t, bytes.Equal(msg, readAll(t, h, server, len(msg))))
	assert.Equal(t, []string{"pause"}, on(h, func() []string { return inside }))
	deadline := time.After(waitLimit)
	for on(h, func() int { return len(prod.events) }) < 2 {
		select {
		case <-deadline:
			t.Fatal("the producer was not resumed")
		case <-client.data:
		case <-server.data:
		}
	}
	assert.Equal(t, []string{"pause", "resume"}, on(h, func() []string { return prod.events }))
	assert.False(t, on(h, func() bool { return client.Transport.(protocol.DisconnectingTransport).Disconnecting() }))
}

// A TLS 1.3 client has ended its handshake once it has sent its Finished,
// so what it writes next may reach the server before the server's
// handshake has read that Finished, here held up in VerifyConnection. The
// server stops reading once too much waits for its handshake, and reads on
// once the handshake has ended, delivering everything: a client that sends
// at once is no flood to cut off.
func TestTLSServerReadsAfterSlowHandshake(t *testing.T) {
	stopped := make(chan struct{}, 1)
	protocol.OnTLSReadStopped(t, func() {
		select {
		case stopped <- struct{}{}:
		default:
		}
	})
	h := newHarness(t)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before the harness stops, which waits for the handshake
	sc := serverTLS()
	sc.MinVersion = tls.VersionTLS13
	sc.VerifyConnection = func(tls.ConnectionState) error { <-release; return nil }
	server, client := newRec(), newRec()
	msg := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	client.onMade = func(p *rec) { p.Transport.Write(msg) }
	port := h.listenTLS("127.0.0.1:0", sc, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	f := newClientFactory(func() protocol.Protocol { return client })
	h.do(func() { protocol.ConnectTLS(h.r, port.Addr().String(), clientTLS(), f, h.opts...) })
	select {
	case <-stopped:
	case err := <-server.lost:
		t.Fatalf("the server's connection was lost during its handshake: %v", err)
	case <-time.After(waitLimit):
		t.Fatal("the server did not stop reading")
	}
	assert.Zero(t, on(h, func() int { return server.all.Len() }), "data before the handshake ended")
	free()
	assert.True(t, bytes.Equal(msg, readAll(t, h, server, len(msg))))
	none(t, server.lost, "the server's ConnectionLost")
	none(t, client.lost, "the client's ConnectionLost")
}

// Twisted's test_streamingProducerLoseConnectionWithProducer: after
// LoseConnection the producer's writes still go out until it unregisters;
// then close_notify ends the connection cleanly, later writes are dropped,
// and the producer is not stopped.
func TestTLSLoseConnectionWaitsForProducer(t *testing.T) {
	h := newHarness(t)
	server := newRec()
	client := newHSRec()
	prod := &history{}
	var late error
	client.onMade = func(p *rec) { p.Transport.RegisterProducer(prod, true) }
	h.pairTLS("127.0.0.1:0", server, client, clientTLS())
	recv(t, client.hs, "the client's handshake")
	h.do(func() {
		tr := client.Transport
		tr.Write([]byte("x "))
		tr.LoseConnection()
		tr.Write([]byte("hello"))
		tr.WriteSequence([][]byte{[]byte(" "), []byte("world")})
	})
	assert.Equal(t, "x hello world", string(readAll(t, h, server, 13)))
	none(t, server.lost, "ConnectionLost before the producer unregistered")
	h.do(func() {
		client.Transport.UnregisterProducer()
		_, late = client.Transport.Write([]byte("won't"))
	})
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
	assert.ErrorIs(t, late, protocol.ErrConnectionClosed)
	assert.Equal(t, "x hello world", on(h, func() string { return server.all.String() }))
	assert.NotContains(t, on(h, func() []string { return prod.events }), "stop")
}

// TLS cannot half-close: LoseWriteConnection is LoseConnection (the data
// then close_notify), and half-closeable protocols on both ends hear no
// half-close, only a clean ConnectionLost.
func TestTLSHalfCloseIsClose(t *testing.T) {
	h := newHarness(t)
	server, client := newHalfRec(), newHalfRec()
	client.onMade = func(p *rec) {
		p.Transport.Write([]byte("last words"))
		p.Transport.LoseWriteConnection()
	}
	h.pairTLS("127.0.0.1:0", server, client, clientTLS())
	assert.Equal(t, "last words", string(readAll(t, h, server.rec, 10)))
	assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
	none(t, server.readLost, "ReadConnectionLost")
	none(t, server.writeLost, "WriteConnectionLost")
	none(t, client.readLost, "ReadConnectionLost")
	none(t, client.writeLost, "WriteConnectionLost")
}

// Client certificates, over TLS 1.2 and 1.3: a server that requires one
// sees the client's; a client without one is refused, and under TLS 1.3,
// where the client's handshake has ended before the server refuses, the
// refusal still reaches the client's ConnectionLost under ErrTLS.
func TestTLSClientCertificates(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			cert, pool := testCert()
			requiring := func() *tls.Config {
				c := serverTLS()
				c.ClientAuth = tls.RequireAndVerifyClientCert
				c.ClientCAs = pool
				c.MaxVersion = version
				return c
			}
			t.Run("given", func(t *testing.T) {
				h := newHarness(t)
				server, client := newHSRec(), newHSRec()
				port := h.listenTLS("127.0.0.1:0", requiring(), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
				cc := clientTLS()
				cc.Certificates = []tls.Certificate{cert}
				h.do(func() {
					protocol.ConnectTLS(h.r, port.Addr().String(), cc, newClientFactory(func() protocol.Protocol { return client }), h.opts...)
				})
				st := recv(t, server.hs, "the server's handshake")
				assert.Equal(t, version, st.Version)
				require.NotEmpty(t, st.PeerCertificates)
				assert.Equal(t, "twine test", st.PeerCertificates[0].Subject.CommonName)
			})
			t.Run("missing", func(t *testing.T) {
				h := newHarness(t)
				server, client := newRec(), newRec()
				client.onMade = func(p *rec) { p.Transport.Write([]byte("let me in")) }
				port := h.listenTLS("127.0.0.1:0", requiring(), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
				h.do(func() {
					protocol.ConnectTLS(h.r, port.Addr().String(), clientTLS(), newClientFactory(func() protocol.Protocol { return client }), h.opts...)
				})
				assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrTLS)
				assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrTLS)
				assert.Empty(t, on(h, func() []byte { return server.all.Bytes() }))
			})
		})
	}
}

// Writes keep their order across the handshake's end: what ConnectionMade
// wrote (held) goes out before what HandshakeCompleted writes.
func TestTLSWritesKeepOrderAcrossHandshake(t *testing.T) {
	h := newHarness(t)
	server := newRec()
	client := &orderRec{rec: newRec()}
	client.onMade = func(p *rec) { p.Transport.Write([]byte("first ")) }
	h.pairTLS("127.0.0.1:0", server, client, clientTLS())
	assert.Equal(t, "first second", string(readAll(t, h, server, 12)))
}

type orderRec struct{ *rec }

func (p *orderRec) HandshakeCompleted() { p.Transport.Write([]byte("second")) }
