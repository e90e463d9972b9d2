package scheduler

import (
	"errors"
	"time"
)

// ErrAlreadyCalled is returned by a [Call]'s methods once the call has run.
var ErrAlreadyCalled = errors.New("scheduler: call already called")

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
