//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bytes"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
)

// An echo over each kind of socket: the server writes back what it reads,
// the client closes once it has it all, and both see a clean close.
func TestEchoOverEachFamily(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			h := newHarness(t)
			server, client := newRec(), newRec()
			server.onData = func(p *rec, b []byte) { p.Transport.Write(b) }
			msg := bytes.Repeat([]byte("twine "), 1000)
			client.onMade = func(p *rec) { p.Transport.Write(msg) }
			h.pair(fam, server, client)
			assert.Equal(t, msg, readAll(t, h, client, len(msg)))
			h.do(func() { client.Transport.LoseConnection() })
			assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionDone)
			assert.ErrorIs(t, recv(t, server.lost, "the server's ConnectionLost"), protocol.ErrConnectionDone)
		})
	}
}

// Twisted's test_addresses and the getHost/getPeer tests: each end's
// addresses are the other's, and the port's is the one chosen for port 0.
func TestAddresses(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			h := newHarness(t)
			server, client := newRec(), newRec()
			port, conn := h.pair(fam, server, client)
			type addrs struct{ sl, sr, cl, cr, dest net.Addr }
			a := on(h, func() addrs {
				return addrs{server.Transport.LocalAddr(), server.Transport.RemoteAddr(), client.Transport.LocalAddr(), client.Transport.RemoteAddr(), conn.Destination()}
			})
			if fam.name == "unix" {
				path := port.Addr().(*net.UnixAddr).Name
				assert.Equal(t, &net.UnixAddr{Name: path, Net: "unix"}, a.sl)
				assert.Equal(t, &net.UnixAddr{Name: path, Net: "unix"}, a.cr)
				assert.Equal(t, "unix", a.sr.Network())
				assert.Equal(t, path, a.dest.String())
				return
			}
			pa := port.Addr().(*net.TCPAddr)
			assert.NotZero(t, pa.Port, "the port the system chose")
			assert.Equal(t, pa.String(), a.sl.String())
			assert.Equal(t, pa.String(), a.cr.String())
			assert.Equal(t, a.cl.String(), a.sr.String())
			assert.Equal(t, pa.String(), a.dest.String())
			assert.Equal(t, "tcp", a.sl.Network())
		})
	}
}

// Twisted's CannotBindTests: a port in use, an address that is not local, a
// malformed one: a clear error, never a panic.
func TestListenFailures(t *testing.T) {
	h := newHarness(t)
	port := h.listen(families[0], protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() }))
	f := protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() })
	for _, tt := range []struct {
		addr  string
		cause error
	}{
		{port.Addr().String(), syscall.EADDRINUSE},
		{"192.0.2.1:0", syscall.EADDRNOTAVAIL},
		{"localhost:0", nil}, // a name: Twisted's interface must be an address
		{"127.0.0.1", nil},
		{"127.0.0.1:notaport", nil},
	} {
		err := on(h, func() error { _, err := protocol.ListenTCP(h.r, tt.addr, f); return err })
		require.Error(t, err, tt.addr)
		assert.ErrorIs(t, err, protocol.ErrCannotListen, tt.addr)
		if tt.cause != nil {
			assert.ErrorIs(t, err, tt.cause, tt.addr)
		}
	}
}

// Twisted's testFailing and test_connectionRefusedErrorNumber: a refused
// connection fails the attempt with ECONNREFUSED under ErrConnect, and the
// factory, started for the attempt, is stopped after it.
func TestConnectRefused(t *testing.T) {
	h := newHarness(t)
	port := h.listen(families[0], protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() }))
	addr := port.Addr().String()
	h.stopListening(port)
	f := newClientFactory(func() protocol.Protocol { return newRec() })
	h.do(func() { protocol.ConnectTCP(h.r, addr, f) })
	recv(t, f.started, "StartedConnecting")
	err := recv(t, f.failed, "ClientConnectionFailed")
	assert.ErrorIs(t, err, protocol.ErrConnect)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Equal(t, [2]int{1, 1}, on(h, func() [2]int { return [2]int{f.starts, f.stops} }))
}
