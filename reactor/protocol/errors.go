package protocol

import (
	"errors"
	"fmt"
)

// The reasons a connection ends, in Twisted's tree: [ErrConnectionDone] and
// [ErrConnectionLost] are both [ErrConnectionClosed], and
// [ErrConnectionAborted] is also [ErrConnectionLost]. errors.Is follows the
// tree, so a protocol that only cares whether a close was clean writes
//
//	if errors.Is(reason, protocol.ErrConnectionDone) { ... }
//
// and one that cares about any close at all tests ErrConnectionClosed.
var (
	// ErrConnectionClosed is the root of the tree: the connection ended, for
	// whatever reason. Twisted's ConnectionClosed.
	ErrConnectionClosed = errors.New("protocol: connection closed")

	// ErrConnectionDone is a clean close: this side called LoseConnection
	// and its buffer was written, or the peer closed its side in an orderly
	// way. Twisted's ConnectionDone.
	ErrConnectionDone error = &reason{"protocol: connection was closed cleanly", ErrConnectionClosed}

	// ErrConnectionLost is a close that was not clean: a reset, a broken
	// pipe, a read or write error. The reason a protocol receives wraps the
	// cause as well (a *[DisconnectError]), so errors.Is finds
	// syscall.ECONNRESET through it too. Twisted's ConnectionLost.
	ErrConnectionLost error = &reason{"protocol: connection to the other side was lost", ErrConnectionClosed}

	// ErrConnectionAborted is a close forced by this side with
	// AbortConnection, or by twine when a protocol callback panicked: the
	// write buffer was dropped. Twisted's ConnectionAborted.
	ErrConnectionAborted error = &reason{"protocol: connection was aborted", ErrConnectionLost}
)

// reason is a sentinel with a parent in the tree.
type reason struct {
	msg    string
	parent error
}

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return r.parent }

// DisconnectError is the reason a connection ended when a cause lies under
// it: Reason is one of the sentinels of the tree ([ErrConnectionLost],
// [ErrConnectionAborted], ...) and Err the error that caused it (a
// *net.OpError wrapping syscall.ECONNRESET, a *deferred.PanicError, ...).
// errors.Is and errors.As see both.
type DisconnectError struct {
	Reason error
	Err    error
}

// Error reports the reason and its cause.
func (e *DisconnectError) Error() string {
	if e.Err == nil {
		return e.Reason.Error()
	}
	return fmt.Sprintf("%v: %v", e.Reason, e.Err)
}

// Unwrap returns the reason and the cause, so that errors.Is matches either.
func (e *DisconnectError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

// ErrUserCancelled is the reason a connection attempt fails when
// [Connector.StopConnecting] or a cancelled Deferred stopped it: Twisted's
// UserError.
var ErrUserCancelled = errors.New("protocol: connection attempt cancelled")

// ErrCannotListen is the error, wrapped with the address and its cause,
// that a port fails with when it cannot listen: the address is in use, not
// local, not allowed. Twisted's CannotListenError.
var ErrCannotListen = errors.New("protocol: cannot listen")

// ErrConnect is the error, wrapped with the address and its cause, that a
// connection attempt fails with: refused, timed out, a name that does not
// resolve, cancelled. Twisted's ConnectError and its subclasses; errors.Is
// with the cause (syscall.ECONNREFUSED, [ErrUserCancelled], a
// *net.DNSError through errors.As) tells them apart.
var ErrConnect = errors.New("protocol: connection attempt failed")

// ErrTimeout is the cause under [ErrConnect] when a connection attempt took
// longer than its timeout: Twisted's TimeoutError.
var ErrTimeout = errors.New("protocol: connection attempt timed out")

// ErrShutdown is the cause under the reason a connection ends with, or a
// listen or a connection attempt fails with, when its reactor shuts down:
// the connection ends with an [ErrConnectionLost] wrapping it, as in
// Twisted, where the reactor's shutdown loses every connection.
var ErrShutdown = errors.New("protocol: reactor shut down")

// ErrUnsupported is the cause under [ErrCannotListen] and [ErrConnect] on a
// system where twine has no sockets on the reactor yet (those other than
// Linux, macOS, FreeBSD, NetBSD and DragonFly).
var ErrUnsupported = errors.New("protocol: sockets on the reactor are not supported on this system")
