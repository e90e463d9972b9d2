package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// lineSize is the length of each of dave's lines, newline included.
const lineSize = 512

// client is a demonstration client: it names itself, counts the lines it
// receives from dave, and, for dave, sends lines as a streaming producer.
type client struct {
	protocol.Base
	protocol.ClientFactoryBase
	demo    *demo
	name    string
	partial int // bytes of a line not yet complete
	lines   int
	// dave's:
	toSend int
	paused bool
	line   []byte
}

func (c *client) BuildProtocol(net.Addr) protocol.Protocol { return c }

func (c *client) ClientConnectionFailed(_ protocol.Connector, reason error) {
	c.demo.fail(fmt.Errorf("%s: %w", c.name, reason))
}

func (c *client) ConnectionMade(t protocol.Transport) {
	c.Base.ConnectionMade(t)
	_, _ = t.Write([]byte("/nick " + c.name + "\n"))
	c.demo.joined(c)
}

// DataReceived counts whole lines; every line the demonstration sends is
// lineSize bytes long once the server has put "dave: " before it.
func (c *client) DataReceived(data []byte) {
	n := c.partial + len(data)
	c.lines += n / (len("dave: ") + lineSize)
	c.partial = n % (len("dave: ") + lineSize)
	if c.lines == c.demo.lines {
		c.demo.received(c)
	}
}

func (c *client) ConnectionLost(reason error) {
	c.Base.ConnectionLost(reason)
	c.demo.left(c, reason)
}

// dave's producer: write lines until paused or done.
func (c *client) PauseProducing()  { c.paused = true }
func (c *client) ResumeProducing() { c.paused = false; c.send() }
func (c *client) StopProducing()   {}

func (c *client) send() {
	for !c.paused && c.toSend > 0 {
		_, _ = c.Transport.Write(c.line)
		c.toSend--
	}
	if c.toSend == 0 {
		c.Transport.UnregisterProducer()
	}
}

// demo runs the demonstration on one reactor.
type demo struct {
	r       *reactor.Reactor
	w       io.Writer
	room    *Room
	lines   int
	clients []*client
	up      int
	done    int
	gone    int
	paused  bool
	err     error
}

// run runs the chat server and the demonstration clients over a loopback
// port: dave sends total bytes of lines, and carol reads only once the room
// has paused for her. It writes what happens to w.
func run(w io.Writer, total int) error {
	r := reactor.New()
	d := &demo{r: r, w: w, room: &Room{}, lines: total / lineSize}
	d.room.OnBehind = d.behind
	port, err := protocol.ListenTCP(r, "127.0.0.1:0", d.room)
	if err != nil {
		return err
	}
	line := append(bytes.Repeat([]byte("x"), lineSize-1), '\n')
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		c := &client{demo: d, name: name}
		if name == "dave" {
			c.toSend, c.line = d.lines, line
		}
		d.clients = append(d.clients, c)
		protocol.ConnectTCP(r, port.Addr().String(), c)
	}
	if err := r.Run(); err != nil {
		return err
	}
	return d.err
}

func (d *demo) joined(c *client) {
	if c.name == "carol" {
		c.Transport.PauseProducing() // carol does not read, for now
	}
	d.up++
	if d.up < len(d.clients) {
		return
	}
	// The server has seen every nick once each client has seen its
	// connection made and the room has all four; dave starts once it has.
	var wait func()
	wait = func() {
		if len(d.room.members) < len(d.clients) || !named(d.room) {
			d.r.CallSoon(wait)
			return
		}
		fmt.Fprintln(d.w, "alice, bob, carol and dave are in the room; carol is not reading")
		dave := d.clients[3]
		dave.Transport.RegisterProducer(dave, true)
		dave.send()
	}
	d.r.CallSoon(wait)
}

// named reports whether every member has given its name.
func named(room *Room) bool {
	for _, m := range room.members {
		if strings.HasPrefix(m.Name, "member") {
			return false
		}
	}
	return true
}

// behind hears of a member that has fallen behind: the room has stopped
// reading. alice and bob may fall behind for a moment, since they share
// the reactor with the server; carol stays behind until she reads.
func (d *demo) behind(m *Member) {
	if d.paused || m.Name != "carol" {
		return
	}
	d.paused = true
	fmt.Fprintln(d.w, "the room stops reading: carol is behind")
	fmt.Fprintln(d.w, "carol reads again")
	d.clients[2].Transport.ResumeProducing()
}

func (d *demo) received(c *client) {
	d.done++
	if d.done == len(d.clients)-1 {
		for _, c := range d.clients[:3] {
			fmt.Fprintf(d.w, "%s received all %d of dave's lines\n", c.name, c.lines)
		}
		for _, c := range d.clients {
			c.Transport.LoseConnection()
		}
	}
}

func (d *demo) left(c *client, reason error) {
	if !errors.Is(reason, protocol.ErrConnectionDone) {
		d.fail(fmt.Errorf("%s: %w", c.name, reason))
	}
	d.gone++
	if d.gone == len(d.clients) {
		if !d.paused {
			d.fail(errors.New("the room never paused for carol"))
		}
		_ = d.r.Stop()
	}
}

func (d *demo) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	_ = d.r.Stop()
}
