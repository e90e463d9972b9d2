//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"fmt"
	"net"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// UDPEcho writes each datagram back to where it came from: Twisted's UDP
// echo server.
type UDPEcho struct{ protocol.DatagramBase }

func (e *UDPEcho) DatagramReceived(data []byte, addr net.Addr) {
	e.Transport.WriteTo(data, addr)
}

// UDPHello connects its port to the server, says hello, prints the answer
// and stops listening; then it stops the reactor.
type UDPHello struct {
	protocol.DatagramBase
	r      *reactor.Reactor
	server net.Addr
}

func (c *UDPHello) StartProtocol(t protocol.DatagramTransport) {
	c.DatagramBase.StartProtocol(t)
	if err := t.Connect(c.server); err != nil {
		fmt.Println(err)
		return
	}
	t.Write([]byte("hello, world"))
}

func (c *UDPHello) DatagramReceived(data []byte, addr net.Addr) {
	fmt.Printf("the server said %q\n", data)
	c.Transport.StopListening()
}

func (c *UDPHello) StopProtocol() {
	fmt.Println("stopped")
	c.r.Stop()
}

// A UDP echo server and a client in connected mode on one reactor, over
// loopback ports the system chooses.
func ExampleListenUDP() {
	r := reactor.New()
	server, err := protocol.ListenUDP(r, "127.0.0.1:0", &UDPEcho{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := protocol.ListenUDP(r, "127.0.0.1:0", &UDPHello{r: r, server: server.LocalAddr()}); err != nil {
		fmt.Println(err)
		return
	}
	r.Run()
	// Output:
	// the server said "hello, world"
	// stopped
}
