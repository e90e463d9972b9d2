// Command finger is the finger server of Twisted's tutorial, ported to a
// twine reactor: the step "Use Deferreds" of "The Evolution of Finger:
// building a simple finger service" (docs/core/howto/tutorial/intro.rst in
// Twisted's documentation, listing finger08.py), where the factory keeps the
// user database and answers each lookup through a Deferred.
//
// A client sends a user name on a line; the server looks it up, writes the
// user's status (or "No such user") on a line, and closes the connection.
// The protocol is a LineReceiver, so a line longer than 16384 bytes closes
// the connection with no answer, as in Twisted. The protocol asks the factory
// for the user through a Deferred and writes the answer from its callback;
// a lookup that fails is answered "Internal error in server".
//
// By default the program serves on a loopback port of the system's choosing,
// makes a few finger queries of itself (each bounded by a timeout, with
// AddTimeout, Twisted's addTimeout, that aborts a connection the server holds
// too long), prints what each brought back, and exits:
//
//	go run ./examples/finger
//
// or only serves:
//
//	go run ./examples/finger -serve 127.0.0.1:1079   # then: printf 'moshez\r\n' | nc 127.0.0.1 1079
//
// The directory twisted beside this file holds the same server written for
// Twisted; the tests make the same client exchanges with both and compare
// what each sends back, byte for byte, and how each closes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/reactor/protocol/basic"
)

// UserSource answers a finger query through a Deferred: what Twisted's
// FingerProtocol asks of its factory (self.factory.getUser).
type UserSource interface {
	GetUser(user string) *deferred.Deferred[string]
}

// FingerProtocol answers one query: it reads a user name on a line, asks its
// factory for the user's status, writes it back on a line, and closes.
type FingerProtocol struct {
	basic.LineReceiver
	Factory UserSource
}

// NewFingerProtocol makes a protocol that asks users.
func NewFingerProtocol(users UserSource) *FingerProtocol {
	p := &FingerProtocol{Factory: users}
	p.Handler = p
	return p
}

// LineReceived looks the user up and answers once the Deferred fires.
func (p *FingerProtocol) LineReceived(user []byte) {
	d := p.Factory.GetUser(string(user))
	d.AddErrback(func(error) (string, error) {
		return "Internal error in server", nil
	})
	d.AddCallback(func(message string) (string, error) {
		_ = p.SendLine([]byte(message))
		p.Transport.LoseConnection()
		return message, nil
	})
}

// FingerFactory holds the user database and builds a FingerProtocol for
// each connection: Twisted's FingerFactory, a ServerFactory.
type FingerFactory struct {
	users map[string]string
}

// NewFingerFactory makes a factory that answers from users, a map from
// user name to status.
func NewFingerFactory(users map[string]string) *FingerFactory {
	return &FingerFactory{users: users}
}

// GetUser returns a Deferred that has the user's status, or "No such user".
func (f *FingerFactory) GetUser(user string) *deferred.Deferred[string] {
	status, ok := f.users[user]
	if !ok {
		status = "No such user"
	}
	return deferred.Succeed(status)
}

// BuildProtocol makes the protocol of a new connection, with the factory
// as its user source.
func (f *FingerFactory) BuildProtocol(net.Addr) protocol.Protocol {
	return NewFingerProtocol(f)
}

// Users is the database the program serves.
var Users = map[string]string{"moshez": "Happy and well"}

// Reply is what one query brought back: the bytes the server sent, and why
// the connection ended.
type Reply struct {
	Data   []byte
	Reason error
}

// fingerClient sends its query once connected and keeps what comes back
// until the connection ends; it is its own factory.
type fingerClient struct {
	protocol.Base
	protocol.ClientFactoryBase
	query []byte
	data  []byte
	done  *deferred.Deferred[Reply]
}

func (c *fingerClient) BuildProtocol(net.Addr) protocol.Protocol { return c }

func (c *fingerClient) ConnectionMade(t protocol.Transport) {
	c.Base.ConnectionMade(t)
	_, _ = t.Write(c.query)
}

