//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// UDPPort is a UDP socket on the reactor and the [DatagramTransport] its
// protocol writes to: Twisted's udp.Port. [ListenUDP] returns one. Its
// methods are called on the reactor goroutine.
//
// Reads: when the socket has datagrams, the engine calls ready, which reads
// them one by one (at most [DefaultMaxPacketSize], or the size of
// [WithMaxPacketSize], of each) and hands each to DatagramReceived, up to
// udpThroughput bytes or udpDatagramsPerEvent datagrams for one readiness
// event, so that a flood of datagrams cannot hold the reactor.
//
// Writes go straight to the socket: a datagram is sent whole or not at
// all, so there is no buffer, and one the kernel cannot take at once is
// dropped and reported in the error, as Twisted's write raises it.
type UDPPort struct {
	e       *engine
	fd      int
	gen     int32
	mask    uint32
	family  int
	proto   DatagramProtocol
	refused ConnectionRefusedReceiver // proto, if it hears refusals
	o       *options
	buf     []byte
	local   *net.UDPAddr

	peer   *net.UDPAddr   // the connected address
	peerAP netip.AddrPort // the same, unmapped, to compare with a sender

	// The last sender and the last destination, with their forms, so that
	// a stream of datagrams from or to one address converts it once.
	rsa        syscall.RawSockaddrAny // the sender, as recvfrom gives it
	lastFrom   netip.AddrPort
	lastFromUA *net.UDPAddr
	lastTo     netip.AddrPort
	lastToSA   syscall.Sockaddr

	closed  bool // StopListening was called: the socket is closed
	done    bool // StopProtocol has run and the Deferreds have fired
	waiters []*deferred.Deferred[struct{}]
}

// udpThroughput bounds the bytes a port reads for one readiness event:
// Twisted's udp.Port.maxThroughput.
const udpThroughput = 256 << 10

// udpDatagramsPerEvent bounds the datagrams a port reads for one readiness
// event, so that a flood of empty ones, which udpThroughput does not
// count, cannot hold the reactor either.
const udpDatagramsPerEvent = 1024

// ListenUDP binds a UDP socket to address ("host:port", as Go's
// net.ListenPacket takes it; the host an IPv4 or IPv6 literal, or empty
// for every IPv4 interface, as Twisted's interface ”; the port 0 for one
// the system chooses) and starts p on it: Twisted's reactor.listenUDP.
// p's StartProtocol runs before ListenUDP returns, with the port as its
// transport; DatagramReceived then runs on the reactor goroutine for each
// datagram, with at most [WithMaxPacketSize] bytes of it (default
// [DefaultMaxPacketSize]). A protocol listens on one port at a time. The
// address given to DatagramReceived is shared by the datagrams from one
// sender: keep it, but do not modify it.
//
// A port on an IPv6 address sends to IPv6 addresses only, as in Twisted,
// except on the wildcard ("[::]:port"), which also hears IPv4 peers and
// answers them.
//
// It fails with an error matched by [ErrCannotListen], wrapping the cause,
// when the address is malformed or a host name, in use, or not local, or
// once r has shut down ([ErrShutdown]). Call it on the reactor goroutine,
// or before [reactor.Reactor.Run]. A nil r or p panics.
//
// A panic in one of p's methods is logged (see [WithLogger]) and the port
// goes on, as in Twisted. When r shuts down the port stops listening, and
// p's StopProtocol runs once.
func ListenUDP(r *reactor.Reactor, address string, p DatagramProtocol, opts ...Option) (*UDPPort, error) {
	if p == nil {
		panic("protocol: ListenUDP: nil DatagramProtocol")
	}
	o := newOptions(opts)
	fail := func(err error) (*UDPPort, error) {
		return nil, fmt.Errorf("%w: udp %s: %w", ErrCannotListen, address, err)
	}
	var prepare func(fd int) error
	if o.multiple {
		prepare = reuseForMulticast
	}
	e, fd, family, err := boundSocket(r, "udp", address, syscall.SOCK_DGRAM, prepare)
	if err != nil {
		return fail(err)
	}
	u := &UDPPort{e: e, fd: fd, family: family, proto: p, o: o}
	u.refused, _ = p.(ConnectionRefusedReceiver)
	u.local = u.sockName()
	if o.maxPacket <= len(e.buf) {
		u.buf = e.buf[:o.maxPacket]
	} else {
		u.buf = make([]byte, o.maxPacket)
	}
	u.gen = e.register(fd, u)
	if err := e.p.control(fd, u.gen, 0, evRead); err != nil {
		e.unregister(fd, 0)
		_ = syscall.Close(fd)
		return fail(err)
	}
	u.mask = evRead
	e.enders[u] = struct{}{}
	guard(o.logger, "protocol: DatagramProtocol.StartProtocol panicked", func() { p.StartProtocol(u) })
	return u, nil
}

