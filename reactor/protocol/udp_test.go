//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
)

// dgram is a datagram as a protocol received it.
type dgram struct {
	data []byte
	addr string
}

// udpRec is a datagram protocol that reports its events on channels, and
// runs hooks: Twisted's test_udp Server and GoodClient.
type udpRec struct {
	protocol.DatagramBase
	started chan protocol.DatagramTransport
	got     chan dgram
	stopped chan struct{}
	refused chan struct{}
	onStart func(u *udpRec)
	onData  func(u *udpRec, b []byte, addr net.Addr)
	onStop  func(u *udpRec)
	starts  int // the reactor goroutine's
	stops   int
}

func newUDPRec() *udpRec {
	return &udpRec{
		started: make(chan protocol.DatagramTransport, 4),
		got:     make(chan dgram, 1024),
		stopped: make(chan struct{}, 4),
		refused: make(chan struct{}, 64),
	}
}

func (u *udpRec) StartProtocol(t protocol.DatagramTransport) {
	u.DatagramBase.StartProtocol(t)
	u.starts++
	u.started <- t
	if u.onStart != nil {
		u.onStart(u)
	}
}

func (u *udpRec) DatagramReceived(b []byte, addr net.Addr) {
	u.got <- dgram{slices.Clone(b), addr.String()}
	if u.onData != nil {
		u.onData(u, b, addr)
	}
}

func (u *udpRec) StopProtocol() {
	u.stops++
	u.stopped <- struct{}{}
	if u.onStop != nil {
		u.onStop(u)
	}
}

func (u *udpRec) ConnectionRefused() { u.refused <- struct{}{} }

// listenUDP listens on address with p.
func (h *harness) listenUDP(address string, p protocol.DatagramProtocol, opts ...protocol.Option) *protocol.UDPPort {
	h.t.Helper()
	type res struct {
		u   *protocol.UDPPort
		err error
	}
	r := on(h, func() res {
		u, err := protocol.ListenUDP(h.r, address, p, append(h.opts, opts...)...)
		return res{u, err}
	})
	require.NoError(h.t, r.err)
	return r.u
}

// stopUDP stops port and waits until its Deferred has fired.
func (h *harness) stopUDP(port *protocol.UDPPort) {
	h.t.Helper()
	ch := on(h, func() <-chan result[struct{}] { return watch(port.StopListening()) })
	require.NoError(h.t, recv(h.t, ch, "StopListening's Deferred").err)
}

// write writes b to addr through t on the reactor goroutine.
func (h *harness) write(t protocol.DatagramTransport, b []byte, addr net.Addr) error {
	h.t.Helper()
	return on(h, func() error { _, err := t.WriteTo(b, addr); return err })
}

func udpAddrOf(t *testing.T, a net.Addr) *net.UDPAddr {
	t.Helper()
	ua, ok := a.(*net.UDPAddr)
	require.True(t, ok, "a %T, not a *net.UDPAddr", a)
	return ua
}

// Twisted's test_oldAddress, test_startStop and test_str: the port's
// address is a UDP one with the port chosen for 0, StartProtocol runs once
// on listening, with the port as transport, and StopProtocol once when it
// stops, before the Deferred fires.
func TestUDPStartStop(t *testing.T) {
	h := newHarness(t)
	p := newUDPRec()
	port := h.listenUDP("127.0.0.1:0", p)
	assert.Same(t, port, recv(t, p.started, "StartProtocol"))
	addr := udpAddrOf(t, port.LocalAddr())
	assert.Equal(t, "udp", addr.Network())
	assert.True(t, addr.IP.Equal(net.IPv4(127, 0, 0, 1)))
	assert.NotZero(t, addr.Port)
	assert.Equal(t, addr, port.Addr())
	assert.Nil(t, on(h, port.RemoteAddr))
	assert.Contains(t, on(h, port.String), fmt.Sprint(addr.Port))
	assert.Equal(t, [2]int{1, 0}, on(h, func() [2]int { return [2]int{p.starts, p.stops} }))

	var stopsWhenFired int
	ch := on(h, func() <-chan result[struct{}] {
		d := port.StopListening()
		d.AddCallback(func(v struct{}) (struct{}, error) { stopsWhenFired = p.stops; return v, nil })
		return watch(d)
	})
	require.NoError(t, recv(t, ch, "StopListening's Deferred").err)
	assert.Equal(t, 1, on(h, func() int { return stopsWhenFired }), "StopProtocol ran before the Deferred fired")
	// Again: a Deferred that has fired, and no second StopProtocol.
	require.NoError(t, recv(t, on(h, func() <-chan result[struct{}] { return watch(port.StopListening()) }), "the second StopListening").err)
	assert.Equal(t, [2]int{1, 1}, on(h, func() [2]int { return [2]int{p.starts, p.stops} }))
	assert.Contains(t, on(h, port.String), "not listening")
}

