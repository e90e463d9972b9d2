package protocol

import (
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// BackoffPolicy returns a retry policy for [ClientService]: after the n-th
// failed attempt in a row it waits initialDelay·factorⁿ, at most maxDelay,
// plus what jitter returns. A nil jitter adds a random delay of up to one
// second, as Twisted's default does. Twisted's backoffPolicy.
func BackoffPolicy(initialDelay, maxDelay time.Duration, factor float64, jitter func() time.Duration) func(failedAttempts int) time.Duration {
	if jitter == nil {
		jitter = func() time.Duration { return rand.N(time.Second) }
	}
	return func(attempt int) time.Duration {
		d := initialDelay.Seconds() * math.Pow(factor, float64(min(100, attempt)))
		if math.IsInf(d, 0) || math.IsNaN(d) || d > maxDelay.Seconds() {
			d = maxDelay.Seconds()
		}
		return time.Duration(d*float64(time.Second)) + jitter()
	}
}

// DefaultBackoffPolicy is BackoffPolicy with Twisted's defaults for
// ClientService: 1 s, at most 60 s, a factor of 1.5, and up to 1 s of
// random jitter.
func DefaultBackoffPolicy() func(failedAttempts int) time.Duration {
	return BackoffPolicy(time.Second, time.Minute, 1.5, nil)
}

// ClientService keeps one connection to an endpoint up: it connects when
// started, connects again after a delay whenever an attempt fails or the
// connection is lost, and hands out the current connection as a Deferred.
// Twisted's twisted.application.internet.ClientService.
//
// [ClientService.WhenConnected] returns a Deferred that fires with the
// protocol the factory built for the connection that is up, or for the
// next one to come up; it fails with [deferred.ErrCancelled] once the
// service stops, or with an attempt's error after failAfterFailures
// failed attempts. [ClientService.StopService] stops retrying, closes the
// connection (LoseConnection) or cancels the attempt in progress, and
// returns a Deferred that fires once nothing is left. Started again before
// that, the service waits for the old connection to end before it
// connects anew.
//
// The delays come from the retry policy (DefaultBackoffPolicy unless
// [WithRetryPolicy] says otherwise), scheduled on the clock. The protocols
// the endpoint connects are the factory's, wrapped so that the service
// hears ConnectionLost; the wrapper is a [HalfCloseable] when the protocol
// is, and passes the factory's [FactoryHooks] on. WhenConnected hands out
// the factory's protocol itself.
//
// A ClientService's methods, and the endpoint's and clock's callbacks it
// uses, run on the reactor goroutine (or the test's, with a ManualClock).
type ClientService struct {
	endpoint ClientEndpoint
	factory  Factory
	clock    scheduler.Clock
	policy   func(int) time.Duration
	prepare  func(Protocol) *deferred.Deferred[struct{}]
	log      *slog.Logger

	running bool
	state   serviceState
	failed  int // failed attempts in a row

	attempt *serviceAttempt // the attempt in progress, in state connecting
	retry   scheduler.Call  // the next attempt, in state waiting
	current *serviceProxy   // the connection that is up

	waiters     []connectWaiter
	stopWaiters []*deferred.Deferred[struct{}]
}

type serviceState int

// The states of Twisted's _ClientMachine.
const (
	stateInit serviceState = iota
	stateConnecting
	stateWaiting
	stateConnected
	stateDisconnecting
	stateRestarting
	stateStopped
)

type connectWaiter struct {
	d         *deferred.Deferred[Protocol]
	remaining int // failures before it fails; 0 for never
}

// ClientServiceOption configures a [ClientService].
type ClientServiceOption func(*ClientService)

// WithRetryPolicy sets the delay before the next attempt, given the number
// of failed attempts in a row (from 1): Twisted's retryPolicy.
func WithRetryPolicy(policy func(failedAttempts int) time.Duration) ClientServiceOption {
	return func(s *ClientService) { s.policy = policy }
}

// WithPrepareConnection sets a function called with each new connection's
// protocol before WhenConnected hands it out (to log in, or check the
// connection's health): Twisted's prepareConnection. The connection is
// handed out once the returned Deferred (nil for none) succeeds; if it
// fails, or prepare panics, the attempt counts as failed and the
// connection is closed.
func WithPrepareConnection(prepare func(p Protocol) *deferred.Deferred[struct{}]) ClientServiceOption {
	return func(s *ClientService) { s.prepare = prepare }
}

// WithServiceLogger sets the logger that hears of each retry scheduled (at
// Info, as in Twisted) and of a duplicate StartService (at Warn). The
// default is slog.Default.
func WithServiceLogger(l *slog.Logger) ClientServiceOption {
	return func(s *ClientService) { s.log = l }
}

// NewClientService returns a service, not yet started, that connects f's
// protocols to endpoint and schedules its retries on clock. It panics if
// an argument is nil.
func NewClientService(endpoint ClientEndpoint, f Factory, clock scheduler.Clock, opts ...ClientServiceOption) *ClientService {
	if endpoint == nil || f == nil || clock == nil {
		panic("protocol: NewClientService: nil endpoint, factory or clock")
	}
	s := &ClientService{endpoint: endpoint, factory: f, clock: clock, policy: DefaultBackoffPolicy(), log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Running reports whether the service has been started and not stopped
// since: Twisted's running.
func (s *ClientService) Running() bool { return s.running }

// StartService starts connecting: Twisted's startService. On a running
// service it logs a warning and does nothing.
func (s *ClientService) StartService() {
	if s.running {
		s.log.Warn("protocol: duplicate ClientService.StartService")
		return
	}
	s.running = true
	switch s.state {
	case stateInit, stateStopped:
		s.state = stateConnecting
		s.connect()
	case stateDisconnecting:
		s.state = stateRestarting
		s.failed = 0
	}
}

// StopService stops retrying and closes the connection or cancels the
// attempt in progress: Twisted's stopService. The Deferred fires once the
// connection has ended and no attempt is left, at once if there was none.
// WhenConnected Deferreds still waiting fail with [deferred.ErrCancelled].
func (s *ClientService) StopService() *deferred.Deferred[struct{}] {
	s.running = false
	switch s.state {
	case stateInit, stateStopped:
		s.state = stateStopped
		return deferred.Succeed(struct{}{})
	case stateConnecting:
		d := s.waitForStop()
		s.state = stateDisconnecting
		s.attempt.cancel() // fails the attempt, at once as a rule
		return d
	case stateWaiting:
		d := s.waitForStop()
		s.state = stateStopped
		s.cancelWaiters()
		_ = s.retry.Cancel()
		s.retry = nil
		s.finishStopping()
		return d
	case stateConnected:
		d := s.waitForStop()
		s.state = stateDisconnecting
		s.current.transport.LoseConnection()
		return d
	default: // disconnecting, restarting
		s.state = stateDisconnecting
		return s.waitForStop()
	}
}

// WhenConnected returns a Deferred that fires with the protocol of the
// connection that is up (at once), or of the next one to come up. It fails
// with [deferred.ErrCancelled] if the service is stopped, or stops before
// a connection comes up; with failAfterFailures above zero, it fails with
// an attempt's error once that many attempts have failed from now on
// (zero waits through any number of failures: Twisted's None).
func (s *ClientService) WhenConnected(failAfterFailures int) *deferred.Deferred[Protocol] {
	switch s.state {
	case stateConnected:
		return deferred.Succeed(s.current.app)
	case stateStopped:
		return deferred.Fail[Protocol](deferred.ErrCancelled)
	}
	d := deferred.New[Protocol]()
	s.waiters = append(s.waiters, connectWaiter{d: d, remaining: max(failAfterFailures, 0)})
	return d
}

func (s *ClientService) waitForStop() *deferred.Deferred[struct{}] {
	d := deferred.New[struct{}]()
	s.stopWaiters = append(s.stopWaiters, d)
	return d
}

func (s *ClientService) finishStopping() {
	ws := s.stopWaiters
	s.stopWaiters = nil
	for _, d := range ws {
		d.Callback(struct{}{})
	}
}

func (s *ClientService) cancelWaiters() {
	ws := s.waiters
	s.waiters = nil
	for _, w := range ws {
		w.d.Errback(deferred.ErrCancelled)
	}
}

// serviceAttempt is one connection attempt: the endpoint's Deferred, then
// prepare's.
type serviceAttempt struct {
	connecting *deferred.Deferred[Protocol]
	preparing  *deferred.Deferred[struct{}]
	proxy      *serviceProxy
	over       bool // its outcome has been taken
}

func (a *serviceAttempt) cancel() {
	if a.preparing != nil {
		a.preparing.Cancel()
		return
	}
	a.connecting.Cancel()
}

// connect starts an attempt.
func (s *ClientService) connect() {
	a := &serviceAttempt{}
	s.attempt = a
	a.connecting = s.endpoint.Connect(&serviceFactory{s: s})
	a.connecting.AddBoth(func(p Protocol, err error) (Protocol, error) {
		if err != nil {
			s.attemptFailed(a, err)
			return nil, nil
		}
		px := unwrapProxy(p)
		if px == nil {
			s.attemptFailed(a, errNotOurs)
			return nil, nil
		}
		a.proxy = px
		s.prepareConnection(a)
		return p, nil
	})
}

var errNotOurs = &reason{"protocol: ClientService: the endpoint fired with a protocol its factory did not build", ErrConnect}

func (s *ClientService) prepareConnection(a *serviceAttempt) {
	if s.prepare == nil {
		s.attemptMade(a)
		return
	}
	d := deferred.ThenDeferred(deferred.Succeed(a.proxy.app), func(p Protocol) *deferred.Deferred[struct{}] {
		if d := s.prepare(p); d != nil {
			return d
		}
		return deferred.Succeed(struct{}{})
	})
	a.preparing = d
	d.AddBoth(func(_ struct{}, err error) (struct{}, error) {
		if err != nil {
			if !a.proxy.lost {
				a.proxy.transport.LoseConnection()
			}
			s.attemptFailed(a, err)
		} else {
			s.attemptMade(a)
		}
		return struct{}{}, nil
	})
}

// attemptMade is Twisted's _connectionMade input.
func (s *ClientService) attemptMade(a *serviceAttempt) {
	if a.over {
		return
	}
	a.over = true
	if s.attempt != a || s.state != stateConnecting || a.proxy.lost {
		// Stopped or lost meanwhile: no one wants this connection.
		if s.attempt == a {
			s.attemptFailed(a, ErrConnectionDone)
		}
		if !a.proxy.lost {
			a.proxy.transport.LoseConnection()
		}
		return
	}
	s.attempt = nil
	s.state = stateConnected
	s.failed = 0
	s.current = a.proxy
	ws := s.waiters
	s.waiters = nil
	for _, w := range ws {
		w.d.Callback(a.proxy.app)
	}
}

// attemptFailed is Twisted's _connectionFailed input.
func (s *ClientService) attemptFailed(a *serviceAttempt, err error) {
	if s.attempt != a {
		return
	}
	a.over = true
	s.attempt = nil
	switch s.state {
	case stateConnecting:
		s.state = stateWaiting
		s.scheduleRetry()
		s.deliverFailure(err)
	case stateDisconnecting:
		s.state = stateStopped
		s.cancelWaiters()
		s.finishStopping()
	case stateRestarting:
		s.state = stateConnecting
		s.finishStopping()
		s.connect()
	}
}

func (s *ClientService) scheduleRetry() {
	s.failed++
	delay := s.policy(s.failed)
	s.log.Info("protocol: scheduling a retry of ClientService's connection", "attempt", s.failed, "delay", delay)
	s.retry = s.clock.CallLater(delay, func() {
		s.retry = nil
		if s.state == stateWaiting {
			s.state = stateConnecting
			s.connect()
		}
	})
}

func (s *ClientService) deliverFailure(err error) {
	var ready []*deferred.Deferred[Protocol]
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		switch {
		case w.remaining == 0:
			kept = append(kept, w)
		case w.remaining <= 1:
			ready = append(ready, w.d)
		default:
			w.remaining--
			kept = append(kept, w)
		}
	}
	s.waiters = kept
	for _, d := range ready {
		d.Errback(err)
	}
}

// disconnected is Twisted's _clientDisconnected input.
func (s *ClientService) disconnected(px *serviceProxy) {
	if px != s.current {
		if a := s.attempt; a != nil && a.proxy == px && a.preparing != nil {
			a.preparing.Cancel() // lost while being prepared: the attempt fails
		}
		return
	}
	s.current = nil
	switch s.state {
	case stateConnected:
		s.state = stateWaiting
		s.scheduleRetry()
	case stateDisconnecting:
		s.state = stateStopped
		s.cancelWaiters()
		s.finishStopping()
	case stateRestarting:
		s.state = stateConnecting
		s.finishStopping()
		s.connect()
	}
}

// serviceFactory is the factory the endpoint gets: it wraps the
// application's protocols so that the service hears ConnectionLost.
type serviceFactory struct{ s *ClientService }

func (f *serviceFactory) BuildProtocol(addr net.Addr) Protocol {
	app := f.s.factory.BuildProtocol(addr)
	if app == nil {
		return nil
	}
	px := &serviceProxy{app: app, s: f.s}
	if h, ok := app.(HalfCloseable); ok {
		return &halfCloseProxy{serviceProxy: px, half: h}
	}
	return px
}

func (f *serviceFactory) StartFactory() {
	if h, ok := f.s.factory.(FactoryHooks); ok {
		h.StartFactory()
	}
}

func (f *serviceFactory) StopFactory() {
	if h, ok := f.s.factory.(FactoryHooks); ok {
		h.StopFactory()
	}
}

// serviceProxy passes every call to the application's protocol, and tells
// the service of ConnectionLost after it: Twisted's
// _ReconnectingProtocolProxy.
type serviceProxy struct {
	app       Protocol
	s         *ClientService
	transport Transport
	lost      bool
}

func (p *serviceProxy) ConnectionMade(t Transport) {
	p.transport = t
	p.app.ConnectionMade(t)
}

func (p *serviceProxy) DataReceived(data []byte) { p.app.DataReceived(data) }

func (p *serviceProxy) ConnectionLost(reason error) {
	p.lost = true
	defer p.s.disconnected(p)
	p.app.ConnectionLost(reason)
}

func (p *serviceProxy) proxy() *serviceProxy { return p }

type halfCloseProxy struct {
	*serviceProxy
	half HalfCloseable
}

func (p *halfCloseProxy) ReadConnectionLost()  { p.half.ReadConnectionLost() }
func (p *halfCloseProxy) WriteConnectionLost() { p.half.WriteConnectionLost() }

func unwrapProxy(p Protocol) *serviceProxy {
	if u, ok := p.(interface{ proxy() *serviceProxy }); ok {
		return u.proxy()
	}
	return nil
}
