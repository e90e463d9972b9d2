//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// connector is the [Connector] of [ConnectTCP] and [ConnectUnix]: Twisted's
// BaseConnector with tcp.Client. Its methods run on the reactor goroutine.
type connector struct {
	r       *reactor.Reactor
	e       *engine // nil if the reactor's network had shut down
	eerr    error   // why e is nil
	f       ClientFactory
	o       *options
	network string // "tcp" or "unix"
	address string
	dest    net.Addr

	state          int
	att            *attempt
	conn           *conn
	factoryStarted bool
}

// The connector's states, Twisted's.
const (
	connectorIdle = iota
	connectorTrying
	connectorConnected
)

// attempt is one try to connect.
type attempt struct {
	c      *connector
	fd     int
	gen    int32
	mask   uint32
	timer  scheduler.Call
	cancel context.CancelFunc // the name lookup's
	over   bool
}

func newConnector(r *reactor.Reactor, network, address string, f ClientFactory, o *options) *connector {
	if f == nil {
		panic("protocol: nil ClientFactory")
	}
	c := &connector{r: r, f: f, o: o, network: network, address: address, dest: &hostAddr{network, address}}
	c.e, c.eerr = engineFor(r)
	return c
}

// hostAddr is a destination not resolved yet: a host name and a port, or a
// Unix socket's path.
type hostAddr struct{ network, address string }

func (a *hostAddr) Network() string { return a.network }
func (a *hostAddr) String() string  { return a.address }

// Destination implements [Connector]: the address connected to, once known;
// before, the address as given.
func (c *connector) Destination() net.Addr { return c.dest }

// Connect implements [Connector].
func (c *connector) Connect() {
	if c.state != connectorIdle {
		panic("protocol: Connector.Connect: already connecting or connected")
	}
	c.state = connectorTrying
	if c.e != nil {
		c.e.connectors[c] = struct{}{}
		if !c.factoryStarted {
			c.e.startFactory(c.f, c.o.logger)
			c.factoryStarted = true
		}
	}
	a := &attempt{c: c, fd: -1}
	c.att = a
	if c.o.timeout > 0 {
		a.timer = c.r.CallLater(c.o.timeout, func() {
			a.fail(fmt.Errorf("%w: %w after %v", ErrConnect, ErrTimeout, c.o.timeout))
		})
	}
	c.r.CallSoon(a.begin)
	guard(c.o.logger, "protocol: ClientFactory.StartedConnecting panicked", func() { c.f.StartedConnecting(c) })
}

// StopConnecting implements [Connector]: without an attempt in progress it
// does nothing.
func (c *connector) StopConnecting() {
	if c.state != connectorTrying {
		return
	}
	c.att.fail(fmt.Errorf("%w: %w", ErrConnect, ErrUserCancelled))
}

// Disconnect implements [Connector].
func (c *connector) Disconnect() {
	switch c.state {
	case connectorTrying:
		c.StopConnecting()
	case connectorConnected:
		c.conn.LoseConnection()
	}
}

// shutdown fails the attempt in progress, as the reactor shuts down.
func (c *connector) shutdown() {
	if c.state == connectorTrying {
		c.att.fail(fmt.Errorf("%w: %w", ErrConnect, ErrShutdown))
	}
}

// begin resolves the address if it must and starts connecting.
func (a *attempt) begin() {
	c := a.c
	if a.over {
		return
	}
	if c.e == nil || c.e.closed {
		err := c.eerr
		if err == nil {
			err = ErrShutdown
		}
		a.fail(fmt.Errorf("%w: %s: %w", ErrConnect, c.address, err))
		return
	}
	if c.network == "unix" {
		c.dest = &net.UnixAddr{Name: c.address, Net: "unix"}
		a.dial(syscall.AF_UNIX, unixSockaddr(c.address))
		return
	}
	host, portName, err := net.SplitHostPort(c.address)
	if err != nil {
		a.fail(fmt.Errorf("%w: %w", ErrConnect, err))
		return
	}
	port, err := net.LookupPort("tcp", portName)
	if err != nil {
		a.fail(fmt.Errorf("%w: %s: %w", ErrConnect, c.address, err))
		return
	}
	if ip, zone := splitZone(host); net.ParseIP(ip) != nil {
		a.dialTCP(&net.TCPAddr{IP: net.ParseIP(ip), Port: port, Zone: zone})
		return
	}
	// A name: look it up.
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	lookupHost(c.r, ctx, host).AddBoth(func(ips []net.IPAddr, err error) ([]net.IPAddr, error) {
		cancel()
		if a.over {
			return nil, nil
		}
		if err != nil {
			a.fail(fmt.Errorf("%w: %s: %w", ErrConnect, c.address, err))
			return nil, nil
		}
		a.dialTCP(&net.TCPAddr{IP: ips[0].IP, Port: port, Zone: ips[0].Zone})
		return nil, nil
	})
}

func splitZone(host string) (string, string) {
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == '%' {
			return host[:i], host[i+1:]
		}
	}
	return host, ""
}

func (a *attempt) dialTCP(addr *net.TCPAddr) {
	a.c.dest = addr
	family, sa, err := tcpSockaddr(addr)
	if err != nil {
		a.fail(fmt.Errorf("%w: %s: %w", ErrConnect, addr, err))
		return
	}
	a.dial(family, sa)
}