// Twisted's test_rebind: listening again with the same protocol after it
// stopped starts it again.
func TestUDPRebind(t *testing.T) {
	h := newHarness(t)
	p := newUDPRec()
	h.stopUDP(h.listenUDP("127.0.0.1:0", p))
	port := h.listenUDP("127.0.0.1:0", p)
	recv(t, p.started, "the first StartProtocol")
	assert.Same(t, port, recv(t, p.started, "the second StartProtocol"))
	assert.Equal(t, [2]int{2, 1}, on(h, func() [2]int { return [2]int{p.starts, p.stops} }))
}

// Twisted's test_bindError and the bad addresses of listenUDP: a port in
// use, an address that is not local, a host name, a malformed address:
// ErrCannotListen with the cause, never a panic, and the protocol is not
// started.
func TestUDPListenFailures(t *testing.T) {
	h := newHarness(t)
	port := h.listenUDP("127.0.0.1:0", newUDPRec())
	for _, tt := range []struct {
		addr  string
		cause error
	}{
		{port.LocalAddr().String(), syscall.EADDRINUSE},
		{"192.0.2.1:0", syscall.EADDRNOTAVAIL},
		{"localhost:0", nil}, // a name: Twisted's interface must be an address
		{"127.0.0.1", nil},
		{"127.0.0.1:notaport", nil},
		{"[::1%nosuchinterface]:0", nil},
	} {
		p := newUDPRec()
		err := on(h, func() error { _, err := protocol.ListenUDP(h.r, tt.addr, p, h.opts...); return err })
		require.Error(t, err, tt.addr)
		assert.ErrorIs(t, err, protocol.ErrCannotListen, tt.addr)
		if tt.cause != nil {
			assert.ErrorIs(t, err, tt.cause, tt.addr)
		}
		none(t, p.started, "StartProtocol of a port that failed")
	}
}

// Twisted's test_sendPackets: the server writes to the client's address;
// the client, connected to the server, writes with Write, with WriteTo and
// no address, and with WriteTo and the server's address; each side hears
// the other's datagrams, from the other's address, in order.
func TestUDPSendPackets(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		t.Run(host, func(t *testing.T) {
			h := newHarness(t)
			server, client := newUDPRec(), newUDPRec()
			sport := h.listenUDP(host+":0", server)
			cport := h.listenUDP(host+":0", client)
			saddr, caddr := sport.LocalAddr(), cport.LocalAddr()
			require.NoError(t, on(h, func() error { return cport.Connect(saddr) }))
			assert.Equal(t, saddr.String(), on(h, cport.RemoteAddr).String())

			require.NoError(t, h.write(sport, []byte("hello"), caddr))
			assert.Equal(t, dgram{[]byte("hello"), saddr.String()}, recv(t, client.got, "the server's datagram"))

			h.do(func() {
				_, err := cport.Write([]byte("a"))
				assert.NoError(t, err)
				_, err = cport.WriteTo([]byte("b"), nil)
				assert.NoError(t, err)
				n, err := cport.WriteTo([]byte("c"), saddr)
				assert.NoError(t, err)
				assert.Equal(t, 1, n)
			})
			for _, want := range []string{"a", "b", "c"} {
				assert.Equal(t, dgram{[]byte(want), caddr.String()}, recv(t, server.got, "the client's datagram "+want))
			}
			none(t, server.got, "another datagram")
			none(t, client.got, "another datagram")
		})
	}
}

