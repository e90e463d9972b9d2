//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor/protocol"
)

// endpointFamily is a pair of endpoints over one kind of socket.
type endpointFamily struct {
	name   string
	server func(h *harness) protocol.ServerEndpoint
	client func(h *harness, port protocol.ListeningPort) protocol.ClientEndpoint
}

// tcp4ServerOnLoopback is a TCP4 server endpoint on 127.0.0.1, with a port
// the system chooses.
func tcp4ServerOnLoopback(h *harness) protocol.ServerEndpoint {
	e := protocol.NewTCP4ServerEndpoint(h.r, 0, "127.0.0.1")
	e.Options = h.opts
	return e
}

// tcpClientTo returns the client side of a TCP family: an endpoint that
// connects to host, at the port the server listens on.
func tcpClientTo(host string) func(h *harness, port protocol.ListeningPort) protocol.ClientEndpoint {
	return func(h *harness, port protocol.ListeningPort) protocol.ClientEndpoint {
		e := protocol.NewTCPClientEndpoint(h.r, host, port.Addr().(*net.TCPAddr).Port)
		e.Options = h.opts
		return e
	}
}

var endpointFamilies = []endpointFamily{
	{"tcp4", tcp4ServerOnLoopback, tcpClientTo("127.0.0.1")},
	{"tcp6",
		func(h *harness) protocol.ServerEndpoint {
			e := protocol.NewTCP6ServerEndpoint(h.r, 0, "::1")
			e.Options = h.opts
			return e
		},
		tcpClientTo("::1")},
	{"localhost", tcp4ServerOnLoopback, tcpClientTo("localhost")},
	{"unix",
		func(h *harness) protocol.ServerEndpoint {
			e := protocol.NewUnixServerEndpoint(h.r, filepath.Join(h.t.TempDir(), "s"))
			e.Options = h.opts
			return e
		},
		func(h *harness, port protocol.ListeningPort) protocol.ClientEndpoint {
			e := protocol.NewUnixClientEndpoint(h.r, port.Addr().(*net.UnixAddr).Name)
			e.Options = h.opts
			return e
		}},
}

// listenOn listens on e with f and waits for the Deferred.
func (h *harness) listenOn(e protocol.ServerEndpoint, f protocol.Factory) (protocol.ListeningPort, error) {
	h.t.Helper()
	ch := on(h, func() <-chan result[protocol.ListeningPort] { return watch(e.Listen(f)) })
	r := recv(h.t, ch, "Listen's Deferred")
	return r.v, r.err
}

// connectTo connects to e with f and returns the Deferred's result channel.
func (h *harness) connectTo(e protocol.ClientEndpoint, f protocol.Factory) <-chan result[protocol.Protocol] {
	h.t.Helper()
	return on(h, func() <-chan result[protocol.Protocol] { return watch(e.Connect(f)) })
}

// Twisted's test_connectProtocol… tests of each endpoint class: Listen
// fires with a port that accepts, Connect fires with the factory's
// protocol once its ConnectionMade has run, and the two talk.
func TestEndpointsListenAndConnect(t *testing.T) {
	for _, fam := range endpointFamilies {
		t.Run(fam.name, func(t *testing.T) {
			h := newHarness(t)
			server, client := newRec(), newRec()
			server.onData = func(p *rec, b []byte) { p.Transport.Write(b) }
			port, err := h.listenOn(fam.server(h), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
			require.NoError(t, err)
			ch := h.connectTo(fam.client(h, port), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return client }))
			r := recv(t, ch, "Connect's Deferred")
			require.NoError(t, r.err)
			assert.Same(t, client, r.v, "the Deferred fires with the factory's protocol")
			assert.True(t, on(h, func() bool { return client.Connected }))
			recv(t, client.made, "the client's ConnectionMade")
			h.do(func() { client.Transport.Write([]byte("ping")) })
			assert.Equal(t, []byte("ping"), readAll(t, h, client, 4))
			h.do(func() { client.Transport.LoseConnection() })
			assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
			ch2 := on(h, func() <-chan result[struct{}] { return watch(port.StopListening()) })
			require.NoError(t, recv(t, ch2, "StopListening").err)
		})
	}
}

