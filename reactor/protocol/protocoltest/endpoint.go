package protocoltest

import (
	"fmt"
	"net"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor/protocol"
)

// Endpoint is a [protocol.ClientEndpoint] whose connection attempts the
// test completes or fails, one by one: Twisted's iosim.connectableEndpoint
// and the endpointForTesting of its ClientService tests. Each Connect
// records an [Attempt] and returns its Deferred, which fires when the test
// calls [Attempt.Succeed] (or SucceedWith), fails with the error given to
// [Attempt.Fail], and, when cancelled while pending, fails with an error
// matched by [protocol.ErrConnect] and [protocol.ErrUserCancelled].
//
// The endpoint does not call [protocol.FactoryHooks]. It is not safe for
// concurrent use.
type Endpoint struct {
	attempts  []*Attempt
	immediate bool
	addr      net.Addr
}

// EndpointOption configures an [Endpoint].
type EndpointOption func(*Endpoint)

// WithImmediateSuccess makes every attempt succeed at once, inside
// Connect, over a StringTransport (Twisted's fireImmediately).
func WithImmediateSuccess() EndpointOption { return func(e *Endpoint) { e.immediate = true } }

// WithEndpointAddr sets the address the factory is given and that the
// StringTransports have as their remote address. The default is
// 127.0.0.1:8080 over TCP.
func WithEndpointAddr(a net.Addr) EndpointOption { return func(e *Endpoint) { e.addr = a } }

// NewEndpoint returns an endpoint with no attempts.
func NewEndpoint(opts ...EndpointOption) *Endpoint {
	e := &Endpoint{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Attempt is one call of [Endpoint.Connect], pending until the test
// settles it.
type Attempt struct {
	endpoint  *Endpoint
	factory   protocol.Factory
	d         *deferred.Deferred[protocol.Protocol]
	settled   bool
	proto     protocol.Protocol
	transport *StringTransport
	pump      *Pump
}

// Connect records an attempt to connect with f and returns its Deferred.
// It panics if f is nil.
func (e *Endpoint) Connect(f protocol.Factory) *deferred.Deferred[protocol.Protocol] {
	if f == nil {
		panic("protocoltest: Endpoint.Connect: nil factory")
	}
	a := &Attempt{endpoint: e, factory: f}
	a.d = deferred.NewWithCanceller(func(d *deferred.Deferred[protocol.Protocol]) {
		if !a.settled {
			a.settled = true
			d.Errback(fmt.Errorf("%w: %w", protocol.ErrConnect, protocol.ErrUserCancelled))
		}
	})
	e.attempts = append(e.attempts, a)
	if e.immediate {
		a.Succeed()
	}
	return a.d
}

// Attempts returns every attempt so far, in the order Connect made them.
func (e *Endpoint) Attempts() []*Attempt { return append([]*Attempt(nil), e.attempts...) }

// Attempt returns the i-th attempt (from 0). It panics if there is none.
func (e *Endpoint) Attempt(i int) *Attempt {
	if i < 0 || i >= len(e.attempts) {
		panic(fmt.Sprintf("protocoltest: Endpoint.Attempt: no attempt %d (there are %d)", i, len(e.attempts)))
	}
	return e.attempts[i]
}

// Factory returns the factory given to Connect.
func (a *Attempt) Factory() protocol.Factory { return a.factory }

// Pending reports whether the attempt has not been settled (nor
// cancelled).
func (a *Attempt) Pending() bool { return !a.settled }

// Protocol returns the protocol the factory built, once the attempt has
// succeeded.
func (a *Attempt) Protocol() protocol.Protocol { return a.proto }

// Transport returns the StringTransport the attempt succeeded with, or nil.
func (a *Attempt) Transport() *StringTransport { return a.transport }

// Pump returns the pump of an attempt that succeeded with SucceedWith, or
// nil.
func (a *Attempt) Pump() *Pump { return a.pump }

// Succeed builds the protocol with the factory, connects it to a new
// [StringTransport] (ConnectionMade) and fires the attempt's Deferred with
// it. A factory that builds nil fails the attempt with an error matched by
// [protocol.ErrConnect]. It panics if the attempt has been settled.
func (a *Attempt) Succeed(opts ...Option) *StringTransport {
	p, ok := a.build("Succeed")
	if !ok {
		return nil
	}
	t := NewStringTransport(append([]Option{WithRemoteAddr(a.endpoint.addr)}, opts...)...)
	a.transport = t
	t.Connect(p)
	a.d.Callback(p)
	return t
}

// SucceedWith builds the protocol with the factory, connects it as the
// client of a [Pump] to server, and fires the attempt's Deferred with it
// once the greeting has been flushed. A factory that builds nil fails the
// attempt as in Succeed. It panics if the attempt has been settled.
func (a *Attempt) SucceedWith(server protocol.Protocol, opts ...PairOption) *Pump {
	p, ok := a.build("SucceedWith")
	if !ok {
		return nil
	}
	a.pump = Connect(server, p, opts...)
	a.d.Callback(p)
	return a.pump
}

// Fail fails the attempt's Deferred with err, as given. It panics if the
// attempt has been settled or err is nil.
func (a *Attempt) Fail(err error) {
	if err == nil {
		panic("protocoltest: Attempt.Fail: nil error")
	}
	a.settle("Fail")
	a.d.Errback(err)
}

func (a *Attempt) build(op string) (protocol.Protocol, bool) {
	a.settle(op)
	p := a.factory.BuildProtocol(a.endpoint.addr)
	if p == nil {
		a.d.Errback(fmt.Errorf("%w: the factory refused the connection", protocol.ErrConnect))
		return nil, false
	}
	a.proto = p
	return p, true
}

func (a *Attempt) settle(op string) {
	if a.settled {
		panic("protocoltest: Attempt." + op + ": the attempt has been settled already")
	}
	a.settled = true
}

var _ protocol.ClientEndpoint = (*Endpoint)(nil)