// A port on the IPv6 wildcard hears an IPv4 peer, and answers it, as
// Twisted's does with the peer's IPv4-mapped address; connected to it, it
// hears it still.
func TestUDPDualStack(t *testing.T) {
	h := newHarness(t)
	server, client := newUDPRec(), newUDPRec()
	sport := h.listenUDP("[::]:0", server)
	server.onData = func(u *udpRec, b []byte, addr net.Addr) {
		_, err := u.Transport.WriteTo(b, addr)
		assert.NoError(t, err)
	}
	cport := h.listenUDP("127.0.0.1:0", client)
	dest := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: udpAddrOf(t, sport.LocalAddr()).Port}
	require.NoError(t, h.write(cport, []byte("ping"), dest))
	got := recv(t, server.got, "the IPv4 datagram")
	assert.Equal(t, cport.LocalAddr().String(), got.addr)
	assert.Equal(t, dgram{[]byte("ping"), dest.String()}, recv(t, client.got, "the answer"))

	require.NoError(t, on(h, func() error { return sport.Connect(cport.LocalAddr()) }))
	h.do(func() { server.onData = nil })
	require.NoError(t, h.write(cport, []byte("again"), dest))
	assert.Equal(t, []byte("again"), recv(t, server.got, "the IPv4 datagram in connected mode").data)
	require.NoError(t, h.write(sport, []byte("back"), nil))
	assert.Equal(t, []byte("back"), recv(t, client.got, "the connected answer").data)
}

// In connected mode only the peer's datagrams arrive: one that another
// port sent before Connect, and that waited to be read, is dropped, and
// one sent after Connect is refused by the system.
func TestUDPConnectedModeHearsOnlyThePeer(t *testing.T) {
	h := newHarness(t)
	server, client, other := newUDPRec(), newUDPRec(), newUDPRec()
	sport := h.listenUDP("127.0.0.1:0", server)
	cport := h.listenUDP("127.0.0.1:0", client)
	oport := h.listenUDP("127.0.0.1:0", other)
	caddr := cport.LocalAddr()
	// One callback, so that the client reads nothing before it connects.
	h.do(func() {
		_, err := oport.WriteTo([]byte("before"), caddr)
		require.NoError(t, err)
		require.NoError(t, cport.Connect(sport.LocalAddr()))
		_, err = oport.WriteTo([]byte("after"), caddr)
		require.NoError(t, err)
		_, err = sport.WriteTo([]byte("peer"), caddr)
		require.NoError(t, err)
	})
	assert.Equal(t, dgram{[]byte("peer"), sport.LocalAddr().String()}, recv(t, client.got, "the peer's datagram"))
	// A datagram from the peer written after these has come through: had
	// the others been delivered, they would have come first.
	require.NoError(t, h.write(sport, []byte("last"), caddr))
	assert.Equal(t, []byte("last"), recv(t, client.got, "the peer's second datagram").data)
	none(t, client.got, "a datagram from another port")
}

