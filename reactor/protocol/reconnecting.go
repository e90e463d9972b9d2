package protocol

import (
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"time"

	"github.com/twinego/twine/scheduler"
)

// ReconnectingClientFactory is a [ClientFactory] that connects again, after
// a growing delay, whenever an attempt fails or a connection is lost:
// Twisted's ReconnectingClientFactory. Make one with
// [NewReconnectingClientFactory]; its exported fields are Twisted's
// parameters, which may be changed before it is used.
//
// After the n-th failure in a row, the connector's Connect is called after
// a delay that starts at InitialDelay and is multiplied by Factor at each
// retry (so the first retry waits InitialDelay·Factor, as in Twisted), up
// to MaxDelay, then drawn from a normal distribution around that value
// with a standard deviation of Jitter times it (so that many clients do
// not come back all at once); the drawn value is the base of the next
// one, as in Twisted. After MaxRetries retries in a row it gives up.
// A protocol that has connected calls ResetDelay, as Twisted's clients
// do, usually from BuildProtocol, so that the next loss starts again from
// InitialDelay.
//
// A Twisted subclass that overrides buildProtocol becomes a type that
// embeds *ReconnectingClientFactory and writes BuildProtocol; one that only
// sets the protocol class sets Protocol instead. Its methods run on the
// reactor goroutine (or the goroutine driving Clock, in tests).
type ReconnectingClientFactory struct {
	// Protocol builds the protocol for each connection, unless the type
	// that embeds the factory writes its own BuildProtocol: Twisted's
	// protocol attribute. Nil refuses every connection.
	Protocol func(addr net.Addr) Protocol

	// Clock schedules the retries: the reactor, or a ManualClock in tests
	// (Twisted's clock attribute).
	Clock scheduler.Clock

	// InitialDelay is the delay after which the first growth starts (1 s).
	InitialDelay time.Duration
	// MaxDelay caps the delay before jitter (3600 s).
	MaxDelay time.Duration
	// Factor multiplies the delay at each retry (e, 2.718...).
	Factor float64
	// Jitter is the standard deviation of the delay, as a fraction of it
	// (0.119626565582); zero for none.
	Jitter float64
	// MaxRetries is how many retries in a row are made before giving up;
	// negative (the default) for no limit.
	MaxRetries int

	// Rand draws the jitter; nil uses math/rand/v2's global source.
	Rand *rand.Rand
	// Logger hears of each retry (at Debug) and of giving up (at Info);
	// nil uses slog.Default.
	Logger *slog.Logger

	delay     float64 // seconds, as Twisted keeps it
	retries   int
	stopped   bool // StopTrying was called: Twisted's continueTrying false
	call      scheduler.Call
	connector Connector
}

// Twisted's parameters.
const (
	// DefaultReconnectMaxDelay is ReconnectingClientFactory's default
	// MaxDelay.
	DefaultReconnectMaxDelay = 3600 * time.Second
	// DefaultReconnectInitialDelay is its default InitialDelay.
	DefaultReconnectInitialDelay = time.Second
	// DefaultReconnectFactor is its default Factor, e.
	DefaultReconnectFactor = math.E
	// DefaultReconnectJitter is its default Jitter.
	DefaultReconnectJitter = 0.119626565582
)

// NewReconnectingClientFactory returns a factory with Twisted's parameters
// that schedules its retries on clock and builds its protocols with build
// (which may be nil when the embedding type writes BuildProtocol). It
// panics if clock is nil.
func NewReconnectingClientFactory(clock scheduler.Clock, build func(addr net.Addr) Protocol) *ReconnectingClientFactory {
	if clock == nil {
		panic("protocol: NewReconnectingClientFactory: nil clock")
	}
	return &ReconnectingClientFactory{
		Protocol:     build,
		Clock:        clock,
		InitialDelay: DefaultReconnectInitialDelay,
		MaxDelay:     DefaultReconnectMaxDelay,
		Factor:       DefaultReconnectFactor,
		Jitter:       DefaultReconnectJitter,
		MaxRetries:   -1,
		delay:        DefaultReconnectInitialDelay.Seconds(),
	}
}