// The Deferred of Connect has fired by the time the protocol's
// ConnectionMade returns, and not before: Twisted's _WrappingProtocol
// fires it after connectionMade.
func TestEndpointConnectFiresAfterConnectionMade(t *testing.T) {
	h := newHarness(t)
	port, err := h.listenOn(endpointFamilies[0].server(h), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() }))
	require.NoError(t, err)
	client := newRec()
	var d *deferred.Deferred[protocol.Protocol]
	firedInMade := make(chan bool, 1)
	client.onMade = func(*rec) { firedInMade <- d.Called() }
	ch := on(h, func() <-chan result[protocol.Protocol] {
		d = endpointFamilies[0].client(h, port).Connect(protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return client }))
		return watch(d)
	})
	require.NoError(t, recv(t, ch, "Connect's Deferred").err)
	assert.False(t, recv(t, firedInMade, "ConnectionMade"), "the Deferred fired before ConnectionMade")
}

// ConnectProtocol connects the protocol it is given: Twisted's
// ConnectProtocolTests.
func TestConnectProtocol(t *testing.T) {
	h := newHarness(t)
	port, err := h.listenOn(endpointFamilies[0].server(h), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() }))
	require.NoError(t, err)
	client := newRec()
	ch := on(h, func() <-chan result[protocol.Protocol] {
		return watch(protocol.ConnectProtocol(endpointFamilies[0].client(h, port), client))
	})
	r := recv(t, ch, "ConnectProtocol's Deferred")
	require.NoError(t, r.err)
	assert.Same(t, client, r.v)
	assert.Panics(t, func() { protocol.ConnectProtocol(nil, client) })
}

// Twisted's test_endpointListenFailure: a port in use, or an interface of
// the other family, fails Listen's Deferred with ErrCannotListen.
func TestEndpointListenFailures(t *testing.T) {
	h := newHarness(t)
	f := protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() })
	port, err := h.listenOn(endpointFamilies[0].server(h), f)
	require.NoError(t, err)
	taken := port.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o600))
	for _, c := range []struct {
		name  string
		e     protocol.ServerEndpoint
		cause error
	}{
		{"in use", protocol.NewTCP4ServerEndpoint(h.r, taken, "127.0.0.1"), syscall.EADDRINUSE},
		{"tcp4 with an IPv6 interface", protocol.NewTCP4ServerEndpoint(h.r, 0, "::1"), nil},
		{"tcp6 with an IPv4 interface", protocol.NewTCP6ServerEndpoint(h.r, 0, "127.0.0.1"), nil},
		{"a name as interface", protocol.NewTCP4ServerEndpoint(h.r, 0, "localhost"), nil},
		{"port out of range", protocol.NewTCP4ServerEndpoint(h.r, 70000, ""), nil},
		{"unix path taken", protocol.NewUnixServerEndpoint(h.r, filepath.Join(dir, "file")), syscall.EADDRINUSE},
		{"unix path empty", protocol.NewUnixServerEndpoint(h.r, ""), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.listenOn(c.e, f)
			require.ErrorIs(t, err, protocol.ErrCannotListen)
			if c.cause != nil {
				assert.ErrorIs(t, err, c.cause)
			}
		})
	}
}

// A Unix server endpoint gives its socket file the mode asked for:
// Twisted's UNIXServerEndpoint mode.
func TestUnixServerEndpointMode(t *testing.T) {
	h := newHarness(t)
	e := protocol.NewUnixServerEndpoint(h.r, filepath.Join(t.TempDir(), "s"))
	e.Mode = 0o640
	_, err := h.listenOn(e, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() }))
	require.NoError(t, err)
	st, err := os.Stat(e.Path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
}

// closedTCPPort returns a loopback port nothing listens on.
func closedTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	p := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return p
}

