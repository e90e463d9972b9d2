//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// The multicast methods of a UDP port: Twisted's MulticastMixin, for IPv4
// ports as in Twisted. Twisted's listenMulticast is [ListenUDP], with
// [WithListenMultiple] for its listenMultiple. Each takes IP addresses (a
// host name is not looked up), so each answers at once, with an error
// rather than Twisted's Deferred.

// JoinGroup makes the port hear the datagrams sent to the multicast group
// on the interface with the address iface (nil for the one the system
// chooses): Twisted's joinGroup. It fails with an error matched by
// [ErrMulticastJoin], wrapping the system's, when the group is not a
// multicast address or cannot be joined.
func (u *UDPPort) JoinGroup(group, iface net.IP) error {
	return u.membership(syscall.IP_ADD_MEMBERSHIP, "join", group, iface)
}

// LeaveGroup undoes JoinGroup: Twisted's leaveGroup. It fails with an
// error matched by [ErrMulticastJoin] when the port is not in the group.
func (u *UDPPort) LeaveGroup(group, iface net.IP) error {
	return u.membership(syscall.IP_DROP_MEMBERSHIP, "leave", group, iface)
}

func (u *UDPPort) membership(opt int, op string, group, iface net.IP) error {
	if err := u.multicastUsable(); err != nil {
		return err
	}
	g := group.To4()
	if g == nil {
		return fmt.Errorf("%w: %s %v: %w: not an IPv4 address", ErrMulticastJoin, op, group, ErrInvalidAddress)
	}
	mreq := &syscall.IPMreq{}
	copy(mreq.Multiaddr[:], g)
	if iface != nil {
		i := iface.To4()
		if i == nil {
			return fmt.Errorf("%w: %s %v on %v: %w: not an IPv4 address", ErrMulticastJoin, op, group, iface, ErrInvalidAddress)
		}
		copy(mreq.Interface[:], i)
	}
	if err := syscall.SetsockoptIPMreq(u.fd, syscall.IPPROTO_IP, opt, mreq); err != nil {
		return fmt.Errorf("%w: %s %v: %w", ErrMulticastJoin, op, group, os.NewSyscallError("setsockopt", err))
	}
	return nil
}

// SetTTL sets the time to live of the multicast datagrams the port sends,
// 0 to 255 (1 at first, which keeps them on the local network): Twisted's
// setTTL.
func (u *UDPPort) SetTTL(ttl int) error {
	if err := u.multicastUsable(); err != nil {
		return err
	}
	if ttl < 0 || ttl > 255 {
		return fmt.Errorf("protocol: UDP multicast TTL %d: not in 0..255", ttl)
	}
	return os.NewSyscallError("setsockopt", syscall.SetsockoptByte(u.fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_TTL, byte(ttl)))
}

// TTL is the time to live of the multicast datagrams the port sends:
// Twisted's getTTL.
func (u *UDPPort) TTL() (int, error) {
	if err := u.multicastUsable(); err != nil {
		return 0, err
	}
	v, err := syscall.GetsockoptInt(u.fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_TTL)
	if err != nil {
		return 0, os.NewSyscallError("getsockopt", err)
	}
	return v & 0xff, nil
}

// SetLoopbackMode sets whether the multicast datagrams the port sends
// reach this host's members of the group too, the port itself included (on
// at first): Twisted's setLoopbackMode.
func (u *UDPPort) SetLoopbackMode(on bool) error {
	if err := u.multicastUsable(); err != nil {
		return err
	}
	var v byte
	if on {
		v = 1
	}
	return os.NewSyscallError("setsockopt", syscall.SetsockoptByte(u.fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_LOOP, v))
}

// LoopbackMode reports whether the multicast datagrams the port sends reach
// this host's members of the group: Twisted's getLoopbackMode.
func (u *UDPPort) LoopbackMode() (bool, error) {
	if err := u.multicastUsable(); err != nil {
		return false, err
	}
	v, err := syscall.GetsockoptInt(u.fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_LOOP)
	if err != nil {
		return false, os.NewSyscallError("getsockopt", err)
	}
	return v&0xff != 0, nil
}

// SetOutgoingInterface sends the port's multicast datagrams out of the
// interface with the IPv4 address iface: Twisted's setOutgoingInterface.
func (u *UDPPort) SetOutgoingInterface(iface net.IP) error {
	if err := u.multicastUsable(); err != nil {
		return err
	}
	i := iface.To4()
	if i == nil {
		return fmt.Errorf("%w: %v: not an IPv4 address", ErrInvalidAddress, iface)
	}
	var a [4]byte
	copy(a[:], i)
	return os.NewSyscallError("setsockopt", syscall.SetsockoptInet4Addr(u.fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF, a))
}

// OutgoingInterface is the address of the interface the port's multicast
// datagrams go out of, 0.0.0.0 while the system chooses: Twisted's
// getOutgoingInterface.
func (u *UDPPort) OutgoingInterface() (net.IP, error) {
	if err := u.multicastUsable(); err != nil {
		return nil, err
	}
	a, err := syscall.GetsockoptInet4Addr(u.fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF)
	if err != nil {
		return nil, os.NewSyscallError("getsockopt", err)
	}
	return net.IPv4(a[0], a[1], a[2], a[3]), nil
}

// multicastUsable fails for a port that has stopped listening or is not
// IPv4.
func (u *UDPPort) multicastUsable() error {
	if u.closed {
		return u.closedError()
	}
	if u.family != syscall.AF_INET {
		return fmt.Errorf("protocol: UDP multicast on %v: IPv4 ports only, as in Twisted: %w", u.local, errors.ErrUnsupported)
	}
	return nil
}

// reuseForMulticast lets several sockets bind the same address, for
// [WithListenMultiple]: SO_REUSEADDR, and SO_REUSEPORT where the system
// has it (Linux needs it for two sockets to hear one group).
func reuseForMulticast(fd int) error {
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soReusePort, 1); err != nil && err != syscall.ENOPROTOOPT {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}
