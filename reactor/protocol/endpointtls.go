package protocol

import (
	"crypto/tls"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// TLSServerEndpoint listens for TLS connections over TCP: Twisted's
// SSL4ServerEndpoint. [NewTLSServerEndpoint] makes one, and
// [ServerFromString] makes one from "ssl:...". Set its fields before the
// first Listen.
type TLSServerEndpoint struct {
	// TCPServerEndpoint says where to listen, as for plain TCP.
	TCPServerEndpoint

	// Config is the TLS configuration of each connection; it must hold a
	// certificate, and must not change once Listen has been called.
	Config *tls.Config
}

// NewTLSServerEndpoint returns an endpoint that listens for TLS over TCP
// on IPv4, at port on iface (an IPv4 literal, or "" for every interface),
// with config: Twisted's SSL4ServerEndpoint(reactor, port,
// sslContextFactory, interface=iface).
func NewTLSServerEndpoint(r *reactor.Reactor, port int, iface string, config *tls.Config) *TLSServerEndpoint {
	return &TLSServerEndpoint{TCPServerEndpoint: *NewTCP4ServerEndpoint(r, port, iface), Config: config}
}

// Listen implements [ServerEndpoint] as [TCPServerEndpoint.Listen] does,
// with [ListenTLS]: each connection's ConnectionMade runs once the TCP
// connection is up, and its writes are held until the handshake ends. A
// Config without a certificate fails the Deferred with [ErrCannotListen]
// and [ErrTLS]. A nil Reactor, Config or f panics.
func (e *TLSServerEndpoint) Listen(f Factory) *deferred.Deferred[ListeningPort] {
	if e.Reactor == nil || e.Config == nil || f == nil {
		panic("protocol: TLSServerEndpoint.Listen: nil Reactor, Config or Factory")
	}
	return e.listen(f, func(address string, opts []Option) (*Port, error) {
		return ListenTLS(e.Reactor, address, e.Config, f, opts...)
	})
}

// TLSClientEndpoint connects over TLS to a host and port: Twisted's
// SSL4ClientEndpoint, with HostnameEndpoint's lookup. [NewTLSClientEndpoint]
// makes one, and [ClientFromString] makes one from "ssl:...". Set its
// fields before the first Connect.
type TLSClientEndpoint struct {
	// TCPClientEndpoint says where to connect, as for plain TCP.
	TCPClientEndpoint

	// Config is the TLS configuration of each connection. When it
	// verifies the server and has no ServerName, Host is the name the
	// server's certificate must hold.
	Config *tls.Config
}

// NewTLSClientEndpoint returns an endpoint that connects over TLS to host
// (an IP literal or a name) at port with config: Twisted's
// SSL4ClientEndpoint(reactor, host, port, sslContextFactory).
func NewTLSClientEndpoint(r *reactor.Reactor, host string, port int, config *tls.Config) *TLSClientEndpoint {
	return &TLSClientEndpoint{TCPClientEndpoint: *NewTCPClientEndpoint(r, host, port), Config: config}
}

// Connect implements [ClientEndpoint] as [TCPClientEndpoint.Connect] does,
// with [ConnectTLS]: the Deferred fires once the protocol's ConnectionMade
// has run, as soon as the TCP connection is up, as in Twisted; a handshake
// that fails then ends the connection (ConnectionLost with [ErrTLS]). A
// Config that verifies the server and has no ServerName verifies Host. A
// nil Reactor, Config or f panics.
func (e *TLSClientEndpoint) Connect(f Factory) *deferred.Deferred[Protocol] {
	if e.Reactor == nil || e.Config == nil || f == nil {
		panic("protocol: TLSClientEndpoint.Connect: nil Reactor, Config or Factory")
	}
	config := e.Config
	if config.ServerName == "" && !config.InsecureSkipVerify {
		// The addresses dialled are IP literals: name the host.
		config = config.Clone()
		config.ServerName = e.Host
	}
	return e.connect(f, "ssl", func(address string, cf ClientFactory, opts []Option) Connector {
		return ConnectTLS(e.Reactor, address, config, cf, opts...)
	})
}

var (
	_ ServerEndpoint = (*TLSServerEndpoint)(nil)
	_ ClientEndpoint = (*TLSClientEndpoint)(nil)
)
