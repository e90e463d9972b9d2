package protocoltest

import (
	"net"
	"syscall"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor/protocol"
	"github.com/twinego/twine/scheduler"
)

// Pump connects a server protocol and a client protocol through a pair of
// in-memory transports and moves the bytes between them when told to:
// Twisted's iosim.IOPump, from connectedServerAndClient. Nothing moves
// between two calls of [Pump.Pump] or [Pump.Flush], so a test sees each step;
// no goroutine is started and no time passes. [Loopback] makes a Pump that
// pumps itself on a loop instead.
//
// The pair behaves as a TCP connection would, within one goroutine:
//   - What a protocol writes waits in its transport's buffer until a pump
//     round hands it to the other protocol's DataReceived, in one chunk per
//     round and direction (at most [WithChunkSize] bytes).
//   - A transport whose protocol called PauseProducing receives nothing
//     until ResumeProducing: the bytes wait in the sender's buffer, and a
//     streaming producer registered on the sender is paused inside the
//     Write that takes that buffer over the high water mark and resumed
//     once the buffer is back at the low water mark ([WithWaterMarks]). A
//     pull producer is asked for more (ResumeProducing) at registration and
//     in each round that finds its buffer empty.
//   - LoseConnection closes once the buffer has been delivered and no
//     producer is registered: that side hears ConnectionLost with
//     [protocol.ErrConnectionDone], and the peer reads the end of stream.
//     LoseWriteConnection shuts the write side the same way and goes on
//     reading. AbortConnection drops both directions' buffers: that side
//     hears [protocol.ErrConnectionAborted], the peer a reset (an error
//     matched by [protocol.ErrConnectionLost] and syscall.ECONNRESET).
//   - The end of stream reaches a [protocol.HalfCloseable] protocol as
//     ReadConnectionLost (it then closes when it likes), any other as
//     ConnectionLost with [protocol.ErrConnectionDone].
//
// Protocol callbacks run only inside a pump round (and Connect's
// ConnectionMade calls), never inside one another nor inside a transport
// method, so ConnectionLost is never re-entrant and comes once. Pumping from
// inside a protocol callback panics.
type Pump struct {
	server, client *FakeTransport

	chunk     int
	high, low int
	greet     bool

	loop      scheduler.Loop // Loopback's: pumping schedules itself here
	scheduled bool
	running   bool

	waiters []*deferred.Deferred[struct{}]
}

// FakeTransport is one end of a [Pump]'s pair: the [protocol.Transport] its
// protocol writes to, and the test's view of that end. Twisted's
// iosim.FakeTransport.
type FakeTransport struct {
	conn
	pump     *Pump
	peer     *FakeTransport
	out      []byte // written, not yet delivered to the peer
	eof      bool   // the peer's end of stream waits to be delivered
	abortDue bool   // AbortConnection asked; the pump delivers it
}

// PairOption configures the pair of transports of [Connect] and [Loopback].
type PairOption func(*pairConfig)

type pairConfig struct {
	chunk       int
	high, low   int
	greet       bool
	server, cli net.Addr
}

// WithChunkSize makes each pump round deliver at most n bytes in each
// direction, so that a protocol sees its peer's messages cut in pieces, as
// a network cuts them. The default (n <= 0) delivers all that waits.
func WithChunkSize(n int) PairOption { return func(c *pairConfig) { c.chunk = n } }

// WithWaterMarks sets each transport's write buffer marks: a streaming
// producer is paused when the bytes waiting exceed high and resumed when
// they are back at low or below. The defaults are 65536 and 0 (Twisted's
// buffer size; it resumes once the buffer has drained).
func WithWaterMarks(high, low int) PairOption {
	return func(c *pairConfig) { c.high, c.low = high, low }
}

// WithoutGreeting makes Connect return without a first Flush, so that the
// test sees what ConnectionMade wrote before it moves (Twisted's
// greet=False).
func WithoutGreeting() PairOption { return func(c *pairConfig) { c.greet = false } }

// WithAddrs sets the server's and the client's addresses: each end's
// LocalAddr, and the other's RemoteAddr. The defaults are 127.0.0.1:8080
// for the server and 127.0.0.1:54321 for the client, over TCP.
func WithAddrs(server, client net.Addr) PairOption {
	return func(c *pairConfig) { c.server, c.cli = server, client }
}

