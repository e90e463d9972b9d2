package reactor

import (
	"github.com/twinego/twine/deferred"
)

// React runs a reactor for the length of one task: Twisted's task.react.
// It creates a reactor with opts, calls main on the reactor goroutine once it
// runs, stops the reactor when the Deferred main returns fires, and returns
// that Deferred's error (nil on success) after the reactor has shut down.
//
// A panic in main becomes a [*deferred.PanicError]; a nil Deferred counts as
// success. If the reactor stops before the Deferred fires (another Stop, or
// a signal with [WithSignals]), React returns nil, as Twisted's react exits
// with status 0. A nil main panics.
func React(main func(r *Reactor) *deferred.Deferred[struct{}], opts ...Option) error {
	if main == nil {
		panic("reactor: React: nil function")
	}
	r := New(opts...)
	var result error
	r.CallWhenRunning(func() {
		d := callDeferred(func() *deferred.Deferred[struct{}] { return main(r) })
		if d == nil {
			d = deferred.Succeed(struct{}{})
		}
		d.AddBoth(func(_ struct{}, err error) (struct{}, error) {
			// d may fire on any goroutine: finish on the reactor's.
			r.enqueue(func() {
				if r.Stop() == nil {
					result = err
				}
			})
			return struct{}{}, nil
		})
	})
	if err := r.Run(); err != nil {
		return err
	}
	return result
}
