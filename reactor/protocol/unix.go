//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"fmt"
	"os"
	"syscall"

	"github.com/twinego/twine/reactor"
)

// ListenUnix listens on the Unix socket at path (a leading '@' names
// Linux's abstract namespace, with no file) and has f build a protocol for
// each connection it accepts: Twisted's reactor.listenUNIX. The socket's
// file gets the mode of [WithMode] and is removed when the port stops
// listening. A file already at path is not removed: ListenUnix fails, with
// an error matched by [ErrCannotListen] wrapping the cause, as it does for
// any path it cannot bind. Otherwise it is [ListenTCP] for Unix sockets.
func ListenUnix(r *reactor.Reactor, path string, f Factory, opts ...Option) (*Port, error) {
	if f == nil {
		panic("protocol: ListenUnix: nil Factory")
	}
	o := newOptions(opts)
	fail := func(err error) (*Port, error) {
		return nil, fmt.Errorf("%w: unix %s: %w", ErrCannotListen, path, err)
	}
	if path == "" {
		return fail(os.ErrInvalid)
	}
	e, err := engineFor(r)
	if err != nil {
		return fail(err)
	}
	fd, err := socket(syscall.AF_UNIX, syscall.SOCK_STREAM)
	if err != nil {
		return fail(err)
	}
	if err := syscall.Bind(fd, unixSockaddr(path)); err != nil {
		_ = syscall.Close(fd)
		return fail(os.NewSyscallError("bind", err))
	}
	abstract := path[0] == '@'
	if !abstract {
		if err := os.Chmod(path, o.mode); err != nil {
			_ = syscall.Close(fd)
			_ = os.Remove(path)
			return fail(err)
		}
	}
	p, err := listen(e, fd, f, o)
	if err != nil {
		_ = syscall.Close(fd)
		if !abstract {
			_ = os.Remove(path)
		}
		return fail(err)
	}
	if !abstract {
		p.unlink = path
	}
	return p, nil
}

// ConnectUnix connects to the Unix socket at path for f: Twisted's
// reactor.connectUNIX. Otherwise it is [ConnectTCP] for Unix sockets.
func ConnectUnix(r *reactor.Reactor, path string, f ClientFactory, opts ...Option) Connector {
	c := newConnector(r, "unix", path, f, newOptions(opts))
	c.Connect()
	return c
}