// BuildProtocol calls Protocol, or returns nil (refusing the connection)
// if it is nil.
func (f *ReconnectingClientFactory) BuildProtocol(addr net.Addr) Protocol {
	if f.Protocol == nil {
		return nil
	}
	return f.Protocol(addr)
}

// StartedConnecting does nothing.
func (f *ReconnectingClientFactory) StartedConnecting(Connector) {}

// ClientConnectionFailed retries with c, unless StopTrying was called.
func (f *ReconnectingClientFactory) ClientConnectionFailed(c Connector, reason error) {
	if !f.stopped {
		f.connector = c
		f.Retry(c)
	}
}

// ClientConnectionLost retries with c, unless StopTrying was called.
func (f *ReconnectingClientFactory) ClientConnectionLost(c Connector, reason error) {
	if !f.stopped {
		f.connector = c
		f.Retry(c)
	}
}

// Retry schedules c's Connect after the next delay, or gives up (once
// StopTrying was called, or after MaxRetries retries in a row). A nil c
// means the connector of the last failure or loss; Retry panics if there
// is none.
func (f *ReconnectingClientFactory) Retry(c Connector) {
	if f.stopped {
		f.logger().Debug("protocol: abandoning reconnection on explicit request")
		return
	}
	if c == nil {
		c = f.connector
		if c == nil {
			panic("protocol: ReconnectingClientFactory.Retry: no connector to retry")
		}
	}
	f.retries++
	if f.MaxRetries >= 0 && f.retries > f.MaxRetries {
		f.logger().Info("protocol: abandoning reconnection", "retries", f.retries, "destination", c.Destination())
		return
	}
	f.delay = math.Min(f.delay*f.Factor, f.MaxDelay.Seconds())
	if f.Jitter != 0 {
		f.delay += f.normal() * f.delay * f.Jitter
	}
	d := time.Duration(max(f.delay, 0) * float64(time.Second))
	f.logger().Debug("protocol: reconnecting later", "delay", d, "retry", f.retries, "destination", c.Destination())
	if f.call != nil {
		_ = f.call.Cancel()
	}
	f.call = f.Clock.CallLater(d, func() {
		f.call = nil
		c.Connect()
	})
}

func (f *ReconnectingClientFactory) normal() float64 {
	if f.Rand != nil {
		return f.Rand.NormFloat64()
	}
	return rand.NormFloat64()
}

func (f *ReconnectingClientFactory) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

// StopTrying cancels a pending retry, stops the attempt in progress (the
// connector's StopConnecting, which does nothing while connected) and
// makes later failures and losses final, until ResetDelay.
func (f *ReconnectingClientFactory) StopTrying() {
	if f.call != nil {
		_ = f.call.Cancel()
		f.call = nil
	}
	f.stopped = true
	if f.connector != nil {
		f.connector.StopConnecting()
	}
}

// ResetDelay starts the delays and the count of retries again, and undoes
// StopTrying: call it once connected.
func (f *ReconnectingClientFactory) ResetDelay() {
	f.delay = f.InitialDelay.Seconds()
	f.retries = 0
	f.stopped = false
}

// Delay returns the delay of the last retry scheduled, or InitialDelay
// before the first (Twisted's delay).
func (f *ReconnectingClientFactory) Delay() time.Duration {
	return time.Duration(f.delay * float64(time.Second))
}

// Retries returns the number of retries in a row so far.
func (f *ReconnectingClientFactory) Retries() int { return f.retries }

// ContinueTrying reports whether a failure or a loss will be retried:
// false after StopTrying, until ResetDelay.
func (f *ReconnectingClientFactory) ContinueTrying() bool { return !f.stopped }

// Connector returns the connector of the last failure or loss, or nil.
func (f *ReconnectingClientFactory) Connector() Connector { return f.connector }

var _ ClientFactory = (*ReconnectingClientFactory)(nil)
