package deferred

import (
	"context"
	"sync/atomic"
)

// Result returns the Deferred's result as it stands at the end of its chain,
// without adding a callback. It returns [ErrNotFired] while there is no
// settled result: before the Deferred fires, while its chain is paused,
// waits on another Deferred, or is being run by another goroutine.
//
// An error returned by Result counts as handled: it is not reported as
// unhandled when the Deferred is collected. The result stays in the chain
// for callbacks added later.
func (d *Deferred[T]) Result() (T, error) {
	s := d.lock()
	if s&(sCalled|sRunning|sPaused|sWaiting) != sCalled {
		d.unlock(s)
		var zero T
		return zero, ErrNotFired
	}
	if s&sMarked != 0 {
		d.ext.cleanup.Stop()
		s &^= sMarked
	}
	v, err := d.result, d.err
	d.unlock(s)
	return v, err
}

// Wait blocks the calling goroutine until the Deferred fires, and returns its
// result; or until ctx is done, and returns ctx's error.
//
// Waiting consumes the result, as an await does in Twisted: the chain goes on
// with the zero value and no error, and an error returned by Wait counts as
// handled. If ctx is done first, the Deferred is left as it was (not
// cancelled: use [WithContext] for that) and its result, when it comes, passes
// down the chain untouched.
//
// Never call Wait on a goroutine that must fire the Deferred, such as the
// reactor's: it would wait forever.
func (d *Deferred[T]) Wait(ctx context.Context) (T, error) {
	const (
		waiting = iota
		delivered
		abandoned
	)
	var (
		state atomic.Int32
		v     T
		err   error
		done  = make(chan struct{})
	)
	d.AddBoth(func(rv T, rerr error) (T, error) {
		if !state.CompareAndSwap(waiting, delivered) {
			return rv, rerr
		}
		v, err = rv, rerr
		close(done)
		var zero T
		return zero, nil
	})
	select {
	case <-done:
		return v, err
	case <-ctx.Done():
		if state.CompareAndSwap(waiting, abandoned) {
			var zero T
			return zero, ctx.Err()
		}
		<-done
		return v, err
	}
}

// WithContext cancels d when ctx is done before d's chain reaches this
// point, and returns d. It starts no goroutine of its own (it uses
// [context.AfterFunc]); the watch on ctx ends when d's result passes.
func WithContext[T any](ctx context.Context, d *Deferred[T]) *Deferred[T] {
	if ctx == nil {
		panicMisuse("WithContext", errNilContext)
	}
	stop := context.AfterFunc(ctx, d.Cancel)
	return d.AddBoth(func(v T, err error) (T, error) {
		stop()
		return v, err
	})
}
