package deferred

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/twinego/twine/scheduler"
)

// Cancel asks the Deferred to give up.
//
// If it has not fired, its canceller (if any) is called, and if the Deferred
// still has not fired after that it fails with [ErrCancelled]. Without a
// canceller, the first Callback or Errback that arrives after the
// cancellation is ignored, as in Twisted; with one that did not fire the
// Deferred, a late fire panics with [ErrAlreadyCalled]. A panic in the
// canceller is recovered and fails the Deferred with a [*PanicError].
//
// If it has fired and its chain is waiting on another Deferred (a callback
// returned one), that Deferred is cancelled instead, and so on down the line
// of waits. Otherwise Cancel does nothing.
func (d *Deferred[T]) Cancel() {
	for cur := d; cur != nil; {
		cur.mu.Lock()
		if cur.flags&flagCalled != 0 {
			inner := cur.waitingOn
			cur.mu.Unlock()
			cur = inner
			continue
		}
		canceller := cur.canceller
		if canceller == nil {
			cur.flags |= flagSuppress
		}
		cur.mu.Unlock()
		if canceller != nil {
			if p := callCanceller(canceller, cur); p != nil {
				var zero T
				cur.fire(zero, p, "")
				return
			}
		}
		var zero T
		cur.fire(zero, ErrCancelled, "")
		return
	}
}

func callCanceller[T any](canceller func(*Deferred[T]), d *Deferred[T]) (perr *PanicError) {
	defer func() {
		if r := recover(); r != nil {
			perr = NewPanicError(r)
		}
	}()
	canceller(d)
	return nil
}

// AddTimeout cancels the Deferred if it has not fired within timeout on
// clock, and turns the [ErrCancelled] that this cancellation causes into
// [ErrTimeout]; a result or another error passes through unchanged. A
// canceller that fires the Deferred with an error of its own keeps that
// error. When the Deferred fires in time, the timer is cancelled. A negative
// or zero timeout means the time is already up: the Deferred is cancelled
// the next time the clock runs its calls. It returns d.
//
// As in Twisted, the timeout's two callbacks are added to the chain at this
// point: callbacks added before see the raw cancellation.
func (d *Deferred[T]) AddTimeout(clock scheduler.Clock, timeout time.Duration) *Deferred[T] {
	if clock == nil {
		panicMisuse("Deferred.AddTimeout", errNilClock)
	}
	timeout = max(timeout, 0)
	timedOut := new(atomic.Bool)
	call := clock.CallLater(timeout, func() {
		timedOut.Store(true)
		d.Cancel()
	})
	return d.AddBoth(func(v T, err error) (T, error) {
		if call.Active() {
			_ = call.Cancel()
		}
		if err != nil && timedOut.Load() && errors.Is(err, ErrCancelled) {
			var zero T
			return zero, ErrTimeout
		}
		return v, err
	})
}