// Connect fails with ErrConnect and the cause: refused, timed out, a name
// that does not resolve, a port out of range, a missing Unix socket, a
// factory that builds no protocol. Twisted's test_connectionFailure and
// HostnameEndpoint's test_nameResolution failure tests.
func TestEndpointConnectFailures(t *testing.T) {
	h := newHarness(t)
	build := func(net.Addr) protocol.Protocol { return newRec() }
	refused := closedTCPPort(t)
	silent := unansweringAddr(t)
	_, silentPort, err := net.SplitHostPort(silent)
	require.NoError(t, err)
	sp, _ := strconv.Atoi(silentPort)
	timed := protocol.NewTCPClientEndpoint(h.r, "127.0.0.1", sp)
	timed.Timeout = 50 * time.Millisecond
	listening, err := h.listenOn(endpointFamilies[0].server(h), protocol.FactoryFunc(build))
	require.NoError(t, err)
	var dnsErr *net.DNSError
	for _, c := range []struct {
		name  string
		e     protocol.ClientEndpoint
		f     protocol.FactoryFunc
		cause error
		as    any
	}{
		{"refused", protocol.NewTCPClientEndpoint(h.r, "127.0.0.1", refused), build, syscall.ECONNREFUSED, nil},
		{"timed out", timed, build, protocol.ErrTimeout, nil},
		{"no such host", protocol.NewTCPClientEndpoint(h.r, "no-such-host.invalid", 80), build, nil, &dnsErr},
		{"port out of range", protocol.NewTCPClientEndpoint(h.r, "127.0.0.1", 0), build, nil, nil},
		{"no unix socket", protocol.NewUnixClientEndpoint(h.r, filepath.Join(t.TempDir(), "none")), build, syscall.ENOENT, nil},
		{"no protocol", protocol.NewTCPClientEndpoint(h.r, "127.0.0.1", listening.Addr().(*net.TCPAddr).Port), func(net.Addr) protocol.Protocol { return nil }, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := recv(t, h.connectTo(c.e, c.f), "Connect's Deferred")
			require.ErrorIs(t, r.err, protocol.ErrConnect)
			assert.Nil(t, r.v)
			if c.cause != nil {
				assert.ErrorIs(t, r.err, c.cause)
			}
			if c.as != nil {
				assert.ErrorAs(t, r.err, c.as)
			}
		})
	}
}

// Cancelling Connect's Deferred stops the attempt: the Deferred fails with
// ErrUserCancelled under ErrConnect, and the factory is stopped. Twisted's
// test_connectionCancellation.
func TestEndpointConnectCancel(t *testing.T) {
	h := newHarness(t)
	addr := unansweringAddr(t)
	_, ps, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(ps)
	f := newServerFactory(func() protocol.Protocol { return newRec() })
	e := protocol.NewTCPClientEndpoint(h.r, "127.0.0.1", p)
	e.Timeout = -1
	type state struct{ starts, stops int }
	ch := on(h, func() <-chan result[protocol.Protocol] {
		d := e.Connect(f)
		return watch(d)
	})
	assert.Equal(t, state{1, 0}, on(h, func() state { return state{f.starts, f.stops} }))
	none(t, ch, "a result before the cancel")
	// A second attempt, with the same factory, cancelled.
	ch2 := on(h, func() <-chan result[protocol.Protocol] {
		d := e.Connect(f)
		c := watch(d)
		d.Cancel()
		return c
	})
	r := recv(t, ch2, "the cancelled Deferred")
	require.ErrorIs(t, r.err, protocol.ErrConnect)
	assert.ErrorIs(t, r.err, protocol.ErrUserCancelled)
	// The first attempt is still waiting: the factory is still in use.
	assert.Equal(t, state{1, 0}, on(h, func() state { return state{f.starts, f.stops} }))
	h.stop()
	r = recv(t, ch, "the attempt that was waiting, at shutdown")
	require.ErrorIs(t, r.err, protocol.ErrConnect)
	assert.ErrorIs(t, r.err, protocol.ErrShutdown)
	assert.Equal(t, 1, f.stops, "the factory is stopped after its last attempt")
}

