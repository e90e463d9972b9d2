//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// waitLimit bounds every wait of these tests for an event over loopback;
// it is never reached unless the code under test is broken.
const waitLimit = 10 * time.Second

// slogRecorder is a slog.Handler that keeps every record, for assertions.
type slogRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *slogRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *slogRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *slogRecorder) WithGroup(string) slog.Handler            { return l }
func (l *slogRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r.Clone())
	l.mu.Unlock()
	return nil
}

func (l *slogRecorder) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ms []string
	for _, r := range l.records {
		ms = append(ms, r.Message)
	}
	return ms
}

// harness runs a reactor on its own goroutine for one test, and stops it
// when the test ends.
type harness struct {
	t    *testing.T
	r    *reactor.Reactor
	log  *slogRecorder
	opts []protocol.Option
	done chan error
	once sync.Once
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, log: &slogRecorder{}, done: make(chan error, 1)}
	logger := slog.New(h.log)
	h.r = reactor.New(reactor.WithLogger(logger), reactor.WithWatchdog(0))
	h.opts = []protocol.Option{protocol.WithLogger(logger)}
	go func() { h.done <- h.r.Run() }()
	t.Cleanup(h.stop)
	return h
}

// stop stops the reactor and waits for Run to return.
func (h *harness) stop() {
	h.once.Do(func() {
		_ = h.r.Stop()
		select {
		case err := <-h.done:
			require.NoError(h.t, err)
		case <-time.After(waitLimit):
			h.t.Fatal("the reactor did not stop")
		}
	})
}

// on runs f on the reactor goroutine and returns its result.
func on[T any](h *harness, f func() T) T {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	v, err := reactor.BlockingCall(ctx, h.r, func() (T, error) { return f(), nil })
	require.NoError(h.t, err)
	return v
}

// do runs f on the reactor goroutine and waits for it.
func (h *harness) do(f func()) {
	h.t.Helper()
	on(h, func() struct{} { f(); return struct{}{} })
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// none checks that nothing is waiting on ch.
func none[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %v", what, v)
	default:
	}
}

// rec is a protocol that reports its events on channels, and runs hooks.
type rec struct {
	protocol.Base
	made   chan protocol.Transport
	data   chan []byte
	lost   chan error
	onMade func(p *rec)
	onData func(p *rec, b []byte)
	onLost func(p *rec, reason error)
	all    bytes.Buffer // everything received; the reactor goroutine's
}

func newRec() *rec {
	return &rec{made: make(chan protocol.Transport, 1), data: make(chan []byte, 4096), lost: make(chan error, 4)}
}

func (p *rec) ConnectionMade(t protocol.Transport) {
	p.Base.ConnectionMade(t)
	p.made <- t
	if p.onMade != nil {
		p.onMade(p)
	}
}

func (p *rec) DataReceived(b []byte) {
	p.all.Write(b)
	select {
	case p.data <- slices.Clone(b):
	default:
	}
	if p.onData != nil {
		p.onData(p, b)
	}
}

func (p *rec) ConnectionLost(reason error) {
	p.Base.ConnectionLost(reason)
	p.lost <- reason
	if p.onLost != nil {
		p.onLost(p, reason)
	}
}

// readAll waits until p has received n bytes and returns them.
func readAll(t *testing.T, h *harness, p *rec, n int) []byte {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		got := on(h, func() []byte {
			if p.all.Len() >= n {
				return slices.Clone(p.all.Bytes())
			}
			return nil
		})
		if got != nil {
			return got
		}
		select {
		case <-p.data:
		case <-deadline:
			t.Fatalf("timed out waiting for %d bytes", n)
		}
	}
}

// serverFactory builds a protocol per connection with build and hands
// each on a channel.
type serverFactory struct {
	build         func() protocol.Protocol
	protos        chan protocol.Protocol
	starts, stops int
}

func newServerFactory(build func() protocol.Protocol) *serverFactory {
	return &serverFactory{build: build, protos: make(chan protocol.Protocol, 64)}
}

func (f *serverFactory) BuildProtocol(net.Addr) protocol.Protocol {
	p := f.build()
	if p != nil {
		f.protos <- p
	}
	return p
}

func (f *serverFactory) StartFactory() { f.starts++ }
func (f *serverFactory) StopFactory()  { f.stops++ }

// clientFactory builds the protocols build returns and reports the
// connector's events.
type clientFactory struct {
	build   func() protocol.Protocol
	started chan protocol.Connector
	failed  chan error
	lost    chan error
	peers   chan net.Addr
	onFail  func(c protocol.Connector, err error)
	onLost  func(c protocol.Connector, err error)
	starts  int
	stops   int
}

