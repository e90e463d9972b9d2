package reactor

import (
	"errors"
	"sync"

	"github.com/twinego/twine/deferred"
)

// React runs a reactor for the length of one task: Twisted's task.react.
// It creates a reactor with opts, calls main on the reactor goroutine once it
// runs, stops the reactor when the Deferred main returns fires, and returns
// that Deferred's error (nil on success) after the reactor has shut down.
//
// The error is never dropped: a Deferred that fails at any time before the
// reactor has shut down makes React return its error, even when the
// reactor was already stopping (a shutdown trigger that fails it, or Stop
// then Errback), as Twisted's react reports it and exits with status 1. If
// the reactor shuts down before the Deferred fires (another Stop, or a
// signal with [WithSignals]), React returns nil, as Twisted's react exits
// with status 0; should the Deferred fail later still, its error is logged
// through the reactor's logger.
//
// A panic in main becomes a [*deferred.PanicError]; a nil Deferred counts as
// success. If a function the reactor runs calls [runtime.Goexit], React
// returns the [*GoexitError] that Run returns (joined with the Deferred's
// error, if any). A nil main panics.
func React(main func(r *Reactor) *deferred.Deferred[struct{}], opts ...Option) error {
	if main == nil {
		panic("reactor: React: nil function")
	}
	r := New(opts...)
	var (
		mu       sync.Mutex
		result   error
		returned bool // React has read result
	)
	r.CallWhenRunning(func() {
		d := callDeferred(func() *deferred.Deferred[struct{}] { return main(r) })
		if d == nil {
			d = deferred.Succeed(struct{}{})
		}
		d.AddBoth(func(_ struct{}, err error) (struct{}, error) {
			// d may fire on any goroutine, and after the reactor has begun
			// stopping: keep its error whenever it comes before React
			// returns.
			mu.Lock()
			late := returned
			if !late {
				result = err
			}
			mu.Unlock()
			if late {
				if err != nil {
					r.log.Error("reactor: React's Deferred failed after the reactor had shut down", "err", err)
				}
				return struct{}{}, nil
			}
			// Stop on the reactor goroutine; once the reactor has shut
			// down, there is nothing left to stop.
			r.enqueue(func() { _ = r.Stop() })
			return struct{}{}, nil
		})
	})
	err := r.Run()
	mu.Lock()
	returned = true
	res := result
	mu.Unlock()
	if err != nil && res != nil {
		return errors.Join(res, err)
	}
	if err != nil {
		return err
	}
	return res
}
