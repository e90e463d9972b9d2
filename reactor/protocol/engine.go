//go:build darwin || dragonfly || freebsd || linux || netbsd

package protocol

import (
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// engine is the network I/O of one reactor: every descriptor that the
// reactor's ports, connections and connection attempts use is in its
// poller, and every event for them is handled on the reactor goroutine.
//
// The reactor lends the engine its idle time (the engine is a
// scheduler.Idler): instead of sleeping, the reactor goroutine waits in
// the poller, and reads and writes the sockets that are ready itself. While
// the reactor is busy, its loop calls the engine after each pass (a poller
// added with Reactor.AddPoller), which looks for ready sockets without
// waiting, so that timers and a stream of CallSoon functions do not starve
// the network. Writes are kept in each connection's buffer and written
// once per pass, after the callbacks that made them have run.
//
// All its fields but the poller's wake-up are the reactor goroutine's.
type engine struct {
	r     *reactor.Reactor
	p     *poller
	buf   []byte    // the read buffer, lent to DataReceived
	slots []handler // by descriptor
	gens  []int32   // the generation of the handler in each slot
	gen   int32
	count int // descriptors registered

	dirty, spare []*conn // connections with writes to flush

	ports      map[*Port]struct{}
	conns      map[*conn]struct{}
	connectors map[*connector]struct{}
	factories  map[any]int // uses of each FactoryHooks, for Twisted's doStart and doStop
	enders     map[ender]struct{}

	handshakes int                          // TLS handshakes whose goroutine runs
	hsDone     *deferred.Deferred[struct{}] // fired when they have all ended, at shutdown

	closed       bool
	removeIdler  func()
	removePoller func()
	handleFn     func()
	eventFn      func(fd int, gen int32, readable, writable bool)
}

// handler is what the engine calls when a descriptor is ready.
type handler interface {
	ready(readable, writable bool)
}

// ender is what else the engine ends when the reactor shuts down, after
// the connection attempts and before the connections: a child process,
// which closes its pipes in its own order and tells its protocol, or a UDP
// port, which stops listening.
type ender interface {
	shutdown()
}

// readBufferSize is how much a connection reads at a time: Twisted's
// bufferSize.
const readBufferSize = 64 << 10

// engines holds each reactor's engine. An engine is made at the first use
// of its reactor and found here until the reactor has stopped for good.
var engines struct {
	mu sync.Mutex
	m  map[*reactor.Reactor]*engine
}

// engineFor returns r's engine, making it at the first call. It fails with
// ErrShutdown once r has begun to shut its network down.
func engineFor(r *reactor.Reactor) (*engine, error) {
	if r == nil {
		panic("protocol: nil reactor")
	}
	engines.mu.Lock()
	defer engines.mu.Unlock()
	if e, ok := engines.m[r]; ok {
		if e.closed {
			return nil, ErrShutdown
		}
		return e, nil
	}
	if r.Stopped() {
		return nil, ErrShutdown
	}
	for old := range engines.m {
		if old.Stopped() {
			delete(engines.m, old)
		}
	}
	e := &engine{
		r:          r,
		buf:        make([]byte, readBufferSize),
		ports:      map[*Port]struct{}{},
		conns:      map[*conn]struct{}{},
		connectors: map[*connector]struct{}{},
		factories:  map[any]int{},
		enders:     map[ender]struct{}{},
	}
	e.handleFn = e.handle
	e.eventFn = e.event
	p, err := newPoller(e)
	if err != nil {
		return nil, err
	}
	e.p = p
	_, e.removeIdler = r.AddIdler(e)
	e.removePoller = r.AddPoller(e.poll)
	r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, e.shutdown)
	if engines.m == nil {
		engines.m = map[*reactor.Reactor]*engine{}
	}
	engines.m[r] = e
	return e, nil
}

// register puts h in the poller for fd, with the events of mask.
func (e *engine) register(fd int, h handler) int32 {
	for fd >= len(e.slots) {
		e.slots = append(e.slots, nil)
		e.gens = append(e.gens, 0)
	}
	e.gen = (e.gen + 1) & 0x7fffffff
	e.slots[fd] = h
	e.gens[fd] = e.gen
	e.count++
	return e.gen
}

// unregister forgets fd, which the caller closes.
func (e *engine) unregister(fd int, mask uint32) {
	e.p.remove(fd, mask)
	if fd < len(e.slots) && e.slots[fd] != nil {
		e.slots[fd] = nil
		e.count--
	}
}

// Idle implements scheduler.Idler: the reactor goroutine waits in the
// poller instead of sleeping.
func (e *engine) Idle(d time.Duration) (func(), bool) {
	e.flush()
	if e.count == 0 && len(e.dirty) == 0 {
		return nil, false
	}
	if len(e.dirty) > 0 {
		d = 0 // a producer is writing: come back at once
	}
	if !e.p.waitIdle(d) {
		// This poller does not wait on the reactor goroutine: its events
		// come with CallSoon, which wakes the reactor.
		if len(e.dirty) > 0 {
			e.r.CallSoon(e.flush)
		}
		return nil, false
	}
	if e.p.found() {
		return e.handleFn, true
	}
	return nil, true
}

