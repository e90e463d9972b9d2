//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
)

// tlsEcho listens with the description "ssl:0:interface=127.0.0.1:..." on
// p's files and echoes; it returns the port.
func tlsEcho(t *testing.T, h *harness, p *pki) int {
	t.Helper()
	q := protocol.QuoteStringArgument
	e, err := protocol.ServerFromString(h.r, "ssl:0:interface=127.0.0.1:privateKey="+q(p.keyFile)+":certKey="+q(p.crtFile))
	require.NoError(t, err)
	port, err := h.listenOn(e, protocol.FactoryFunc(func(net.Addr) protocol.Protocol {
		s := newRec()
		s.onData = func(p *rec, b []byte) { p.Transport.Write(b) }
		return s
	}))
	require.NoError(t, err)
	return port.Addr().(*net.TCPAddr).Port
}

// An ssl server and client made from strings talk over loopback, the
// client verifying the server's name and chain against caCertsDir.
func TestSSLEndpointsOverLoopback(t *testing.T) {
	h := newHarness(t)
	p := newPKI(t)
	port := tlsEcho(t, h, p)
	for _, desc := range []string{
		fmt.Sprintf("ssl:127.0.0.1:%d:hostname=localhost:caCertsDir=%s", port, protocol.QuoteStringArgument(p.caDir)),
		fmt.Sprintf("ssl:host=localhost:port=%d:hostname=localhost:caCertsDir=%s", port, protocol.QuoteStringArgument(p.caDir)),
		fmt.Sprintf("ssl:127.0.0.1:%d:caCertsDir=%s", port, protocol.QuoteStringArgument(p.caDir)), // the chain only
		fmt.Sprintf("ssl:127.0.0.1:%d", port), // Twisted's unverified default
	} {
		t.Run(desc, func(t *testing.T) {
			e, err := protocol.ClientFromString(h.r, desc)
			require.NoError(t, err)
			client := newRec()
			r := recv(t, h.connectTo(e, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return client })), "Connect's Deferred")
			require.NoError(t, r.err)
			h.do(func() { client.Transport.Write([]byte("ping")) })
			assert.Equal(t, []byte("ping"), readAll(t, h, client, 4))
			type handshake struct {
				state tls.ConnectionState
				done  bool
			}
			hs := on(h, func() handshake {
				s, ok := client.Transport.(protocol.SSLTransport).ConnectionState()
				return handshake{s, ok}
			})
			require.True(t, hs.done, "the handshake has ended")
			state := hs.state
			require.NotEmpty(t, state.PeerCertificates)
			assert.Equal(t, p.leaf.Raw, state.PeerCertificates[0].Raw)
			// How a TLS close is reported is the TLS tests' concern; here
			// the connection only has to end.
			h.do(func() { client.Transport.LoseConnection() })
			assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrConnectionClosed)
		})
	}
}

// A server whose certificate does not verify ends the connection with
// ErrTLS: a wrong hostname, a chain that leads to no CA of caCertsDir.
// Connect's Deferred has fired before, as the TCP connection was up, as in
// Twisted.
func TestSSLEndpointVerificationFails(t *testing.T) {
	h := newHarness(t)
	p, other := newPKI(t), newPKI(t)
	port := tlsEcho(t, h, p)
	for _, desc := range []string{
		fmt.Sprintf("ssl:127.0.0.1:%d:hostname=example.com:caCertsDir=%s", port, protocol.QuoteStringArgument(p.caDir)),
		fmt.Sprintf("ssl:127.0.0.1:%d:caCertsDir=%s", port, protocol.QuoteStringArgument(other.caDir)),
		fmt.Sprintf("ssl:127.0.0.1:%d:hostname=localhost:caCertsDir=%s", port, protocol.QuoteStringArgument(other.caDir)),
	} {
		t.Run(desc, func(t *testing.T) {
			e, err := protocol.ClientFromString(h.r, desc)
			require.NoError(t, err)
			client := newRec()
			r := recv(t, h.connectTo(e, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return client })), "Connect's Deferred")
			require.NoError(t, r.err)
			assert.ErrorIs(t, recv(t, client.lost, "the client's ConnectionLost"), protocol.ErrTLS)
		})
	}
}

// A TLSClientEndpoint whose Config verifies the server but names none
// verifies Host, though it dials the addresses Host resolves to.
func TestTLSClientEndpointNamesHost(t *testing.T) {
	h := newHarness(t)
	p := newPKI(t)
	port := tlsEcho(t, h, p)
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	config := &tls.Config{RootCAs: pool}
	client := newRec()
	e := protocol.NewTLSClientEndpoint(h.r, "localhost", port, config)
	r := recv(t, h.connectTo(e, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return client })), "Connect's Deferred")
	require.NoError(t, r.err)
	h.do(func() { client.Transport.Write([]byte("ping")) })
	assert.Equal(t, []byte("ping"), readAll(t, h, client, 4))
	assert.Empty(t, config.ServerName, "the caller's Config is not changed")
}

// A TLS server endpoint whose Config has no certificate fails Listen.
func TestTLSServerEndpointWithoutCertificate(t *testing.T) {
	h := newHarness(t)
	_, err := h.listenOn(protocol.NewTLSServerEndpoint(h.r, 0, "127.0.0.1", &tls.Config{}), protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return newRec() }))
	require.ErrorIs(t, err, protocol.ErrCannotListen)
	assert.ErrorIs(t, err, protocol.ErrTLS)
}

// handshaker is a rec that hears the end of its TLS handshake.
type handshaker struct {
	*rec
	done chan bool
}

func (p *handshaker) HandshakeCompleted() { p.done <- true }

// A protocol connected through a TLS endpoint hears HandshakeCompleted, as
// one connected with ConnectTLS does.
func TestTLSClientEndpointHandshakeListener(t *testing.T) {
	h := newHarness(t)
	p := newPKI(t)
	port := tlsEcho(t, h, p)
	e, err := protocol.ClientFromString(h.r, fmt.Sprintf("ssl:127.0.0.1:%d:hostname=localhost:caCertsDir=%s", port, protocol.QuoteStringArgument(p.caDir)))
	require.NoError(t, err)
	client := &handshaker{rec: newRec(), done: make(chan bool, 1)}
	r := recv(t, h.connectTo(e, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return client })), "Connect's Deferred")
	require.NoError(t, r.err)
	assert.Same(t, client, r.v)
	assert.True(t, recv(t, client.done, "HandshakeCompleted"))
}
