package protocol

import (
	"net"

	"github.com/twinego/twine/deferred"
)

// ServerEndpoint is a place to listen for connections, described apart
// from the code that listens: Twisted's IStreamServerEndpoint. Listen starts
// listening with f and returns a Deferred that fires, on the reactor
// goroutine, with the port once it listens, or fails with the reason it
// cannot (an error matched by [ErrCannotListen], wrapping the cause).
type ServerEndpoint interface {
	Listen(f Factory) *deferred.Deferred[ListeningPort]
}

// ClientEndpoint is a place to connect to: Twisted's IStreamClientEndpoint.
// Connect starts one connection attempt with f and returns a Deferred that
// fires, on the reactor goroutine, with the protocol f built once its
// ConnectionMade has run, or fails with the reason the attempt failed (an
// error matched by [ErrConnect], wrapping the cause). Cancelling the
// Deferred stops the attempt.
type ClientEndpoint interface {
	Connect(f Factory) *deferred.Deferred[Protocol]
}

// ListeningPort is a port that listens for connections: Twisted's
// IListeningPort.
type ListeningPort interface {
	// StopListening closes the port: it accepts no more connections (those
	// already made go on), and the returned Deferred fires on the reactor
	// goroutine once the socket is closed and the factory told, if it is a
	// [FactoryHooks], that this port no longer uses it. Calling it again
	// returns a Deferred that fires when the first call's does.
	StopListening() *deferred.Deferred[struct{}]

	// Addr is the address the port listens on (with the port number the
	// system chose for port 0): Twisted's getHost.
	Addr() net.Addr
}
