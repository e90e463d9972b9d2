//go:build darwin || dragonfly || freebsd || netbsd || (linux && 386)

package protocol

import (
	"net/netip"
	"syscall"
)

// recvFrom reads one datagram into buf and returns its length and sender
// (the zero AddrPort if the sender is not an IP address, an IPv4 one in its
// 4-byte form).
func recvFrom(fd int, buf []byte, _ *syscall.RawSockaddrAny) (int, netip.AddrPort, error) {
	n, sa, err := syscall.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return n, netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)), nil
	case *syscall.SockaddrInet6:
		a := netip.AddrFrom16(sa.Addr).Unmap()
		if sa.ZoneId != 0 {
			a = a.WithZone(zoneName(sa.ZoneId))
		}
		return n, netip.AddrPortFrom(a, uint16(sa.Port)), nil
	}
	return n, netip.AddrPort{}, nil
}
