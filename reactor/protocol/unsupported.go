//go:build !(darwin || dragonfly || freebsd || linux || netbsd)

package protocol

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// Port is a listening socket. On this system there are none: see
// [ErrUnsupported].
type Port struct{}

// Addr returns nil.
func (p *Port) Addr() net.Addr { return nil }

// StopListening returns a Deferred that has fired.
func (p *Port) StopListening() *deferred.Deferred[struct{}] { return deferred.Succeed(struct{}{}) }

// ListenTCP fails with [ErrUnsupported] on this system.
func ListenTCP(r *reactor.Reactor, address string, f Factory, opts ...Option) (*Port, error) {
	return nil, fmt.Errorf("%w: tcp %s: %w", ErrCannotListen, address, ErrUnsupported)
}

// ListenTLS fails with [ErrUnsupported] on this system.
func ListenTLS(r *reactor.Reactor, address string, config *tls.Config, f Factory, opts ...Option) (*Port, error) {
	return nil, fmt.Errorf("%w: tls %s: %w", ErrCannotListen, address, ErrUnsupported)
}

// ConnectTLS tells f, in a function given to CallSoon, that the attempt
// failed with [ErrUnsupported].
func ConnectTLS(r *reactor.Reactor, address string, config *tls.Config, f ClientFactory, opts ...Option) Connector {
	return failConnect(r, "tcp", address, f)
}

// ListenUnix fails with [ErrUnsupported] on this system.
func ListenUnix(r *reactor.Reactor, path string, f Factory, opts ...Option) (*Port, error) {
	return nil, fmt.Errorf("%w: unix %s: %w", ErrCannotListen, path, ErrUnsupported)
}

// ConnectTCP tells f, in a function given to CallSoon, that the attempt
// failed with [ErrUnsupported].
func ConnectTCP(r *reactor.Reactor, address string, f ClientFactory, opts ...Option) Connector {
	return failConnect(r, "tcp", address, f)
}

// ConnectUnix tells f, in a function given to CallSoon, that the attempt
// failed with [ErrUnsupported].
func ConnectUnix(r *reactor.Reactor, path string, f ClientFactory, opts ...Option) Connector {
	return failConnect(r, "unix", path, f)
}

// unsupportedConnector is the Connector of a system without sockets on the
// reactor: every attempt fails.
type unsupportedConnector struct {
	r       *reactor.Reactor
	f       ClientFactory
	addr    net.Addr
	address string
}

type unsupportedAddr struct{ network, address string }

func (a unsupportedAddr) Network() string { return a.network }
func (a unsupportedAddr) String() string  { return a.address }

func failConnect(r *reactor.Reactor, network, address string, f ClientFactory) Connector {
	c := &unsupportedConnector{r: r, f: f, addr: unsupportedAddr{network, address}, address: address}
	c.Connect()
	return c
}

func (c *unsupportedConnector) Connect() {
	c.f.StartedConnecting(c)
	c.r.CallSoon(func() {
		c.f.ClientConnectionFailed(c, fmt.Errorf("%w: %s: %w", ErrConnect, c.address, ErrUnsupported))
	})
}

func (c *unsupportedConnector) StopConnecting()       {}
func (c *unsupportedConnector) Disconnect()           {}
func (c *unsupportedConnector) Destination() net.Addr { return c.addr }

// SpawnProcess fails with [ErrUnsupported] on this system.
func SpawnProcess(r *reactor.Reactor, p ProcessProtocol, name string, args []string, opts ...ProcessOption) (ProcessTransport, error) {
	return nil, fmt.Errorf("%w: %s: %w", ErrSpawn, name, ErrUnsupported)
}
