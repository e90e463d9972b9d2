package protocol

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
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

// endpointAttempt is one Connect of a client endpoint: it tries the dials
// in order until one connects, and fires d with the factory's protocol once
// that protocol's ConnectionMade has run. Twisted's _WrappingFactory and
// _WrappingProtocol, and HostnameEndpoint's walk through the addresses. Its
// methods run on the reactor goroutine.
type endpointAttempt struct {
	r     *reactor.Reactor
	f     Factory
	log   *slog.Logger
	d     *deferred.Deferred[Protocol]
	dest  string           // what is connected to, for errors
	dials []dialFunc       // the attempts still to make, in order
	cur   *endpointFactory // the factory of the dial in progress
	conn  Connector        // the dial in progress
	stop  context.CancelFunc
	over  bool
}

// connectEndpoint starts an attempt through dials (nil while a name is
// being looked up: the caller hands them to next later).
func connectEndpoint(r *reactor.Reactor, f Factory, log *slog.Logger, dest string) *endpointAttempt {
	if f == nil {
		panic("protocol: ClientEndpoint.Connect: nil Factory")
	}
	a := &endpointAttempt{r: r, f: f, log: log, dest: dest}
	a.d = deferred.NewWithCanceller(a.cancel)
	return a
}

// next starts the next dial, or fails with err if none is left.
func (a *endpointAttempt) next(err error) {
	if a.over {
		return
	}
	if len(a.dials) == 0 {
		a.fail(err)
		return
	}
	dial := a.dials[0]
	a.dials = a.dials[1:]
	f := &endpointFactory{a: a}
	a.cur = f
	a.conn = dial(f)
}

// fail ends the attempt with err, if it has not ended.
func (a *endpointAttempt) fail(err error) {
	if a.over {
		return
	}
	a.over = true
	a.d.Errback(err)
}

// cancel is the Deferred's canceller: it stops the lookup or the attempt in
// progress and fails the Deferred, as Twisted's _WrappingFactory._canceller.
func (a *endpointAttempt) cancel(d *deferred.Deferred[Protocol]) {
	if a.over {
		return
	}
	a.over = true
	if a.stop != nil {
		a.stop()
	}
	if a.conn != nil {
		a.conn.StopConnecting()
	}
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
	p := f.a.f.BuildProtocol(addr)
	if p == nil {
		return nil
	}
	w := &endpointProtocol{Protocol: p, a: f.a}
	if h, ok := p.(HalfCloseable); ok {
		return &endpointHalfCloseProtocol{endpointProtocol: w, half: h}
	}
	return w
}

// ClientConnectionFailed tries the next dial, unless the reactor is
// shutting down or the attempt was stopped.
func (f *endpointFactory) ClientConnectionFailed(c Connector, reason error) {
	a := f.a
	if a.cur != f {
		return
	}
	a.cur, a.conn = nil, nil
	if errors.Is(reason, ErrShutdown) || errors.Is(reason, ErrUserCancelled) {
		a.fail(reason)
		return
	}
	a.next(reason)
}

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
}

func (p *endpointProtocol) ConnectionMade(t Transport) {
	p.Protocol.ConnectionMade(t)
	if a := p.a; !a.over {
		a.over = true
		a.d.Callback(p.Protocol)
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