func (c *fingerClient) DataReceived(data []byte) { c.data = append(c.data, data...) }

func (c *fingerClient) ConnectionLost(reason error) {
	c.Base.ConnectionLost(reason)
	if !c.done.Called() { // not cancelled
		c.done.Callback(Reply{Data: c.data, Reason: reason})
	}
}

func (c *fingerClient) ClientConnectionFailed(_ protocol.Connector, reason error) {
	if !c.done.Called() {
		c.done.Errback(reason)
	}
}

// Query connects to addr, sends query as it is, and fires with what the
// server sent back once the connection has ended; it fails if the
// connection cannot be made. Cancelling it (as AddTimeout does) stops the
// attempt to connect, or aborts the connection. Call it on the reactor
// goroutine.
func Query(r *reactor.Reactor, addr string, query []byte) *deferred.Deferred[Reply] {
	c := &fingerClient{query: query}
	var connector protocol.Connector
	c.done = deferred.NewWithCanceller(func(*deferred.Deferred[Reply]) {
		if c.Connected {
			c.Transport.AbortConnection()
		} else {
			connector.StopConnecting()
		}
	})
	connector = protocol.ConnectTCP(r, addr, c)
	return c.done
}

// queryTimeout bounds each query the program makes, so that a server that
// neither answers nor closes cannot hold the program.
const queryTimeout = 10 * time.Second

// queries are the client's queries, each on a connection of its own.
var queries = []struct {
	what  string
	query []byte
}{
	{`"moshez"`, []byte("moshez\r\n")},
	{`"nobody"`, []byte("nobody\r\n")},
	{"an empty line", []byte("\r\n")},
	{`"moshez" and "nobody" in one write`, []byte("moshez\r\nnobody\r\n")},
	{"a line of 16384 bytes", []byte(strings.Repeat("x", 16384) + "\r\n")},
	{"a line of 16385 bytes", []byte(strings.Repeat("x", 16385) + "\r\n")},
}

// describe says how a connection ended.
func describe(reason error) string {
	if errors.Is(reason, protocol.ErrConnectionDone) {
		return "the server closed the connection"
	}
	return "the connection ended: " + reason.Error()
}

// program serves on a loopback port and makes the queries of it,
// writing to w what each query brought back.
func program(w io.Writer, r *reactor.Reactor) *deferred.Deferred[struct{}] {
	port, err := protocol.ListenTCP(r, "127.0.0.1:0", NewFingerFactory(Users))
	if err != nil {
		return deferred.Fail[struct{}](err)
	}
	return deferred.Async(func(a *deferred.Awaiter) (struct{}, error) {
		for _, q := range queries {
			reply, err := deferred.Await(a, Query(r, port.Addr().String(), q.query).AddTimeout(r, queryTimeout))
			if err != nil {
				return struct{}{}, fmt.Errorf("finger %s: %w", q.what, err)
			}
			answer := "no answer"
			if len(reply.Data) > 0 {
				answer = fmt.Sprintf("%q", reply.Data)
			}
			fmt.Fprintf(w, "finger %s: %s, then %s\n", q.what, answer, describe(reply.Reason))
		}
		_, err := deferred.Await(a, port.StopListening())
		return struct{}{}, err
	})
}

// run runs the program on a reactor of its own.
func run(w io.Writer) error {
	return reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		return program(w, r)
	})
}

// serve serves until interrupted.
func serve(w io.Writer, addr string) error {
	r := reactor.New(reactor.WithSignals())
	port, err := protocol.ListenTCP(r, addr, NewFingerFactory(Users))
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "finger server on", port.Addr())
	return r.Run()
}

func main() {
	addr := flag.String("serve", "", "only serve, on this address")
	flag.Parse()
	var err error
	if *addr != "" {
		err = serve(os.Stdout, *addr)
	} else {
		err = run(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "finger:", err)
		os.Exit(1)
	}
}
