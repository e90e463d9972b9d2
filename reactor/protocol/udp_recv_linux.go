//go:build linux && !386

package protocol

import (
	"net/netip"
	"syscall"
	"unsafe"
)

// recvFrom reads one datagram into buf and returns its length and sender
// (the zero AddrPort if the sender is not an IP address, an IPv4 one in its
// 4-byte form), with the sender's address written to rsa rather than
// allocated, as syscall.Recvfrom's is for each datagram.
func recvFrom(fd int, buf []byte, rsa *syscall.RawSockaddrAny) (int, netip.AddrPort, error) {
	var p unsafe.Pointer
	if len(buf) > 0 {
		p = unsafe.Pointer(&buf[0])
	}
	l := uint32(syscall.SizeofSockaddrAny)
	n, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(p), uintptr(len(buf)), 0, uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(&l)))
	if errno != 0 {
		return 0, netip.AddrPort{}, errno
	}
	switch rsa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return int(n), netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), netPort(sa.Port)), nil
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(rsa))
		a := netip.AddrFrom16(sa.Addr).Unmap()
		if sa.Scope_id != 0 {
			a = a.WithZone(zoneName(sa.Scope_id))
		}
		return int(n), netip.AddrPortFrom(a, netPort(sa.Port)), nil
	}
	return int(n), netip.AddrPort{}, nil
}

// netPort reads a port kept in network byte order.
func netPort(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
