// Command echo is Twisted's echo server and client (echoserv.py and
// echoclient.py from its documentation) on a twine reactor.
//
// The server writes back whatever it reads. The client connects, sends a
// few lines, prints what comes back, and closes once it has it all; when
// its connection is lost, the reactor stops. Both protocols run on the
// reactor goroutine, and neither holds a lock.
//
// By default the program runs both, the server on a loopback port of the
// system's choosing:
//
//	go run ./examples/echo
//
// or one of them:
//
//	go run ./examples/echo -serve 127.0.0.1:8000
//	go run ./examples/echo -connect 127.0.0.1:8000
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// Echo is the server's protocol: Twisted's Echo.
type Echo struct{ protocol.Base }

// DataReceived writes the data back.
func (e *Echo) DataReceived(data []byte) { _, _ = e.Transport.Write(data) }

// EchoClient sends its lines once connected and prints what comes back;
// once everything has, it closes the connection.
type EchoClient struct {
	protocol.Base
	lines []string
	out   io.Writer
	want  int
	got   bytes.Buffer
}

// ConnectionMade sends the lines.
func (c *EchoClient) ConnectionMade(t protocol.Transport) {
	c.Base.ConnectionMade(t)
	for _, l := range c.lines {
		_, _ = t.Write([]byte(l + "\n"))
		c.want += len(l) + 1
	}
}

// DataReceived prints each whole line that has come back.
func (c *EchoClient) DataReceived(data []byte) {
	c.got.Write(data)
	for {
		line, err := c.got.ReadString('\n')
		if err != nil {
			c.got.WriteString(line) // a part: wait for the rest
			break
		}
		c.want -= len(line)
		fmt.Fprintf(c.out, "server said: %s", line)
	}
	if c.want == 0 {
		c.Transport.LoseConnection()
	}
}

// EchoClientFactory builds the client and stops the reactor when its
// connection ends or cannot be made: Twisted's EchoClientFactory.
type EchoClientFactory struct {
	protocol.ClientFactoryBase
	r     *reactor.Reactor
	lines []string
	out   io.Writer
	err   error
}

// BuildProtocol builds the client.
func (f *EchoClientFactory) BuildProtocol(net.Addr) protocol.Protocol {
	return &EchoClient{lines: f.lines, out: f.out}
}

// ClientConnectionFailed reports the failure and stops the reactor.
func (f *EchoClientFactory) ClientConnectionFailed(_ protocol.Connector, reason error) {
	f.err = fmt.Errorf("connection failed: %w", reason)
	_ = f.r.Stop()
}

// ClientConnectionLost stops the reactor; a clean close is no error.
func (f *EchoClientFactory) ClientConnectionLost(_ protocol.Connector, reason error) {
	fmt.Fprintln(f.out, "connection closed:", reason)
	if !errors.Is(reason, protocol.ErrConnectionDone) {
		f.err = reason
	}
	_ = f.r.Stop()
}

func main() {
	serve := flag.String("serve", "", "only serve, on this address")
	connect := flag.String("connect", "", "only connect, to this address")
	flag.Parse()
	if err := run(os.Stdout, *serve, *connect); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

// run serves on serve, or connects to connect, or, with neither, does both
// over a loopback port, writing what happens to w.
func run(w io.Writer, serve, connect string) error {
	r := reactor.New(reactor.WithSignals())
	lines := []string{"hello, world!", "what a fine day it is.", "bye-bye!"}
	switch {
	case serve != "":
		port, err := protocol.ListenTCP(r, serve, protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} }))
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "echo server on", port.Addr())
		return r.Run()
	case connect != "":
		f := &EchoClientFactory{r: r, lines: lines, out: w}
		protocol.ConnectTCP(r, connect, f)
		if err := r.Run(); err != nil {
			return err
		}
		return f.err
	}
	port, err := protocol.ListenTCP(r, "127.0.0.1:0", protocol.FactoryFunc(func(net.Addr) protocol.Protocol { return &Echo{} }))
	if err != nil {
		return err
	}
	f := &EchoClientFactory{r: r, lines: lines, out: w}
	protocol.ConnectTCP(r, port.Addr().String(), f)
	if err := r.Run(); err != nil {
		return err
	}
	return f.err
}
