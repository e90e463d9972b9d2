package cooperate

import (
	"fmt"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// errDeferLaterStopped is what a DeferLater's Deferred fails with when its
// clock has stopped for good before the call ran.
var errDeferLaterStopped = fmt.Errorf("cooperate: DeferLater: %w", scheduler.ErrLoopStopped)

// DeferLater calls f after d on clock and returns a Deferred that fires with
// its result: Twisted's deferLater. The Deferred fails with f's error, or
// with a *deferred.PanicError if f panics. Cancelling the Deferred before f
// runs cancels the call, and the Deferred fails with deferred.ErrCancelled.
// f runs where the clock runs its calls; a nil f makes the Deferred fire
// with T's zero value after d, as deferLater without a callable. A nil clock
// panics.
//
// A clock that stops for good never runs the call: on a clock that has
// stopped already ([scheduler.StoppableLoop]) the Deferred has failed when
// DeferLater returns, and on one that tells when it stops
// ([scheduler.StopNotifier], as the reactor does) it fails then, on the
// clock's goroutine; either way with an error that wraps
// [scheduler.ErrLoopStopped]. An f that calls [runtime.Goexit] (as t.FailNow
// does) ends the goroutine the clock runs it on, and fails the Deferred
// first, with an error wrapping [ErrGoexit] that names f.
func DeferLater[T any](clock scheduler.Clock, d time.Duration, f func() (T, error)) *deferred.Deferred[T] {
	if clock == nil {
		panic("cooperate: DeferLater: nil clock")
	}
	if l, ok := clock.(scheduler.StoppableLoop); ok && l.Stopped() {
		return deferred.Fail[T](errDeferLaterStopped)
	}
	var call scheduler.Call
	unhook := func() {}
	res := deferred.NewWithCanceller(func(*deferred.Deferred[T]) {
		_ = call.Cancel()
		unhook()
	})
	if n, ok := clock.(scheduler.StopNotifier); ok {
		// The loop cancels its timers as it stops, and the call with
		// them: fail instead of waiting for ever. (A Deferred cancelled
		// meanwhile ignores this.)
		cancel, ok := n.OnStop(func() { res.Errback(errDeferLaterStopped) })
		if !ok {
			return deferred.Fail[T](errDeferLaterStopped)
		}
		unhook = cancel
	}
	call = clock.CallLater(d, func() {
		unhook()
		if f == nil {
			var zero T
			res.Callback(zero)
			return
		}
		exited := true
		defer func() {
			if exited {
				res.Errback(funcGoexit("DeferLater function", f))
			}
		}()
		v, err := callSafe(f)
		exited = false
		if err != nil {
			res.Errback(err)
			return
		}
		res.Callback(v)
	})
	return res
}

// callSafe calls f, turning a panic into a *deferred.PanicError.
func callSafe[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = deferred.NewPanicError(r)
		}
	}()
	return f()
}