// Twisted's test_connectionRefused: a connected port whose peer does not
// listen hears ConnectionRefused (the system's ICMP port unreachable),
// and goes on; an unconnected port writing there hears nothing.
func TestUDPConnectionRefused(t *testing.T) {
	h := newHarness(t)
	closed := h.listenUDP("127.0.0.1:0", newUDPRec())
	dead := closed.LocalAddr()
	h.stopUDP(closed)

	client, server := newUDPRec(), newUDPRec()
	cport := h.listenUDP("127.0.0.1:0", client)
	sport := h.listenUDP("127.0.0.1:0", server)
	require.NoError(t, on(h, func() error { return cport.Connect(dead) }))
	// One datagram: the refusal comes with the port's next read.
	require.NoError(t, on(h, func() error { _, err := cport.Write([]byte("one")); return err }))
	recv(t, client.refused, "ConnectionRefused after one datagram")
	// Twisted's ten: the refusals come with reads or with later writes.
	h.do(func() {
		for i := range 10 {
			// A write may itself fail with the refusal of an earlier one.
			if _, err := cport.Write(fmt.Appendf(nil, "%d", i)); err != nil {
				assert.ErrorIs(t, err, syscall.ECONNREFUSED)
			}
			_, err := sport.WriteTo(fmt.Appendf(nil, "%d", i), dead)
			assert.NoError(t, err)
		}
	})
	recv(t, client.refused, "ConnectionRefused")
	none(t, server.refused, "ConnectionRefused of an unconnected port")
	// The port goes on: it still listens and writes.
	err := on(h, func() error { _, err := cport.Write([]byte("again")); return err })
	assert.NotErrorIs(t, err, net.ErrClosed)
	assert.Zero(t, on(h, func() int { return client.stops }))
	none(t, server.refused, "ConnectionRefused of an unconnected port")
}

// Twisted's test_badConnect, test_writingToHostnameRaisesInvalidAddressError
// and the IPv4/IPv6 mismatches: each is an ErrInvalidAddress (or
// ErrAlreadyConnected) error, never a panic, and nothing is sent.
func TestUDPBadAddresses(t *testing.T) {
	h := newHarness(t)
	p4, p6 := newUDPRec(), newUDPRec()
	port4 := h.listenUDP("127.0.0.1:0", p4)
	port6 := h.listenUDP("[::1]:0", p6)
	msg := []byte("spam")
	for _, tt := range []struct {
		name string
		port *protocol.UDPPort
		addr net.Addr
	}{
		{"no address, not connected", port4, nil},
		{"a TCP address", port4, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}},
		{"a host name", port4, &net.UnixAddr{Name: "example.invalid:1", Net: "udp"}},
		{"no IP", port4, &net.UDPAddr{Port: 1}},
		{"IPv6 to an IPv4 port", port4, &net.UDPAddr{IP: net.IPv6loopback, Port: 1}},
		{"IPv4 to an IPv6 port", port6, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}},
		{"a port out of range", port4, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 70000}},
	} {
		err := h.write(tt.port, msg, tt.addr)
		assert.ErrorIs(t, err, protocol.ErrInvalidAddress, tt.name)
		if tt.addr != nil {
			assert.ErrorIs(t, on(h, func() error { return tt.port.Connect(tt.addr) }), protocol.ErrInvalidAddress, "Connect: "+tt.name)
		}
	}
	assert.ErrorIs(t, on(h, func() error { _, err := port4.Write(msg); return err }), protocol.ErrInvalidAddress, "Write before Connect")

	peer := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port6.LocalAddr().(*net.UDPAddr).Port}
	require.NoError(t, on(h, func() error { return port4.Connect(peer) }))
	assert.ErrorIs(t, on(h, func() error { return port4.Connect(peer) }), protocol.ErrAlreadyConnected)
	other := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: peer.Port + 1}
	assert.ErrorIs(t, h.write(port4, msg, other), protocol.ErrInvalidAddress, "WriteTo another address in connected mode")
	none(t, p6.got, "a datagram")
}

