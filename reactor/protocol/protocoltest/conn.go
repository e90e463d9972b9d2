package protocoltest

import (
	"net"

	"github.com/twinego/twine/reactor/protocol"
)

// ProducerState is the state of a test transport in its part as a push
// producer of the bytes it reads: what the protocol last asked of it
// through PauseProducing, ResumeProducing and StopProducing. Twisted's
// StringTransport.producerState.
type ProducerState int

const (
	// Producing is the state of a transport that reads.
	Producing ProducerState = iota
	// Paused is the state after PauseProducing: the transport reads no
	// more until ResumeProducing.
	Paused
	// Stopped is the state after StopProducing, for good.
	Stopped
)

// String returns "producing", "paused" or "stopped", Twisted's names.
func (s ProducerState) String() string {
	switch s {
	case Producing:
		return "producing"
	case Paused:
		return "paused"
	case Stopped:
		return "stopped"
	}
	return "ProducerState(?)"
}

// poison is the byte that overwrites the bytes handed to DataReceived once
// it has returned, as a real transport reuses its read buffer: a protocol
// that keeps them without copying sees it.
const poison = 0xA5

// conn is the state that StringTransport and the ends of a Pump share: the
// protocol, the closing flags, the registered producer, the transport's own
// producer state, and the guard that keeps protocol callbacks from running
// inside one another.
type conn struct {
	kind          string // the exported type's name, for panic messages
	proto         protocol.Protocol
	self          protocol.Transport // the exported transport given to the protocol
	local, remote net.Addr

	connected     bool // between ConnectionMade and ConnectionLost
	disconnecting bool // LoseConnection or AbortConnection asked, or ended
	aborted       bool // AbortConnection asked
	writeClosing  bool // LoseWriteConnection asked
	writeClosed   bool // the write side has shut down
	readClosed    bool // the peer's end of stream has been delivered
	lost          bool // ConnectionLost delivered, or on its way

	producer       protocol.Producer
	streaming      bool
	producerPaused bool // the transport paused the registered producer
	readState      ProducerState

	// depth counts the protocol callbacks running on this connection;
	// events that arrive meanwhile wait in queued until the outermost one
	// has returned, so that none runs inside another.
	depth  int
	queued []func()

	// afterLost, if set, runs after the protocol's ConnectionLost, with the
	// same reason: a connector tells its factory there.
	afterLost func(reason error)

	rbuf []byte // the read buffer, reused and poisoned after each delivery
}

// run calls f, a protocol callback, now if no callback of this connection
// is running, or else once the running ones have returned.
func (c *conn) run(f func()) {
	if c.depth > 0 {
		c.queued = append(c.queued, f)
		return
	}
	c.depth++
	defer func() { c.depth-- }()
	f()
	for len(c.queued) > 0 {
		g := c.queued[0]
		c.queued[0] = nil
		c.queued = c.queued[1:]
		g()
	}
	c.queued = nil
}

// connect gives the transport to p: ConnectionMade.
func (c *conn) connect(p protocol.Protocol, op string) {
	if p == nil {
		panic("protocoltest: " + c.kind + "." + op + ": nil protocol")
	}
	if c.proto != nil {
		panic("protocoltest: " + c.kind + "." + op + ": already connected to a protocol")
	}
	c.proto = p
	c.connected = true
	c.run(func() { p.ConnectionMade(c.self) })
}

// deliverData hands data to the protocol in the reused read buffer, and
// poisons the buffer once DataReceived has returned.
func (c *conn) deliverData(data []byte) {
	if len(data) == 0 || c.lost {
		return
	}
	c.run(func() {
		if c.lost {
			return
		}
		buf := append(c.rbuf[:0], data...)
		c.rbuf = buf
		c.proto.DataReceived(buf)
		for i := range buf {
			buf[i] = poison
		}
	})
}

// loseConn ends the connection with reason: the producer is stopped, then
// the protocol hears ConnectionLost, then afterLost runs. Once only.
func (c *conn) loseConn(reason error) {
	if c.lost || c.proto == nil {
		return
	}
	c.lost = true
	c.disconnecting = true
	c.run(func() {
		if p := c.producer; p != nil {
			c.producer = nil
			p.StopProducing()
		}
		c.connected = false
		c.proto.ConnectionLost(reason)
		if c.afterLost != nil {
			c.afterLost(reason)
		}
	})
}

// halfCloseable returns the protocol as a HalfCloseable, if it is one.
func (c *conn) halfCloseable() (protocol.HalfCloseable, bool) {
	h, ok := c.proto.(protocol.HalfCloseable)
	return h, ok
}

// register is RegisterProducer's common part. It reports whether p was
// registered (false: the connection has ended and p was stopped).
func (c *conn) register(p protocol.Producer, streaming bool) bool {
	if p == nil {
		panic("protocoltest: " + c.kind + ".RegisterProducer: nil producer")
	}
	if c.producer != nil {
		panic("protocoltest: " + c.kind + ".RegisterProducer: a producer is already registered")
	}
	if streaming {
		if _, ok := p.(protocol.PushProducer); !ok {
			panic("protocoltest: " + c.kind + ".RegisterProducer: a streaming producer must be a protocol.PushProducer")
		}
	} else if _, ok := p.(protocol.PullProducer); !ok {
		panic("protocoltest: " + c.kind + ".RegisterProducer: a non-streaming producer must be a protocol.PullProducer")
	}
	if c.lost {
		p.StopProducing()
		return false
	}
	c.producer = p
	c.streaming = streaming
	c.producerPaused = false
	return true
}

// pauseProducer pauses a registered streaming producer, once.
func (c *conn) pauseProducer() {
	if c.producer != nil && c.streaming && !c.producerPaused {
		c.producerPaused = true
		c.producer.(protocol.PushProducer).PauseProducing()
	}
}

// resumeProducer resumes a streaming producer the transport paused.
func (c *conn) resumeProducer() {
	if c.producer != nil && c.streaming && c.producerPaused {
		c.producerPaused = false
		c.producer.(protocol.PushProducer).ResumeProducing()
	}
}
