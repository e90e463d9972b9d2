//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor/protocol"
)

// group is the multicast group of Twisted's MulticastTests.
var group = net.IPv4(225, 0, 0, 250)

var loopback = net.IPv4(127, 0, 0, 1)

// Twisted's testTTL, test_interface and the loopback mode's default and
// setter.
func TestUDPMulticastOptions(t *testing.T) {
	h := newHarness(t)
	port := h.listenUDP(":0", newUDPRec())
	h.do(func() {
		ttl, err := port.TTL()
		require.NoError(t, err)
		assert.Equal(t, 1, ttl)
		require.NoError(t, port.SetTTL(2))
		ttl, err = port.TTL()
		require.NoError(t, err)
		assert.Equal(t, 2, ttl)
		assert.Error(t, port.SetTTL(256))

		loop, err := port.LoopbackMode()
		require.NoError(t, err)
		assert.True(t, loop)
		require.NoError(t, port.SetLoopbackMode(false))
		loop, err = port.LoopbackMode()
		require.NoError(t, err)
		assert.False(t, loop)

		iface, err := port.OutgoingInterface()
		require.NoError(t, err)
		assert.True(t, iface.Equal(net.IPv4zero), iface)
		require.NoError(t, port.SetOutgoingInterface(loopback))
		iface, err = port.OutgoingInterface()
		require.NoError(t, err)
		assert.True(t, iface.Equal(loopback), iface)
		assert.ErrorIs(t, port.SetOutgoingInterface(net.IPv6loopback), protocol.ErrInvalidAddress)
	})
}

// Twisted's test_multicast and test_loopback: a port that joined the group
// hears what another port sends to it, and what it sends itself while its
// loopback mode is on.
func TestUDPMulticast(t *testing.T) {
	h := newHarness(t)
	server, client := newUDPRec(), newUDPRec()
	sport := h.listenUDP(":0", server)
	cport := h.listenUDP(":0", client)
	dest := &net.UDPAddr{IP: group, Port: sport.LocalAddr().(*net.UDPAddr).Port}
	h.do(func() {
		require.NoError(t, sport.JoinGroup(group, loopback))
		require.NoError(t, cport.SetOutgoingInterface(loopback))
		require.NoError(t, sport.SetOutgoingInterface(loopback))
	})
	require.NoError(t, h.write(cport, []byte("hello world"), dest))
	assert.Equal(t, []byte("hello world"), recv(t, server.got, "the group's datagram").data)
	require.NoError(t, h.write(sport, []byte("hello"), dest))
	assert.Equal(t, []byte("hello"), recv(t, server.got, "the port's own datagram").data)
}

// Twisted's test_joinLeave and test_joinFailure: a group is joined and
// left; joining an address that is not a multicast one, or leaving a group
// not joined, fails with ErrMulticastJoin; an IPv6 port has no multicast.
func TestUDPMulticastJoinLeave(t *testing.T) {
	h := newHarness(t)
	port := h.listenUDP(":0", newUDPRec())
	port6 := h.listenUDP("[::1]:0", newUDPRec())
	h.do(func() {
		require.NoError(t, port.JoinGroup(group, nil))
		require.NoError(t, port.LeaveGroup(group, nil))
		require.NoError(t, port.JoinGroup(group, loopback))
		require.NoError(t, port.LeaveGroup(group, loopback))
		assert.ErrorIs(t, port.LeaveGroup(group, loopback), protocol.ErrMulticastJoin, "leaving a group not joined")
		assert.ErrorIs(t, port.JoinGroup(loopback, nil), protocol.ErrMulticastJoin, "joining a unicast address")
		err := port.JoinGroup(net.ParseIP("ff02::1"), nil)
		assert.ErrorIs(t, err, protocol.ErrMulticastJoin)
		assert.ErrorIs(t, err, protocol.ErrInvalidAddress)
		assert.ErrorIs(t, port6.JoinGroup(group, nil), errors.ErrUnsupported)
		_, err = port6.TTL()
		assert.ErrorIs(t, err, errors.ErrUnsupported)
	})
	h.stopUDP(port)
	assert.ErrorIs(t, on(h, func() error { return port.JoinGroup(group, nil) }), net.ErrClosed)
}

// Twisted's test_multiListen: two ports on one address and port, with
// listenMultiple, both hear a datagram sent to a group both joined; without
// it the second cannot listen there.
func TestUDPMulticastListenMultiple(t *testing.T) {
	h := newHarness(t)
	first, second := newUDPRec(), newUDPRec()
	p1 := h.listenUDP(":0", first, protocol.WithListenMultiple(true))
	addr := p1.LocalAddr().String()
	p2 := h.listenUDP(addr, second, protocol.WithListenMultiple(true))
	err := on(h, func() error { _, err := protocol.ListenUDP(h.r, addr, newUDPRec()); return err })
	assert.ErrorIs(t, err, protocol.ErrCannotListen)
	sender := h.listenUDP("127.0.0.1:0", newUDPRec())
	h.do(func() {
		require.NoError(t, p1.JoinGroup(group, loopback))
		require.NoError(t, p2.JoinGroup(group, loopback))
		require.NoError(t, sender.SetOutgoingInterface(loopback))
	})
	dest := &net.UDPAddr{IP: group, Port: p1.LocalAddr().(*net.UDPAddr).Port}
	require.NoError(t, h.write(sender, []byte("both"), dest))
	assert.Equal(t, []byte("both"), recv(t, first.got, "the first port's datagram").data)
	assert.Equal(t, []byte("both"), recv(t, second.got, "the second port's datagram").data)
}