// sockName is the socket's own address.
func (u *UDPPort) sockName() *net.UDPAddr {
	sa, err := syscall.Getsockname(u.fd)
	if err != nil {
		return nil
	}
	return udpAddr(sa)
}

// udpAddr converts an IP address of the system's form to a UDP address.
func udpAddr(sa syscall.Sockaddr) *net.UDPAddr {
	if sa4, ok := sa.(*syscall.SockaddrInet4); ok {
		return &net.UDPAddr{IP: net.IPv4(sa4.Addr[0], sa4.Addr[1], sa4.Addr[2], sa4.Addr[3]), Port: sa4.Port}
	}
	if a, ok := sockaddrAddr(sa).(*net.TCPAddr); ok {
		return &net.UDPAddr{IP: a.IP, Port: a.Port, Zone: a.Zone}
	}
	return nil
}

// udpAddrOf converts a sender's address to the form DatagramReceived
// gets: an IPv4 address in net.IP's 16-byte form, as net.ParseIP makes it.
func udpAddrOf(ap netip.AddrPort) *net.UDPAddr {
	a := ap.Addr()
	if a.Is4() {
		b := a.As4()
		return &net.UDPAddr{IP: net.IPv4(b[0], b[1], b[2], b[3]), Port: int(ap.Port())}
	}
	b := a.As16()
	return &net.UDPAddr{IP: net.IP(b[:]), Port: int(ap.Port()), Zone: a.Zone()}
}

// ready implements handler: read the datagrams that wait.
func (u *UDPPort) ready(readable, writable bool) {
	if !readable || u.closed {
		return
	}
	for read, count := 0, 0; read < udpThroughput && count < udpDatagramsPerEvent; count++ {
		n, ap, err := recvFrom(u.fd, u.buf, &u.rsa)
		if err != nil {
			u.readFailed(err)
			return
		}
		read += n
		if !ap.IsValid() {
			continue // not from an IP address: nothing to answer
		}
		if u.peer != nil && ap != u.peerAP {
			// Queued before Connect: in connected mode only the peer's
			// datagrams arrive.
			continue
		}
		if ap != u.lastFrom || u.lastFromUA == nil {
			u.lastFrom, u.lastFromUA = ap, udpAddrOf(ap)
		}
		u.deliver(u.buf[:n], u.lastFromUA)
		if u.closed {
			return
		}
	}
	u.e.p.again(u.fd, u.gen, evRead, true) // more may wait
}