// Connect connects server and client through a new pair of transports,
// calls the server's ConnectionMade and then the client's, and, unless
// [WithoutGreeting] is given, flushes once so that what they wrote on
// connecting has been delivered: Twisted's iosim.connect and
// connectedServerAndClient. It panics if either protocol is nil.
func Connect(server, client protocol.Protocol, opts ...PairOption) *Pump {
	p := newPump(nil, opts)
	p.start(server, client)
	return p
}

// Loopback connects server and client as Connect does, then moves the
// bytes between them on loop, one pump round per turn, whenever there is
// something to move, until both have lost the connection: Twisted's
// loopback.loopbackAsync. The returned Deferred fires, on loop, once both
// protocols have heard ConnectionLost. With a [scheduler.ManualClock] as
// the loop, each Advance(0) runs the rounds due; with a reactor, the rounds
// run on the reactor goroutine, so Loopback must be called there.
func Loopback(loop scheduler.Loop, server, client protocol.Protocol, opts ...PairOption) *deferred.Deferred[struct{}] {
	if loop == nil {
		panic("protocoltest: Loopback: nil loop")
	}
	p := newPump(loop, append(opts, WithoutGreeting()))
	p.start(server, client)
	d := p.Done()
	p.kick()
	return d
}

// newPump makes a pump and its transports; start connects the protocols.
func newPump(loop scheduler.Loop, opts []PairOption) *Pump {
	cfg := pairConfig{high: 65536, greet: true,
		server: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080},
		cli:    &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 54321},
	}
	for _, o := range opts {
		o(&cfg)
	}
	p := &Pump{chunk: cfg.chunk, high: cfg.high, low: cfg.low, greet: cfg.greet, loop: loop}
	p.server = p.newEnd(cfg.server, cfg.cli)
	p.client = p.newEnd(cfg.cli, cfg.server)
	p.server.peer, p.client.peer = p.client, p.server
	return p
}

func (p *Pump) start(server, client protocol.Protocol) {
	if server == nil || client == nil {
		panic("protocoltest: Connect: nil protocol")
	}
	p.running = true
	p.server.connect(server, "Connect")
	p.client.connect(client, "Connect")
	p.running = false
	if p.greet && p.loop == nil {
		p.Flush()
	}
}

func (p *Pump) newEnd(local, remote net.Addr) *FakeTransport {
	t := &FakeTransport{pump: p}
	t.kind = "FakeTransport"
	t.self = t
	t.local, t.remote = local, remote
	return t
}

// Server returns the server's transport.
func (p *Pump) Server() *FakeTransport { return p.server }

// Client returns the client's transport.
func (p *Pump) Client() *FakeTransport { return p.client }

// Pump runs one round: it delivers what waits in each direction (the
// server's bytes to the client, the client's to the server), or, if no
// bytes moved, the next close or end of stream that is due. It reports
// whether anything happened.
func (p *Pump) Pump() bool {
	if p.running {
		panic("protocoltest: Pump.Pump: called from inside a protocol callback")
	}
	p.running = true
	defer func() { p.running = false }()
	moved := p.round()
	p.fireDone()
	return moved
}

// flushLimit bounds Flush: two protocols that answer each other for ever
// would otherwise hang the test.
const flushLimit = 100_000

// Flush runs rounds until nothing is left to do, and reports whether
// anything happened. It panics after a hundred thousand rounds that all moved
// something: two protocols that never stop talking.
func (p *Pump) Flush() bool {
	moved := false
	for range flushLimit {
		if !p.Pump() {
			return moved
		}
		moved = true
	}
	panic("protocoltest: Pump.Flush: still moving after 100000 rounds")
}

// Done returns a Deferred that fires once both protocols have heard
// ConnectionLost (at once if they have). Each call returns a new Deferred.
func (p *Pump) Done() *deferred.Deferred[struct{}] {
	d := deferred.New[struct{}]()
	if p.server.lost && p.client.lost && !p.server.busy() && !p.client.busy() {
		d.Callback(struct{}{})
		return d
	}
	p.waiters = append(p.waiters, d)
	return d
}