// Wake implements scheduler.Idler.
func (e *engine) Wake() { e.p.wake() }

// Ready implements scheduler.ReadyIdler: a socket or pipe of the engine is
// ready, so that a Cooperator's slice on the reactor ends early and the
// reactor's poll handles it.
func (e *engine) Ready() bool {
	if e.count == 0 || e.closed {
		return false
	}
	return e.p.ready()
}

// Busy implements scheduler.Idler: another idler has the idle time, so the
// writes made meanwhile are written now.
func (e *engine) Busy() { e.flush() }

// poll is the engine's Reactor.AddPoller function: after a busy pass of the
// reactor, write what its callbacks wrote and handle the sockets that are
// ready, without waiting.
func (e *engine) poll() {
	e.flush()
	if e.count == 0 || e.closed {
		return
	}
	e.p.pollNow()
	e.handle()
}

// handle handles the events the poller has found, then writes what their
// callbacks wrote.
func (e *engine) handle() {
	e.p.events(e.eventFn)
	e.flush()
}

func (e *engine) event(fd int, gen int32, readable, writable bool) {
	if fd < len(e.slots) && e.gens[fd] == gen {
		if h := e.slots[fd]; h != nil {
			h.ready(readable, writable)
		}
	}
}

// markDirty queues c's buffer to be written at the end of this pass.
func (e *engine) markDirty(c *conn) {
	if !c.dirty {
		c.dirty = true
		e.dirty = append(e.dirty, c)
	}
}

// flush writes the buffers of the connections written to since the last
// flush. A connection written to while this runs (a producer resumed by
// its drained buffer) waits for the next.
func (e *engine) flush() {
	if len(e.dirty) == 0 {
		return
	}
	list := e.dirty
	e.dirty = e.spare[:0]
	for i, c := range list {
		list[i] = nil
		c.dirty = false
		c.flush()
	}
	e.spare = list[:0]
}

// startFactory counts a use of f, starting it at the first.
func (e *engine) startFactory(f Factory, log *slog.Logger) {
	h, ok := f.(FactoryHooks)
	if !ok {
		return
	}
	if !reflect.TypeOf(h).Comparable() {
		guard(log, "protocol: Factory.StartFactory panicked", h.StartFactory)
		return
	}
	e.factories[h]++
	if e.factories[h] == 1 {
		guard(log, "protocol: Factory.StartFactory panicked", h.StartFactory)
	}
}

// stopFactory counts a use of f as ended, stopping it at the last.
func (e *engine) stopFactory(f Factory, log *slog.Logger) {
	h, ok := f.(FactoryHooks)
	if !ok {
		return
	}
	if !reflect.TypeOf(h).Comparable() {
		guard(log, "protocol: Factory.StopFactory panicked", h.StopFactory)
		return
	}
	n := e.factories[h]
	if n == 0 {
		return
	}
	if n == 1 {
		delete(e.factories, h)
		guard(log, "protocol: Factory.StopFactory panicked", h.StopFactory)
		return
	}
	e.factories[h] = n - 1
}

// shutdown is the engine's during-shutdown trigger: as Twisted's reactor
// does when it stops, it closes the listening ports first, then stops the
// connection attempts, then ends the child processes, then loses every
// connection, each protocol hearing ConnectionLost once; last it closes the
// poller.
func (e *engine) shutdown() *deferred.Deferred[struct{}] {
	e.flush()
	engines.mu.Lock()
	e.closed = true
	engines.mu.Unlock()
	for p := range e.ports {
		p.StopListening()
	}
	for c := range e.connectors {
		c.shutdown()
	}
	for x := range e.enders {
		x.shutdown()
	}
	reason := &DisconnectError{Reason: ErrConnectionLost, Err: ErrShutdown}
	for c := range e.conns {
		c.lose(reason, true)
	}
	e.removePoller()
	e.removeIdler()
	e.p.closeAll()
	if e.handshakes > 0 {
		// Their sockets are closed: each goroutine ends at once, and
		// Run returns only after the last has.
		e.hsDone = deferred.New[struct{}]()
		return e.hsDone
	}
	return nil
}

// handshakeEnded counts a TLS handshake's goroutine as ended.
func (e *engine) handshakeEnded() {
	e.handshakes--
	if e.handshakes == 0 && e.hsDone != nil {
		d := e.hsDone
		e.hsDone = nil
		d.Callback(struct{}{})
	}
}

// guard runs f, logging a panic in it.
func guard(log *slog.Logger, msg string, f func()) {
	defer func() {
		if v := recover(); v != nil {
			pe := deferred.NewPanicError(v)
			log.Error(msg, "err", pe, "stack", string(pe.Stack))
		}
	}()
	f()
}