// readFailed handles an error from recvfrom.
func (u *UDPPort) readFailed(err error) {
	switch err {
	case syscall.EAGAIN:
		u.e.p.again(u.fd, u.gen, evRead, false)
	case syscall.EINTR:
		u.e.p.again(u.fd, u.gen, evRead, true)
	case syscall.ECONNREFUSED:
		// An ICMP port unreachable for a datagram sent earlier.
		if u.peer != nil {
			u.tellRefused()
		}
		u.e.p.again(u.fd, u.gen, evRead, true)
	case syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.ENETDOWN,
		syscall.ECONNRESET, syscall.EMSGSIZE, syscall.ETIMEDOUT, syscall.ENOBUFS, syscall.ENOMEM:
		// Other ICMP errors for earlier datagrams, or a shortage that
		// passes: UDP goes on.
		u.o.logger.Warn("protocol: UDP port read failed", "addr", u.local, "err", os.NewSyscallError("recvfrom", err))
		u.e.p.again(u.fd, u.gen, evRead, true)
	default:
		// As Twisted's reactor does with a port whose read raised.
		u.o.logger.Error("protocol: UDP port read failed; it stops listening", "addr", u.local, "err", os.NewSyscallError("recvfrom", err))
		u.StopListening()
	}
}

// deliver hands one datagram to the protocol; a panic is logged and the
// port goes on, as Twisted logs an exception of datagramReceived.
func (u *UDPPort) deliver(data []byte, addr *net.UDPAddr) {
	defer func() {
		if v := recover(); v != nil {
			pe := deferred.NewPanicError(v)
			u.o.logger.Error("protocol: DatagramProtocol.DatagramReceived panicked", "err", pe, "addr", addr, "stack", string(pe.Stack))
		}
	}()
	u.proto.DatagramReceived(data, addr)
}

// tellRefused tells a protocol that hears refusals of one.
func (u *UDPPort) tellRefused() {
	if u.refused != nil && !u.closed {
		guard(u.o.logger, "protocol: ConnectionRefusedReceiver.ConnectionRefused panicked", u.refused.ConnectionRefused)
	}
}

// WriteTo implements [DatagramTransport]: it sends p to addr, a
// *net.UDPAddr with an IP address of the port's family, as one datagram,
// and returns len(p). It never blocks. It fails, sending nothing, with an
// error matched by [ErrInvalidAddress] for an address it cannot use, by
// [ErrMessageLength] for a datagram too long, by net.ErrClosed once the
// port has stopped listening, and with the system's error (syscall.EAGAIN
// when the socket's buffer is full, say) wrapped in an *os.SyscallError
// otherwise: the datagram is dropped, as UDP allows. In connected mode addr
// must be nil or the connected address, and WriteTo is Write.
func (u *UDPPort) WriteTo(p []byte, addr net.Addr) (int, error) {
	if u.closed {
		return 0, u.closedError()
	}
	if u.peer != nil {
		if addr != nil {
			ua, ok := addr.(*net.UDPAddr)
			if !ok || addrPortOf(ua) != u.peerAP {
				return 0, fmt.Errorf("%w: %v: the port is connected to %v", ErrInvalidAddress, addr, u.peer)
			}
		}
		return u.Write(p)
	}
	if addr == nil {
		return 0, fmt.Errorf("%w: no address to write to, and the port is not connected", ErrInvalidAddress)
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("%w: %v: a %T, not a *net.UDPAddr", ErrInvalidAddress, addr, addr)
	}
	ap := addrPortOf(ua)
	if ap != u.lastTo || u.lastToSA == nil {
		sa, err := u.sockaddr(ua, ap)
		if err != nil {
			return 0, err
		}
		u.lastTo, u.lastToSA = ap, sa
	}
	for {
		err := syscall.Sendto(u.fd, p, 0, u.lastToSA)
		switch err {
		case nil:
			return len(p), nil
		case syscall.EINTR:
			continue
		}
		return 0, u.writeError("sendto", addr, err)
	}
}

// Write implements [DatagramTransport]: WriteTo the connected address.
// Before Connect it fails with an error matched by [ErrInvalidAddress]. A
// refusal of the peer that the system reports here (an ICMP port
// unreachable for an earlier datagram) fails this write with
// syscall.ECONNREFUSED, and is told to the protocol, if it is a
// [ConnectionRefusedReceiver], in a function given to CallSoon: never
// inside Write.
func (u *UDPPort) Write(p []byte) (int, error) {
	if u.closed {
		return 0, u.closedError()
	}
	if u.peer == nil {
		return 0, fmt.Errorf("%w: no address to write to, and the port is not connected", ErrInvalidAddress)
	}
	for {
		n, err := syscall.Write(u.fd, p)
		switch err {
		case nil:
			return n, nil
		case syscall.EINTR:
			continue
		case syscall.ECONNREFUSED:
			u.e.r.CallSoon(u.tellRefused)
		}
		return 0, u.writeError("write", u.peer, err)
	}
}

