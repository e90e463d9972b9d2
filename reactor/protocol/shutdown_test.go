//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
)

// Stop closes the listening ports, then the connections: each protocol
// sees ConnectionLost once, with ErrConnectionLost and ErrShutdown under
// it, as Twisted's reactor loses every connection when it stops; the
// factories are stopped, no descriptor is left open, and TestMain's goleak
// finds no goroutine.
func TestStopClosesPortsThenConnections(t *testing.T) {
	silent := unansweringAddr(t)
	before := openFDs(t)
	h := newHarness(t)
	var order []string
	var ports []*protocol.Port
	sf := newServerFactory(func() protocol.Protocol {
		p := newRec()
		p.onLost = func(*rec, error) {
			// The ports are closed before any connection is lost.
			_, err := net.Dial("tcp", ports[0].Addr().String())
			assert.Error(t, err, "the port still listened when a connection was lost")
			order = append(order, "server lost")
		}
		return p
	})
	for _, fam := range families {
		ports = append(ports, h.listen(fam, sf))
	}
	var clients []*rec
	var cfs []*clientFactory
	for _, port := range ports {
		for range 3 {
			c := newRec()
			c.onLost = func(*rec, error) { order = append(order, "client lost") }
			cf := newClientFactory(func() protocol.Protocol { return c })
			h.connect(port, cf)
			recv(t, c.made, "a client connection")
			clients = append(clients, c)
			cfs = append(cfs, cf)
		}
	}
	var servers []*rec
	for range clients {
		servers = append(servers, recv(t, sf.protos, "a server protocol").(*rec))
	}
	// A connection attempt under way at the stop fails.
	pending := newClientFactory(func() protocol.Protocol { return newRec() })
	h.do(func() { protocol.ConnectTCP(h.r, silent, pending) })
	assert.Equal(t, 1, on(h, func() int { return sf.starts }))
	h.stop()

	for _, p := range append(servers, clients...) {
		reason := recv(t, p.lost, "ConnectionLost at the stop")
		assert.ErrorIs(t, reason, protocol.ErrConnectionLost)
		assert.ErrorIs(t, reason, protocol.ErrShutdown)
		none(t, p.lost, "a second ConnectionLost")
	}
	for _, cf := range cfs {
		assert.ErrorIs(t, recv(t, cf.lost, "ClientConnectionLost"), protocol.ErrShutdown)
		assert.Equal(t, 1, cf.stops)
	}
	err := recv(t, pending.failed, "the pending attempt's failure")
	assert.ErrorIs(t, err, protocol.ErrConnect)
	assert.ErrorIs(t, err, protocol.ErrShutdown)
	assert.Equal(t, 1, sf.stops, "the server factory is stopped with its last port")
	assert.Len(t, order, 2*len(clients))
	assert.Equal(t, before, openFDs(t), "a descriptor was left open")
	_, err = os.Stat(ports[2].Addr().(*net.UnixAddr).Name)
	assert.ErrorIs(t, err, os.ErrNotExist, "the Unix socket's file is removed")

	// After the stop, listening fails with a clear error.
	_, err = protocol.ListenTCP(h.r, "127.0.0.1:0", sf)
	assert.ErrorIs(t, err, protocol.ErrCannotListen)
	assert.ErrorIs(t, err, protocol.ErrShutdown)
}

// Twisted's testStopListening and test_restartListening: a stopped port
// accepts no more, its address can be listened on again once the Deferred
// has fired, connections already made go on, and StopListening twice
// fires both Deferreds.
func TestStopListeningAndListenAgain(t *testing.T) {
	h := newHarness(t)
	server, client := newRec(), newRec()
	port, _ := h.pair(tcp4, server, client)
	addr := port.Addr().String()
	second := on(h, func() <-chan result[struct{}] {
		port.StopListening()
		return watch(port.StopListening())
	})
	h.stopListening(port)
	require.NoError(t, recv(t, second, "the second StopListening").err)
	_, err := net.Dial("tcp", addr)
	require.Error(t, err, "a stopped port refuses connections")

	h.do(func() { client.Transport.Write([]byte("still up")) })
	assert.Equal(t, "still up", string(readAll(t, h, server, 8)))

	again, err := on(h, func() result[*protocol.Port] {
		p, err := protocol.ListenTCP(h.r, addr, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() }))
		return result[*protocol.Port]{p, err}
	}), error(nil)
	require.NoError(t, again.err)
	assert.Equal(t, addr, again.v.Addr().String())
}

// Twisted's test_serverStartStop: a factory used by two ports is started
// with the first and stopped with the last.
func TestFactoryStartsWithFirstPortAndStopsWithLast(t *testing.T) {
	h := newHarness(t)
	f := newServerFactory(func() protocol.Protocol { return newRec() })
	p1 := h.listen(tcp4, f)
	p2 := h.listen(tcp4, f)
	assert.Equal(t, [2]int{1, 0}, on(h, func() [2]int { return [2]int{f.starts, f.stops} }))
	h.stopListening(p1)
	assert.Equal(t, [2]int{1, 0}, on(h, func() [2]int { return [2]int{f.starts, f.stops} }))
	h.stopListening(p2)
	assert.Equal(t, [2]int{1, 1}, on(h, func() [2]int { return [2]int{f.starts, f.stops} }))
}

// Twisted's Unix tests: the socket's file gets the mode asked for; a path
// already taken cannot be listened on; the abstract namespace works.
func TestUnixSpecifics(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "mode")
	f := protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() })
	port, err := on(h, func() result[*protocol.Port] {
		p, err := protocol.ListenUnix(h.r, path, f, protocol.WithMode(0o600))
		return result[*protocol.Port]{p, err}
	}).v, error(nil)
	require.NoError(t, err)
	require.NotNil(t, port)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	err = on(h, func() error { _, err := protocol.ListenUnix(h.r, path, f); return err })
	assert.ErrorIs(t, err, protocol.ErrCannotListen, "the path is taken")
	err = on(h, func() error {
		_, err := protocol.ListenUnix(h.r, filepath.Join(dir, "no", "such", "dir"), f)
		return err
	})
	assert.ErrorIs(t, err, protocol.ErrCannotListen)

	abstract := families[2]
	abstract.address = func(*testing.T) string { return "@twine-test-" + filepath.Base(dir) }
	server, client := newRec(), newRec()
	client.onMade = func(p *rec) { p.Transport.Write([]byte("abstract")) }
	h.pair(abstract, server, client)
	assert.Equal(t, "abstract", string(readAll(t, h, server, 8)))

	missing := newClientFactory(func() protocol.Protocol { return newRec() })
	h.do(func() { protocol.ConnectUnix(h.r, filepath.Join(dir, "nobody"), missing) })
	assert.ErrorIs(t, recv(t, missing.failed, "ClientConnectionFailed"), protocol.ErrConnect)
}
