package cooperate

import (
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// Run calls f once, as a task of c of one step, and returns a Deferred that
// fires on c's loop with f's result. It is the body that gives a
// [Parallel] or [Map] loop the lanes of a Cooperator made [WithLanes]: f
// runs on a lane, beside the loop, and a loop on another Cooperator (one
// without lanes, whose steps run on the loop) keeps n of them in flight:
//
//	lanes := cooperate.New(r, cooperate.WithLanes(0))
//	cooperate.Parallel(c, seq, 2*runtime.NumCPU(), func(x T) *deferred.Deferred[R] {
//		return cooperate.Run(lanes, func() (R, error) { return work(x) })
//	}, each)
//
// Unlike a goroutine per call, the lanes are a fixed set of goroutines
// shared by every task of c, whose turns, weights and pauses apply to f's
// task as to any other. Without lanes, f runs on the loop itself, in a
// later slice.
//
// The Deferred fails with f's error, a *deferred.PanicError if f panics,
// an error wrapping [ErrGoexit] if f calls runtime.Goexit, or as the task's
// Done does when c is stopped ([ErrSchedulerStopped]). Cancelling it fails
// it with deferred.ErrCancelled at once and stops the task, on the loop,
// so that f is not called if it has not started. Call Run on c's loop, as
// every method of c. A nil c or f panics.
func Run[R any](c *Cooperator, f func() (R, error)) *deferred.Deferred[R] {
	if c == nil {
		panic("cooperate: Run: nil Cooperator")
	}
	if f == nil {
		panic("cooperate: Run: nil function")
	}
	var v R // written by the step, read on the loop once Done has fired
	t := Each(c, once, func(struct{}) error {
		var err error
		v, err = f()
		return err
	})
	out := deferred.NewWithCanceller(func(*deferred.Deferred[R]) {
		stop := func() { _ = t.Stop() }
		if l, ok := c.loop.(scheduler.StoppableLoop); ok {
			l.TryCallSoon(stop)
			return
		}
		c.loop.CallSoon(stop)
	})
	t.Done().AddBoth(func(_ struct{}, err error) (struct{}, error) {
		if err != nil {
			out.Errback(err)
		} else {
			out.Callback(v)
		}
		return struct{}{}, nil
	})
	return out
}

// once yields one value.
func once(yield func(struct{}) bool) { yield(struct{}{}) }