// addrPortOf is ua's address and port, an IPv4 address in its 4-byte form;
// the zero AddrPort if ua has no IP address.
func addrPortOf(ua *net.UDPAddr) netip.AddrPort {
	a, ok := netip.AddrFromSlice(ua.IP)
	if !ok || ua.Port < 0 || ua.Port > 0xffff {
		return netip.AddrPort{}
	}
	a = a.Unmap()
	if ua.Zone != "" && a.Is6() {
		a = a.WithZone(ua.Zone)
	}
	return netip.AddrPortFrom(a, uint16(ua.Port))
}

// sockaddr converts a destination to the system's form, if the port can
// send to it.
func (u *UDPPort) sockaddr(ua *net.UDPAddr, ap netip.AddrPort) (syscall.Sockaddr, error) {
	switch {
	case !ap.IsValid():
		return nil, fmt.Errorf("%w: %v: not an IP address and a port", ErrInvalidAddress, ua)
	case ap.Addr().Is4() && u.family == syscall.AF_INET6:
		if !u.local.IP.IsUnspecified() {
			return nil, fmt.Errorf("%w: %v: an IPv6 port cannot send to an IPv4 address", ErrInvalidAddress, ua)
		}
		// A port on the IPv6 wildcard hears IPv4 peers as IPv4-mapped
		// addresses, which Go's net.IP does not tell from IPv4 ones, and
		// answers them so.
		sa := &syscall.SockaddrInet6{Port: ua.Port}
		copy(sa.Addr[:], ua.IP.To16())
		return sa, nil
	case ap.Addr().Is6() && u.family == syscall.AF_INET:
		return nil, fmt.Errorf("%w: %v: an IPv4 port cannot send to an IPv6 address", ErrInvalidAddress, ua)
	}
	_, sa, err := tcpSockaddr(&net.TCPAddr{IP: ua.IP, Port: ua.Port, Zone: ua.Zone})
	if err != nil {
		return nil, fmt.Errorf("%w: %v: %w", ErrInvalidAddress, ua, err)
	}
	return sa, nil
}

// writeError is the error of a write that failed with err.
func (u *UDPPort) writeError(op string, addr net.Addr, err error) error {
	if err == syscall.EMSGSIZE {
		return fmt.Errorf("%w: a datagram to %v: %w", ErrMessageLength, addr, os.NewSyscallError(op, err))
	}
	return fmt.Errorf("protocol: UDP datagram to %v dropped: %w", addr, os.NewSyscallError(op, err))
}

func (u *UDPPort) closedError() error {
	return fmt.Errorf("protocol: UDP port has stopped listening: %w", net.ErrClosed)
}

