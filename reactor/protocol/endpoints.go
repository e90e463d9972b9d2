package protocol

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// TCPServerEndpoint listens for TCP connections: Twisted's
// TCP4ServerEndpoint and TCP6ServerEndpoint. [NewTCP4ServerEndpoint] and
// [NewTCP6ServerEndpoint] make one, and [ServerFromString] makes one from
// "tcp:..." or "tcp6:...". Set its fields before the first Listen.
type TCPServerEndpoint struct {
	// Reactor is the reactor the port runs on.
	Reactor *reactor.Reactor

	// Network is "tcp4" (the default, for "") or "tcp6".
	Network string

	// Port is the port number to listen on; 0 lets the system choose.
	Port int

	// Interface is the IP literal of the interface to listen on; empty
	// means every interface of the family: 0.0.0.0 for "tcp4", :: for
	// "tcp6", as in Twisted.
	Interface string

	// Backlog is the length of the queue of connections not yet accepted;
	// 0 leaves the value of Options, or [DefaultBacklog].
	Backlog int

	// Options are further options of [ListenTCP] (a logger, write buffer
	// water marks, ...). The fields above take precedence over them.
	Options []Option
}

// NewTCP4ServerEndpoint returns an endpoint that listens on TCP over IPv4
// at port on iface (an IPv4 literal, or "" for every interface): Twisted's
// TCP4ServerEndpoint(reactor, port, interface=iface).
func NewTCP4ServerEndpoint(r *reactor.Reactor, port int, iface string) *TCPServerEndpoint {
	return &TCPServerEndpoint{Reactor: r, Network: "tcp4", Port: port, Interface: iface}
}

// NewTCP6ServerEndpoint returns an endpoint that listens on TCP over IPv6
// at port on iface (an IPv6 literal, or "" for ::, which on most systems
// accepts IPv4 connections too): Twisted's TCP6ServerEndpoint.
func NewTCP6ServerEndpoint(r *reactor.Reactor, port int, iface string) *TCPServerEndpoint {
	return &TCPServerEndpoint{Reactor: r, Network: "tcp6", Port: port, Interface: iface}
}

// Listen implements [ServerEndpoint] with [ListenTCP]: it listens at once,
// and returns a Deferred that has fired with the [*Port], or failed with an
// error matched by [ErrCannotListen] (the port is in use, the interface is
// not an IP literal of the endpoint's family or not local, the port number
// is out of range). Call it on the reactor goroutine, or before Run, as
// ListenTCP. A nil Reactor or f panics.
func (e *TCPServerEndpoint) Listen(f Factory) *deferred.Deferred[ListeningPort] {
	if e.Reactor == nil || f == nil {
		panic("protocol: TCPServerEndpoint.Listen: nil Reactor or Factory")
	}
	return e.listen(f, func(address string, opts []Option) (*Port, error) {
		return ListenTCP(e.Reactor, address, f, opts...)
	})
}

// listen is Listen, with the address listened on by listen.
func (e *TCPServerEndpoint) listen(f Factory, listen func(address string, opts []Option) (*Port, error)) *deferred.Deferred[ListeningPort] {
	addr, err := e.address()
	if err != nil {
		return deferred.Fail[ListeningPort](fmt.Errorf("%w: %s %s: %w", ErrCannotListen, e.network(), net.JoinHostPort(e.Interface, strconv.Itoa(e.Port)), err))
	}
	opts := e.Options[:len(e.Options):len(e.Options)]
	if e.Backlog != 0 {
		opts = append(opts, WithBacklog(e.Backlog))
	}
	p, err := listen(addr, opts)
	if err != nil {
		return deferred.Fail[ListeningPort](err)
	}
	return deferred.Succeed[ListeningPort](p)
}

func (e *TCPServerEndpoint) network() string {
	if e.Network == "" {
		return "tcp4"
	}
	return e.Network
}

