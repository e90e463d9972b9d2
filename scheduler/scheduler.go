package scheduler

import (
	"errors"
	"time"
)

// ErrAlreadyCalled is returned by a [Call]'s methods once the call has run.
var ErrAlreadyCalled = errors.New("scheduler: call already called")

// ErrLoopStopped is the error a result fails with, or that a function
// returns, when the [StoppableLoop] it was bound for has stopped for good
// and can no longer run the callbacks that would deliver it.
var ErrLoopStopped = errors.New("scheduler: loop stopped")

// ErrAlreadyCancelled is returned by a [Call]'s methods once the call has been
// cancelled.
var ErrAlreadyCancelled = errors.New("scheduler: call already cancelled")

// Call is a function scheduled to run later: Twisted's IDelayedCall.
//
// Cancel stops it from running; Reset moves its due time to d from now;
// Delay moves its due time later by d. Each returns [ErrAlreadyCalled] once
// the call has run and [ErrAlreadyCancelled] once it has been cancelled.
// Active reports whether it is still due to run; When reports the time it is
// due (or was due) to run.
//
// The calls that [ManualClock] and the reactor hand out also implement
// [fmt.Stringer], as Twisted's DelayedCall has a repr: their String shows
// how long until the call is due, its state and, while it is pending, the
// function it will run.
type Call interface {
	Cancel() error
	Reset(d time.Duration) error
	Delay(d time.Duration) error
	Active() bool
	When() time.Time
}

// Clock tells the time and runs functions later: the part of Twisted's
// IReactorTime that Deferred timeouts and LoopingCall need.
//
// CallLater runs f once, d from now; a negative d is treated as zero.
// Which goroutine runs f is the implementation's choice: a reactor runs it
// on its own goroutine, a [ManualClock] inside Advance.
type Clock interface {
	Now() time.Time
	CallLater(d time.Duration, f func()) Call
}

// Loop is a Clock that also runs functions soon, one at a time, in the order
// given: the serial executor that a Cooperator runs its tasks on.
type Loop interface {
	Clock
	CallSoon(f func())
}

// StoppableLoop is a [Loop] that stops for good at some point, as the
// reactor does when its Run returns. Code that hands results to a loop from
// other goroutines (worker pools, goroutine lanes, timers) checks it so that
// a result the loop can no longer run is reported, never silently dropped.
// [ManualClock] never stops and does not implement it.
type StoppableLoop interface {
	Loop

	// TryCallSoon is CallSoon that reports whether the loop took f: it
	// returns false, and f never runs, once the loop has stopped for good.
	// It is safe from any goroutine.
	TryCallSoon(f func()) bool

	// Stopped reports whether the loop has stopped for good: from then on
	// CallSoon drops its function and CallLater returns an inactive Call.
	// It is safe from any goroutine.
	Stopped() bool
}

// A StopNotifier is a [StoppableLoop] that tells the code bound to it when
// it stops, so that work it can no longer run (a Cooperator's tasks, a
// LoopingCall) fails with [ErrLoopStopped] instead of waiting for ever.
// The reactor is one.
type StopNotifier interface {
	StoppableLoop

	// OnStop arranges for f to run once, on the loop's goroutine, when the
	// loop stops for good: after its last timer has been cancelled, before
	// it refuses work, so that what f queues with CallSoon still runs.
	// Functions given to OnStop run in the order given. It returns a
	// function that cancels the arrangement (it does nothing once f has
	// run, and may be called more than once), and true; or, once the loop
	// has gone past the point where it runs them, a cancel that does
	// nothing and false, and f never runs. It is safe from any goroutine.
	// A nil f panics.
	OnStop(f func()) (cancel func(), ok bool)
}

// A Yielder is a [Loop] that can tell long work running on its goroutine
// that other work waits for that goroutine: events ready to be handled,
// functions queued, timers due. A Cooperator on such a loop ends a slice
// early, once the slice has had a share of its time, when the loop says
// so (see cooperate.WithSlice), so that a socket's data or a due timer
// waits for a fraction of a slice rather than a whole one. The reactor is
// one; [ManualClock] is not.
type Yielder interface {
	Loop

	// WorkWaiting reports whether work other than the caller's waits for
	// the loop's goroutine. Call it on that goroutine only, from inside a
	// function the loop runs. It never blocks; it may cost a system call.
	WorkWaiting() bool
}
