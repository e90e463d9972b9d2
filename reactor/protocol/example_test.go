//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// Echo writes back what it reads: Twisted's Echo.
type Echo struct{ protocol.Base }

func (e *Echo) DataReceived(data []byte) { e.Transport.Write(data) }

// Greeter sends a line once connected, prints the answer, and closes.
type Greeter struct {
	protocol.Base
	protocol.ClientFactoryBase
	r *reactor.Reactor
}

func (g *Greeter) BuildProtocol(net.Addr) protocol.Protocol { return g }

func (g *Greeter) ConnectionMade(t protocol.Transport) {
	g.Base.ConnectionMade(t)
	t.Write([]byte("hello, world"))
}

func (g *Greeter) DataReceived(data []byte) {
	fmt.Printf("the server said %q\n", data)
	g.Transport.LoseConnection()
}

func (g *Greeter) ClientConnectionLost(_ protocol.Connector, reason error) {
	fmt.Println("closed:", reason)
	g.r.Stop()
}

func (g *Greeter) ClientConnectionFailed(_ protocol.Connector, reason error) {
	fmt.Println("connection failed:", errors.Is(reason, protocol.ErrConnect))
	fmt.Println("refused:", errors.Is(reason, syscall.ECONNREFUSED))
	g.r.Stop()
}

// An echo server and a client on one reactor, over a loopback port the
// system chooses.
func ExampleListenTCP() {
	r := reactor.New()
	port, err := protocol.ListenTCP(r, "127.0.0.1:0",
		protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} }))
	if err != nil {
		fmt.Println(err)
		return
	}
	protocol.ConnectTCP(r, port.Addr().String(), &Greeter{r: r})
	r.Run()
	// Output:
	// the server said "hello, world"
	// closed: protocol: connection was closed cleanly
}

// A connection attempt that is refused reaches the factory's
// ClientConnectionFailed, with the cause under ErrConnect.
func ExampleConnectTCP() {
	r := reactor.New()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nobody listens there any more
	protocol.ConnectTCP(r, addr, &Greeter{r: r})
	r.Run()
	// Output:
	// connection failed: true
	// refused: true
}

// The same echo over a Unix socket, whose file is removed when the port
// stops listening.
func ExampleListenUnix() {
	dir, _ := os.MkdirTemp("", "twine-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "echo.sock")
	r := reactor.New()
	port, err := protocol.ListenUnix(r, path,
		protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} }))
	if err != nil {
		fmt.Println(err)
		return
	}
	protocol.ConnectUnix(r, path, &Greeter{r: r})
	r.Run()
	_, err = os.Stat(port.Addr().String())
	fmt.Println("socket file removed:", os.IsNotExist(err))
	// Output:
	// the server said "hello, world"
	// closed: protocol: connection was closed cleanly
	// socket file removed: true
}
