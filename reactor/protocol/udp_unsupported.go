//go:build !(darwin || dragonfly || freebsd || linux || netbsd)

package protocol

import (
	"fmt"

	"github.com/twinego/twine/reactor"
)

// UDPPort is a UDP socket on the reactor. On this system there are none:
// see [ErrUnsupported].
type UDPPort struct{}

// ListenUDP fails with [ErrUnsupported] on this system.
func ListenUDP(r *reactor.Reactor, address string, p DatagramProtocol, opts ...Option) (*UDPPort, error) {
	return nil, fmt.Errorf("%w: udp %s: %w", ErrCannotListen, address, ErrUnsupported)
}