// dial makes the socket and starts connecting it.
func (a *attempt) dial(family int, sa syscall.Sockaddr) {
	c := a.c
	fd, err := socket(family, syscall.SOCK_STREAM)
	if err != nil {
		a.fail(fmt.Errorf("%w: %s: %w", ErrConnect, c.dest, err))
		return
	}
	a.fd = fd
	if c.o.bind != nil {
		var bsa syscall.Sockaddr
		switch b := c.o.bind.(type) {
		case *net.TCPAddr:
			_, bsa, err = tcpSockaddr(b)
		case *net.UnixAddr:
			bsa = unixSockaddr(b.Name)
		default:
			err = fmt.Errorf("bind address %v is neither TCP nor Unix", b)
		}
		if err == nil {
			if err = syscall.Bind(fd, bsa); err != nil {
				err = os.NewSyscallError("bind", err)
			}
		}
		if err != nil {
			a.fail(fmt.Errorf("%w: %s: %w", ErrConnect, c.dest, err))
			return
		}
	}
	err = syscall.Connect(fd, sa)
	switch err {
	case nil:
		a.connected()
		return
	case syscall.EINPROGRESS, syscall.EINTR:
	default:
		a.fail(fmt.Errorf("%w: %s: %w", ErrConnect, c.dest, os.NewSyscallError("connect", err)))
		return
	}
	a.gen = c.e.register(fd, a)
	if err := c.e.p.control(fd, a.gen, 0, evWrite); err != nil {
		a.fail(fmt.Errorf("%w: %s: %w", ErrConnect, c.dest, err))
		return
	}
	a.mask = evWrite
}

// ready implements handler: the connection is made, or has failed.
func (a *attempt) ready(readable, writable bool) {
	if a.over {
		return
	}
	n, err := syscall.GetsockoptInt(a.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err == nil && n != 0 {
		err = syscall.Errno(n)
	}
	if err != nil {
		a.fail(fmt.Errorf("%w: %s: %w", ErrConnect, a.c.dest, os.NewSyscallError("connect", err)))
		return
	}
	a.connected()
}

// end closes the attempt's timer, lookup and, unless keep, its socket.
func (a *attempt) end(keep bool) {
	a.over = true
	if a.timer != nil {
		_ = a.timer.Cancel()
	}
	if a.cancel != nil {
		a.cancel()
	}
	if a.fd >= 0 {
		if a.gen != 0 {
			a.c.e.unregister(a.fd, a.mask)
		}
		if !keep {
			_ = syscall.Close(a.fd)
		}
	}
	a.c.att = nil
}

// fail ends the attempt with err and tells the factory; the factory is
// stopped unless it connects again meanwhile.
func (a *attempt) fail(err error) {
	if a.over {
		return
	}
	c := a.c
	a.end(false)
	c.state = connectorIdle
	guard(c.o.logger, "protocol: ClientFactory.ClientConnectionFailed panicked", func() { c.f.ClientConnectionFailed(c, err) })
	c.maybeStopFactory()
}

// connected hands the socket to a new connection with the factory's
// protocol. A factory that builds none has the socket closed, and the
// attempt fails, as with Twisted.
func (a *attempt) connected() {
	c := a.c
	fd := a.fd
	a.end(true)
	if c.network == "tcp" && c.o.noDelay {
		_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	}
	local, peer := localAddr(fd), peerAddr(fd)
	if c.network == "unix" {
		local = &net.UnixAddr{Name: "", Net: "unix"}
		if l, ok := localAddr(fd).(*net.UnixAddr); ok {
			local = l
		}
		peer = c.dest
	}
	if peer != nil {
		c.dest = peer
	}
	var proto Protocol
	guard(c.o.logger, "protocol: Factory.BuildProtocol panicked; closing the connection", func() { proto = c.f.BuildProtocol(peer) })
	if proto == nil {
		_ = syscall.Close(fd)
		c.state = connectorIdle
		err := fmt.Errorf("%w: %s: the factory built no protocol", ErrConnect, c.dest)
		guard(c.o.logger, "protocol: ClientFactory.ClientConnectionFailed panicked", func() { c.f.ClientConnectionFailed(c, err) })
		c.maybeStopFactory()
		return
	}
	c.state = connectorConnected
	cn := newConn(c.e, fd, proto, local, peer, c.o)
	cn.onLost = c.connectionLost
	cn.client = true
	c.conn = cn
	cn.start()
}

// connectionLost tells the factory the connection has ended.
func (c *connector) connectionLost(reason error) {
	c.state = connectorIdle
	c.conn = nil
	guard(c.o.logger, "protocol: ClientFactory.ClientConnectionLost panicked", func() { c.f.ClientConnectionLost(c, reason) })
	c.maybeStopFactory()
}

func (c *connector) maybeStopFactory() {
	if c.state != connectorIdle || c.e == nil {
		return
	}
	delete(c.e.connectors, c)
	if c.factoryStarted {
		c.factoryStarted = false
		c.e.stopFactory(c.f, c.o.logger)
	}
}

var _ Connector = (*connector)(nil)