// address checks the endpoint's fields and returns the address for
// ListenTCP.
func (e *TCPServerEndpoint) address() (string, error) {
	if e.Port < 0 || e.Port > 65535 {
		return "", fmt.Errorf("port %d out of range", e.Port)
	}
	if e.Backlog < 0 {
		return "", fmt.Errorf("backlog %d is negative", e.Backlog)
	}
	iface := e.Interface
	switch e.network() {
	case "tcp4":
		if iface == "" {
			iface = "0.0.0.0"
		}
		if ip, err := netip.ParseAddr(iface); err != nil || !ip.Is4() {
			return "", &net.AddrError{Err: "not an IPv4 address", Addr: iface}
		}
	case "tcp6":
		if iface == "" {
			iface = "::"
		}
		if ip, err := netip.ParseAddr(iface); err != nil || !ip.Is6() || ip.Is4In6() {
			return "", &net.AddrError{Err: "not an IPv6 address", Addr: iface}
		}
	default:
		return "", net.UnknownNetworkError(e.Network)
	}
	return net.JoinHostPort(iface, strconv.Itoa(e.Port)), nil
}

// UnixServerEndpoint listens for connections on a Unix socket: Twisted's
// UNIXServerEndpoint. [NewUnixServerEndpoint] makes one, and
// [ServerFromString] makes one from "unix:...". Set its fields before the
// first Listen.
type UnixServerEndpoint struct {
	// Reactor is the reactor the port runs on.
	Reactor *reactor.Reactor

	// Path is the socket's path; a leading '@' names Linux's abstract
	// namespace.
	Path string

	// Mode is the mode of the socket's file; 0 leaves the value of
	// Options, or [DefaultUnixMode].
	Mode fs.FileMode

	// Backlog is the length of the queue of connections not yet accepted;
	// 0 leaves the value of Options, or [DefaultBacklog].
	Backlog int

	// Options are further options of [ListenUnix]. The fields above take
	// precedence over them.
	Options []Option
}

// NewUnixServerEndpoint returns an endpoint that listens on the Unix
// socket at path: Twisted's UNIXServerEndpoint(reactor, address).
func NewUnixServerEndpoint(r *reactor.Reactor, path string) *UnixServerEndpoint {
	return &UnixServerEndpoint{Reactor: r, Path: path}
}

// Listen implements [ServerEndpoint] with [ListenUnix], as
// [TCPServerEndpoint.Listen] does with ListenTCP. Twisted's lock file
// (wantPID) is not made: a file left at Path makes Listen fail with
// [ErrCannotListen]. A nil Reactor or f panics.
func (e *UnixServerEndpoint) Listen(f Factory) *deferred.Deferred[ListeningPort] {
	if e.Reactor == nil || f == nil {
		panic("protocol: UnixServerEndpoint.Listen: nil Reactor or Factory")
	}
	if e.Backlog < 0 {
		return deferred.Fail[ListeningPort](fmt.Errorf("%w: unix %s: backlog %d is negative", ErrCannotListen, e.Path, e.Backlog))
	}
	opts := e.Options[:len(e.Options):len(e.Options)]
	if e.Backlog != 0 {
		opts = append(opts, WithBacklog(e.Backlog))
	}
	if e.Mode != 0 {
		opts = append(opts, WithMode(e.Mode))
	}
	p, err := ListenUnix(e.Reactor, e.Path, f, opts...)
	if err != nil {
		return deferred.Fail[ListeningPort](err)
	}
	return deferred.Succeed[ListeningPort](p)
}

// TCPClientEndpoint connects over TCP to a host and port: Twisted's
// HostnameEndpoint, TCP4ClientEndpoint and TCP6ClientEndpoint in one.
// [NewTCPClientEndpoint] makes one, and [ClientFromString] makes one from
// "tcp:...". Set its fields before the first Connect.
type TCPClientEndpoint struct {
	// Reactor is the reactor the connection runs on.
	Reactor *reactor.Reactor

	// Host is an IPv4 or IPv6 literal, or a name that is looked up on
	// another goroutine.
	Host string

	// Port is the port number to connect to, 1 to 65535.
	Port int

	// Timeout bounds the name's lookup and each attempt to connect to one
	// of its addresses; 0 leaves the value of Options, or
	// [DefaultConnectTimeout], and a negative Timeout waits as long as the
	// system does.
	Timeout time.Duration

	// BindAddress, if not nil, is the local address each attempt binds its
	// socket to first: Twisted's bindAddress.
	BindAddress *net.TCPAddr

	// AttemptDelay is how long an attempt to connect to one of a name's
	// addresses has before the next address is tried beside it; 0 means
	// [DefaultAttemptDelay]. Twisted's attemptDelay.
	AttemptDelay time.Duration

	// Options are further options of [ConnectTCP]. The fields above take
	// precedence over them.
	Options []Option
}

