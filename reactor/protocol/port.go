//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/twinego/twine/deferred"
)

// Port is a listening socket, TCP or Unix, that accepts connections and
// has its factory build a protocol for each: Twisted's tcp.Port and
// unix.Port. [ListenTCP] and [ListenUnix] return one. Its methods are
// called on the reactor goroutine.
type Port struct {
	e       *engine
	fd      int
	gen     int32
	mask    uint32
	f       Factory
	o       *options
	addr    net.Addr
	unlink  string // the Unix socket's file, removed when the port stops
	noDelay bool

	closed  bool
	done    bool
	waiters []*deferred.Deferred[struct{}]
}

// acceptsPerEvent bounds the connections accepted for one readiness event,
// so that a flood of connections cannot hold the reactor: Twisted's
// numberAccepts.
const acceptsPerEvent = 100

// acceptPause is how long a port stops accepting when the process is out
// of descriptors or memory, rather than spin on a queue it cannot empty.
const acceptPause = 100 * time.Millisecond

// listen makes a port for the socket fd, already bound, on e.
func listen(e *engine, fd int, f Factory, o *options) (*Port, error) {
	if err := syscall.Listen(fd, o.backlog); err != nil {
		return nil, os.NewSyscallError("listen", err)
	}
	p := &Port{e: e, fd: fd, f: f, o: o, addr: localAddr(fd)}
	p.gen = e.register(fd, p)
	if err := e.p.control(fd, p.gen, 0, evRead); err != nil {
		e.unregister(fd, 0)
		return nil, err
	}
	p.mask = evRead
	e.ports[p] = struct{}{}
	e.startFactory(f, o.logger)
	return p, nil
}

// Addr implements [ListeningPort]: the address the port listens on, with
// the port number the system chose for port 0.
func (p *Port) Addr() net.Addr { return p.addr }

// String describes the port, as Twisted's repr does.
func (p *Port) String() string {
	if p.closed {
		return fmt.Sprintf("<%T (not listening)>", p.f)
	}
	return fmt.Sprintf("<%T on %v>", p.f, p.addr)
}

// ready implements handler: accept what the queue holds.
func (p *Port) ready(readable, writable bool) {
	for range acceptsPerEvent {
		if p.closed {
			return
		}
		fd, sa, err := accept(p.fd)
		switch err {
		case nil:
		case syscall.EAGAIN:
			p.e.p.again(p.fd, p.gen, evRead, false)
			return
		case syscall.EINTR, syscall.ECONNABORTED, syscall.EPROTO:
			continue
		case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM:
			p.o.logger.Error("protocol: cannot accept a connection; pausing the port", "addr", p.addr, "err", os.NewSyscallError("accept4", err), "pause", acceptPause)
			p.pauseAccepting()
			return
		default:
			p.o.logger.Error("protocol: cannot accept a connection", "addr", p.addr, "err", os.NewSyscallError("accept4", err))
			return
		}
		p.accepted(fd, sa)
	}
	if !p.closed && p.mask != 0 {
		p.e.p.again(p.fd, p.gen, evRead, true) // the queue may hold more
	}
}

// accepted builds a protocol for the connection on fd and starts it; a
// factory that returns nil, or panics, has the connection closed at once.
func (p *Port) accepted(fd int, sa syscall.Sockaddr) {
	if _, ok := p.addr.(*net.TCPAddr); ok && p.o.noDelay {
		_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	}
	peer := sockaddrAddr(sa)
	if _, ok := p.addr.(*net.UnixAddr); ok {
		peer = &net.UnixAddr{Name: peerName(sa), Net: "unix"}
	}
	var proto Protocol
	guard(p.o.logger, "protocol: Factory.BuildProtocol panicked; closing the connection", func() { proto = p.f.BuildProtocol(peer) })
	if proto == nil {
		_ = syscall.Close(fd)
		return
	}
	local := p.addr
	if _, ok := p.addr.(*net.TCPAddr); ok {
		local = localAddr(fd)
	}
	newConn(p.e, fd, proto, local, peer, p.o).start()
}

func peerName(sa syscall.Sockaddr) string {
	if u, ok := sa.(*syscall.SockaddrUnix); ok {
		return u.Name
	}
	return ""
}

func (p *Port) pauseAccepting() {
	if err := p.e.p.control(p.fd, p.gen, p.mask, 0); err == nil {
		p.mask = 0
	}
	p.e.r.CallLater(acceptPause, func() {
		if !p.closed {
			if err := p.e.p.control(p.fd, p.gen, p.mask, evRead); err == nil {
				p.mask = evRead
			}
		}
	})
}

// StopListening implements [ListeningPort]. The socket is closed at once,
// so that the address can be listened on again as soon as the Deferred
// fires; the factory is told (StopFactory, if this was its last port) and
// the Deferred fires in a function given to CallSoon, as Twisted's do in a
// later iteration of the reactor.
func (p *Port) StopListening() *deferred.Deferred[struct{}] {
	d := deferred.New[struct{}]()
	if p.done {
		d.Callback(struct{}{})
		return d
	}
	p.waiters = append(p.waiters, d)
	if p.closed {
		return d
	}
	p.closed = true
	p.e.unregister(p.fd, p.mask)
	p.mask = 0
	_ = syscall.Close(p.fd)
	if p.unlink != "" {
		_ = os.Remove(p.unlink)
	}
	delete(p.e.ports, p)
	p.e.r.CallSoon(p.stopped)
	return d
}

func (p *Port) stopped() {
	p.e.stopFactory(p.f, p.o.logger)
	p.done = true
	ws := p.waiters
	p.waiters = nil
	for _, d := range ws {
		d.Callback(struct{}{})
	}
}

var _ ListeningPort = (*Port)(nil)