// A name is looked up and its addresses tried in turn until one connects;
// when all fail, the last one's error is the Deferred's. Twisted's
// HostnameEndpoint tests of a name with several addresses.
func TestTCPClientEndpointTriesEachAddress(t *testing.T) {
	h := newHarness(t)
	server := newRec()
	port, err := h.listenOn(endpointFamilies[0].server(h), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	require.NoError(t, err)
	p := port.Addr().(*net.TCPAddr).Port
	protocol.SetLookup(t, func(_ context.Context, host string) ([]net.IPAddr, error) {
		switch host {
		case "twohomes.test":
			// Nothing listens on ::1 at this port: refused, then 127.0.0.1.
			return []net.IPAddr{{IP: net.IPv6loopback}, {IP: net.IPv4(127, 0, 0, 1)}}, nil
		case "nohome.test":
			return []net.IPAddr{{IP: net.IPv6loopback}, {IP: net.IPv4(127, 0, 0, 2)}}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	})
	client := newRec()
	r := recv(t, h.connectTo(protocol.NewTCPClientEndpoint(h.r, "twohomes.test", p), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return client })), "Connect's Deferred")
	require.NoError(t, r.err)
	assert.Equal(t, "127.0.0.1", on(h, func() string { return client.Transport.RemoteAddr().(*net.TCPAddr).IP.String() }))

	r = recv(t, h.connectTo(protocol.NewTCPClientEndpoint(h.r, "nohome.test", closedTCPPort(t)), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() })), "Connect's Deferred")
	require.ErrorIs(t, r.err, protocol.ErrConnect)
	assert.ErrorIs(t, r.err, syscall.ECONNREFUSED)
	assert.Contains(t, r.err.Error(), "127.0.0.2", "the last address's error")
}

// A lookup that does not answer is given up when the Deferred is
// cancelled, or when the timeout passes: the resolver's context ends.
func TestTCPClientEndpointLookupCancelAndTimeout(t *testing.T) {
	h := newHarness(t)
	protocol.SetLookup(t, func(ctx context.Context, host string) ([]net.IPAddr, error) {
		<-ctx.Done()
		return nil, &net.DNSError{Err: ctx.Err().Error(), Name: host, IsTimeout: true}
	})
	f := protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() })
	e := protocol.NewTCPClientEndpoint(h.r, "slow.test", 80)
	e.Timeout = -1
	ch := on(h, func() <-chan result[protocol.Protocol] {
		d := e.Connect(f)
		c := watch(d)
		d.Cancel()
		return c
	})
	r := recv(t, ch, "the cancelled Deferred")
	require.ErrorIs(t, r.err, protocol.ErrConnect)
	assert.ErrorIs(t, r.err, protocol.ErrUserCancelled)

	e.Timeout = 20 * time.Millisecond
	r = recv(t, h.connectTo(e, f), "Connect's Deferred")
	require.ErrorIs(t, r.err, protocol.ErrConnect)
	assert.ErrorIs(t, r.err, protocol.ErrTimeout)
	var dnsErr *net.DNSError
	assert.ErrorAs(t, r.err, &dnsErr)
}