func (p *Pump) fireDone() {
	if !p.server.lost || !p.client.lost || p.server.busy() || p.client.busy() {
		return
	}
	ws := p.waiters
	p.waiters = nil
	for _, d := range ws {
		d.Callback(struct{}{})
	}
}

// round is one pump round; see Pump.
func (p *Pump) round() bool {
	// An abort drops everything at once.
	for _, t := range []*FakeTransport{p.server, p.client} {
		if t.abortDue {
			t.abortDue = false
			t.out = nil
			t.peer.out = nil
			t.loseConn(protocol.ErrConnectionAborted)
			if !t.peer.lost {
				t.peer.loseConn(&protocol.DisconnectError{Reason: protocol.ErrConnectionLost, Err: syscall.ECONNRESET})
			}
			return true
		}
	}
	// Bytes, both ways, as iosim does: take both, let pull producers write,
	// then deliver.
	sData := p.server.take()
	cData := p.client.take()
	p.client.pollProducer()
	p.server.pollProducer()
	if cData != nil {
		p.server.deliverData(cData)
	}
	if sData != nil {
		p.client.deliverData(sData)
	}
	if sData != nil || cData != nil {
		return true
	}
	// Closes whose buffers have drained.
	for _, t := range []*FakeTransport{p.server, p.client} {
		if t.lost || len(t.out) > 0 || t.producer != nil {
			continue
		}
		if t.disconnecting {
			t.loseConn(protocol.ErrConnectionDone)
			t.peer.sendEOF()
			return true
		}
		if t.writeClosing && !t.writeClosed {
			t.writeClosed = true
			if h, ok := t.halfCloseable(); ok {
				t.run(h.WriteConnectionLost)
			}
			t.peer.sendEOF()
			return true
		}
	}
	// Ends of stream, to ends that read.
	for _, t := range []*FakeTransport{p.server, p.client} {
		if !t.eof || t.lost || t.readState != Producing {
			continue
		}
		t.eof = false
		if h, ok := t.halfCloseable(); ok {
			t.readClosed = true
			t.run(h.ReadConnectionLost)
		} else {
			t.loseConn(protocol.ErrConnectionDone)
			t.peer.sendEOF()
		}
		return true
	}
	return false
}

// kick schedules a pump round on the loop, for Loopback.
func (p *Pump) kick() {
	if p.loop == nil || p.scheduled {
		return
	}
	p.scheduled = true
	p.loop.CallSoon(func() {
		p.scheduled = false
		if p.Pump() {
			p.kick()
		}
	})
}

// busy reports whether a protocol callback of t is running.
func (t *FakeTransport) busy() bool { return t.depth > 0 }

// take removes and returns the bytes t's peer may receive this round.
func (t *FakeTransport) take() []byte {
	if len(t.out) == 0 {
		return nil
	}
	if t.peer.lost || t.peer.readClosed {
		t.out = nil // nobody reads them any more
		t.drained()
		return nil
	}
	if t.peer.readState != Producing {
		return nil
	}
	n := len(t.out)
	if t.pump.chunk > 0 && n > t.pump.chunk {
		n = t.pump.chunk
	}
	data := t.out[:n:n]
	t.out = t.out[n:]
	if len(t.out) == 0 {
		t.out = nil
	}
	t.drained()
	return data
}

// drained resumes a streaming producer the buffer's fill had paused.
func (t *FakeTransport) drained() {
	if len(t.out) <= t.pump.low {
		t.resumeProducer()
	}
}

// pollProducer asks a pull producer for more when t's buffer is empty.
func (t *FakeTransport) pollProducer() {
	if t.producer != nil && !t.streaming && len(t.out) == 0 && !t.lost {
		t.producer.(protocol.PullProducer).ResumeProducing()
	}
}

// sendEOF marks t's peer's end of stream for delivery to t.
func (t *FakeTransport) sendEOF() {
	if !t.lost && !t.readClosed {
		t.eof = true
	}
}

