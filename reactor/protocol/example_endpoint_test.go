//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// Asker sends a question once connected, prints the answer, and stops the
// reactor.
type Asker struct {
	protocol.Base
	r *reactor.Reactor
}

func (a *Asker) DataReceived(data []byte) {
	fmt.Printf("answer: %q\n", data)
	a.r.Stop()
}

// A server and a client made from Twisted's endpoint strings: the server
// listens on a port the system chooses, and the client, given that port,
// connects with ConnectProtocol.
func ExampleServerFromString() {
	r := reactor.New()
	server, err := protocol.ServerFromString(r, "tcp:0:interface=127.0.0.1")
	if err != nil {
		fmt.Println(err)
		return
	}
	server.Listen(protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} })).
		AddCallback(func(port protocol.ListeningPort) (protocol.ListeningPort, error) {
			desc := fmt.Sprintf("tcp:127.0.0.1:%d:timeout=5", port.Addr().(*net.TCPAddr).Port)
			client, err := protocol.ClientFromString(r, desc)
			if err != nil {
				return nil, err
			}
			protocol.ConnectProtocol(client, &Asker{r: r}).
				AddCallback(func(p protocol.Protocol) (protocol.Protocol, error) {
					p.(*Asker).Transport.Write([]byte("ping"))
					return p, nil
				})
			return port, nil
		})
	r.Run()
	// Output:
	// answer: "ping"
}

// A bad description is an error matched by ErrEndpointString that says
// what is wrong.
func ExampleClientFromString() {
	r := reactor.New()
	_, err := protocol.ClientFromString(r, "tcp:host=example.com:port=http")
	fmt.Println(errors.Is(err, protocol.ErrEndpointString))
	fmt.Println(err)
	// Output:
	// true
	// protocol: bad endpoint description "tcp:host=example.com:port=http": port "http" is not a number from 1 to 65535: strconv.Atoi: parsing "http": invalid syntax
}

// Connecting to a port where nobody listens fails the Deferred with the
// cause under ErrConnect.
func ExampleTCPClientEndpoint_Connect() {
	r := reactor.New()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nobody listens there any more
	endpoint := protocol.NewTCPClientEndpoint(r, "127.0.0.1", port)
	endpoint.Connect(protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &protocol.Base{} })).
		AddBoth(func(p protocol.Protocol, err error) (protocol.Protocol, error) {
			fmt.Println("connect failed:", errors.Is(err, protocol.ErrConnect))
			r.Stop()
			return nil, nil
		})
	r.Run()
	// Output:
	// connect failed: true
}

// Listening where another port listens fails the Deferred with
// ErrCannotListen, the cause under it.
func ExampleTCPServerEndpoint_Listen() {
	r := reactor.New()
	factory := protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} })
	first := protocol.NewTCP4ServerEndpoint(r, 0, "127.0.0.1")
	first.Listen(factory).AddCallback(func(port protocol.ListeningPort) (protocol.ListeningPort, error) {
		second := protocol.NewTCP4ServerEndpoint(r, port.Addr().(*net.TCPAddr).Port, "127.0.0.1")
		second.Backlog = 10
		second.Listen(factory).AddErrback(func(err error) (protocol.ListeningPort, error) {
			fmt.Println("cannot listen:", errors.Is(err, protocol.ErrCannotListen))
			fmt.Println("in use:", errors.Is(err, syscall.EADDRINUSE))
			return nil, nil
		})
		return port, nil
	})
	r.CallWhenRunning(func() { r.Stop() })
	r.Run()
	// Output:
	// cannot listen: true
	// in use: true
}