// An address that does not answer does not hold the others up: the next
// starts after AttemptDelay, the first to connect wins, and the one still
// trying is stopped. Twisted's HostnameEndpoint test_ignoreUnknownAddressTypes
// and its attemptDelay tests, over real sockets.
func TestTCPClientEndpointStaggersAttempts(t *testing.T) {
	h := newHarness(t)
	silent := unansweringAddr(t) // 127.0.0.1:p drops SYNs
	_, ps, err := net.SplitHostPort(silent)
	require.NoError(t, err)
	p, err := strconv.Atoi(ps)
	require.NoError(t, err)
	server := newRec()
	_, err = h.listenOn(protocol.NewTCP4ServerEndpoint(h.r, p, "127.0.0.2"), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	require.NoError(t, err)
	protocol.SetLookup(t, func(context.Context, string) ([]net.IPAddr, error) {
		return []net.IPAddr{{IP: net.IPv4(127, 0, 0, 1)}, {IP: net.IPv4(127, 0, 0, 2)}}, nil
	})
	client := newRec()
	f := newServerFactory(func() protocol.Protocol { return client })
	e := protocol.NewTCPClientEndpoint(h.r, "twohomes.test", p)
	e.Timeout = -1
	e.AttemptDelay = 20 * time.Millisecond
	r := recv(t, h.connectTo(e, f), "Connect's Deferred")
	require.NoError(t, r.err)
	assert.Equal(t, "127.0.0.2", on(h, func() string { return client.Transport.RemoteAddr().(*net.TCPAddr).IP.String() }))
	h.do(func() { client.Transport.LoseConnection() })
	recv(t, client.lost, "the client's ConnectionLost")
	type hooks struct{ starts, stops int }
	assert.Equal(t, hooks{1, 1}, on(h, func() hooks { return hooks{f.starts, f.stops} }), "the attempt that was waiting has been stopped")
}

// A ClientService keeps a connection to a real endpoint: WhenConnected
// fires with the factory's protocol, and StopService, while an attempt to
// an address that does not answer is in progress, cancels it through the
// endpoint's canceller.
func TestClientServiceOverTCPEndpoint(t *testing.T) {
	h := newHarness(t)
	port, err := h.listenOn(endpointFamilies[0].server(h), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() }))
	require.NoError(t, err)
	client := newRec()
	s := on(h, func() *protocol.ClientService {
		s := protocol.NewClientService(endpointFamilies[0].client(h, port), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return client }), h.r)
		s.StartService()
		return s
	})
	r := recv(t, on(h, func() <-chan result[protocol.Protocol] { return watch(s.WhenConnected(0)) }), "WhenConnected")
	require.NoError(t, r.err)
	assert.Same(t, client, r.v)
	stopped := on(h, func() <-chan result[struct{}] { return watch(s.StopService()) })
	require.NoError(t, recv(t, stopped, "StopService").err)
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)

	addr := unansweringAddr(t)
	_, ps, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(ps)
	e := protocol.NewTCPClientEndpoint(h.r, "127.0.0.1", p)
	e.Timeout = -1
	f := newServerFactory(func() protocol.Protocol { return newRec() })
	s = on(h, func() *protocol.ClientService {
		s := protocol.NewClientService(e, f, h.r)
		s.StartService()
		return s
	})
	waiter := on(h, func() <-chan result[protocol.Protocol] { return watch(s.WhenConnected(0)) })
	stopped = on(h, func() <-chan result[struct{}] { return watch(s.StopService()) })
	require.NoError(t, recv(t, stopped, "StopService").err)
	assert.Error(t, recv(t, waiter, "WhenConnected").err)
	type hooks struct{ starts, stops int }
	assert.Equal(t, hooks{1, 1}, on(h, func() hooks { return hooks{f.starts, f.stops} }), "the attempt was stopped")
}

// Endpoints from strings listen and connect over loopback with what the
// strings say: the interface, the bind address, the socket's mode.
func TestEndpointsFromStringsOverLoopback(t *testing.T) {
	h := newHarness(t)
	f := protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() })
	se, err := protocol.ServerFromString(h.r, "tcp:0:interface=127.0.0.1:backlog=5")
	require.NoError(t, err)
	port, err := h.listenOn(se, f)
	require.NoError(t, err)
	p := port.Addr().(*net.TCPAddr).Port
	path := filepath.Join(t.TempDir(), "s")
	ue, err := protocol.ServerFromString(h.r, "unix:"+protocol.QuoteStringArgument(path)+":mode=600:lockfile=0")
	require.NoError(t, err)
	_, err = h.listenOn(ue, f)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	for _, c := range []struct{ desc, local string }{
		{"tcp:127.0.0.1:" + strconv.Itoa(p) + ":bindAddress=127.0.0.2", "127.0.0.2"},
		{"tcp:host=localhost:port=" + strconv.Itoa(p) + ":timeout=5", "127.0.0.1"},
		{"unix:path=" + protocol.QuoteStringArgument(path) + ":timeout=5", ""},
	} {
		t.Run(c.desc, func(t *testing.T) {
			ce, err := protocol.ClientFromString(h.r, c.desc)
			require.NoError(t, err)
			client := newRec()
			r := recv(t, h.connectTo(ce, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return client })), "Connect's Deferred")
			require.NoError(t, r.err)
			local := on(h, func() net.Addr { return client.Transport.LocalAddr() })
			if c.local != "" {
				assert.Equal(t, c.local, local.(*net.TCPAddr).IP.String())
			} else {
				assert.Equal(t, "unix", local.Network())
			}
			h.do(func() { client.Transport.LoseConnection() })
			recv(t, client.lost, "the client's ConnectionLost")
		})
	}
}
