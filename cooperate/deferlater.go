package cooperate

import (
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// DeferLater calls f after d on clock and returns a Deferred that fires with
// its result: Twisted's deferLater. The Deferred fails with f's error, or
// with a *deferred.PanicError if f panics. Cancelling the Deferred before f
// runs cancels the call, and the Deferred fails with deferred.ErrCancelled.
// f runs where the clock runs its calls; a nil f makes the Deferred fire
// with T's zero value after d, as deferLater without a callable. A nil clock
// panics.
func DeferLater[T any](clock scheduler.Clock, d time.Duration, f func() (T, error)) *deferred.Deferred[T] {
	if clock == nil {
		panic("cooperate: DeferLater: nil clock")
	}
	var call scheduler.Call
	res := deferred.NewWithCanceller(func(*deferred.Deferred[T]) {
		_ = call.Cancel()
	})
	call = clock.CallLater(d, func() {
		if f == nil {
			var zero T
			res.Callback(zero)
			return
		}
		v, err := callSafe(f)
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