// Write queues p for the peer, or drops it once the transport is closing.
// A streaming producer is paused inside the Write that takes the buffer over
// the high water mark.
func (t *FakeTransport) Write(p []byte) (int, error) {
	if t.disconnecting || t.writeClosing {
		return 0, protocol.ErrConnectionClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	t.out = append(t.out, p...)
	if len(t.out) > t.pump.high {
		t.pauseProducer()
	}
	t.pump.kick()
	return len(p), nil
}

// WriteSequence writes each slice of ps in order.
func (t *FakeTransport) WriteSequence(ps [][]byte) (int, error) {
	n := 0
	for _, p := range ps {
		m, err := t.Write(p)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// LoseConnection closes the connection once the buffer has been delivered
// and no producer is registered.
func (t *FakeTransport) LoseConnection() {
	if t.disconnecting {
		return
	}
	t.disconnecting = true
	t.pump.kick()
}

// AbortConnection closes the connection in the next round, dropping what
// waits in either direction.
func (t *FakeTransport) AbortConnection() {
	if t.aborted || t.lost {
		return
	}
	t.aborted = true
	t.disconnecting = true
	t.abortDue = true
	t.pump.kick()
}

// LoseWriteConnection shuts down the write side once the buffer has been
// delivered: the peer reads the end of stream, and a HalfCloseable protocol
// hears WriteConnectionLost. Reading goes on.
func (t *FakeTransport) LoseWriteConnection() {
	if t.writeClosing || t.disconnecting {
		return
	}
	t.writeClosing = true
	t.pump.kick()
}

// LocalAddr returns this end's address.
func (t *FakeTransport) LocalAddr() net.Addr { return t.local }

// RemoteAddr returns the other end's address.
func (t *FakeTransport) RemoteAddr() net.Addr { return t.remote }

// RegisterProducer makes p the transport's producer; a pull producer is
// asked for data at once, as Twisted's transports do. It panics if a
// producer is registered already or p lacks the methods streaming calls
// for; once the connection has ended, p is told StopProducing at once.
func (t *FakeTransport) RegisterProducer(p protocol.Producer, streaming bool) {
	if !t.register(p, streaming) {
		return
	}
	if streaming {
		if len(t.out) > t.pump.high {
			t.pauseProducer()
		}
		return
	}
	p.(protocol.PullProducer).ResumeProducing()
	t.pump.kick()
}

// UnregisterProducer forgets the producer, without stopping it; a
// LoseConnection that waited for it can now close.
func (t *FakeTransport) UnregisterProducer() {
	t.producer = nil
	t.producerPaused = false
	t.pump.kick()
}

// PauseProducing stops delivery to this end: what the peer writes waits in
// its buffer.
func (t *FakeTransport) PauseProducing() {
	if t.readState != Stopped {
		t.readState = Paused
	}
}

// ResumeProducing lets this end receive again.
func (t *FakeTransport) ResumeProducing() {
	if t.readState != Stopped {
		t.readState = Producing
		t.pump.kick()
	}
}

// StopProducing aborts the connection, as the Transport contract says.
func (t *FakeTransport) StopProducing() {
	t.readState = Stopped
	t.AbortConnection()
}

// Disconnecting reports whether LoseConnection or AbortConnection has been
// called or the connection has ended.
func (t *FakeTransport) Disconnecting() bool { return t.disconnecting }

// Aborted reports whether AbortConnection (or StopProducing) has been
// called.
func (t *FakeTransport) Aborted() bool { return t.aborted }

// Connected reports whether the protocol is connected: true from its
// ConnectionMade until its ConnectionLost.
func (t *FakeTransport) Connected() bool { return t.connected }

// Protocol returns this end's protocol.
func (t *FakeTransport) Protocol() protocol.Protocol { return t.proto }

// Buffered returns the number of bytes written to this end and not yet
// delivered to the other.
func (t *FakeTransport) Buffered() int { return len(t.out) }

// Producer returns the registered producer, or nil.
func (t *FakeTransport) Producer() protocol.Producer { return t.producer }

// ProducerPaused reports whether the transport has paused its registered
// streaming producer because its buffer is full.
func (t *FakeTransport) ProducerPaused() bool { return t.producer != nil && t.producerPaused }

// ProducerState returns the transport's state as a producer of what it
// reads.
func (t *FakeTransport) ProducerState() ProducerState { return t.readState }

var _ protocol.DisconnectingTransport = (*FakeTransport)(nil)
