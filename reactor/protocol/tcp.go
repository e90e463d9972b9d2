//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"fmt"
	"syscall"

	"github.com/twinego/twine/reactor"
)

// ListenTCP listens on address ("host:port", as Go's net.Listen takes it;
// the host an IPv4 or IPv6 literal, or empty for every IPv4 interface, as
// Twisted's interface ”; the port 0 for one the system chooses) and has f
// build a protocol for each connection it accepts: Twisted's
// reactor.listenTCP. The port listens at once; its connections are served
// once r runs.
//
// It fails with an error matched by [ErrCannotListen], wrapping the cause,
// when the address is malformed, in use, or not local, or once r has shut
// down ([ErrShutdown]). A factory with [FactoryHooks] is started here, if
// this is its first port or connector. Call it on the reactor goroutine, or
// before [reactor.Reactor.Run]. A nil r or f panics.
//
// Each connection's protocol runs on the reactor goroutine; see [Transport]
// for what its transport guarantees. When r shuts down, the port stops
// listening and its connections are lost ([ErrShutdown]).
func ListenTCP(r *reactor.Reactor, address string, f Factory, opts ...Option) (*Port, error) {
	if f == nil {
		panic("protocol: ListenTCP: nil Factory")
	}
	o := newOptions(opts)
	fail := func(err error) (*Port, error) {
		return nil, fmt.Errorf("%w: tcp %s: %w", ErrCannotListen, address, err)
	}
	e, fd, _, err := boundSocket(r, "tcp", address, syscall.SOCK_STREAM, func(fd int) error {
		// As Twisted does on POSIX, so that a restarted server can listen
		// again while its old connections linger in TIME_WAIT.
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		return nil
	})
	if err != nil {
		return fail(err)
	}
	p, err := listen(e, fd, f, o)
	if err != nil {
		_ = syscall.Close(fd)
		return fail(err)
	}
	p.noDelay = o.noDelay
	return p, nil
}

// ConnectTCP connects to address ("host:port"; the host an IP literal or a
// name, looked up on another goroutine; the port a number or a service
// name) for f, and returns the [Connector] that makes the attempt and any
// later one: Twisted's reactor.connectTCP. The attempt starts at once and
// goes on once r runs: f hears StartedConnecting now, then
// ClientConnectionFailed with an error matched by [ErrConnect] (refused,
// timed out after [WithTimeout], a name that does not resolve, an address
// that does not parse, [ErrUserCancelled], [ErrShutdown]), or builds the
// connection's protocol, whose ConnectionMade follows; once that
// connection has ended, f hears ClientConnectionLost. Call it on the
// reactor goroutine, or before Run. A nil r or f panics.
func ConnectTCP(r *reactor.Reactor, address string, f ClientFactory, opts ...Option) Connector {
	c := newConnector(r, "tcp", address, f, newOptions(opts))
	c.Connect()
	return c
}