// A datagram too long for UDP fails its write with ErrMessageLength (and
// EMSGSIZE), Twisted's MessageLengthError; a write after StopListening
// fails with net.ErrClosed. The port goes on after the first.
func TestUDPWriteErrors(t *testing.T) {
	h := newHarness(t)
	server := newUDPRec()
	sport := h.listenUDP("127.0.0.1:0", server)
	cport := h.listenUDP("127.0.0.1:0", newUDPRec())
	big := make([]byte, 70000)
	err := h.write(cport, big, sport.LocalAddr())
	assert.ErrorIs(t, err, protocol.ErrMessageLength)
	assert.ErrorIs(t, err, syscall.EMSGSIZE)

	require.NoError(t, on(h, func() error { return cport.Connect(sport.LocalAddr()) }))
	err = on(h, func() error { _, err := cport.Write(big); return err })
	assert.ErrorIs(t, err, protocol.ErrMessageLength)

	require.NoError(t, h.write(cport, []byte("small"), nil))
	assert.Equal(t, []byte("small"), recv(t, server.got, "a datagram after the failed one").data)

	h.stopUDP(cport)
	assert.ErrorIs(t, h.write(cport, []byte("late"), nil), net.ErrClosed)
	assert.ErrorIs(t, on(h, func() error { _, err := cport.Write([]byte("late")); return err }), net.ErrClosed)
	assert.ErrorIs(t, on(h, func() error { return cport.Connect(sport.LocalAddr()) }), net.ErrClosed)
	assert.ErrorIs(t, on(h, func() error { return cport.SetBroadcastAllowed(true) }), net.ErrClosed)
}

// Twisted's maxPacketSize: a port reads at most that much of a datagram,
// 8192 bytes unless told otherwise; an empty datagram arrives empty.
func TestUDPMaxPacketSize(t *testing.T) {
	h := newHarness(t)
	def, small, big := newUDPRec(), newUDPRec(), newUDPRec()
	dport := h.listenUDP("127.0.0.1:0", def)
	sport := h.listenUDP("127.0.0.1:0", small, protocol.WithMaxPacketSize(16))
	bport := h.listenUDP("127.0.0.1:0", big, protocol.WithMaxPacketSize(65536+100))
	msg := bytes.Repeat([]byte("0123456789"), 6000)
	require.NoError(t, h.write(sport, msg, dport.LocalAddr()))
	assert.Equal(t, msg[:protocol.DefaultMaxPacketSize], recv(t, def.got, "the default port's datagram").data)
	require.NoError(t, h.write(dport, msg, sport.LocalAddr()))
	assert.Equal(t, msg[:16], recv(t, small.got, "the small port's datagram").data)
	require.NoError(t, h.write(dport, msg, bport.LocalAddr()))
	assert.Equal(t, msg, recv(t, big.got, "the big port's datagram").data)
	require.NoError(t, h.write(dport, nil, sport.LocalAddr()))
	assert.Empty(t, recv(t, small.got, "an empty datagram").data)
	assert.Panics(t, func() { protocol.WithMaxPacketSize(0) })
}

// Twisted's test_datagramReceivedError: a DatagramReceived that panics is
// logged, and the port goes on hearing datagrams.
func TestUDPPanicInDatagramReceived(t *testing.T) {
	h := newHarness(t)
	bad := newUDPRec()
	bad.onData = func(*udpRec, []byte, net.Addr) { panic("application code is very buggy") }
	port := h.listenUDP("127.0.0.1:0", bad)
	sender := h.listenUDP("127.0.0.1:0", newUDPRec())
	for _, m := range []string{"1", "2"} {
		require.NoError(t, h.write(sender, []byte(m), port.LocalAddr()))
		assert.Equal(t, []byte(m), recv(t, bad.got, "datagram "+m).data)
	}
	h.do(func() {}) // the second panic has been logged
	assert.Equal(t, []string{
		"protocol: DatagramProtocol.DatagramReceived panicked",
		"protocol: DatagramProtocol.DatagramReceived panicked",
	}, h.log.messages())
	assert.Zero(t, on(h, func() int { return bad.stops }))
}

