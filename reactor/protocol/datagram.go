package protocol

import (
	"errors"
	"net"

	"github.com/twinego/twine/deferred"
)

// DatagramProtocol is the code that speaks on a datagram (UDP) port:
// Twisted's DatagramProtocol. Its methods run on the reactor goroutine:
// StartProtocol once, when the port listens; DatagramReceived for each
// datagram; StopProtocol once, last, when the port has stopped listening.
// Embed [DatagramBase] to write only the methods that matter.
type DatagramProtocol interface {
	// StartProtocol is called once the port listens, with its transport
	// (Twisted's makeConnection and startProtocol in one).
	StartProtocol(t DatagramTransport)

	// DatagramReceived is called with each datagram and the address it
	// came from. data is valid only until DatagramReceived returns.
	DatagramReceived(data []byte, addr net.Addr)

	// StopProtocol is called once, when the port has stopped listening.
	StopProtocol()
}

// ConnectionRefusedReceiver is implemented by a [DatagramProtocol] that wants
// to hear that a datagram sent in connected mode was refused (an ICMP port
// unreachable came back): Twisted's connectionRefused.
type ConnectionRefusedReceiver interface {
	ConnectionRefused()
}

// DatagramTransport is a datagram port as its protocol sees it: Twisted's
// IUDPTransport. Its methods are called on the reactor goroutine and never
// block: a datagram the kernel cannot take at once is dropped, as UDP
// allows, and reported in the error.
type DatagramTransport interface {
	// WriteTo sends p to addr as one datagram. In connected mode addr must
	// be nil or the connected address.
	WriteTo(p []byte, addr net.Addr) (int, error)

	// Write sends p as one datagram to the connected address; without
	// Connect it returns an error.
	Write(p []byte) (int, error)

	// Connect makes the port send to addr alone and receive from addr
	// alone: Twisted's connected mode. A port connects once.
	Connect(addr net.Addr) error

	// LocalAddr is the port's address: Twisted's getHost.
	LocalAddr() net.Addr

	// RemoteAddr is the connected address, or nil before Connect.
	RemoteAddr() net.Addr

	// SetBroadcastAllowed lets the port send to broadcast addresses.
	SetBroadcastAllowed(allowed bool) error

	// StopListening closes the port; StopProtocol runs, and the returned
	// Deferred fires on the reactor goroutine once it is closed.
	StopListening() *deferred.Deferred[struct{}]
}

// DatagramBase implements [DatagramProtocol] with methods that keep the
// transport and do nothing else. Embed it; a protocol that writes its own
// StartProtocol calls DatagramBase.StartProtocol first.
type DatagramBase struct {
	// Transport is the port's transport, from StartProtocol on.
	Transport DatagramTransport
}

// StartProtocol keeps t in b.Transport.
func (b *DatagramBase) StartProtocol(t DatagramTransport) { b.Transport = t }

// DatagramReceived does nothing.
func (b *DatagramBase) DatagramReceived(data []byte, addr net.Addr) {}

// StopProtocol does nothing.
func (b *DatagramBase) StopProtocol() {}

var _ DatagramProtocol = (*DatagramBase)(nil)

// ErrInvalidAddress is the error, wrapped with the address and the reason,
// that a datagram port's WriteTo, Write or Connect fails with when the
// address cannot be used: not a *net.UDPAddr with an IP address (a host
// name is not looked up, as in Twisted), of the other IP family than the
// port's, not the connected address in connected mode, or missing.
// Twisted's InvalidAddressError.
var ErrInvalidAddress = errors.New("protocol: invalid address")

// ErrMessageLength is the error, wrapping the system's EMSGSIZE, that a
// datagram port's write fails with when the datagram is too long to be
// sent as one: Twisted's MessageLengthError.
var ErrMessageLength = errors.New("protocol: message too long")

// ErrAlreadyConnected is the error a datagram port's Connect fails with
// when the port is connected already: Twisted allows one connect per port.
var ErrAlreadyConnected = errors.New("protocol: datagram port already connected")

// ErrMulticastJoin is the error, wrapped with the group and the cause, that
// a UDP port's JoinGroup or LeaveGroup fails with: Twisted's
// MulticastJoinError.
var ErrMulticastJoin = errors.New("protocol: cannot join or leave multicast group")
