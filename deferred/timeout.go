package deferred

import (
	"sync/atomic"
	"time"

	"github.com/twinego/twine/scheduler"
)

// AddTimeoutFunc is [Deferred.AddTimeout] with a say in what a timeout
// gives: Twisted's addTimeout(timeout, clock, onTimeoutCancel).
//
// If the Deferred has not fired within timeout on clock, it is cancelled,
// and then onTimeout is called, in the chain, with what the cancellation
// left there (usually the zero value and [ErrCancelled], or what a canceller
// fired the Deferred with) and with timeout; what onTimeout returns replaces
// it, a result as well as an error. AddTimeout is AddTimeoutFunc with an
// onTimeout that turns ErrCancelled into [ErrTimeout].
//
// onTimeout runs only when this timeout cancelled the Deferred: not when the
// Deferred fired in time, with a result or an error, nor when someone else
// cancelled it first. It runs on the goroutine that runs the chain at that
// point (the clock's, when the cancellation fires the Deferred at once); a
// panic in it becomes a [*PanicError] in the chain. When the Deferred fires
// in time, the timer is cancelled.
//
// As with AddTimeout, a negative or zero timeout cancels the Deferred the
// next time the clock runs its calls, and onTimeout takes its place in the
// chain here: callbacks added before see the raw cancellation, callbacks
// added after see what onTimeout returned. It returns d. A nil clock or
// onTimeout panics.
func (d *Deferred[T]) AddTimeoutFunc(clock scheduler.Clock, timeout time.Duration,
	onTimeout func(v T, err error, timeout time.Duration) (T, error)) *Deferred[T] {
	if clock == nil {
		panicMisuse("Deferred.AddTimeoutFunc", errNilClock)
	}
	if onTimeout == nil {
		panicMisuse("Deferred.AddTimeoutFunc", errNilFunc)
	}
	return d.addTimeout(clock, timeout, onTimeout)
}

// addTimeout is AddTimeout and AddTimeoutFunc.
func (d *Deferred[T]) addTimeout(clock scheduler.Clock, timeout time.Duration,
	onTimeout func(T, error, time.Duration) (T, error)) *Deferred[T] {
	timedOut := new(atomic.Bool)
	call := clock.CallLater(max(timeout, 0), func() {
		timedOut.Store(true)
		d.Cancel()
	})
	return d.AddBoth(func(v T, err error) (T, error) {
		if call.Active() {
			_ = call.Cancel()
		}
		if timedOut.Load() {
			return onTimeout(v, err, timeout)
		}
		return v, err
	})
}
