//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
)

// Twisted's test_connectorIdentity: the connector passed to the factory is
// the one connectTCP returned, its destination is the address given, and
// ClientConnectionLost follows the protocol's ConnectionLost with the same
// reason.
func TestConnectorIdentityAndLostReason(t *testing.T) {
	h := newHarness(t)
	server := newRec()
	server.onMade = func(p *rec) { p.Transport.LoseConnection() } // Twisted's ClosingProtocol
	port := h.listen(tcp4, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	client := newRec()
	f := newClientFactory(func() protocol.Protocol { return client })
	var seen []protocol.Connector
	f.onLost = func(c protocol.Connector, _ error) { seen = append(seen, c) }
	c := h.connect(port, f)
	assert.Equal(t, port.Addr().String(), on(h, func() string { return c.Destination().String() }))
	assert.Same(t, c, recv(t, f.started, "StartedConnecting"))
	reason := recv(t, client.lost, "the client's ConnectionLost")
	assert.ErrorIs(t, reason, protocol.ErrConnectionDone)
	assert.Equal(t, reason, recv(t, f.lost, "ClientConnectionLost"))
	assert.Equal(t, []protocol.Connector{c}, on(h, func() []protocol.Connector { return seen }))
	assert.Equal(t, port.Addr().String(), recv(t, f.peers, "BuildProtocol's address").String())
	assert.Equal(t, [2]int{1, 1}, on(h, func() [2]int { return [2]int{f.starts, f.stops} }), "the factory is stopped once the connection is lost")
}

// Twisted's test_userFail: StopConnecting in StartedConnecting fails the
// attempt with ErrUserCancelled.
func TestStopConnectingInStartedConnecting(t *testing.T) {
	h := newHarness(t)
	port := h.listen(tcp4, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() }))
	f := newClientFactory(func() protocol.Protocol { t.Error("no protocol is built"); return nil })
	h.do(func() {
		c := protocol.ConnectTCP(h.r, port.Addr().String(), f)
		recv(t, f.started, "StartedConnecting")
		c.StopConnecting()
		c.StopConnecting() // no attempt in progress: nothing to do
	})
	err := recv(t, f.failed, "ClientConnectionFailed")
	assert.ErrorIs(t, err, protocol.ErrConnect)
	assert.ErrorIs(t, err, protocol.ErrUserCancelled)
	assert.Equal(t, [2]int{1, 1}, on(h, func() [2]int { return [2]int{f.starts, f.stops} }))
}

// Twisted's test_reconnect: Connect in ClientConnectionLost connects
// again; once the server has gone, the next attempt is refused.
func TestReconnectFromClientConnectionLost(t *testing.T) {
	h := newHarness(t)
	var port *protocol.Port
	server := func() protocol.Protocol {
		p := newRec()
		p.onMade = func(p *rec) { p.Transport.LoseConnection() }
		return p
	}
	made := 0
	port = h.listen(tcp4, protocol.FactoryFunc(func(net.Addr) protocol.Protocol {
		made++
		if made == 2 {
			port.StopListening() // the second connection is the last
		}
		return server()
	}))
	f := newClientFactory(func() protocol.Protocol { return newRec() })
	f.onLost = func(c protocol.Connector, _ error) {
		assert.PanicsWithValue(t, "protocol: Connector.Connect: already connecting or connected", func() {
			c.Connect()
			c.Connect()
		})
	}
	f.onFail = func(protocol.Connector, error) {}
	h.connect(port, f)
	recv(t, f.lost, "the first ClientConnectionLost")
	recv(t, f.lost, "the second ClientConnectionLost")
	err := recv(t, f.failed, "the third attempt's failure")
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Equal(t, [2]int{1, 1}, on(h, func() [2]int { return [2]int{f.starts, f.stops} }), "started once, stopped once the connector has stopped for good")
}

// A connection attempt to an address that does not answer fails after its
// timeout with ErrTimeout.
func TestConnectTimeout(t *testing.T) {
	h := newHarness(t)
	addr := unansweringAddr(t)
	f := newClientFactory(func() protocol.Protocol { return newRec() })
	h.do(func() { protocol.ConnectTCP(h.r, addr, f, protocol.WithTimeout(50*time.Millisecond)) })
	err := recv(t, f.failed, "ClientConnectionFailed")
	assert.ErrorIs(t, err, protocol.ErrConnect)
	assert.ErrorIs(t, err, protocol.ErrTimeout)
}

// Twisted's test_connectByService and name resolution: a host name is
// looked up off the reactor, a service name gives the port; a name that
// does not resolve, or a malformed address, fails the attempt.
func TestConnectByNameAndBadAddresses(t *testing.T) {
	h := newHarness(t)
	server := newRec()
	port := h.listen(tcp4, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
	client := newRec()
	f := newClientFactory(func() protocol.Protocol { return client })
	pn := port.Addr().(*net.TCPAddr).Port
	h.do(func() { protocol.ConnectTCP(h.r, net.JoinHostPort("localhost", itoa(pn)), f) })
	select {
	case <-client.made:
	case err := <-f.failed:
		t.Fatalf("connecting to localhost failed: %v", err)
	case <-time.After(waitLimit):
		t.Fatal("timed out")
	}
	for _, addr := range []string{"no-such-host.invalid:80", "127.0.0.1", "127.0.0.1:no-such-service", "[::1:80"} {
		f := newClientFactory(func() protocol.Protocol { return newRec() })
		h.do(func() { protocol.ConnectTCP(h.r, addr, f) })
		assert.ErrorIs(t, recv(t, f.failed, "ClientConnectionFailed for "+addr), protocol.ErrConnect, addr)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Disconnect ends the connection if there is one, or the attempt.
func TestDisconnect(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	_, c := h.pair(tcp4, server, client)
	h.do(c.Disconnect)
	assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
	h.do(c.Disconnect) // nothing to do
}

// ReconnectingClientFactory over real sockets: refused attempts are
// retried after its backoff, and once a server listens the connection is
// made; StopTrying then ends the retries.
func TestReconnectingClientFactoryOverLoopback(t *testing.T) {
	h := newHarness(t)
	addr := on(h, func() string {
		port, err := protocol.ListenTCP(h.r, "127.0.0.1:0", protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() }))
		if err != nil {
			return ""
		}
		port.StopListening()
		return port.Addr().String()
	})
	require.NotEmpty(t, addr)
	client := newRec()
	var f *protocol.ReconnectingClientFactory
	h.do(func() {
		f = protocol.NewReconnectingClientFactory(h.r, func(net.Addr) protocol.Protocol { return client })
		f.InitialDelay, f.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
		protocol.ConnectTCP(h.r, addr, f)
	})
	// Wait for a retry or two to be refused, then listen.
	for on(h, func() int { return f.Retries() }) < 2 {
		h.do(func() {})
	}
	server := newRec()
	h.do(func() {
		_, err := protocol.ListenTCP(h.r, addr, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return server }))
		assert.NoError(t, err)
	})
	recv(t, client.made, "the client's connection, after the retries")
	recv(t, server.made, "the server's connection")
	h.do(func() {
		f.StopTrying()
		client.Transport.LoseConnection()
	})
	recv(t, client.lost, "the client's ConnectionLost")
	assert.False(t, on(h, func() bool { return f.ContinueTrying() }))
}