// Twisted's test_stopProtocolScheduling: StopListening from StartProtocol
// has StopProtocol run later, not inside StartProtocol.
func TestUDPStopProtocolNotReentrant(t *testing.T) {
	h := newHarness(t)
	p := newUDPRec()
	inStart, stoppedInStart := false, false
	p.onStart = func(u *udpRec) {
		inStart = true
		u.Transport.StopListening()
		inStart = false
	}
	p.onStop = func(*udpRec) { stoppedInStart = inStart }
	h.listenUDP("127.0.0.1:0", p)
	recv(t, p.stopped, "StopProtocol")
	assert.False(t, on(h, func() bool { return stoppedInStart }))
}

// Twisted's testShutdownFromDatagramReceived: a protocol that stops its
// port in DatagramReceived, with more datagrams waiting, hears none of
// them, and StopProtocol runs once.
func TestUDPStopFromDatagramReceived(t *testing.T) {
	h := newHarness(t)
	p := newUDPRec()
	p.onData = func(u *udpRec, _ []byte, _ net.Addr) { u.Transport.StopListening() }
	port := h.listenUDP("127.0.0.1:0", p)
	sender := h.listenUDP("127.0.0.1:0", newUDPRec())
	h.do(func() {
		for range 5 {
			_, err := sender.WriteTo(make([]byte, 64), port.LocalAddr())
			require.NoError(t, err)
		}
	})
	recv(t, p.stopped, "StopProtocol")
	h.do(func() {})
	assert.Len(t, p.got, 1)
	assert.Empty(t, h.log.messages(), "the closed socket was read")
	assert.Equal(t, 1, on(h, func() int { return p.stops }))
}

// Stop closes every UDP port: each protocol hears StopProtocol once, no
// descriptor is left open, and TestMain's goleak finds no goroutine.
func TestUDPReactorStopClosesPorts(t *testing.T) {
	before := openFDs(t)
	h := newHarness(t)
	var ps []*udpRec
	var ports []*protocol.UDPPort
	for _, host := range []string{"127.0.0.1:0", "[::1]:0", ":0"} {
		p := newUDPRec()
		ps = append(ps, p)
		ports = append(ports, h.listenUDP(host, p))
	}
	require.NoError(t, on(h, func() error { return ports[0].Connect(ports[2].LocalAddr()) }))
	h.stop()
	for _, p := range ps {
		recv(t, p.stopped, "StopProtocol at the stop")
		none(t, p.stopped, "a second StopProtocol")
		assert.Equal(t, 1, p.stops)
	}
	assert.Equal(t, before, openFDs(t), "a descriptor was left open")
	_, err := protocol.ListenUDP(h.r, "127.0.0.1:0", newUDPRec())
	assert.ErrorIs(t, err, protocol.ErrShutdown)
}

// Twisted's test_allowBroadcast.
func TestUDPBroadcastAllowed(t *testing.T) {
	h := newHarness(t)
	port := h.listenUDP("127.0.0.1:0", newUDPRec())
	get := func() bool {
		return on(h, func() bool { ok, err := port.BroadcastAllowed(); require.NoError(t, err); return ok })
	}
	assert.False(t, get())
	require.NoError(t, on(h, func() error { return port.SetBroadcastAllowed(true) }))
	assert.True(t, get())
	require.NoError(t, on(h, func() error { return port.SetBroadcastAllowed(false) }))
	assert.False(t, get())
}

// Panics in StartProtocol and StopProtocol are logged; the port listens
// and stops all the same.
func TestUDPPanicInStartAndStop(t *testing.T) {
	h := newHarness(t)
	p := newUDPRec()
	p.onStart = func(*udpRec) { panic("start") }
	p.onStop = func(*udpRec) { panic("stop") }
	port := h.listenUDP("127.0.0.1:0", p)
	sender := h.listenUDP("127.0.0.1:0", newUDPRec())
	require.NoError(t, h.write(sender, []byte("x"), port.LocalAddr()))
	recv(t, p.got, "a datagram")
	h.stopUDP(port)
	assert.Equal(t, []string{
		"protocol: DatagramProtocol.StartProtocol panicked",
		"protocol: DatagramProtocol.StopProtocol panicked",
	}, h.log.messages())
}