func newClientFactory(build func() protocol.Protocol) *clientFactory {
	return &clientFactory{build: build, started: make(chan protocol.Connector, 16), failed: make(chan error, 16), lost: make(chan error, 16), peers: make(chan net.Addr, 16)}
}

func (f *clientFactory) BuildProtocol(addr net.Addr) protocol.Protocol {
	f.peers <- addr
	return f.build()
}
func (f *clientFactory) StartedConnecting(c protocol.Connector) { f.started <- c }
func (f *clientFactory) ClientConnectionFailed(c protocol.Connector, err error) {
	f.failed <- err
	if f.onFail != nil {
		f.onFail(c, err)
	}
}
func (f *clientFactory) ClientConnectionLost(c protocol.Connector, err error) {
	f.lost <- err
	if f.onLost != nil {
		f.onLost(c, err)
	}
}
func (f *clientFactory) StartFactory() { f.starts++ }
func (f *clientFactory) StopFactory()  { f.stops++ }

// family is a kind of stream socket the tests run over.
type family struct {
	name    string
	address func(t *testing.T) string // where to listen
}

var families = []family{
	{"tcp4", func(*testing.T) string { return "127.0.0.1:0" }},
	{"tcp6", func(*testing.T) string { return "[::1]:0" }},
	{"unix", func(t *testing.T) string { return filepath.Join(t.TempDir(), "s") }},
}

// listen listens on fam with f.
func (h *harness) listen(fam family, f protocol.Factory, opts ...protocol.Option) *protocol.Port {
	h.t.Helper()
	addr := fam.address(h.t)
	type res struct {
		p   *protocol.Port
		err error
	}
	r := on(h, func() res {
		var p *protocol.Port
		var err error
		if fam.name == "unix" {
			p, err = protocol.ListenUnix(h.r, addr, f, append(h.opts, opts...)...)
		} else {
			p, err = protocol.ListenTCP(h.r, addr, f, append(h.opts, opts...)...)
		}
		return res{p, err}
	})
	require.NoError(h.t, r.err)
	return r.p
}

// connect connects to port with f.
func (h *harness) connect(port *protocol.Port, f protocol.ClientFactory, opts ...protocol.Option) protocol.Connector {
	h.t.Helper()
	return on(h, func() protocol.Connector {
		if ua, ok := port.Addr().(*net.UnixAddr); ok {
			return protocol.ConnectUnix(h.r, ua.Name, f, append(h.opts, opts...)...)
		}
		return protocol.ConnectTCP(h.r, port.Addr().String(), f, append(h.opts, opts...)...)
	})
}

// pair connects a client protocol to a server protocol over fam, and
// returns both once both have been made.
func (h *harness) pair(fam family, server, client *rec, opts ...protocol.Option) (*protocol.Port, protocol.Connector) {
	h.t.Helper()
	port := h.listen(fam, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }), opts...)
	c := h.connect(port, newClientFactory(func() protocol.Protocol { return client }), opts...)
	recv(h.t, server.made, "the server's connection")
	recv(h.t, client.made, "the client's connection")
	return port, c
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/dev/fd")
	require.NoError(t, err)
	return len(ents)
}

// result is a Deferred's outcome, sent on a channel.
type result[T any] struct {
	v   T
	err error
}

// watch returns a channel that receives d's result once it fires.
func watch[T any](d *deferred.Deferred[T]) <-chan result[T] {
	ch := make(chan result[T], 1)
	d.AddBoth(func(v T, err error) (T, error) {
		ch <- result[T]{v, err}
		return v, nil
	})
	return ch
}

// stopListening stops port and waits until its Deferred has fired.
func (h *harness) stopListening(port *protocol.Port) {
	h.t.Helper()
	ch := on(h, func() <-chan result[struct{}] { return watch(port.StopListening()) })
	require.NoError(h.t, recv(h.t, ch, "StopListening's Deferred").err)
}

// unansweringAddr returns the address of a listening socket whose queue is
// full, so that it drops the SYNs of further connections: an attempt to
// connect to it can only wait, or time out.
func unansweringAddr(t *testing.T) string {
	t.Helper()
	ln, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(ln) })
	require.NoError(t, syscall.Bind(ln, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(ln, 0))
	sa, err := syscall.Getsockname(ln)
	require.NoError(t, err)
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	for range 4 { // fill the queue; stop at the first dial that is not answered
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return addr
}
