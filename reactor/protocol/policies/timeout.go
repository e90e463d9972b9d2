package policies

import (
	"time"

	"github.com/twinego/twine/scheduler"
)

// TimeoutHandler is told that a [TimeoutMixin]'s period went by without a
// reset: Twisted's timeoutConnection. Twisted's default closes the
// connection; a Go protocol writes that as
//
//	func (p *P) TimeoutConnection() { p.Transport.LoseConnection() }
type TimeoutHandler interface {
	TimeoutConnection()
}

// TimeoutMixin gives a protocol one timeout that it resets whenever it
// hears from its peer, and that calls TimeoutHandler.TimeoutConnection if it runs
// out: Twisted's twisted.protocols.policies.TimeoutMixin. Embed it in the
// protocol; see the package documentation for the whole pattern. Its
// fields are named so that they do not clash with those of the framing
// receivers of package basic, which the same protocol often embeds.
//
// A period of zero (or less) means no timeout, as Twisted's None.
// SetTimeout starts, changes or (with zero) cancels it; ResetTimeout starts
// the period again from now. Once the timeout has fired it is gone, and
// ResetTimeout does nothing until SetTimeout starts another. A timeout
// call cancelled from elsewhere (a stopping reactor, say) leaves no error
// behind: SetTimeout(0) forgets it and SetTimeout(d) schedules a new one.
//
// Its methods and TimeoutConnection run on the Clock's goroutine, the
// reactor's, as the protocol's do.
type TimeoutMixin struct {
	// Clock schedules the timeout: the reactor, or a ManualClock in tests
	// (Twisted's callLater, which its tests override).
	Clock scheduler.Clock

	// TimeoutHandler is told of the timeout: the protocol that embeds the
	// mixin.
	TimeoutHandler TimeoutHandler

	// Timeout is the period, zero for none: Twisted's timeOut. SetTimeout
	// sets it; set directly, it changes only what SetTimeout returns as the
	// previous period and what the next ResetTimeout waits.
	Timeout time.Duration

	call scheduler.Call
}

// SetTimeout sets the period to d and returns the previous one. With a
// timeout running, a positive d restarts it with the new period and zero
// cancels it; with none, a positive d starts one. It panics if it has to
// schedule and Clock or TimeoutHandler is nil.
func (m *TimeoutMixin) SetTimeout(d time.Duration) (previous time.Duration) {
	previous = m.Timeout
	if d < 0 {
		d = 0
	}
	switch {
	case m.call != nil && d == 0:
		_ = m.call.Cancel() // already cancelled or called: nothing to undo
		m.call = nil
	case m.call != nil:
		if m.call.Reset(d) != nil {
			m.call = m.schedule(d) // cancelled from elsewhere
		}
	case d > 0:
		m.call = m.schedule(d)
	}
	m.Timeout = d // after scheduling, which may panic on misuse
	return previous
}

// ResetTimeout starts the period again from now, if a timeout is running:
// call it when the peer has been heard from.
func (m *TimeoutMixin) ResetTimeout() {
	if m.call != nil && m.Timeout > 0 {
		_ = m.call.Reset(m.Timeout)
	}
}

func (m *TimeoutMixin) schedule(d time.Duration) scheduler.Call {
	if m.Clock == nil {
		panic("policies: TimeoutMixin.SetTimeout: nil Clock")
	}
	if m.TimeoutHandler == nil {
		panic("policies: TimeoutMixin.SetTimeout: nil TimeoutHandler; set it to the protocol that embeds the TimeoutMixin")
	}
	return m.Clock.CallLater(d, m.timedOut)
}

func (m *TimeoutMixin) timedOut() {
	m.call = nil
	m.TimeoutHandler.TimeoutConnection()
}
