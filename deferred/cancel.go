package deferred

import (
	"errors"
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
	hops := 0
	var seen map[*Deferred[T]]bool
	for cur := d; cur != nil; {
		s := cur.lock()
		if s&sCalled != 0 {
			inner := cur.waitingOn
			cur.unlock(s)
			// A line of waits may be long; a cycle of them (a Deferred
			// waiting, through others, on itself) never fires, and Cancel
			// stops there rather than going round it.
			if hops++; hops > 64 {
				if seen == nil {
					seen = make(map[*Deferred[T]]bool)
				}
				if seen[cur] {
					return
				}
				seen[cur] = true
			}
			cur = inner
			continue
		}
		if s&sCancelling != 0 {
			// Another goroutine is cancelling it: its canceller runs once.
			cur.unlock(s)
			return
		}
		var canceller func(*Deferred[T])
		if cur.ext != nil {
			canceller = cur.ext.canceller
		}
		if canceller == nil {
			s |= sSuppress
		} else {
			s |= sCancelling
		}
		cur.unlock(s)
		var zero T
		if canceller != nil {
			// sCancelling stays set: a Cancel that comes before the fire
			// below must not call the canceller again.
			p := callCanceller(canceller, cur)
			if p != nil {
				cur.fire(zero, p, "")
				return
			}
		}
		cur.fire(zero, ErrCancelled, "")
		return
	}
}

// callCanceller calls canceller for d, turning a panic into a *PanicError.
// A canceller that calls runtime.Goexit fails d (unless it fired d first)
// with an error wrapping ErrGoexit before the goroutine ends.
func callCanceller[T any](canceller func(*Deferred[T]), d *Deferred[T]) (perr *PanicError) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			perr = NewPanicError(r)
			return
		}
		var zero T
		d.fire(zero, funcGoexit("canceller", canceller), "")
	}()
	canceller(d)
	returned = true
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
	return d.addTimeout(clock, timeout, timedOutError[T])
}

// timedOutError is AddTimeout's onTimeout: Twisted's default translation of
// the cancellation into a timeout.
func timedOutError[T any](v T, err error, _ time.Duration) (T, error) {
	if err != nil && errors.Is(err, ErrCancelled) {
		var zero T
		return zero, ErrTimeout
	}
	return v, err
}
