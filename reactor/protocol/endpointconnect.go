package protocol

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// ConnectProtocol connects p to endpoint and returns the Deferred of
// endpoint.Connect: it fires with p once p's ConnectionMade has run, or
// fails as the attempt does. It is for a client that has its protocol
// already, and no factory: Twisted's connectProtocol. A nil endpoint or p
// panics.
func ConnectProtocol(endpoint ClientEndpoint, p Protocol) *deferred.Deferred[Protocol] {
	if endpoint == nil || p == nil {
		panic("protocol: ConnectProtocol: nil endpoint or protocol")
	}
	return endpoint.Connect(oneShotFactory{p})
}

// oneShotFactory builds the one protocol it holds: Twisted's
// connectProtocol's OneShotFactory.
type oneShotFactory struct{ p Protocol }

func (f oneShotFactory) BuildProtocol(net.Addr) Protocol { return f.p }

// dialFunc starts one connection attempt for f, as ConnectTCP does.
type dialFunc func(f ClientFactory) Connector

// endpointAttempt is one Connect of a client endpoint: it starts the
// dials in order, each delay after the one before or as soon as the one
// before has failed, until one connects; it then stops the others and
// fires d with the factory's protocol, once that protocol's ConnectionMade
// has run. Twisted's _WrappingFactory and _WrappingProtocol, and
// HostnameEndpoint's attempts, staggered by its attemptDelay. Its methods
// run on the reactor goroutine.
type endpointAttempt struct {
	r       *reactor.Reactor
	f       Factory
	log     *slog.Logger
	d       *deferred.Deferred[Protocol]
	dest    string                         // what is connected to, for errors
	delay   time.Duration                  // between the starts of two dials
	dials   []dialFunc                     // the dials not started yet, in order
	pending map[*endpointFactory]Connector // the dials started and not over
	timer   scheduler.Call                 // starts the next dial
	stop    context.CancelFunc             // ends the name's lookup
	over    bool
	lastErr error // the last dial's failure
}

// connectEndpoint makes an attempt whose dials the caller sets, then
// starts with start.
func connectEndpoint(r *reactor.Reactor, f Factory, log *slog.Logger, dest string) *endpointAttempt {
	if f == nil {
		panic("protocol: ClientEndpoint.Connect: nil Factory")
	}
	a := &endpointAttempt{r: r, f: f, log: log, dest: dest, pending: map[*endpointFactory]Connector{}}
	a.d = deferred.NewWithCanceller(a.cancel)
	return a
}

// start starts the next dial, and schedules the one after.
func (a *endpointAttempt) start() {
	if a.timer != nil {
		_ = a.timer.Cancel()
		a.timer = nil
	}
	if a.over || len(a.dials) == 0 {
		return
	}
	dial := a.dials[0]
	a.dials = a.dials[1:]
	f := &endpointFactory{a: a}
	a.pending[f] = nil
	c := dial(f)
	if _, ok := a.pending[f]; ok {
		a.pending[f] = c
	}
	if len(a.dials) > 0 && !a.over {
		a.timer = a.r.CallLater(a.delay, a.start)
	}
}

// failed counts a dial's failure: the next dial starts now, or, when none
// is left to start or to wait for, the attempt fails with the last error.
func (a *endpointAttempt) failed(f *endpointFactory, err error) {
	if _, ok := a.pending[f]; !ok || a.over {
		return
	}
	delete(a.pending, f)
	if errors.Is(err, ErrShutdown) {
		a.fail(err)
		return
	}
	a.lastErr = err
	if len(a.dials) > 0 {
		a.start()
		return
	}
	if len(a.pending) == 0 {
		a.fail(err)
	}
}

// end marks the attempt over and stops what is still running: the timer,
// the lookup, the dials but won's.
func (a *endpointAttempt) end(won *endpointFactory) {
	a.over = true
	if a.timer != nil {
		_ = a.timer.Cancel()
		a.timer = nil
	}
	if a.stop != nil {
		a.stop()
	}
	var losers []Connector
	for f, c := range a.pending {
		if f != won && c != nil {
			losers = append(losers, c)
		}
	}
	clear(a.pending)
	a.dials = nil
	for _, c := range losers {
		c.StopConnecting()
	}
}

// fail ends the attempt with err, if it has not ended.
func (a *endpointAttempt) fail(err error) {
	if a.over {
		return
	}
	a.end(nil)
	a.d.Errback(err)
}

// cancel is the Deferred's canceller: it stops the lookup and the dials in
// progress and fails the Deferred, as Twisted's
// _WrappingFactory._canceller.
func (a *endpointAttempt) cancel(d *deferred.Deferred[Protocol]) {
	if a.over {
		return
	}
	a.end(nil)
	d.Errback(fmt.Errorf("%w: %s: %w", ErrConnect, a.dest, ErrUserCancelled))
}

// endpointFactory is the ClientFactory of one dial.
type endpointFactory struct {
	ClientFactoryBase
	a    *endpointAttempt
	stop func() // ends the use StartFactory counted
}

// BuildProtocol has the endpoint's factory build the protocol, wrapped so
// that the attempt hears its ConnectionMade.
func (f *endpointFactory) BuildProtocol(addr net.Addr) Protocol {
	if f.a.over {
		return nil // another dial has won
	}
	p := f.a.f.BuildProtocol(addr)
	if p == nil {
		return nil
	}
	w := &endpointProtocol{Protocol: p, a: f.a, f: f}
	if h, ok := p.(HalfCloseable); ok {
		return &endpointHalfCloseProtocol{endpointProtocol: w, half: h}
	}
	return w
}

// ClientConnectionFailed counts the dial's failure.
func (f *endpointFactory) ClientConnectionFailed(_ Connector, reason error) { f.a.failed(f, reason) }

// StartFactory starts the endpoint's factory, counted with its other uses.
func (f *endpointFactory) StartFactory() { f.stop = startFactory(f.a.r, f.a.f, f.a.log) }

// StopFactory stops the endpoint's factory after its last use.
func (f *endpointFactory) StopFactory() {
	if f.stop != nil {
		f.stop()
		f.stop = nil
	}
}

// endpointProtocol passes every call to the factory's protocol, and fires
// the attempt's Deferred after its ConnectionMade.
type endpointProtocol struct {
	Protocol
	a *endpointAttempt
	f *endpointFactory
}

func (p *endpointProtocol) ConnectionMade(t Transport) {
	p.Protocol.ConnectionMade(t)
	if a := p.a; !a.over {
		a.end(p.f)
		a.d.Callback(p.Protocol)
	}
}

// HandshakeCompleted passes the end of a TLS handshake on to a protocol
// that is a [HandshakeListener]; to others it is nothing.
func (p *endpointProtocol) HandshakeCompleted() {
	if h, ok := p.Protocol.(HandshakeListener); ok {
		h.HandshakeCompleted()
	}
}

// ConnectionLost passes the reason on; a connection lost before the
// Deferred fired (a ConnectionMade that panicked) fails it.
func (p *endpointProtocol) ConnectionLost(reason error) {
	p.a.fail(fmt.Errorf("%w: %s: %w", ErrConnect, p.a.dest, reason))
	p.Protocol.ConnectionLost(reason)
}

type endpointHalfCloseProtocol struct {
	*endpointProtocol
	half HalfCloseable
}

func (p *endpointHalfCloseProtocol) ReadConnectionLost()  { p.half.ReadConnectionLost() }
func (p *endpointHalfCloseProtocol) WriteConnectionLost() { p.half.WriteConnectionLost() }