// NewTCPClientEndpoint returns an endpoint that connects over TCP to host
// (an IP literal or a name) at port: Twisted's HostnameEndpoint(reactor,
// host, port), and TCP4ClientEndpoint or TCP6ClientEndpoint for an IP
// literal.
func NewTCPClientEndpoint(r *reactor.Reactor, host string, port int) *TCPClientEndpoint {
	return &TCPClientEndpoint{Reactor: r, Host: host, Port: port}
}

// Connect implements [ClientEndpoint]. A Host that is an IP literal is
// connected to with [ConnectTCP]. A name is looked up on another goroutine
// first, and its addresses tried in the order the resolver gives them, as
// Twisted's HostnameEndpoint does: the next attempt starts when the one
// before has failed, or has gone on for AttemptDelay; the first to connect
// wins, and the others are stopped. The Deferred fires on the reactor
// goroutine with the protocol f built, once its ConnectionMade has run, or
// fails with an error matched by [ErrConnect]: a port out of range, a name
// that does not resolve (a *net.DNSError under it), or, when every address
// failed, the last address's error (syscall.ECONNREFUSED, [ErrTimeout],
// ...). Cancelling the Deferred stops the lookup or the attempt in
// progress, and fails it with [ErrUserCancelled] under ErrConnect. f's
// [FactoryHooks] are called as a connector calls them.
//
// Call Connect, and cancel its Deferred, on the reactor goroutine, or
// before Run. A nil Reactor or f panics.
func (e *TCPClientEndpoint) Connect(f Factory) *deferred.Deferred[Protocol] {
	if e.Reactor == nil {
		panic("protocol: TCPClientEndpoint.Connect: nil Reactor")
	}
	return e.connect(f, "tcp", func(address string, cf ClientFactory, opts []Option) Connector {
		return ConnectTCP(e.Reactor, address, cf, opts...)
	})
}

// connect is Connect, with each address dialled by dial.
func (e *TCPClientEndpoint) connect(f Factory, network string, dial func(address string, cf ClientFactory, opts []Option) Connector) *deferred.Deferred[Protocol] {
	hostPort := net.JoinHostPort(e.Host, strconv.Itoa(e.Port))
	opts := e.Options[:len(e.Options):len(e.Options)]
	if e.Timeout != 0 {
		opts = append(opts, WithTimeout(e.Timeout))
	}
	if e.BindAddress != nil {
		opts = append(opts, WithBindAddress(e.BindAddress))
	}
	o := newOptions(opts)
	a := connectEndpoint(e.Reactor, f, o.logger, network+" "+hostPort)
	a.delay = e.AttemptDelay
	if a.delay <= 0 {
		a.delay = DefaultAttemptDelay
	}
	if e.Port < 1 || e.Port > 65535 {
		a.fail(fmt.Errorf("%w: %s %s: port %d out of range", ErrConnect, network, hostPort, e.Port))
		return a.d
	}
	dialIP := func(ip string) dialFunc {
		return func(cf ClientFactory) Connector {
			return dial(net.JoinHostPort(ip, strconv.Itoa(e.Port)), cf, opts)
		}
	}
	if _, err := netip.ParseAddr(e.Host); err == nil {
		a.dials = []dialFunc{dialIP(e.Host)}
		a.start()
		return a.d
	}
	var ctx context.Context
	var cancel context.CancelFunc
	if o.timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), o.timeout)
	} else {
		ctx, cancel = context.WithCancel(context.Background())
	}
	a.stop = cancel
	lookupHost(e.Reactor, ctx, e.Host).AddBoth(func(ips []net.IPAddr, err error) ([]net.IPAddr, error) {
		timedOut := ctx.Err() == context.DeadlineExceeded
		cancel()
		if a.over {
			return nil, nil
		}
		if err != nil {
			if timedOut {
				err = fmt.Errorf("%w after %v: %w", ErrTimeout, o.timeout, err)
			}
			a.fail(fmt.Errorf("%w: %s %s: %w", ErrConnect, network, hostPort, err))
			return nil, nil
		}
		for _, ip := range ips {
			s := ip.IP.String()
			if ip.Zone != "" {
				s += "%" + ip.Zone
			}
			a.dials = append(a.dials, dialIP(s))
		}
		a.start()
		return nil, nil
	})
	return a.d
}

