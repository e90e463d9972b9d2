// Command chat is a line-based chat server on a twine reactor, with a
// demonstration: several clients, a broadcast, and a slow client whose
// backlog pauses the room through backpressure instead of growing the
// server's memory.
//
// Each line a member sends goes to every other member as "name: line".
// Each member's protocol is also the producer registered on its own
// transport: when that transport's write buffer passes its high water mark
// (the member reads more slowly than the room talks), the transport pauses
// it, and the room stops reading from every member, so that the talkers'
// own TCP connections fill and their writes wait, in their kernels and
// buffers, not in the server's. When the slow member's buffer has drained,
// the room reads again. Everything runs on the reactor goroutine, with no
// lock.
//
// The demonstration connects four clients to the server over loopback:
// dave sends many lines as fast as his connection takes them, alice and
// bob read them at once, and carol does not read at first; once the room
// has paused for her, she reads, and every line reaches everyone.
//
//	go run ./examples/chat
//	go run ./examples/chat -serve 127.0.0.1:8000   # just the server; try nc
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/reactor/protocol"
)

// Room is the chat: its members, and how many of them are behind.
type Room struct {
	members []*Member
	behind  int  // members whose write buffer is over its high water mark
	paused  bool // the room does not read from its members
	next    int  // for the names of members that do not give one
	// OnBehind, if set, is called each time a member falls behind.
	OnBehind func(m *Member)
}

// Member is one connection to the room: its protocol, and the producer of
// what the room writes to it.
type Member struct {
	protocol.Base
	room    *Room
	Name    string
	partial []byte
	behind  bool
}

// BuildProtocol makes a member for a new connection.
func (room *Room) BuildProtocol(net.Addr) protocol.Protocol {
	room.next++
	return &Member{room: room, Name: "member" + strconv.Itoa(room.next)}
}

// ConnectionMade joins the member to the room.
func (m *Member) ConnectionMade(t protocol.Transport) {
	m.Base.ConnectionMade(t)
	t.RegisterProducer(m, true) // hear when our own buffer is full
	m.room.members = append(m.room.members, m)
	if m.room.paused {
		t.PauseProducing()
	}
}

// DataReceived splits the data into lines; a line "/nick NAME" renames the
// member, any other goes to the others.
func (m *Member) DataReceived(data []byte) {
	m.partial = append(m.partial, data...)
	for {
		i := bytes.IndexByte(m.partial, '\n')
		if i < 0 {
			return
		}
		line := bytes.TrimRight(m.partial[:i], "\r")
		if name, ok := bytes.CutPrefix(line, []byte("/nick ")); ok {
			m.Name = string(name)
		} else {
			m.room.broadcast(m, line)
		}
		m.partial = m.partial[i+1:]
	}
}

// ConnectionLost takes the member out of the room.
func (m *Member) ConnectionLost(reason error) {
	m.Base.ConnectionLost(reason)
	room := m.room
	for i, o := range room.members {
		if o == m {
			room.members = append(room.members[:i], room.members[i+1:]...)
			break
		}
	}
	if m.behind {
		m.ResumeProducing() // it is no longer behind: it is gone
	}
}

func (room *Room) broadcast(from *Member, line []byte) {
	msg := make([]byte, 0, len(from.Name)+len(line)+3)
	msg = append(append(append(append(msg, from.Name...), ": "...), line...), '\n')
	for _, m := range room.members {
		if m != from {
			_, _ = m.Transport.Write(msg)
		}
	}
}

// PauseProducing is the member's transport saying its buffer is full: the
// room stops reading until it has drained.
func (m *Member) PauseProducing() {
	if m.behind {
		return
	}
	m.behind = true
	room := m.room
	room.behind++
	if !room.paused {
		room.paused = true
		for _, o := range room.members {
			o.Transport.PauseProducing()
		}
	}
	if room.OnBehind != nil {
		room.OnBehind(m)
	}
}

// ResumeProducing is the member's transport saying its buffer has
// drained: once no member is behind, the room reads again.
func (m *Member) ResumeProducing() {
	if !m.behind {
		return
	}
	m.behind = false
	room := m.room
	room.behind--
	if room.behind == 0 && room.paused {
		room.paused = false
		for _, o := range room.members {
			o.Transport.ResumeProducing()
		}
	}
}

// StopProducing does nothing: the member leaves in ConnectionLost.
func (m *Member) StopProducing() {}

func main() {
	serve := flag.String("serve", "", "only serve the chat, on this address")
	flag.Parse()
	var err error
	if *serve != "" {
		err = runServer(os.Stdout, *serve)
	} else {
		err = run(os.Stdout, 12<<20)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// runServer serves the chat until interrupted.
func runServer(w io.Writer, addr string) error {
	r := reactor.New(reactor.WithSignals())
	port, err := protocol.ListenTCP(r, addr, &Room{})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "chat server on", port.Addr())
	return r.Run()
}