// Connect implements [DatagramTransport]: Twisted's connect. From now on
// the port sends to addr alone (Write, or WriteTo with a nil address) and
// hears from addr alone: datagrams from others, even those that arrived
// before Connect and were not yet read, are dropped. addr must be a
// *net.UDPAddr with an IP address of the port's family (a host name is not
// looked up, as in Twisted), else Connect fails with an error matched by
// [ErrInvalidAddress]. A port connects once: a second Connect fails with
// [ErrAlreadyConnected].
func (u *UDPPort) Connect(addr net.Addr) error {
	if u.closed {
		return u.closedError()
	}
	if u.peer != nil {
		return fmt.Errorf("%w: to %v", ErrAlreadyConnected, u.peer)
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua == nil {
		return fmt.Errorf("%w: %v: a %T, not a *net.UDPAddr", ErrInvalidAddress, addr, addr)
	}
	ap := addrPortOf(ua)
	sa, err := u.sockaddr(ua, ap)
	if err != nil {
		return err
	}
	if err := syscall.Connect(u.fd, sa); err != nil {
		return fmt.Errorf("protocol: UDP connect to %v: %w", ua, os.NewSyscallError("connect", err))
	}
	u.peer = &net.UDPAddr{IP: append(net.IP(nil), ua.IP...), Port: ua.Port, Zone: ua.Zone}
	u.peerAP = ap
	u.lastTo, u.lastToSA = ap, sa
	if local := u.sockName(); local != nil {
		u.local = local // the system chose a source address for the peer
	}
	return nil
}

// LocalAddr implements [DatagramTransport]: the port's address, a
// *net.UDPAddr, with the port number the system chose for port 0.
func (u *UDPPort) LocalAddr() net.Addr { return u.local }

// Addr is LocalAddr: it makes the port a [ListeningPort].
func (u *UDPPort) Addr() net.Addr { return u.local }

// RemoteAddr implements [DatagramTransport]: the connected address, or nil
// before Connect.
func (u *UDPPort) RemoteAddr() net.Addr {
	if u.peer == nil {
		return nil
	}
	return u.peer
}

// SetBroadcastAllowed implements [DatagramTransport] (SO_BROADCAST): the
// port may send to broadcast addresses. It is off at first, as in Twisted.
func (u *UDPPort) SetBroadcastAllowed(allowed bool) error {
	if u.closed {
		return u.closedError()
	}
	v := 0
	if allowed {
		v = 1
	}
	return os.NewSyscallError("setsockopt", syscall.SetsockoptInt(u.fd, syscall.SOL_SOCKET, syscall.SO_BROADCAST, v))
}

// BroadcastAllowed reports whether the port may send to broadcast
// addresses: Twisted's getBroadcastAllowed.
func (u *UDPPort) BroadcastAllowed() (bool, error) {
	if u.closed {
		return false, u.closedError()
	}
	v, err := syscall.GetsockoptInt(u.fd, syscall.SOL_SOCKET, syscall.SO_BROADCAST)
	if err != nil {
		return false, os.NewSyscallError("getsockopt", err)
	}
	return v != 0, nil
}

// String describes the port, with its port number, as Twisted's repr does.
func (u *UDPPort) String() string {
	if u.closed {
		return fmt.Sprintf("<%T (not listening)>", u.proto)
	}
	return fmt.Sprintf("<%T on %d>", u.proto, u.local.Port)
}

// StopListening implements [DatagramTransport] and [ListeningPort]. The
// socket is closed at once, so that the address can be bound again and no
// datagram is read after it, even one that waited; the protocol's
// StopProtocol then runs, and the Deferred fires, in a function given to
// CallSoon, never inside StopListening (Twisted's are in a later iteration
// of the reactor). Calling it again returns a Deferred that fires when the
// first call's does (or has fired).
func (u *UDPPort) StopListening() *deferred.Deferred[struct{}] {
	d := deferred.New[struct{}]()
	if u.done {
		d.Callback(struct{}{})
		return d
	}
	u.waiters = append(u.waiters, d)
	if u.closed {
		return d
	}
	u.closed = true
	u.e.unregister(u.fd, u.mask)
	u.mask = 0
	_ = syscall.Close(u.fd)
	delete(u.e.enders, u)
	u.e.r.CallSoon(u.stopped)
	return d
}

func (u *UDPPort) stopped() {
	guard(u.o.logger, "protocol: DatagramProtocol.StopProtocol panicked", u.proto.StopProtocol)
	u.done = true
	ws := u.waiters
	u.waiters = nil
	for _, d := range ws {
		d.Callback(struct{}{})
	}
}

// shutdown implements ender: the reactor is stopping.
func (u *UDPPort) shutdown() { u.StopListening() }

var (
	_ DatagramTransport = (*UDPPort)(nil)
	_ ListeningPort     = (*UDPPort)(nil)
	_ handler           = (*UDPPort)(nil)
)