// DefaultAttemptDelay is the time a [TCPClientEndpoint] gives an attempt to
// connect to one of a name's addresses before it tries the next one too:
// Twisted's HostnameEndpoint attemptDelay.
const DefaultAttemptDelay = 300 * time.Millisecond

// lookupIPAddr looks a host name up; tests put a resolver of their own
// here.
var lookupIPAddr = net.DefaultResolver.LookupIPAddr

// lookupHost looks host up on another goroutine, as Twisted's resolver
// does in a thread, and fires on r's goroutine; a name without an address
// fails with a *net.DNSError.
func lookupHost(r *reactor.Reactor, ctx context.Context, host string) *deferred.Deferred[[]net.IPAddr] {
	lookup := lookupIPAddr // read here: a test may put it back once it ends
	return reactor.DeferToGoroutine(r, func() ([]net.IPAddr, error) {
		ips, err := lookup(ctx, host)
		if err == nil && len(ips) == 0 {
			err = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
		return ips, err
	})
}

// UnixClientEndpoint connects to a Unix socket: Twisted's
// UNIXClientEndpoint. [NewUnixClientEndpoint] makes one, and
// [ClientFromString] makes one from "unix:...". Set its fields before the
// first Connect.
type UnixClientEndpoint struct {
	// Reactor is the reactor the connection runs on.
	Reactor *reactor.Reactor

	// Path is the socket's path; a leading '@' names Linux's abstract
	// namespace.
	Path string

	// Timeout bounds the attempt; 0 leaves the value of Options, or
	// [DefaultConnectTimeout], and a negative Timeout waits as long as the
	// system does.
	Timeout time.Duration

	// Options are further options of [ConnectUnix]. The fields above take
	// precedence over them.
	Options []Option
}

// NewUnixClientEndpoint returns an endpoint that connects to the Unix
// socket at path: Twisted's UNIXClientEndpoint(reactor, path).
func NewUnixClientEndpoint(r *reactor.Reactor, path string) *UnixClientEndpoint {
	return &UnixClientEndpoint{Reactor: r, Path: path}
}

// Connect implements [ClientEndpoint] with [ConnectUnix], as
// [TCPClientEndpoint.Connect] does with ConnectTCP. Twisted's checkPID
// (lockfile) is not done. A nil Reactor or f panics.
func (e *UnixClientEndpoint) Connect(f Factory) *deferred.Deferred[Protocol] {
	if e.Reactor == nil {
		panic("protocol: UnixClientEndpoint.Connect: nil Reactor")
	}
	opts := e.Options[:len(e.Options):len(e.Options)]
	if e.Timeout != 0 {
		opts = append(opts, WithTimeout(e.Timeout))
	}
	a := connectEndpoint(e.Reactor, f, newOptions(opts).logger, "unix "+e.Path)
	a.dials = []dialFunc{func(cf ClientFactory) Connector { return ConnectUnix(e.Reactor, e.Path, cf, opts...) }}
	a.start()
	return a.d
}

var (
	_ ServerEndpoint = (*TCPServerEndpoint)(nil)
	_ ServerEndpoint = (*UnixServerEndpoint)(nil)
	_ ClientEndpoint = (*TCPClientEndpoint)(nil)
	_ ClientEndpoint = (*UnixClientEndpoint)(nil)
)
