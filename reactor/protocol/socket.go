//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/twinego/twine/reactor"
)

// tcpSockaddr converts a TCP address to the system's form. An address with
// no IP is the IPv4 wildcard, as Twisted's interface ”.
func tcpSockaddr(a *net.TCPAddr) (int, syscall.Sockaddr, error) {
	if a.IP == nil || a.IP.To4() != nil {
		sa := &syscall.SockaddrInet4{Port: a.Port}
		if a.IP != nil {
			copy(sa.Addr[:], a.IP.To4())
		}
		return syscall.AF_INET, sa, nil
	}
	if ip := a.IP.To16(); ip != nil {
		sa := &syscall.SockaddrInet6{Port: a.Port}
		copy(sa.Addr[:], ip)
		if a.Zone != "" {
			if n, err := strconv.Atoi(a.Zone); err == nil {
				sa.ZoneId = uint32(n)
			} else if ifi, err := net.InterfaceByName(a.Zone); err == nil {
				sa.ZoneId = uint32(ifi.Index)
			} else {
				return 0, nil, err
			}
		}
		return syscall.AF_INET6, sa, nil
	}
	return 0, nil, &net.AddrError{Err: "not an IP address", Addr: a.IP.String()}
}

// sockaddrAddr converts an address of the system's form back to Go's.
func sockaddrAddr(sa syscall.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), sa.Addr[:]...)).To16(), Port: sa.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), sa.Addr[:]...)), Port: sa.Port, Zone: zoneName(sa.ZoneId)}
	case *syscall.SockaddrUnix:
		return &net.UnixAddr{Name: sa.Name, Net: "unix"}
	}
	return &net.UnixAddr{Net: "unix"} // an unnamed Unix socket's peer
}

// zoneName names an IPv6 zone by its interface's name, or its number if it
// has none; zone 0 is none.
func zoneName(id uint32) string {
	if id == 0 {
		return ""
	}
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(int(id))
}

// localAddr is the socket's own address.
func localAddr(fd int) net.Addr {
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return nil
	}
	return sockaddrAddr(sa)
}

// peerAddr is the address of the socket's peer.
func peerAddr(fd int) net.Addr {
	sa, err := syscall.Getpeername(fd)
	if err != nil {
		return nil
	}
	return sockaddrAddr(sa)
}

// unixSockaddr converts a Unix socket's path; a leading '@' names Linux's
// abstract namespace, as in Go's net package.
func unixSockaddr(path string) *syscall.SockaddrUnix {
	return &syscall.SockaddrUnix{Name: path}
}

// listenAddr parses the address of a port to listen on, "host:port" as Go's
// net.Listen takes it for network ("tcp" or "udp"): the host an IP literal
// (with an IPv6 zone, if any) or empty for every IPv4 interface, the port a
// number or a service name. It returns the address as a *net.TCPAddr,
// which tcpSockaddr turns into a socket address for either network.
func listenAddr(network, address string) (*net.TCPAddr, error) {
	host, portName, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := net.LookupPort(network, portName)
	if err != nil {
		return nil, err
	}
	addr := &net.TCPAddr{Port: port}
	if host != "" {
		ip, zone := splitZone(host)
		if addr.IP = net.ParseIP(ip); addr.IP == nil {
			return nil, &net.AddrError{Err: "not an IP address", Addr: host}
		}
		addr.Zone = zone
	}
	return addr, nil
}

// boundSocket opens a socket of type typ (syscall.SOCK_STREAM or
// SOCK_DGRAM) on r's engine, bound to address as listenAddr parses it for
// network; prepare, if not nil, sets the socket's options before the bind.
// It returns the engine, the socket and its family; on an error nothing is
// left open.
func boundSocket(r *reactor.Reactor, network, address string, typ int, prepare func(fd int) error) (e *engine, fd, family int, err error) {
	addr, err := listenAddr(network, address)
	if err != nil {
		return nil, -1, 0, err
	}
	family, sa, err := tcpSockaddr(addr)
	if err != nil {
		return nil, -1, 0, err
	}
	if e, err = engineFor(r); err != nil {
		return nil, -1, 0, err
	}
	if fd, err = socket(family, typ); err != nil {
		return nil, -1, 0, err
	}
	if prepare != nil {
		if err := prepare(fd); err != nil {
			_ = syscall.Close(fd)
			return nil, -1, 0, err
		}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		_ = syscall.Close(fd)
		return nil, -1, 0, os.NewSyscallError("bind", err)
	}
	return e, fd, family, nil
}
